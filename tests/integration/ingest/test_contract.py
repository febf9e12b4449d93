"""The gateway's published contract is exact: `st run --checks all` finds nothing, with a
vehicle token and with an operator token (real broker and PostgreSQL, seeded registry)."""

from __future__ import annotations

import httpx
import pytest

from services.common import registry
from services.common.clock import Clock
from services.ingest.app import create_app
from services.ingest.settings import Settings
from tests.integration.contract import Served, run_st, with_examples
from tests.integration.ingest.conftest import NOW, auth, plan

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("user", ["driver-anna", "operator"])
async def test_st_run_with_every_check_finds_nothing(
    user, kafka_bootstrap, database_url, topic_factory, tokens, pool, tmp_path
):
    # st's stateful phase lists the caller's tokens and revokes them all (DELETE
    # /auth/tokens/{id}): the user's tokens that were active are made active again after it,
    # so that the session's tokens outlive the run for the other tests.
    active = await pool.fetch(
        "SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE u.name = $1 AND t.revoked_at IS NULL",
        user,
    )
    try:
        await _st_run(user, kafka_bootstrap, database_url, topic_factory, pool, tmp_path)
    finally:
        ids = [r["id"] for r in active]
        await pool.execute("UPDATE api_tokens SET revoked_at = NULL WHERE id = ANY($1)", ids)


async def _st_run(name, kafka_bootstrap, database_url, topic_factory, pool, tmp_path):  # type: ignore[no-untyped-def]
    _, token = await registry.create_token(pool, name, "st run")
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        plans_topic=await topic_factory("contract", 2),
    )
    app = create_app(settings, Clock.fixed(NOW))
    async with Served(app) as served:
        async with httpx.AsyncClient(base_url=served.base_url) as http:
            accepted = plan("V001")  # a plan to cancel: the DELETE example reaches a real one
            response = await http.post("/charging-schedules/", json=accepted, headers=auth(token))
            assert response.status_code == 202, response.text
            document = (await http.get("/openapi.json")).json()
        document = with_examples(document, {"plan_id": accepted["plan_id"]})
        output = await run_st(document, served.base_url, token, tmp_path)
    assert "passed" in output and "failed" not in output.split("SUMMARY")[-1]
