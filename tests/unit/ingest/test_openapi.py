"""The OpenAPI document: bodies, examples for a plan and for every error, security."""

from __future__ import annotations

from schemas.legacy import parse_schedule
from schemas.parsing import parse_plan
from services.ingest.app import create_app
from services.ingest.defaults import parse_without_bid
from services.ingest.settings import Settings


def _doc() -> dict:
    return create_app(Settings(kafka_bootstrap="unused:9092")).openapi()


def test_every_error_of_the_plan_endpoints_is_documented_with_a_problem_example():
    paths = _doc()["paths"]
    expected = {
        ("/charging-schedules/", "post"): {
            "201",  # the original system's format (DESIGN §7.1)
            "202",
            "400",  # the original's refusals, in its own shape
            "401",
            "403",
            "409",
            "413",
            "422",
            "429",
            "503",
        },
        ("/charging-schedules/batch", "post"): {"200", "401", "413", "422", "429", "503"},
        ("/charging-schedules/{plan_id}", "delete"): {
            "202",
            "401",
            "403",
            "404",
            "409",
            "422",
            "429",
            "503",
        },
    }
    for (path, method), statuses in expected.items():
        operation = paths[path][method]
        assert set(operation["responses"]) == statuses, path
        assert operation["security"] == [{"bearer": []}]
        for status, response in operation["responses"].items():
            if status == "400":
                assert set(response["content"]) == {"application/json"}
            elif status.startswith(("4", "5")):
                content = response["content"]["application/problem+json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
                [example] = content["examples"].values()
                assert example["value"]["status"] == int(status)


def test_the_examples_are_valid_and_bodies_reference_the_schemas():
    doc = _doc()
    body = doc["paths"]["/charging-schedules/"]["post"]["requestBody"]["content"]
    examples = {name: e["value"] for name, e in body["application/json"]["examples"].items()}
    plan, errors = parse_plan(examples["plan"])
    assert plan is not None and errors == []
    bidless, errors = parse_without_bid(examples["plan with the default bid"])
    assert bidless is not None and errors == [] and bidless.bid == []
    schedule, legacy_errors = parse_schedule(examples["original format"])
    assert schedule is not None and legacy_errors == {}
    assert body["application/json"]["schema"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/ChargingPlan"},
            {"$ref": "#/components/schemas/LegacySchedule"},
        ]
    }
    schemas = doc["components"]["schemas"]
    assert {"ChargingPlan", "BatchRequest", "Problem", "Stop", "BidStep"} <= set(schemas)
    assert "bid" not in schemas["ChargingPlan"]["required"]  # the operator's default bid
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
