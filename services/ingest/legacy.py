"""The original system's schedule submission (DESIGN §7.1), beside chargeflow's plans on
``POST /charging-schedules/``: read it, check it against the registry, turn it into a plan
for the next open delivery day (schemas/legacy_plan.py), send that plan the way of every
plan (the gateway: validation, revision, publish with acks=all), store the schedule.

Answers in the original's shapes: 201 with the stored schedule, 400 with DRF's error
document. A vehicle that is not the caller's is answered as the original's serializer
answered a vehicle outside the caller's queryset: 400 ``{"electric_vehicle": ['Invalid pk
"7" - object does not exist.']}``, the same words as for a vehicle that does not exist.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas.default_bid import BidPrices
from schemas.legacy import Errors, LegacySchedule, parse_schedule
from schemas.legacy_plan import LegacyFacts, legacy_loc, to_plan
from schemas.market_day import next_delivery_day
from services.common.registry import Principal
from services.ingest.facts import Network, VehicleFacts
from services.ingest.gateway import Gateway
from services.ingest.legacyshape import schedule_out, to_store
from services.ingest.marketviews import OperatorParameters
from services.ingest.problems import ProblemError
from services.ingest.schedules import ScheduleStore
from services.ingest.storage import storage_errors

log = logging.getLogger(__name__)

# plan_id of a vehicle's schedules for a day: uuid5 of "chargeflow:legacy/<vehicle>/<area>/<day>"
LEGACY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:chargeflow:legacy-schedule")


class LegacyRejected(Exception):
    """A 400 in DRF's shape."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(str(errors))
        self.errors = errors


def _no_such(pk: str) -> list[str]:
    return [f'Invalid pk "{pk}" - object does not exist.']


def plan_id_for(vehicle_id: str, market_area: str, day: str) -> UUID:
    return uuid5(LEGACY_NAMESPACE, f"{vehicle_id}/{market_area}/{day}")


class LegacySchedules:
    def __init__(
        self, gateway: Gateway, store: ScheduleStore, parameters: OperatorParameters
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.parameters = parameters

    async def submit(self, document: dict[str, Any], who: Principal) -> dict[str, Any]:
        """The stored schedule (201), or LegacyRejected (400) / ProblemError (503)."""
        schedule, errors = parse_schedule(document)
        if schedule is None:
            raise LegacyRejected(errors)
        async with storage_errors():
            net = await self.gateway.facts.network()
            vehicle_id = schedule.electric_vehicle
            vf = (await self.gateway.facts.vehicles([vehicle_id])).get(vehicle_id)
        if vf is None or (who.role == "vehicle" and vf.owner_id != who.user_id):
            raise LegacyRejected({"electric_vehicle": _no_such(vehicle_id)})
        facts = self._facts(schedule, net, vf)
        async with storage_errors():
            schedule_id = await self.store.next_id()
        day = facts.delivery_day.isoformat()
        plan_id = plan_id_for(vehicle_id, facts.market_area, day)
        converted, errors = to_plan(schedule, facts, plan_id, schedule_id)
        if converted is None:
            raise LegacyRejected(errors)
        [outcome] = await self.gateway.submit([converted.plan], who)
        if outcome.status == 503:
            raise ProblemError(503, outcome.detail, headers={"Retry-After": "2"})
        if outcome.status != 202:
            reasons = [
                f"{legacy_loc(e.loc)}: {e.reason}" if e.loc else e.reason for e in outcome.errors
            ]
            raise LegacyRejected({"non_field_errors": reasons or [outcome.detail]})
        stored = to_store(schedule_id, schedule, converted, facts.battery_kwh)
        async with storage_errors():  # published but not listed: the client's retry replaces it
            created = await self.store.insert(who.user_id, stored)
        return schedule_out(dataclasses.replace(stored, created_at=created))

    def _facts(self, schedule: LegacySchedule, net: Network, vf: VehicleFacts) -> LegacyFacts:
        """The points' market area, its next open day and prices, the usable powers."""
        items: list[dict[str, list[str]]] = []
        area_id: str | None = None
        powers: dict[str, float] = {}
        for item in schedule.point_schedules:
            point = net.points.get(item.point)
            errors: dict[str, list[str]] = {}
            if point is None:
                errors["point"] = _no_such(item.point)
            elif not point.active:
                errors["point"] = [f'Charging point "{item.point}" is inactive.']
            elif area_id is not None and point.market_area != area_id:
                errors["point"] = [
                    f'Charging point "{item.point}" is in market area {point.market_area}, '
                    f"the first point in {area_id}: one schedule lies in one market area."
                ]
            else:
                area_id = area_id or point.market_area
                powers[item.point] = min(point.max_power_kw, vf.vehicle.max_power_kw)
            items.append(errors)
        area = net.areas.get(area_id) if area_id is not None else None
        if any(items) or area is None:
            raise LegacyRejected({"point_schedules": items} if any(items) else _no_area(area_id))
        params = self.parameters.of(area.id)
        prices = BidPrices.within(
            params.must_have_price_eur_mwh,
            params.top_up_price_eur_mwh,
            area.price_min_eur_mwh,
            area.price_max_eur_mwh,
        )
        now = self.gateway.clock.now()
        return LegacyFacts(
            market_area=area.id,
            timezone=area.timezone,
            delivery_day=next_delivery_day(now, area.timezone, area.gate_closure),
            battery_kwh=vf.vehicle.battery_kwh,
            min_charge_kwh=vf.min_charge_kwh,
            powers_kw=powers,
            prices=prices,
        )


def _no_area(area_id: str | None) -> Errors:
    return {"non_field_errors": [f"The points' market area {area_id} is not served here."]}
