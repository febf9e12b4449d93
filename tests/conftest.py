"""Session-scoped real infrastructure for integration tests (docs/operations.md, issue 2 item 7).

- `infra`: the embedded Tansu broker and an embedded PostgreSQL in a fresh directory, or the
  external ones named by CHARGEFLOW_KAFKA_BOOTSTRAP / CHARGEFLOW_DATABASE_URL. With an external
  PostgreSQL a fresh database is created for the session and dropped after it.
- `database_url`: migrated to head. `pool`: an asyncpg pool on it.
- `topic_factory`, `consumer_factory`, `producer`: Kafka helpers on unique topic names.
Teardown checks that no broker or PostgreSQL process we started is left behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.common import migrate
from services.devstack.embedded import EmbeddedStack, Infrastructure


def _external_database(base_url: str) -> Iterator[str]:
    """A throw-away database on an external server, so runs never see each other's rows."""
    import asyncio

    name = f"chargeflow_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(base_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    head, _, _ = base_url.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    state = Path(tmp_path_factory.mktemp("chargeflow-stack"))
    external_db = os.environ.get("CHARGEFLOW_DATABASE_URL")
    stack = EmbeddedStack(state, os.environ.get("CHARGEFLOW_KAFKA_BOOTSTRAP"), external_db)
    started = stack.start()
    pids = stack.pids()
    try:
        if external_db:
            gen = _external_database(external_db)
            url = next(gen)
            yield Infrastructure(started.kafka_bootstrap, url, started.embedded_broker, False)
            gen.close()
        else:
            yield started
    finally:
        stack.stop()
        leftovers = [
            p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"
        ]
        assert not leftovers, f"embedded processes left behind: {leftovers}"


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: Infrastructure) -> str:
    return infra.kafka_bootstrap


@pytest.fixture(scope="session")
def database_url(infra: Infrastructure) -> str:
    migrate.upgrade(infra.database_url)
    return infra.database_url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=10) as p:
        yield p


GROUP_TIMEOUTS = {
    "session_timeout_ms": 1000,
    "heartbeat_interval_ms": 200,
    "rebalance_timeout_ms": 1000,
}

TopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
async def topic_factory(kafka_bootstrap: str) -> AsyncIterator[TopicFactory]:
    """Create a topic with a unique name (prefix kept for readability in broker logs)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()

    async def create(
        prefix: str = "t", partitions: int = 1, config: dict[str, str] | None = None
    ) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=config or {})])
        return name

    yield create
    await admin.close()


@pytest.fixture
async def consumer_factory(
    kafka_bootstrap: str,
) -> AsyncIterator[Callable[..., Awaitable[AIOKafkaConsumer]]]:
    consumers: list[AIOKafkaConsumer] = []

    async def make(*topics: str, group_id: str | None = None, **kwargs: object) -> AIOKafkaConsumer:
        if group_id is not None:
            # Tansu's group coordinator waits about a session timeout before a (re)join
            # completes; short timeouts keep tests fast (see docs/operations.md).
            kwargs = {**GROUP_TIMEOUTS, **kwargs}
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=kafka_bootstrap,
            group_id=group_id,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **kwargs,  # type: ignore[arg-type]
        )
        await consumer.start()
        consumers.append(consumer)
        return consumer

    yield make
    for consumer in consumers:
        await consumer.stop()


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=False)
    await p.start()
    yield p
    await p.stop()
