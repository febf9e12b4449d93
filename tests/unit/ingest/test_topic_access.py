"""The gateway may read and see every topic it uses, as deploy/kafka/acls.txt grants them."""

from __future__ import annotations

from services.ingest.settings import Settings
from tests.unit.test_deploy import _allowed


def test_the_gateway_reads_the_config_and_results_and_writes_plans():
    settings = Settings()
    assert _allowed("ingest", "Write", "topic", settings.plans_topic)
    for topic in (settings.config_topic, settings.results_topic):
        assert _allowed("ingest", "Read", "topic", topic), topic
    assert not _allowed("ingest", "Write", "topic", settings.config_topic)
