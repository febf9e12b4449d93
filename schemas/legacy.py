"""The original system's charging schedule (DESIGN §7.1), read from its JSON: pure, no I/O.

    {"electric_vehicle": 7, "mode": "hwh", "charge_percent": 35.5, "trip_percent": 20.0,
     "point_schedules": [{"point": 3, "arrival_time": "2026-11-26T07:00:00",
                          "departure_time": "2026-11-26T07:45:00"}, ...]}

Errors come in Django REST framework's shapes, as the original answered them:
``{"field": ["message"], "point_schedules": [{}, {"arrival_time": ["message"]}],
"non_field_errors": ["message"]}`` — DRF's own words where it had them. Like DRF, fields
the schedule does not know are ignored. Ids are numbers or strings; a number stands for its
decimal text (vehicle 7 is the registry's vehicle "7"). Times may lack an offset: they are
read in the market area's timezone later (:mod:`schemas.legacy_plan`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from schemas.base import FIRST_DAY, LAST_DAY

Mode = Literal["hh", "hwh"]
POINTS_PER_MODE: dict[str, int] = {"hh": 2, "hwh": 3}
MAX_PK = 2**63 - 1  # the original's integer primary keys (bigint)
# What a DRF DateTimeField read: ISO 8601, the offset optional.
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?$"
_TIME = re.compile(TIME_PATTERN)
_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,18})$")

REQUIRED = "This field is required."
NULL = "This field may not be null."
NUMBER = "A valid number is required."
TIME_FORMAT = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)

Errors = dict[str, Any]
"""DRF's error document: field -> [messages]; point_schedules -> [messages] or one
{field: [messages]} per item; "non_field_errors" -> [messages]."""


@dataclass(frozen=True)
class PointSchedule:
    point: str
    arrival_time: datetime  # naive: in the area's timezone
    departure_time: datetime


@dataclass(frozen=True)
class LegacySchedule:
    electric_vehicle: str
    mode: Mode
    charge_percent: float
    trip_percent: float
    point_schedules: tuple[PointSchedule, ...]


def is_legacy(document: object) -> bool:
    """A JSON object in the original format rather than a chargeflow plan: it names the
    original's fields and has no ``plan_id``."""
    return (
        isinstance(document, dict)
        and "plan_id" not in document
        and ("electric_vehicle" in document or "point_schedules" in document)
    )


def may_be_legacy(body: bytes) -> bool:
    """Cheap test on the raw body before any parse: False means certainly not legacy."""
    return b'"electric_vehicle"' in body or b'"point_schedules"' in body


def wire_id(registry_id: str) -> int | str:
    """A registry id as the original wrote it: a number when it is a decimal integer."""
    if _DECIMAL.match(registry_id) and int(registry_id) <= MAX_PK:
        return int(registry_id)
    return registry_id


def parse_schedule(document: dict[str, Any]) -> tuple[LegacySchedule | None, Errors]:
    """The schedule, or None and every error found (DRF shapes)."""
    errors: Errors = {}
    vehicle = _field(document, "electric_vehicle", _pk, errors)
    mode = _field(document, "mode", _mode, errors)
    charge = _field(document, "charge_percent", _percent, errors)
    trip = _field(document, "trip_percent", _trip_percent, errors)
    schedules = _field(document, "point_schedules", _point_schedules, errors)
    if errors:
        return None, errors
    schedule = LegacySchedule(vehicle, mode, charge, trip, tuple(schedules))
    return schedule, {}


class _Invalid(ValueError):
    def __init__(self, detail: Any) -> None:
        super().__init__(str(detail))
        self.detail = detail


def _field(document: dict[str, Any], name: str, read: Any, errors: Errors) -> Any:
    if name not in document:
        errors[name] = [REQUIRED]
        return None
    if document[name] is None:
        errors[name] = [NULL]
        return None
    try:
        return read(document[name])
    except _Invalid as exc:
        errors[name] = exc.detail
        return None


def _pk(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _Invalid([f"Incorrect type. Expected pk value, received {type(value).__name__}."])
    if isinstance(value, int):
        if not 0 <= value <= MAX_PK:
            raise _Invalid([f'Invalid pk "{value}" - object does not exist.'])
        return str(value)
    if not _ID.match(value):
        raise _Invalid(["Ids are 1 to 64 characters without control characters."])
    return value


def _mode(value: Any) -> Mode:
    if not isinstance(value, str) or value not in POINTS_PER_MODE:
        raise _Invalid([f'"{value}" is not a valid choice.'])
    return "hh" if value == "hh" else "hwh"


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid([NUMBER])
    return float(value)


def _percent(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise _Invalid(["Ensure this value is greater than or equal to 0."])
    if number > 100:
        raise _Invalid(["Ensure this value is less than or equal to 100."])
    return number


def _trip_percent(value: Any) -> float:
    number = _number(value)
    if number > 100:
        raise _Invalid(
            [
                "Ensure this value is less than or equal to 100: a trip of "
                f"{number:g}% of the battery needs more than the whole battery."
            ]
        )
    return _percent(number)


def _time(value: Any) -> datetime:
    if not isinstance(value, str) or not _TIME.match(value):
        raise _Invalid([TIME_FORMAT])
    try:
        at = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise _Invalid([TIME_FORMAT]) from exc
    if not FIRST_DAY.year <= at.year <= LAST_DAY.year:  # also keeps time arithmetic in range
        raise _Invalid([f"Times lie in the years {FIRST_DAY.year} to {LAST_DAY.year}."])
    return at


def _point_schedules(value: Any) -> list[PointSchedule]:
    if not isinstance(value, list):
        raise _Invalid([f'Expected a list of items but got type "{type(value).__name__}".'])
    if not value:
        raise _Invalid(["This list may not be empty."])
    if len(value) > max(POINTS_PER_MODE.values()):
        raise _Invalid([f"At most {max(POINTS_PER_MODE.values())} point schedules (hwh)."])
    items: list[PointSchedule] = []
    item_errors: list[dict[str, Any]] = []
    for item in value:
        errors: Errors = {}
        if not isinstance(item, dict):
            kind = type(item).__name__
            errors["non_field_errors"] = [f"Invalid data. Expected a dictionary, but got {kind}."]
        else:
            point = _field(item, "point", _pk, errors)
            arrival = _field(item, "arrival_time", _time, errors)
            departure = _field(item, "departure_time", _time, errors)
            if not errors:
                items.append(PointSchedule(point, arrival, departure))
        item_errors.append(errors)
    if any(item_errors):
        raise _Invalid(item_errors)
    return items
