"""Dead letters always fit the broker's record limit and are the same on replay."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.base import FieldError
from schemas.events import RejectedEvent
from services.common.dlq import (
    MAX_REASONS,
    MAX_VALUE_BYTES,
    dead_letter,
    dead_letter_record,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
BROKER_RECORD_LIMIT = 1024 * 1024


def test_dead_letter_of_a_huge_record_fits_the_broker_limit() -> None:
    value = b"x" * (8 * 1024 * 1024)
    reasons = [FieldError(loc="a" * 256, reason="r" * 2000) for _ in range(500)]
    event = dead_letter(
        topic="charging-plans", partition=3, offset=7, key=b"k" * 5000, value=value,
        reasons=reasons, now=NOW,
    )  # fmt: skip
    topic, key, encoded = dead_letter_record(event, b"k" * 5000)
    assert topic == "charging-plans.dlq"
    assert len(encoded) + len(key or b"") < BROKER_RECORD_LIMIT
    back = RejectedEvent.model_validate_json(encoded)
    assert back.value_truncated and back.value_size == len(value)
    assert back.value == value[:MAX_VALUE_BYTES]
    assert len(back.reasons) == MAX_REASONS
    assert "more" in back.reasons[-1].reason


def test_dead_letter_of_the_same_record_is_identical() -> None:
    def make() -> bytes:
        event = dead_letter(
            topic="market-results", partition=0, offset=42, key=None, value=b"{",
            reasons=[FieldError(loc="", reason="invalid JSON")], now=NOW,
        )  # fmt: skip
        return dead_letter_record(event, None)[2]

    assert make() == make()
    back = RejectedEvent.model_validate_json(make())
    assert not back.value_truncated and back.value == b"{" and back.value_size == 1


def test_dead_letter_without_reasons_still_says_why() -> None:
    event = dead_letter(topic="t", partition=0, offset=0, key=None, value=None, reasons=[], now=NOW)
    assert event.reasons[0].reason
