"""`chargeflow auction clear` is an offline solve: what its process loads is the engine,
the contracts and the numeric libraries, none of the services or their I/O stacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
IO_STACKS = {
    "aiokafka", "asyncpg", "sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn",
    "httpx", "sqladmin", "prometheus_client",
}  # fmt: skip


def test_the_auction_cli_loads_no_service_and_no_kafka_database_or_web_code() -> None:
    code = (
        "import sys\nimport auction.cli\n"
        "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('services')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "auction" in loaded and "schemas" in loaded
    assert not {m for m in loaded if m.startswith("services")}
    assert not loaded & IO_STACKS
    # numba (~0.5 s to import) waits until the simplex is used: not for a bad instance
    assert "numba" not in loaded
