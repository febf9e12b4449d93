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
    CurveStep,
    MarketResult,
    NodeResult,
    ScheduleDecision,
    area_day_key,
)
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.plan import BidStep, ChargingPlan, PlanBody, Stop

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
    "BidStep",
    "ChargingPlan",
    "ChargingPoint",
    "CurveStep",
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
    "RejectedEvent",
    "ScheduleDecision",
    "Stop",
    "Vehicle",
    "WhatIfRequested",
    "area_day_key",
]
