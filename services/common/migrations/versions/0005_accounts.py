"""Accounts: a password (argon2 hash) per user, an expiry per API token.

Revision ID: 0005_accounts
Revises: 0004_hardening
Create Date: 2026-12-02
"""

from __future__ import annotations

from services.common.migrate import execute_script

revision = "0005_accounts"
down_revision = "0004_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        -- NULL: the user cannot log in with a password (API tokens only, as before).
        ALTER TABLE users ADD COLUMN password_hash text;
        ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
        -- NULL: the token never expires (tokens made by an operator's CLI may be so).
        ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
        CREATE INDEX api_tokens_expiry_idx ON api_tokens (expires_at)
            WHERE expires_at IS NOT NULL
        """
    )


def downgrade() -> None:
    execute_script(
        """
        ALTER TABLE api_tokens DROP COLUMN expires_at;
        ALTER TABLE users DROP COLUMN password_changed_at;
        ALTER TABLE users DROP COLUMN password_hash
        """
    )
