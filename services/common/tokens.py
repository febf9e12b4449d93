"""API tokens: random, shown once, stored as a SHA-256 hash, revocable (DESIGN §7).

A token has 256 bits of entropy, so a fast hash is enough (no password-stretching needed): an
attacker with the table still cannot invert it. Lookup is by hash, so comparing secrets never
leaks timing about the stored token.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "cf_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def display_prefix(token: str) -> str:
    """The first characters, safe to show in lists so users can tell tokens apart."""
    return token[: len(TOKEN_PREFIX) + 6]
