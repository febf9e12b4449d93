"""Building blocks every event shares: identity, version, time, field errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID, uuid4

from pydantic import (
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

# Fields every event carries on the wire (DESIGN §4). Python constructors fill the first
# three by default for convenience; the exported JSON Schemas list all four as required.
ENVELOPE_FIELDS = ("event_type", "event_id", "schema_version", "occurred_at")


_OFFSET_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$"


def _iso_text(value: object) -> object:
    # Pydantic would also take unix numbers; on the wire only ISO 8601 text is allowed.
    if isinstance(value, int | float):
        raise PydanticCustomError(
            "timestamp_type", "timestamp must be an ISO 8601 string with an offset"
        )
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _OFFSET_TIMESTAMP}),
]
"""An aware datetime, ISO 8601 with an offset (naive or numeric input is an error)."""


def _now() -> datetime:
    # Default only for convenience in tests; producers pass occurred_at from the injectable clock.
    return datetime.now(UTC)


class Model(BaseModel):
    """Strict-ish base: unknown fields are an error, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


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
