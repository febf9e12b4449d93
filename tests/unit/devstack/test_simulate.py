"""The simulated fleet produces plans that pass the shared validator, deterministically."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.context import ValidationContext
from schemas.network import Node, Vehicle
from schemas.parsing import parse_plan
from schemas.validation import validate_plan
from services.devstack import seed
from services.devstack.simulate import fleet_plans

DATA = seed.load()
VEHICLES = [
    Vehicle(id=v.id, battery_kwh=v.battery_kwh, max_power_kw=v.max_power_kw) for v in DATA.vehicles
]
NODES = [Node(id=n.id, capacity_kw=n.capacity_kw) for n in DATA.nodes]


@pytest.mark.parametrize("day", [date(2026, 11, 26), date(2026, 3, 29), date(2026, 10, 25)])
def test_fleet_plans_pass_the_validator(day):
    ctx = ValidationContext.build(
        vehicles=VEHICLES, nodes=NODES, charging_points=DATA.charging_points, market_area="PL"
    )
    plans = fleet_plans(VEHICLES, DATA.charging_points, day, "Europe/Warsaw", "PL", seed=7)
    assert len(plans) == len(VEHICLES)
    for raw in plans:
        plan, errors = parse_plan(raw)
        assert errors == [] and plan is not None
        assert validate_plan(plan, ctx) == [], raw


def test_same_seed_same_plans_other_seed_other_plans():
    args = (VEHICLES, DATA.charging_points, date(2026, 11, 26), "Europe/Warsaw", "PL")
    assert fleet_plans(*args, seed=3) == fleet_plans(*args, seed=3)
    assert fleet_plans(*args, seed=3) != fleet_plans(*args, seed=4)
