"""Registry: market areas, users, API tokens, vehicles, nodes, charging points.

Revision ID: 0001_registry
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

from services.common.migrate import execute_script

revision = "0001_registry"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE market_areas (
            id               text PRIMARY KEY,
            timezone         text NOT NULL DEFAULT 'Europe/Warsaw',
            mtu_minutes      integer NOT NULL DEFAULT 60 CHECK (mtu_minutes IN (15, 30, 60)),
            gate_closure     time NOT NULL DEFAULT '12:00',
            price_min_eur_mwh double precision NOT NULL DEFAULT -500,
            price_max_eur_mwh double precision NOT NULL DEFAULT 4000,
            CHECK (price_min_eur_mwh < price_max_eur_mwh)
        );
        CREATE TABLE users (
            id          bigserial PRIMARY KEY,
            name        text NOT NULL UNIQUE,
            role        text NOT NULL CHECK (role IN ('vehicle', 'operator', 'admin')),
            created_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE api_tokens (
            id          bigserial PRIMARY KEY,
            user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_hash  bytea NOT NULL UNIQUE,
            prefix      text NOT NULL,
            label       text NOT NULL DEFAULT '',
            created_at  timestamptz NOT NULL DEFAULT now(),
            revoked_at  timestamptz
        );
        CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);
        CREATE TABLE nodes (
            id           text PRIMARY KEY,
            market_area  text NOT NULL REFERENCES market_areas(id),
            capacity_kw  double precision NOT NULL CHECK (capacity_kw >= 0)
        );
        CREATE TABLE charging_points (
            id            text PRIMARY KEY,
            node_id       text NOT NULL REFERENCES nodes(id),
            max_power_kw  double precision NOT NULL CHECK (max_power_kw > 0),
            active        boolean NOT NULL DEFAULT true
        );
        CREATE INDEX charging_points_node_idx ON charging_points (node_id);
        CREATE TABLE vehicles (
            id            text PRIMARY KEY,
            owner_id      bigint NOT NULL REFERENCES users(id),
            battery_kwh   double precision NOT NULL CHECK (battery_kwh > 0),
            max_power_kw  double precision NOT NULL CHECK (max_power_kw > 0)
        );
        CREATE INDEX vehicles_owner_idx ON vehicles (owner_id);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE vehicles, charging_points, nodes, api_tokens, users, market_areas CASCADE"
    )
