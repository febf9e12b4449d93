"""`chargeflow config publish FILE.json`: publish an AuctionConfig to ``auction-config``.

FILE holds the AuctionConfig fields (at least ``market_area``; usually ``price_forecast``
and ``parameters``). Unless ``--no-registry``, the market area's timezone, MTU, gate
closure and price limits and its network (nodes, charging points) and the vehicles come
from the registry database; values given in FILE win over the registry's.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer
from pydantic import ValidationError

from schemas.config import AuctionConfig
from services.aggregator.settings import Settings
from services.aggregator.topics import Names
from services.common import registry, stackfile
from services.common.kafka import AUCTION_CONFIG, TopicSpec, ensure_topics, make_producer
from services.common.kafka_access import Broker
from services.common.settings import load_settings

app = typer.Typer(help="Auction configuration (auction-config topic).", no_args_is_help=True)


@app.callback()
def _config() -> None:
    """Publish the aggregator's auction-config."""


async def from_registry(url: str, area: str) -> dict[str, Any]:
    """Market area facts, network and vehicles from the registry."""
    conn = await asyncpg.connect(url)
    try:
        facts = await registry.get_market_area(conn, area)
        if facts is None:
            raise LookupError(f"market area {area!r} is not in the registry")
        nodes, points = await registry.network(conn, area)
        rows = await conn.fetch(
            "SELECT v.id, v.battery_kwh, v.max_power_kw, u.name AS owner "
            "FROM vehicles v JOIN users u ON u.id = v.owner_id ORDER BY v.id"
        )
    finally:
        await conn.close()
    return {
        "market_area": area,
        "timezone": facts.timezone,
        "mtu_minutes": facts.mtu_minutes,
        "gate_closure_local": facts.gate_closure.isoformat(),
        "price_min_eur_mwh": facts.price_min_eur_mwh,
        "price_max_eur_mwh": facts.price_max_eur_mwh,
        "nodes": [n.model_dump() for n in nodes],
        "charging_points": [p.model_dump() for p in points],
        "vehicles": [
            {"id": r["id"], "battery_kwh": r["battery_kwh"], "max_power_kw": r["max_power_kw"]}
            for r in rows
        ],
        # Who may publish each vehicle's plans straight to charging-plans.direct.<owner>.
        "vehicle_owners": {r["id"]: r["owner"] for r in rows},
    }


async def publish(
    bootstrap: Broker, names: Names, config: AuctionConfig, partitions: int = 4, replicas: int = 1
) -> None:
    # Only the topic it writes: the publisher's principal (the decisions service's, under
    # ACLs) may not even see the others.
    topic = TopicSpec(AUCTION_CONFIG, compacted=True)
    await ensure_topics(bootstrap, (topic,), partitions, replicas, prefix=names.prefix)
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            names.config, config.model_dump_json().encode(), key=config.market_area.encode()
        )
    finally:
        await producer.stop()


@app.command("publish")
def publish_cmd(
    file: Annotated[Path, typer.Argument(help="AuctionConfig JSON (market_area, forecast, ...)")],
    use_registry: Annotated[
        bool, typer.Option("--registry/--no-registry", help="network and vehicles from the DB")
    ] = True,
) -> None:
    """Publish FILE (completed from the registry) as the area's auction-config."""
    settings = load_settings(Settings)
    try:
        doc = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        typer.echo(f"error: cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("market_area"), str):
        typer.echo("error: FILE must be a JSON object with a market_area", err=True)
        raise typer.Exit(2)
    if use_registry:
        try:
            base = asyncio.run(from_registry(stackfile.database_url(settings), doc["market_area"]))
        except LookupError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        doc = {**base, **doc}
    try:
        config = AuctionConfig.model_validate(doc)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"])
            typer.echo(f"error: {loc}: {err['msg']}", err=True)
        raise typer.Exit(2) from exc
    names = Names(settings.aggregator_topic_prefix, settings.aggregator_group)
    asyncio.run(
        publish(
            stackfile.kafka_access(settings),
            names,
            config,
            settings.topic_partitions,
            settings.topic_replication_factor,
        )
    )
    typer.echo(
        f"published auction-config for {config.market_area}: {len(config.nodes)} nodes, "
        f"{len(config.charging_points)} points, {len(config.vehicles)} vehicles, "
        f"forecast for {len(config.price_forecast)} days (event {config.event_id})"
    )


run_app = typer.Typer(no_args_is_help=False, add_completion=False, help="The aggregator worker.")


@run_app.callback(invoke_without_command=True)
def aggregator(
    port: Annotated[int | None, typer.Option(help="metrics port (default 6066)")] = None,
) -> None:
    """Run one aggregator worker in the foreground on the broker of the environment
    (CHARGEFLOW_KAFKA_BOOTSTRAP) or of a running `chargeflow up`."""
    from services.aggregator.worker import main

    base = load_settings(Settings)
    overrides: dict[str, Any] = {"kafka_bootstrap": stackfile.kafka_bootstrap(base)}
    if port is not None:
        overrides["aggregator_port"] = port
    main(load_settings(Settings, **overrides))
