"""Values that parse but cannot be used, found by field path so a record can be refused.

Consumers (the decisions consumer, the market adapter) check what they read from a topic
with this; a record that fails goes to the DLQ with one reason per field:

- non-finite numbers: pydantic reads JSON `NaN`, `Infinity` and overflowing literals such
  as `1e400` as floats (DESIGN §5: every number on the wire is finite); PostgreSQL's
  double precision would even store them, and they would reach the API and sums;
- times whose UTC instant lies outside years 1-9999 (`9999-12-31T23:00:00-05:00`): valid
  ISO 8601 with an offset, but Python cannot convert them to UTC, so asyncpg cannot send
  them, and one stored inside a jsonb column could not be read back;
- with ``postgres=True``, what PostgreSQL cannot store: an integer beyond its 4-byte
  `integer` (every integer of our events is stored as one) and a NUL character in a text.
  The database would refuse these at write time too, but finding the record there costs
  failed statements; found here, a flood of them costs what any unreadable record costs.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from schemas.base import FieldError

MAX_REASONS = 20  # enough to see the pattern; a huge list would only bloat the dead letter
INT4_MAX = 2**31 - 1
INT4_MIN = -(2**31)
NOT_FINITE = "must be a finite number (NaN, Infinity and overflowing literals are refused)"
OUT_OF_RANGE = "time out of range: its UTC instant is outside the years 1-9999"
TOO_LARGE = f"integer out of range: at most {INT4_MAX}"
NUL = "text must not contain the NUL character"


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


def problems(
    value: Any, *, postgres: bool = False, text_exempt: Collection[str] = ()
) -> list[FieldError]:
    """Every unusable value inside a model, list or tuple (at most MAX_REASONS).
    `text_exempt`: field names whose texts may hold NUL (the writer replaces it there)."""
    found: list[FieldError] = []
    _walk(value, "", found, postgres, frozenset(text_exempt))
    return found


def check(value: Any, *, postgres: bool = False, text_exempt: Collection[str] = ()) -> None:
    """Raise `InvalidRecord` naming every unusable value of `value`."""
    found = problems(value, postgres=postgres, text_exempt=text_exempt)
    if found:
        raise InvalidRecord(found)


def _walk(
    value: Any, loc: str, found: list[FieldError], postgres: bool, exempt: frozenset[str]
) -> None:
    if len(found) >= MAX_REASONS:
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            found.append(FieldError(loc=loc, reason=NOT_FINITE))
    elif isinstance(value, datetime):
        if not in_range(value):
            found.append(FieldError(loc=loc, reason=OUT_OF_RANGE))
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if postgres and not INT4_MIN <= value <= INT4_MAX:
            found.append(FieldError(loc=loc, reason=TOO_LARGE))
    elif isinstance(value, str):
        if postgres and "\x00" in value:
            found.append(FieldError(loc=loc, reason=NUL))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            where = f"{loc}.{name}" if loc else name
            # An exempt field's texts may hold NUL; its numbers and times are still checked.
            _walk(getattr(value, name), where, found, postgres and name not in exempt, exempt)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _walk(item, f"{loc}[{i}]", found, postgres, exempt)
