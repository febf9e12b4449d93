"""Values that parse but cannot be used, found by field path so a record can be refused.

Consumers (the decisions consumer, the market adapter) check what they read from a topic
with this: a record that fails goes to the DLQ with one reason per field.

- Non-finite numbers: pydantic reads JSON `NaN`, `Infinity` and overflowing literals such
  as `1e400` as floats; PostgreSQL's double precision stores them, and they would then
  reach the API and the operator's sums (DESIGN §5: every number on the wire is finite).
- Times whose UTC instant lies outside years 1–9999 (`9999-12-31T23:00:00-05:00`): valid
  ISO 8601 with an offset, but Python cannot convert them to UTC, so asyncpg cannot send
  them, and one stored inside a jsonb column could not be read back by the API.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from schemas.base import FieldError

MAX_REASONS = 20  # enough to see the pattern; a huge list would only bloat the dead letter
NOT_FINITE = "must be a finite number (NaN, Infinity and overflowing literals are refused)"
OUT_OF_RANGE = "time out of range: its UTC instant is outside the years 1-9999"


class InvalidRecord(ValueError):
    """A record that parsed but cannot be used, with the field errors that say why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


def in_range(t: datetime) -> bool:
    """Can this aware time be converted to UTC? Only years 1 and 9999 need the real test."""
    if 1 < t.year < 9999:
        return True
    try:
        t.astimezone(UTC)
    except OverflowError:
        return False
    return True


def nonfinite(value: Any, loc: str = "") -> list[FieldError]:
    """Every non-finite float and every time out of range inside a model, list or tuple
    (at most MAX_REASONS)."""
    found: list[FieldError] = []
    _walk(value, loc, found)
    return found


def check_finite(value: Any) -> None:
    """Raise `InvalidRecord` naming every non-finite number of `value`."""
    found = nonfinite(value)
    if found:
        raise InvalidRecord(found)


def _walk(value: Any, loc: str, found: list[FieldError]) -> None:
    if len(found) >= MAX_REASONS:
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            found.append(FieldError(loc=loc, reason=NOT_FINITE))
    elif isinstance(value, datetime):
        if not in_range(value):
            found.append(FieldError(loc=loc, reason=OUT_OF_RANGE))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _walk(getattr(value, name), f"{loc}.{name}" if loc else name, found)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _walk(item, f"{loc}[{i}]", found)
