"""The physical network and fleet facts the auction needs: nodes, charging points, vehicles."""

from __future__ import annotations

from pydantic import Field

from schemas.base import AreaCode, Id64, Model, NodeCapacity, PositiveEnergy, Power


class Node(Model):
    """A grid node (e.g. a transformer) with an import capacity."""

    id: Id64
    capacity_kw: NodeCapacity
    # Optional per-MTU profile; when given it overrides capacity_kw MTU by MTU.
    capacity_kw_by_mtu: list[NodeCapacity] | None = Field(default=None, max_length=100)
    market_area: AreaCode | None = None


class ChargingPoint(Model):
    """A charging point (EVSE) connected to one node."""

    id: Id64
    node_id: Id64
    max_power_kw: Power
    active: bool = True


class Vehicle(Model):
    """A vehicle's physical limits (from the registry)."""

    id: Id64
    battery_kwh: PositiveEnergy
    max_power_kw: Power
