"""Fuzz the gateway from its own OpenAPI document (schemathesis): no 5xx, every error is a
problem+json document (but the 400s of logins and of the original API, in the shapes their
clients expect: RFC 6749 §5.2, Django REST framework; DESIGN §7.1), responses match the
documented schemas, status codes and headers.

The gateway runs under uvicorn in a thread (its own event loop); schemathesis calls it over
HTTP. Bounded: about 40 positive and 20 negative examples per operation (< 60 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.common.clock import Clock
from services.devstack.children import free_port
from services.ingest.app import create_app
from services.ingest.settings import Settings
from tests.integration.ingest.conftest import NOW, auth

pytestmark = pytest.mark.integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def served(kafka_bootstrap, database_url, tokens) -> Iterator[tuple[str, dict]]:
    port = free_port()
    app = create_app(
        Settings(
            kafka_bootstrap=kafka_bootstrap,
            database_url=database_url,
            plans_topic="fuzz-charging-plans",
            rate_limit_per_s=0,
        ),
        Clock.fixed(NOW),
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "gateway did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app.openapi()
    finally:
        server.should_exit = True
        thread.join(10)


# Their 400s are documented in the shape their clients expect (application/json).
OWN_400_SHAPES = {"/charging-schedules/", "/auth/token", "/api-token-auth/"}


def test_fuzzed_requests_never_get_5xx_and_errors_are_problem_json(served, tokens):
    base_url, document = served
    schema = schemathesis.openapi.from_dict(document)
    headers = auth(tokens["operator"])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/charging-schedules/",
        "/charging-schedules/batch",
        "/charging-schedules/{plan_id}",
    }
    seen: dict[int, int] = {}
    for op in operations:
        for mode, count in ((GenerationMode.POSITIVE, 40), (GenerationMode.NEGATIVE, 20)):

            @settings(
                max_examples=count,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=op.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                response = case.call(base_url=base_url, headers=headers, timeout=30)
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                own_shape = case.method == "POST" and case.path in OWN_400_SHAPES
                if response.status_code == 400 and own_shape:
                    [content_type] = response.headers["content-type"]
                    assert content_type == "application/json", case.as_curl_command()
                    assert response.json() and isinstance(response.json(), dict)
                elif response.status_code >= 400:
                    [content_type] = response.headers["content-type"]
                    assert content_type == "application/problem+json", case.as_curl_command()
                    assert response.json()["status"] == response.status_code
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:  # nothing to negate (e.g. GET /healthz has no inputs)
                assert mode is GenerationMode.NEGATIVE and op.method == "get"
    print("statuses seen:", seen)
    assert all(status < 500 for status in seen), seen
    assert seen.get(422, 0) > 0 and sum(seen.values()) > 150
