"""User accounts (DESIGN §7 Accounts): passwords and the user's own API tokens.

Passwords are stored as argon2id hashes (argon2-cffi's defaults, RFC 9106's second
recommended profile: 64 MiB, 3 passes). A login against an unknown user or a user without a
password still verifies against a dummy hash, so the answer takes as long as a wrong
password: the timing does not tell which user names exist. Hashes made with older
parameters are upgraded at the next successful login.

API tokens are random and stored hashed (services/common/tokens.py); tokens issued by a
login expire (default 90 days), tokens made by an operator's CLI may live forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.common.registry import ROLES, Principal, Role, UnknownUser

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; a bound keeps one login's cost bounded
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)

_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("chargeflow: no such user")


class WeakPassword(ValueError):
    """A password that may not be set, and why."""


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be set, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"a password needs at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"a password has at most {MAX_PASSWORD_CHARS} characters"
    if password.strip() != password or "\x00" in password:
        return "a password may not start or end with blanks nor hold NUL characters"
    return None


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem is not None:
        raise WeakPassword(problem)
    return _HASHER.hash(password)


def _matches(stored: str | None, password: str) -> bool:
    try:
        verified = _HASHER.verify(stored or _DUMMY, password[:MAX_PASSWORD_CHARS])
        return verified and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role


async def set_password(conn: asyncpg.Connection, name: str, password: str) -> None:
    """Set (or replace) a user's password; UnknownUser, WeakPassword."""
    status = await conn.execute(
        "UPDATE users SET password_hash = $2, password_changed_at = now() WHERE name = $1",
        name,
        hash_password(password),
    )
    if not status.endswith(" 1"):
        raise UnknownUser(name)


async def create_user(
    conn: asyncpg.Connection, name: str, role: Role, password: str | None = None
) -> int:
    """A new user (ValueError if the name is taken or the role unknown); its id."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    digest = None if password is None else hash_password(password)
    user_id = await conn.fetchval(
        "INSERT INTO users (name, role, password_hash, password_changed_at) "
        "VALUES ($1, $2, $3, CASE WHEN $3::text IS NULL THEN NULL ELSE now() END) "
        "ON CONFLICT (name) DO NOTHING RETURNING id",
        name,
        role,
        digest,
    )
    if user_id is None:
        raise ValueError(f"user {name!r} exists already (chargeflow user password {name})")
    return int(user_id)


async def login(conn: asyncpg.Connection | asyncpg.Pool, name: str, password: str) -> User | None:
    """The user when ``password`` is theirs, else None (same work either way)."""
    # PostgreSQL text cannot hold NUL (asyncpg raises): no user has such a name.
    row = None
    if "\x00" not in name:
        row = await conn.fetchrow("SELECT id, role, password_hash FROM users WHERE name = $1", name)
    stored = row["password_hash"] if row is not None else None
    if not _matches(stored, password):
        return None
    assert row is not None and stored is not None
    if _HASHER.check_needs_rehash(stored):
        await conn.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1", row["id"], _HASHER.hash(password)
        )
    return User(int(row["id"]), name, row["role"])


@dataclass(frozen=True)
class TokenInfo:
    """What a user may see of their tokens (never the token itself)."""

    id: int
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool  # not revoked, not expired (by the database's clock: real time)


async def tokens_of(conn: asyncpg.Connection | asyncpg.Pool, user_id: int) -> list[TokenInfo]:
    """The user's tokens, newest first (revoked and expired ones included, marked so)."""
    rows = await conn.fetch(
        "SELECT id, prefix, label, created_at, expires_at, revoked_at, "
        "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AS active "
        "FROM api_tokens "
        "WHERE user_id = $1 ORDER BY id DESC LIMIT 1000",
        user_id,
    )
    return [TokenInfo(**dict(r)) for r in rows]


async def revoke_own_token(
    conn: asyncpg.Connection | asyncpg.Pool, who: Principal, token_id: int
) -> bool:
    """Revoke one of the caller's own tokens; False when it is not theirs or not active."""
    status = await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() "
        "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        token_id,
        who.user_id,
    )
    return bool(status.endswith(" 1"))
