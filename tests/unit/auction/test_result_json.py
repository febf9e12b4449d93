"""The CLI writes the result from the engine's document without building the model
(auction/result.py): the bytes must be the model's own, and the document valid under it."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings

from auction.clear import solve
from auction.instance_check import parse_instance
from auction.result import result_document, result_json, to_result
from schemas.auction import AuctionInstance, AuctionParams, AuctionResult
from tests.unit.auction.test_properties import instances

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "instance.json"


@settings(max_examples=60, deadline=None, derandomize=True)
@given(instances())
def test_result_json_is_the_models_json_byte_for_byte(case: tuple[AuctionInstance, int]) -> None:
    inst, phase = case
    cleared = solve(inst, phase, AuctionParams())
    model = to_result(inst, cleared)
    assert result_json(inst, cleared) == model.model_dump_json().encode()
    # and what it writes is a valid result that reads back to the same model
    assert AuctionResult.model_validate_json(result_json(inst, cleared)) == model


def test_the_document_needs_no_coercion_to_fit_the_model() -> None:
    """Strict validation (no int for a float, no str for a date...): every value already has
    the model's type, which is what lets result_json skip validation."""
    inst, errors = parse_instance(EXAMPLE.read_bytes())
    assert inst is not None and not errors
    for phase in (1, 2):
        cleared = solve(inst, phase, AuctionParams())
        doc = result_document(inst, cleared)
        AuctionResult.model_validate(doc, strict=True)
