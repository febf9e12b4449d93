"""Hardening: the planning horizon per market area, and a body hash per accepted revision.

Revision ID: 0004_hardening
Revises: 0003_decisions
Create Date: 2026-12-01
"""

from __future__ import annotations

from services.common.migrate import execute_script

revision = "0004_hardening"
down_revision = "0003_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE market_areas
            ADD COLUMN plan_horizon_days integer NOT NULL DEFAULT 7
            CHECK (plan_horizon_days BETWEEN 1 AND 366);
        -- SHA-256 of the accepted revision's plan (normalized JSON): the same plan_id and
        -- revision with another body is a conflict (409), not a silent duplicate.
        ALTER TABLE ingest_plan_revisions ADD COLUMN body_sha256 bytea
        """
    )


def downgrade() -> None:
    execute_script(
        """
        ALTER TABLE ingest_plan_revisions DROP COLUMN body_sha256;
        ALTER TABLE market_areas DROP COLUMN plan_horizon_days
        """
    )
