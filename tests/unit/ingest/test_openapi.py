"""The OpenAPI document: bodies, examples for a plan and for every error, security."""

from __future__ import annotations

from schemas.parsing import parse_plan
from services.ingest.app import create_app
from services.ingest.settings import Settings


def _doc() -> dict:
    return create_app(Settings(kafka_bootstrap="unused:9092")).openapi()


def test_every_error_of_the_plan_endpoints_is_documented_with_a_problem_example():
    paths = _doc()["paths"]
    expected = {
        ("/charging-schedules/", "post"): {"202", "401", "403", "409", "413", "422", "429", "503"},
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
            if status.startswith(("4", "5")):
                content = response["content"]["application/problem+json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
                [example] = content["examples"].values()
                assert example["value"]["status"] == int(status)


def test_the_plan_example_is_a_valid_plan_and_bodies_reference_the_schemas():
    doc = _doc()
    body = doc["paths"]["/charging-schedules/"]["post"]["requestBody"]["content"]
    [example] = body["application/json"]["examples"].values()
    plan, errors = parse_plan(example["value"])
    assert plan is not None and errors == []
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/ChargingPlan"}
    schemas = doc["components"]["schemas"]
    assert {"ChargingPlan", "BatchRequest", "Problem", "Stop", "BidStep"} <= set(schemas)
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
