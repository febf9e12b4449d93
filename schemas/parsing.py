"""Parse raw plans and plan events into models, turning pydantic errors into FieldErrors.

Paths look like ``stops[0].arrival``; "" means the whole document. Naive timestamps are
rejected here (``AwareDatetime``) with a reason that says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.base import FieldError
from schemas.events import PLAN_EVENT_ADAPTER, PlanCancelled, PlanSubmitted
from schemas.plan import ChargingPlan

M = TypeVar("M", bound=BaseModel)
Raw = bytes | bytearray | str | Mapping[str, Any]

_REASONS = {
    "missing": "field required",
    "extra_forbidden": "unknown field",
    "timezone_aware": (
        "timestamp without offset: naive timestamps are rejected, "
        "use ISO 8601 with an offset such as 2026-11-25T08:00:00+01:00"
    ),
}
_EVENT_TAGS = {"PlanSubmitted", "PlanCancelled"}


def loc_path(loc: Sequence[int | str]) -> str:
    """``("stops", 1, "arrival")`` -> ``"stops[1].arrival"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def errors_from(
    exc: ValidationError, *, strip_tags: frozenset[str] = frozenset()
) -> list[FieldError]:
    """One FieldError per pydantic error, in pydantic's order."""
    result: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        if loc and loc[0] in strip_tags:  # discriminated union: drop the tag from the path
            loc = loc[1:]
        kind = err["type"]
        if kind == "json_invalid":
            reason = f"invalid JSON: {err.get('ctx', {}).get('error', err['msg'])}"
        elif kind == "union_tag_not_found" or kind == "union_tag_invalid":
            reason = "event_type must be 'PlanSubmitted' or 'PlanCancelled'"
            loc = ["event_type"]
        else:
            reason = _REASONS.get(kind, err["msg"])
        # Cut to FieldError's limits: a 1000-character unknown key must not make the
        # description of the error raise in turn (it stopped consumers).
        result.append(FieldError(loc=loc_path(loc)[:256], reason=reason[:2000]))
    return result


def _parse(
    adapter: TypeAdapter[Any], raw: Raw, tags: frozenset[str]
) -> tuple[Any, list[FieldError]]:
    try:
        if isinstance(raw, bytes | bytearray | str):
            return adapter.validate_json(raw), []
        return adapter.validate_python(dict(raw)), []
    except ValidationError as exc:
        return None, errors_from(exc, strip_tags=tags)


_PLAN_ADAPTER: TypeAdapter[ChargingPlan] = TypeAdapter(ChargingPlan)


def parse_plan(raw: Raw) -> tuple[ChargingPlan | None, list[FieldError]]:
    """A ChargingPlan from JSON bytes/str or a dict, or None and every error found."""
    plan, errors = _parse(_PLAN_ADAPTER, raw, frozenset())
    return plan, errors


def parse_plan_event(raw: Raw) -> tuple[PlanSubmitted | PlanCancelled | None, list[FieldError]]:
    """A value of the ``charging-plans`` topic, or None and every error found."""
    event, errors = _parse(PLAN_EVENT_ADAPTER, raw, frozenset(_EVENT_TAGS))
    return event, errors
