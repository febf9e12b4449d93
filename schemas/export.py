"""JSON Schema export of every event (and the plan) to ``schemas/json/``.

``python -m schemas export`` writes the files; ``python -m schemas check`` exits 1 when the
committed files differ from what the models generate. Output is deterministic: sorted
keys, two-space indent, trailing newline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from schemas.config import AuctionConfig
from schemas.events import (
    GateClosureMarker,
    PlanCancelled,
    PlanEvent,
    PlanSubmitted,
    RejectedEvent,
    WhatIfRequested,
)
from schemas.market import AggregateBid, AuctionCleared, MarketResult, ScheduleDecision
from schemas.plan import ChargingPlan

JSON_DIR = Path(__file__).resolve().parent / "json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
EXPORT_COMMAND = "python -m schemas export"

MODELS: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        ChargingPlan,
        PlanSubmitted,
        PlanCancelled,
        RejectedEvent,
        AuctionConfig,
        AggregateBid,
        MarketResult,
        AuctionCleared,
        ScheduleDecision,
        GateClosureMarker,
        WhatIfRequested,
    )
}

# Topic -> file of the schema its values follow (see docs/schemas.md).
TOPICS = {
    "charging-plans": "PlanEvent",
    "charging-plans.dlq": "RejectedEvent",
    "auction-config": "AuctionConfig",
    "aggregate-bids": "AggregateBid",
    "market-results": "MarketResult",
    "auction-results": "AuctionCleared",
    "schedule-decisions": "ScheduleDecision",
}


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schemas() -> dict[str, dict[str, Any]]:
    """Name -> JSON Schema (draft 2020-12) of every exported model, plus ``PlanEvent``."""
    out: dict[str, dict[str, Any]] = {
        name: model.model_json_schema(mode="validation") for name, model in MODELS.items()
    }
    union = TypeAdapter(PlanEvent).json_schema(mode="validation")
    union["title"] = "PlanEvent"
    union["description"] = "A value of the charging-plans topic: PlanSubmitted or PlanCancelled."
    out["PlanEvent"] = union
    for schema in out.values():
        schema["$schema"] = DIALECT
    return out


def render() -> dict[str, str]:
    """File name -> file text, exactly as ``export`` writes it."""
    return {f"{name}.schema.json": _dump(schema) for name, schema in sorted(schemas().items())}


def export(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema file (and remove stale ``*.schema.json`` files); returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    files = render()
    for old in directory.glob("*.schema.json"):
        if old.name not in files:
            old.unlink()
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def stale(directory: Path = JSON_DIR) -> list[str]:
    """Names of files that are missing, different or superfluous in ``directory``."""
    files = render()
    problems = []
    for name, text in files.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name} (missing)")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name} (out of date)")
    for path in sorted(directory.glob("*.schema.json")):
        if path.name not in files:
            problems.append(f"{path.name} (no longer generated)")
    return problems
