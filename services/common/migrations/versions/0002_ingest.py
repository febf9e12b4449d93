"""Ingest: the newest accepted revision of each plan (idempotent resubmission, 409 on older).

Revision ID: 0002_ingest
Revises: 0001_registry
Create Date: 2026-11-25
"""

from __future__ import annotations

from services.common.migrate import execute_script

revision = "0002_ingest"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE ingest_plan_revisions (
            plan_id       uuid PRIMARY KEY,
            vehicle_id    text NOT NULL,
            market_area   text NOT NULL,
            delivery_day  date NOT NULL,
            revision      integer NOT NULL,
            cancelled     boolean NOT NULL DEFAULT false,
            accepted_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ingest_plan_revisions_vehicle_idx ON ingest_plan_revisions (vehicle_id)
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE ingest_plan_revisions")
