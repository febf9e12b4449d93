"""Events of the ``charging-plans`` topic, its DLQ, and operator/aggregator commands (DESIGN §4)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import orjson
from pydantic import Field, TypeAdapter

from schemas.base import (
    AreaCode,
    DeliveryDay,
    Event,
    FieldError,
    Id64,
    NodeCapacity,
    Price,
    Revision,
    RunId,
    Timestamp,
    UserName,
)
from schemas.plan import ChargingPlan

_B64 = r"^[A-Za-z0-9+/]*={0,2}$"


class PlanSubmitted(ChargingPlan, Event):
    """A plan (all ChargingPlan fields, flat) submitted for a delivery day. Key: vehicle_id."""

    event_type: Literal["PlanSubmitted"] = "PlanSubmitted"
    source: str | None = Field(
        default=None, max_length=32, description='Who published it, e.g. "ingest" or "direct"'
    )

    def to_plan(self) -> ChargingPlan:
        """The plan without envelope fields."""
        return ChargingPlan.model_validate(self.model_dump(include=set(ChargingPlan.model_fields)))

    @classmethod
    def from_plan(cls, plan: ChargingPlan, **envelope: object) -> PlanSubmitted:
        """Wrap a plan; ``envelope`` may set event_id, occurred_at, source."""
        return cls.model_validate({**plan.model_dump(), **envelope})


# A PlanSubmitted value written from bytes: the envelope spliced onto the plan's own JSON
# (~3x cheaper than building the model; the ingest gateway writes every plan so):
#     submitted_prefix(occurred_at, source) + event_id + b'",' + plan_json[1:]
# The envelope written is checked against the model at import: a field added to
# PlanSubmitted and not here fails the import instead of producing invalid events.
_ENVELOPE = ("event_type", "schema_version", "source", "occurred_at", "event_id")
if set(PlanSubmitted.model_fields) - set(ChargingPlan.model_fields) != set(_ENVELOPE):
    raise TypeError(f"PlanSubmitted's envelope fields changed: submitted_prefix writes {_ENVELOPE}")


def submitted_prefix(occurred_at: datetime, source: str) -> bytes:
    """Everything of a PlanSubmitted value before its event id (see above)."""
    return (
        b'{"event_type":"PlanSubmitted","schema_version":1,"source":'
        + orjson.dumps(source)
        + b',"occurred_at":'
        + orjson.dumps(occurred_at.isoformat())
        + b',"event_id":"'
    )


class PlanCancelled(Event):
    """A plan withdrawn before gate closure. Key: vehicle_id."""

    event_type: Literal["PlanCancelled"] = "PlanCancelled"
    plan_id: UUID
    revision: Revision
    vehicle_id: Id64
    market_area: AreaCode
    delivery_day: DeliveryDay


PlanEvent = Annotated[PlanSubmitted | PlanCancelled, Field(discriminator="event_type")]
"""What the ``charging-plans`` topic carries, discriminated by ``event_type``."""

PLAN_EVENT_ADAPTER: TypeAdapter[PlanSubmitted | PlanCancelled] = TypeAdapter(PlanEvent)


class RejectedEvent(Event):
    """Dead-letter record (``<topic>.dlq``, e.g. ``charging-plans.dlq``): the original bytes
    (cut to fit the broker's record limit) and every reason they were refused."""

    event_type: Literal["RejectedEvent"] = "RejectedEvent"
    topic: str = Field(min_length=1, max_length=249, description="Topic the record was read from")
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key_b64: str | None = Field(default=None, pattern=_B64, description="Original key, base64")
    value_b64: str = Field(pattern=_B64, description="Original value bytes, base64 (maybe cut)")
    value_size: int | None = Field(
        default=None, ge=0, description="Length of the original value in bytes"
    )
    value_truncated: bool = Field(
        default=False, description="True when value_b64 holds only the first bytes of the value"
    )
    reasons: list[FieldError] = Field(min_length=1)
    # Best effort, so the reason can reach the vehicle even when the plan was unreadable.
    plan_id: UUID | None = None
    revision: int | None = None
    vehicle_id: str | None = Field(default=None, max_length=64)

    @classmethod
    def from_record(
        cls,
        *,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes,
        reasons: list[FieldError],
        **extra: object,
    ) -> RejectedEvent:
        return cls.model_validate(
            {
                "topic": topic,
                "partition": partition,
                "offset": offset,
                "key_b64": None if key is None else base64.b64encode(key).decode("ascii"),
                "value_b64": base64.b64encode(value).decode("ascii"),
                "reasons": reasons,
                **extra,
            }
        )

    @property
    def key(self) -> bytes | None:
        return None if self.key_b64 is None else _decode(self.key_b64)

    @property
    def value(self) -> bytes:
        return _decode(self.value_b64)


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:  # pattern admits a few malformed paddings
        raise ValueError(f"invalid base64: {exc}") from exc


class GateClosureMarker(Event):
    """Gate closure reached for (market_area, delivery_day): freeze plans, run phase 1."""

    event_type: Literal["GateClosureMarker"] = "GateClosureMarker"
    market_area: AreaCode
    delivery_day: DeliveryDay
    gate_closure: Timestamp


class WhatIfRequested(Event):
    """Operator command: clear the current plans now with (optionally) changed parameters.

    The answer is an ``AuctionCleared`` with ``what_if=true`` and ``run_id == request_id``.
    """

    event_type: Literal["WhatIfRequested"] = "WhatIfRequested"
    request_id: RunId
    market_area: AreaCode
    delivery_day: DeliveryDay
    requested_by: UserName
    price_forecast_eur_mwh: list[Price] | None = Field(
        default=None, max_length=100, description="Per MTU; None = the configured forecast"
    )
    node_capacity_kw: dict[str, NodeCapacity] = Field(
        default_factory=dict, description="Overrides of node capacities by node id"
    )
