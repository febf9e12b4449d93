"""The physical network and fleet facts the auction needs: nodes, charging points, vehicles."""

from __future__ import annotations

from pydantic import Field

from schemas.base import Model


class Node(Model):
    """A grid node (e.g. a transformer) with an import capacity."""

    id: str = Field(min_length=1, max_length=64)
    capacity_kw: float = Field(ge=0)
    # Optional per-MTU profile; when given it overrides capacity_kw MTU by MTU.
    capacity_kw_by_mtu: list[float] | None = None
    market_area: str | None = None


class ChargingPoint(Model):
    """A charging point (EVSE) connected to one node."""

    id: str = Field(min_length=1, max_length=64)
    node_id: str = Field(min_length=1, max_length=64)
    max_power_kw: float = Field(gt=0)
    active: bool = True


class Vehicle(Model):
    """A vehicle's physical limits (from the registry)."""

    id: str = Field(min_length=1, max_length=64)
    battery_kwh: float = Field(gt=0)
    max_power_kw: float = Field(gt=0)
