"""Schema migrations with Alembic, run programmatically (`chargeflow migrate`)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    async_url = database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    async_url = async_url.replace("postgres://", "postgresql+asyncpg://", 1)
    cfg.set_main_option("sqlalchemy.url", async_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest). Idempotent.

    Alembic's env.py runs its own event loop, so from inside a running loop we run it in a thread.
    """
    cfg = alembic_config(database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(cfg, revision)
        return
    with ThreadPoolExecutor(1) as pool:
        pool.submit(command.upgrade, cfg, revision).result()


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def execute_script(sql: str) -> None:
    """Run a multi-statement SQL script inside a migration, one statement at a time.

    asyncpg prepares every statement, and a prepared statement holds one command; split on ';'
    (so no ';' inside a statement: keep function bodies in their own op.execute).
    """
    from alembic import op

    for statement in (s.strip() for s in sql.split(";")):
        if statement:
            op.execute(statement)
