"""Every Kafka client a service builds carries the service's one principal (DESIGN §4 Access)."""

from __future__ import annotations

import logging
from pathlib import Path

import certifi
import pytest
from pydantic import SecretStr

from services.common.kafka import make_consumer, make_group_consumer, make_producer
from services.common.kafka_access import BrokerAccess, access
from services.common.settings import CommonSettings

SCRAM = BrokerAccess(
    "kafka:9092",
    security_protocol="SASL_SSL",
    username="aggregator",
    password=SecretStr("s3cret-pw"),
    ca_file=Path(certifi.where()),
)


def test_a_bare_bootstrap_is_an_open_plaintext_client():
    assert access("127.0.0.1:9092").client_options() == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_scram_credentials_and_tls_reach_the_client_options():
    options = SCRAM.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "aggregator"
    assert options["sasl_plain_password"] == "s3cret-pw"
    assert options["ssl_context"] is not None


async def test_every_client_factory_applies_the_credentials():
    clients = [
        make_producer(SCRAM),
        make_consumer(SCRAM, enable_auto_commit=False),
        make_group_consumer(
            "charging-plans", bootstrap=SCRAM, group_id="g", session_timeout_ms=6000, heartbeat_ms=1
        ),
        make_group_consumer(
            pattern="^x$", bootstrap=SCRAM, group_id="g", session_timeout_ms=6000, heartbeat_ms=1
        ),
    ]
    try:
        for client in clients:
            inner = getattr(client, "client", None) or client._client
            assert inner._security_protocol == "SASL_SSL"
            assert inner._sasl_mechanism == "SCRAM-SHA-512"
            assert inner._sasl_plain_username == "aggregator"
            assert inner._sasl_plain_password == "s3cret-pw"
            assert inner._ssl_context is not None
    finally:
        for client in clients:
            await client.stop()


def test_the_password_never_shows_in_logs_or_reprs():
    assert str(SCRAM) == "sasl_ssl://aggregator@kafka:9092"
    assert "s3cret-pw" not in repr(SCRAM)


def test_an_open_client_for_a_remote_broker_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING, "services.common.kafka_access"):
        access("127.0.0.1:19092").client_options()
        assert not caplog.records  # the embedded broker on loopback: open by design
        access("kafka-warn-test:9092").client_options()
    assert "not authenticated" in caplog.text


def test_settings_give_the_services_access_with_their_credentials():
    settings = CommonSettings(
        kafka_bootstrap="kafka:9092",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_username="ingest",
        kafka_password="pw-of-ingest",
    )
    granted = settings.kafka_access()
    assert granted.principal == "ingest" and granted.authenticated
    assert granted.client_options()["sasl_plain_password"] == "pw-of-ingest"
    # The dev stack's broker found via the stack file gets the same credentials.
    assert settings.kafka_access("127.0.0.1:9092").username == "ingest"
    with pytest.raises(ValueError, match="CHARGEFLOW_KAFKA_BOOTSTRAP"):
        CommonSettings().kafka_access()


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"kafka_security_protocol": "SASL_SSL", "kafka_username": "x"}, "KAFKA_PASSWORD"),
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_password": "x"}, "KAFKA_USERNAME"),
        ({"kafka_sasl_mechanism": "PLAIN"}, "SCRAM-SHA-256"),
        ({"kafka_cert_file": certifi.where()}, "KAFKA_KEY_FILE"),
        (
            {"kafka_cert_file": certifi.where(), "kafka_key_file": certifi.where()},
            "SECURITY_PROTOCOL=SSL",
        ),
        ({"kafka_ca_file": "/nonexistent/ca.pem"}, "does not point to a file"),
    ],
)
def test_incomplete_kafka_credentials_fail_at_start(env, complaint):
    with pytest.raises(ValueError, match=complaint):
        CommonSettings(**env)
