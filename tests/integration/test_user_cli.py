"""`chargeflow user create|password` against the real PostgreSQL: the password comes from
stdin (or a prompt), is checked, stored as an argon2 hash, and logs the user in."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from typer.testing import CliRunner

from services.cli import app
from services.common import accounts

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_env(monkeypatch, database_url):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHARGEFLOW_DATABASE_URL", database_url)


def test_user_create_and_password_from_stdin(cli_env, database_url):
    name = f"cli-{uuid.uuid4().hex[:6]}"
    runner = CliRunner()
    made = runner.invoke(
        app, ["user", "create", name, "--role", "operator"], input="first pass 1\n"
    )
    assert made.exit_code == 0, made.output

    async def check(password: str):  # type: ignore[no-untyped-def]
        conn = await asyncpg.connect(database_url)
        try:
            row = await conn.fetchrow("SELECT role, password_hash FROM users WHERE name = $1", name)
            return row, await accounts.login(conn, name, password)
        finally:
            await conn.close()

    row, user = asyncio.run(check("first pass 1"))
    assert row["role"] == "operator" and row["password_hash"].startswith("$argon2id$")
    assert user is not None and user.role == "operator"
    changed = runner.invoke(app, ["user", "password", name], input="second pass 2\n")
    assert changed.exit_code == 0, changed.output
    assert asyncio.run(check("first pass 1"))[1] is None
    assert asyncio.run(check("second pass 2"))[1] is not None


def test_user_cli_refuses_weak_passwords_taken_names_and_unknown_users(cli_env):
    runner = CliRunner()
    name = f"cli-{uuid.uuid4().hex[:6]}"
    short = runner.invoke(app, ["user", "create", name], input="short\n")
    assert short.exit_code == 2 and "at least 8" in short.output
    assert runner.invoke(app, ["user", "create", name], input="long enough 1\n").exit_code == 0
    taken = runner.invoke(app, ["user", "create", name], input="long enough 1\n")
    assert taken.exit_code == 1 and "exists already" in taken.output
    bad_role = runner.invoke(app, ["user", "create", "x-" + name, "--role", "root"])
    assert bad_role.exit_code == 2
    nobody = runner.invoke(app, ["user", "password", "nobody-" + name], input="long enough 1\n")
    assert nobody.exit_code == 1 and "no user" in nobody.output
