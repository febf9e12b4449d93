"""Building blocks every event shares: identity, version, time."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


def _now() -> datetime:
    # Default only for convenience in tests; producers pass occurred_at from the injectable clock.
    from datetime import UTC

    return datetime.now(UTC)


class Model(BaseModel):
    """Strict-ish base: unknown fields are an error, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


class Event(Model):
    """Envelope fields carried by every event on every topic (DESIGN §4)."""

    event_id: UUID = Field(default_factory=uuid4)
    schema_version: int = Field(default=SCHEMA_VERSION, ge=1)
    occurred_at: AwareDatetime = Field(default_factory=_now)
