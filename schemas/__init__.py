"""chargeflow event and API models (pydantic v2), shared by every service.

Import from here: ``from schemas import PlanSubmitted, validate_plan, ...``.
``python -m schemas export`` writes the JSON Schemas to ``schemas/json/``.
"""

from schemas.base import SCHEMA_VERSION, Event, FieldError, Model
from schemas.config import PRICE_MAX_EUR_MWH, PRICE_MIN_EUR_MWH, AuctionConfig, AuctionParameters
from schemas.events import (
    PLAN_EVENT_ADAPTER,
    GateClosureMarker,
    PlanCancelled,
    PlanEvent,
    PlanSubmitted,
    RejectedEvent,
    WhatIfRequested,
)
from schemas.market import (
    Aggregate,
    AggregateBid,
    Allocation,
    AuctionCleared,
    BidCurvePoint,
    MarketResult,
    NodeResult,
    ScheduleDecision,
    area_day_key,
)
from schemas.market_day import day_bounds, gate_closure, mtu_count, mtu_index, mtu_starts
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.plan import BidStep, ChargingPlan, PlanBody, Stop
from schemas.validation import (
    PointFacts,
    ValidationContext,
    check_plan,
    gate_closure_errors,
    parse_plan,
    parse_plan_event,
    validate_plan,
)

__all__ = [
    "PLAN_EVENT_ADAPTER",
    "PRICE_MAX_EUR_MWH",
    "PRICE_MIN_EUR_MWH",
    "SCHEMA_VERSION",
    "Aggregate",
    "AggregateBid",
    "Allocation",
    "AuctionCleared",
    "AuctionConfig",
    "AuctionParameters",
    "BidCurvePoint",
    "BidStep",
    "ChargingPlan",
    "ChargingPoint",
    "Event",
    "FieldError",
    "GateClosureMarker",
    "MarketResult",
    "Model",
    "Node",
    "NodeResult",
    "PlanBody",
    "PlanCancelled",
    "PlanEvent",
    "PlanSubmitted",
    "PointFacts",
    "RejectedEvent",
    "ScheduleDecision",
    "Stop",
    "ValidationContext",
    "Vehicle",
    "WhatIfRequested",
    "area_day_key",
    "check_plan",
    "day_bounds",
    "gate_closure",
    "gate_closure_errors",
    "mtu_count",
    "mtu_index",
    "mtu_starts",
    "parse_plan",
    "parse_plan_event",
    "validate_plan",
]
