"""The gateway's core, independent of HTTP: check plans, publish them, answer per plan.

One path for single plans and batches: parse -> ownership -> registry and time rules ->
revision check -> publish (acks=all) -> record the revision. Every outcome carries the HTTP
status it maps to and every field error found.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from schemas.base import FieldError
from schemas.context import ValidationContext
from schemas.events import PlanCancelled
from schemas.fastcheck import Bounds, plan_is_valid
from schemas.fastplan import FastPlan, to_model
from schemas.market_day import MTU_CHOICES, delivery_day_of
from schemas.network import Vehicle
from schemas.parsing import parse_plan
from schemas.plan import ChargingPlan
from schemas.planlike import PlanLike
from schemas.validation import validate_plan
from services.common.clock import Clock
from services.common.registry import Principal
from services.ingest import metrics
from services.ingest.defaults import (
    BID_MISSING,
    PlanWithoutBid,
    parse_without_bid,
    with_default_bid,
)
from services.ingest.facts import Network, RegistryFacts, VehicleFacts
from services.ingest.marketviews import OperatorParameters
from services.ingest.outcomes import (
    Outcome,
    encode_and_hash,
    late_errors,
    not_yours,
    reject,
    revision_verdict,
)
from services.ingest.publisher import Publisher
from services.ingest.revisions import PlanLocks, Recorded, RevisionStore, Row
from services.ingest.storage import storage_errors

log = logging.getLogger(__name__)


class Gateway:
    def __init__(
        self,
        *,
        clock: Clock,
        topic: str,
        publisher: Publisher,
        facts: RegistryFacts,
        store: RevisionStore,
        parameters: OperatorParameters | None = None,
    ) -> None:
        self.clock = clock
        self.parameters = parameters or OperatorParameters()  # for plans without a bid
        self.topic = topic
        self.publisher = publisher
        self.facts = facts
        self.store = store
        self.locks = PlanLocks()
        self._bounds: Bounds = {}  # delivery day bounds in UTC, for plan_is_valid

    async def submit(self, items: Sequence[object], who: Principal) -> list[Outcome]:
        """One outcome per item, in order. Raises ProblemError 503 if the registry is down."""
        outcomes: list[Outcome | None] = [None] * len(items)
        plans: dict[int, PlanLike] = {}
        first_index: dict[int, int] = {}  # by plan_id.int: UUID.__hash__ is Python code
        bidless = False  # some plan omitted its bid (the batch path skips the look otherwise)
        for i, raw in enumerate(items):
            plan: PlanLike | None
            errors: list[FieldError]
            if isinstance(raw, FastPlan | ChargingPlan):  # parsed already (batch paths)
                plan, errors = raw, []
            elif isinstance(raw, bytes | str | dict):
                plan, errors = parse_plan(raw)
                if plan is None and BID_MISSING in errors:  # the operator's default bid
                    plan, errors = parse_without_bid(raw)
                    bidless = True
            else:
                err = FieldError(loc="", reason="a plan must be a JSON object")
                outcomes[i] = reject(422, "invalid", "invalid plan", [err])
                continue
            if plan is None:
                outcomes[i] = reject(422, "invalid", "invalid plan", errors)
            elif plan.plan_id.int in first_index:
                reason = f"plan_id repeats item {first_index[plan.plan_id.int]} of this batch"
                err = FieldError(loc="plan_id", reason=reason)
                outcomes[i] = reject(422, "duplicate", "duplicate plan", [err], plan)
            else:
                first_index[plan.plan_id.int] = i
                plans[i] = plan
        now = self.clock.now()
        defaulted: dict[int, list[dict[str, float]]] = {}
        if plans:
            async with storage_errors():
                net = await self.facts.network()
                vehicles = await self.facts.vehicles(p.vehicle_id for p in plans.values())
            known = {vid: vf.vehicle for vid, vf in vehicles.items() if vf is not None}
            if bidless:
                defaulted = self._default_bids(plans, outcomes, who, net, vehicles)
            contexts: dict[str, ValidationContext] = {}  # one per market area and request
            late: dict[tuple[str, date], list[FieldError]] = {}  # per area and day
            for i, plan in list(plans.items()):
                vf = vehicles.get(plan.vehicle_id)
                checked = self._check(plan, who, net, vf, known, contexts, late, now)
                if checked is not None:
                    outcomes[i] = checked
                    del plans[i]
        if plans:
            async with self.locks.hold(p.plan_id for p in plans.values()):
                await self._publish(plans, outcomes, now)
            for i, bid in defaulted.items():  # shown in the answer
                answer = outcomes[i]
                if answer is not None and answer.status == 202:
                    answer.bid = bid
        done = [o for o in outcomes if o is not None]
        assert len(done) == len(items)
        rejected = Counter(o.reason for o in done if o.reason is not None)
        for reason, n in rejected.items():  # per request, not per plan
            metrics.PLANS_REJECTED.labels(reason).inc(n)
        if rejected["late"]:
            metrics.PLANS_LATE.inc(rejected["late"])
        return done

    def _default_bids(
        self,
        plans: dict[int, PlanLike],
        outcomes: list[Outcome | None],
        who: Principal,
        net: Network,
        vehicles: dict[str, VehicleFacts | None],
    ) -> dict[int, list[dict[str, float]]]:
        """Plans without a bid get the operator's default bid (or their answer, when none
        can be made); the bids given, by item."""
        given: dict[int, list[dict[str, float]]] = {}
        for i, plan in list(plans.items()):
            if not isinstance(plan, PlanWithoutBid):
                continue
            vf = vehicles.get(plan.vehicle_id)
            filled, _, answer = with_default_bid(plan, who, net, vf, self.parameters)
            if filled is None:
                outcomes[i] = answer
                del plans[i]
            else:
                plans[i] = filled
                given[i] = [s.model_dump() for s in filled.bid]
        return given

    def _check(
        self,
        plan: PlanLike,
        who: Principal,
        net: Network,
        vf: VehicleFacts | None,
        known: dict[str, Vehicle],
        contexts: dict[str, ValidationContext],
        lateness: dict[tuple[str, date], list[FieldError]],
        now: datetime,
    ) -> Outcome | None:
        denied = not_yours(who, vf.owner_id if vf else None, plan.vehicle_id, "vehicle_id", plan)
        if denied is not None:
            return denied
        area = net.areas.get(plan.market_area)
        if area is None:
            err = FieldError(loc="market_area", reason=f"unknown market area {plan.market_area!r}")
            return reject(422, "invalid", "invalid plan", [err], plan)
        ctx = contexts.get(area.id)
        if ctx is None:
            ctx = contexts[area.id] = ValidationContext(
                vehicles=known,
                charging_points=net.points,
                timezone=area.timezone,
                mtu_minutes=area.mtu_minutes if area.mtu_minutes in MTU_CHOICES else 60,
                price_min_eur_mwh=area.price_min_eur_mwh,
                price_max_eur_mwh=area.price_max_eur_mwh,
                gate_closure_local=area.gate_closure,
                today=delivery_day_of(now, area.timezone),
                plan_horizon_days=area.plan_horizon_days,
            )
        errors: list[FieldError]
        if plan_is_valid(plan, ctx, self._bounds):
            errors = []
        else:
            model, errors = to_model(plan)
            if model is not None:
                errors = validate_plan(model, ctx)
        late = lateness.get((area.id, plan.delivery_day))
        if late is None:
            late = lateness[(area.id, plan.delivery_day)] = late_errors(
                area, plan.delivery_day, now
            )
        if late:
            return reject(409, "late", "gate closure passed", late + errors, plan)
        if errors:
            return reject(422, "invalid", "invalid plan", errors, plan)
        return None

    async def _publish(
        self, plans: dict[int, PlanLike], outcomes: list[Outcome | None], now: datetime
    ) -> None:
        async with storage_errors():
            recorded = await self.store.lookup([p.plan_id for p in plans.values()])
        send: list[tuple[int, PlanLike]] = []
        for i, plan in plans.items():
            rec = recorded.get(plan.plan_id) if recorded else None
            verdict = None if rec is None else revision_verdict(plan, rec)
            if verdict is None:
                send.append((i, plan))
            else:
                outcomes[i] = verdict
        values, digests = encode_and_hash([p for _, p in send], now)
        records = [(p.vehicle_id.encode(), v) for (_, p), v in zip(send, values, strict=True)]
        results = await self.publisher.publish(self.topic, records) if records else []
        acked: list[Row] = []
        for (i, plan), exc, digest in zip(send, results, digests, strict=True):
            if exc is None:
                outcomes[i] = Outcome(202, plan.plan_id, plan.revision)
                acked.append(
                    (
                        plan.plan_id,
                        plan.vehicle_id,
                        plan.market_area,
                        plan.delivery_day,
                        plan.revision,
                        digest,
                    )
                )
            else:
                outcomes[i] = reject(
                    503,
                    "unavailable",
                    "broker unavailable: not stored, retry with the same plan_id and revision",
                    [],
                    plan,
                )
        metrics.PLANS_ACCEPTED.inc(len(acked))
        try:
            await self.store.record(acked)
        except Exception:  # the plans are stored in the broker: still 202 (see revisions.py)
            metrics.REVISION_WRITE_ERRORS.inc(len(acked))
            log.exception("could not record %d accepted revisions", len(acked))

    async def cancel(self, plan_id: UUID, who: Principal) -> Outcome:
        """Publish PlanCancelled for the newest accepted revision of ``plan_id``."""
        async with self.locks.hold([plan_id]), storage_errors():
            rec = (await self.store.lookup([plan_id])).get(plan_id)
            if rec is None:
                return Outcome(
                    404,
                    plan_id,
                    None,
                    "no accepted plan with this plan_id",
                    [FieldError(loc="plan_id", reason="unknown plan_id")],
                )
            if who.role == "vehicle":  # only then is the owner needed (a registry read)
                vf = (await self.facts.vehicles([rec.vehicle_id])).get(rec.vehicle_id)
                denied = not_yours(who, vf.owner_id if vf else None, rec.vehicle_id, "plan_id")
                if denied is not None:
                    return denied
            net = await self.facts.network()
            return await self._cancel(rec, net, self.clock.now())

    async def _cancel(self, rec: Recorded, net: Network, now: datetime) -> Outcome:
        area = net.areas.get(rec.market_area)
        late = late_errors(area, rec.delivery_day, now) if area else []
        if late:
            metrics.PLANS_LATE.inc()
            return Outcome(409, rec.plan_id, rec.revision, "gate closure passed", late)
        done = Outcome(202, rec.plan_id, rec.revision, "cancelled")
        if rec.cancelled:
            return done  # acknowledged before: idempotent
        event = PlanCancelled(
            plan_id=rec.plan_id,
            revision=rec.revision,
            vehicle_id=rec.vehicle_id,
            market_area=rec.market_area,
            delivery_day=rec.delivery_day,
            occurred_at=now,
        )
        [exc] = await self.publisher.publish(
            self.topic, [(rec.vehicle_id.encode(), event.model_dump_json().encode())]
        )
        if exc is not None:
            return Outcome(503, rec.plan_id, rec.revision, "broker unavailable: not cancelled")
        metrics.PLANS_CANCELLED.inc()
        await self.store.mark_cancelled(rec.plan_id, rec.revision)
        return done
