"""Fast mirrors of the models are checked against them at import (issue 14: one definition
per contract): a field added to a model and not to its mirror fails loudly."""

from __future__ import annotations

import pytest
from typing_extensions import TypedDict

from schemas.base import FieldError
from schemas.events import PlanSubmitted, submitted_prefix
from schemas.mirror import check_typed_dict


class _Reason(TypedDict):
    loc: str
    reason: str


class _Missing(TypedDict):
    loc: str


def test_a_typed_dict_mirror_must_name_exactly_the_models_fields() -> None:
    check_typed_dict(_Reason, FieldError)
    with pytest.raises(TypeError, match=r"missing \['reason'\]"):
        check_typed_dict(_Missing, FieldError)


def test_the_submitted_prefix_spliced_onto_a_plan_is_a_valid_plan_submitted() -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    from tests.unit.ingest.test_gateway_rules import PLAN

    now = datetime(2026, 11, 25, 8, tzinfo=UTC)
    event_id = uuid4()
    body = PLAN.__pydantic_serializer__.to_json(PLAN)
    value = submitted_prefix(now, "direct") + str(event_id).encode() + b'",' + body[1:]
    event = PlanSubmitted.model_validate_json(value)
    assert event.event_id == event_id and event.source == "direct"
    assert event.occurred_at == now and event.to_plan() == PLAN
