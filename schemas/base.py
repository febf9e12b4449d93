"""Building blocks every event shares: identity, version, time, field errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

SCHEMA_VERSION: Final = 1

# -- Bounds (DESIGN §5) ---------------------------------------------------------------------
# Every number on the wire is finite (Model sets allow_inf_nan=False: JSON NaN, Infinity and
# literals that overflow a double are refused by the parser) and lies within these absolute
# bounds, far beyond any real vehicle, network or market, so that nothing a model accepts
# can overflow the engine's integer scaling (docs/auction.md) or date arithmetic. Registry
# and market facts narrow them further (schemas/validation.py): a plan's energies within its
# vehicle's battery, prices within the area's limits, the day within the planning horizon.
MAX_ENERGY_KWH: Final = 10_000.0  # 10 MWh: ten times the battery of a heavy electric truck
MAX_POWER_KW: Final = 10_000.0  # a megawatt charger is 3.75 MW
MAX_NODE_CAPACITY_KW: Final = 10_000_000.0  # 10 GW
MAX_ABS_PRICE_EUR_MWH: Final = 100_000.0  # 25 times the harmonised day-ahead maximum
MAX_ENERGY_MWH: Final = 1_000_000.0  # market quantities per MTU
MAX_REVISION: Final = 2**31 - 1  # PostgreSQL integer columns
FIRST_DAY: Final = date(2000, 1, 1)
LAST_DAY: Final = date(2999, 12, 31)
# Instants: a day of margin around the day range, so every local day in range has its
# bounds (and its gate closure, up to a week before) inside.
FIRST_INSTANT: Final = datetime(1999, 12, 24, tzinfo=UTC)
LAST_INSTANT: Final = datetime(3000, 1, 2, tzinfo=UTC)
ID_PATTERN: Final = r"^[^\x00-\x1f\x7f]+$"  # no control characters (NUL breaks PostgreSQL)

Id64 = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
"""Identifier of a vehicle, charging point or node: 1..64 characters, no control characters."""
AreaCode = Annotated[str, Field(min_length=1, max_length=32, pattern=ID_PATTERN)]
"""Market area code, e.g. "PL": 1..32 characters."""
RunId = Annotated[str, Field(min_length=1, max_length=128, pattern=ID_PATTERN)]
"""Clearing run id ``{area}/{day}/{hash}`` (or a what-if request id)."""
UserName = Annotated[str, Field(min_length=1, max_length=128, pattern=ID_PATTERN)]
"""A user's name (who asked for something)."""
Energy = Annotated[float, Field(ge=0, le=MAX_ENERGY_KWH)]
"""kWh, 0 .. MAX_ENERGY_KWH."""
PositiveEnergy = Annotated[float, Field(gt=0, le=MAX_ENERGY_KWH)]
"""kWh, more than 0 .. MAX_ENERGY_KWH."""
Power = Annotated[float, Field(gt=0, le=MAX_POWER_KW)]
"""kW, more than 0 .. MAX_POWER_KW."""
NodeCapacity = Annotated[float, Field(ge=0, le=MAX_NODE_CAPACITY_KW)]
"""kW, 0 .. MAX_NODE_CAPACITY_KW."""
Price = Annotated[float, Field(ge=-MAX_ABS_PRICE_EUR_MWH, le=MAX_ABS_PRICE_EUR_MWH)]
"""EUR/MWh within ± MAX_ABS_PRICE_EUR_MWH (the area's own limits are checked later)."""
Quantity = Annotated[float, Field(ge=0, le=MAX_ENERGY_MWH)]
"""MWh per MTU, 0 .. MAX_ENERGY_MWH."""
Revision = Annotated[int, Field(ge=0, le=MAX_REVISION)]
"""A plan's revision: 0 .. 2**31-1."""

# Fields every event carries on the wire (DESIGN §4). Python constructors fill the first
# three by default for convenience; the exported JSON Schemas list all four as required.
ENVELOPE_FIELDS = ("event_type", "event_id", "schema_version", "occurred_at")


_OFFSET_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$"


def iso_text(value: object) -> object:
    # Pydantic would also take unix numbers; on the wire only ISO 8601 text is allowed.
    if isinstance(value, int | float):
        raise PydanticCustomError(
            "timestamp_type", "timestamp must be an ISO 8601 string with an offset"
        )
    return value


def iso_day_text(value: object) -> object:
    # Pydantic would also read 0 as 1970-01-01; on the wire a day is YYYY-MM-DD text.
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", "date must be a YYYY-MM-DD string")
    return value


DeliveryDay = Annotated[
    date,
    BeforeValidator(iso_day_text),
    Field(ge=FIRST_DAY, le=LAST_DAY),
    # JSON Schema has no range on dates: the bounds are said in words.
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "description": f"YYYY-MM-DD, {FIRST_DAY} .. {LAST_DAY}",
        }
    ),
]
"""A local market day between FIRST_DAY and LAST_DAY, written YYYY-MM-DD."""


def in_time_range(value: datetime) -> datetime:
    # Compared as instants (aware comparison never overflows, astimezone could).
    if not FIRST_INSTANT <= value <= LAST_INSTANT:
        raise PydanticCustomError(
            "timestamp_range",
            "timestamp must lie between {first} and {last}",
            {"first": FIRST_INSTANT.isoformat(), "last": LAST_INSTANT.isoformat()},
        )
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(iso_text),
    AfterValidator(in_time_range),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _OFFSET_TIMESTAMP}),
]
"""An aware datetime, ISO 8601 with an offset, between FIRST_INSTANT and LAST_INSTANT
(naive or numeric input is an error)."""


def _now() -> datetime:
    # Default only for convenience in tests; producers pass occurred_at from the injectable clock.
    return datetime.now(UTC)


class Model(BaseModel):
    """Strict-ish base: unknown fields are an error, so typos never pass silently."""

    model_config = ConfigDict(
        extra="forbid", frozen=False, populate_by_name=True, allow_inf_nan=False
    )


class FieldError(Model):
    """One validation problem: where (a path like ``stops[1].arrival``; "" = whole) and why."""

    loc: str = Field(max_length=256, description='Field path, e.g. "stops[1].arrival"; "" = all')
    reason: str = Field(max_length=2000)

    def __str__(self) -> str:
        return f"{self.loc}: {self.reason}" if self.loc else self.reason


def _require_envelope(schema: dict[str, Any], cls: type) -> None:
    required = list(schema.get("required", []))
    for name in ENVELOPE_FIELDS:
        if name in schema.get("properties", {}) and name not in required:
            required.append(name)
    schema["required"] = required


class Event(Model):
    """Envelope fields carried by every event on every topic (DESIGN §4).

    Subclasses add ``event_type: Literal["ClassName"] = "ClassName"`` as discriminator.
    """

    model_config = ConfigDict(json_schema_extra=_require_envelope)

    event_id: UUID = Field(default_factory=uuid4)
    schema_version: Literal[1] = Field(
        default=SCHEMA_VERSION, description="Version of this event's schema; always 1 here"
    )
    occurred_at: Timestamp = Field(default_factory=_now)

    @field_validator("schema_version", mode="before")
    @classmethod
    def _known_version(cls, value: object) -> object:
        if type(value) is not int or value != SCHEMA_VERSION:
            raise PydanticCustomError(
                "schema_version",
                "unsupported schema_version {got}: this consumer reads schema_version {want}",
                {"got": repr(value), "want": SCHEMA_VERSION},
            )
        return value
