"""`chargeflow client login|submit|decision|wait`: a driver's way to the HTTP APIs.

Talks HTTP only (httpx): it imports no service module and runs against any chargeflow,
local or remote (docs/client.md).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from services.client import config as cfg
from services.client.api import Api, ApiError
from services.client.plans import (
    PlanFileError,
    kind_of,
    plan_id_for,
    short_plan,
    table,
    windows,
)

app = typer.Typer(
    help="A driver's client: log in, submit the day's plan, see and wait for the decision.",
    no_args_is_help=True,
)
REVISION_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)  # revisions: seconds since, or last + 1


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _api() -> Api:
    try:
        return Api(cfg.load())
    except cfg.ConfigError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def login(
    user: Annotated[str | None, typer.Option(help="user name (asked when not given)")] = None,
    ingest: Annotated[str | None, typer.Option(help=f"ingest URL [{cfg.DEFAULT_INGEST}]")] = None,
    decisions: Annotated[
        str | None, typer.Option(help=f"decisions URL [{cfg.DEFAULT_DECISIONS}]")
    ] = None,
) -> None:
    """Log in with your user name and password; the token goes to your config file (0600).
    Without a terminal the password is the first line of standard input."""
    try:
        config = cfg.load()
    except cfg.ConfigError as exc:
        raise _fail(str(exc)) from exc
    config.ingest_url = (ingest or config.ingest_url).rstrip("/")
    config.decisions_url = (decisions or config.decisions_url).rstrip("/")
    if sys.stdin.isatty():
        name = user or typer.prompt("user")
        password = typer.prompt("password", hide_input=True)
    else:
        name = user or sys.stdin.readline().strip()
        password = sys.stdin.readline().rstrip("\n")
    api = Api(config)
    try:
        config.token = api.login(name, password)
    except ApiError as exc:
        raise _fail(str(exc)) from exc
    finally:
        api.close()
    config.user = name
    path = cfg.save(config)
    typer.echo(f"logged in as {name}; token stored in {path}")


def _read(file: Path) -> Any:
    try:
        text = file.read_text()
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror}") from exc
    try:
        return json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise _fail(
            f"{file} is not valid {'JSON' if file.suffix == '.json' else 'YAML'}: {exc}"
        ) from exc


def _area(areas: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    if wanted is not None:
        for area in areas:
            if area["market_area"] == wanted:
                return area
        raise _fail(
            f"no market area {wanted!r}; there are: {', '.join(a['market_area'] for a in areas)}"
        )
    if len(areas) != 1:
        raise _fail("several market areas: say which with `area:` in the file")
    return areas[0]


def _revision(config: cfg.ClientConfig, plan_id: str) -> int:
    now = int((datetime.now(UTC) - REVISION_EPOCH).total_seconds())
    revision = max(now, config.revisions.get(plan_id, -1) + 1)
    config.revisions[plan_id] = revision
    return revision


def _steps(bid: list[dict[str, float]]) -> str:
    return ", ".join(f"{s['energy_kwh']:g} kWh at {s['price_eur_mwh']:g} EUR/MWh" for s in bid)


@app.command()
def submit(file: Annotated[Path, typer.Argument(help="YAML or JSON: the day's stops")]) -> None:
    """Submit the day's plan: a short file of stops (docs/client.md), a whole chargeflow
    plan, or a schedule in the original system's format."""
    document = _read(file)
    api = _api()
    try:
        kind = kind_of(document)
        if kind == "short":
            area = _area(api.market_areas(), document.get("area"))
            day = date.fromisoformat(str(document.get("day") or area["next_delivery_day"]))
            plan_id = plan_id_for(str(document.get("vehicle")), area["market_area"], day)
            revision = _revision(api.config, str(plan_id))
            document = short_plan(document, area["market_area"], area["timezone"], day, revision)
        status, answer = api.submit(document)
    except (ApiError, PlanFileError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        api.close()
    if status == 201:  # the original format: stored, and the plan it became
        plan = answer["plan"]
        typer.echo(
            f"schedule {answer['id']} stored: plan {plan['plan_id']} revision {plan['revision']}"
        )
    else:
        plan = document
        typer.echo(f"plan {answer['plan_id']} revision {answer['revision']} accepted")
    if answer.get("bid") or status == 201:
        typer.echo(f"bid (the operator's default): {_steps(answer.get('bid') or plan['bid'])}")
    typer.echo(f"vehicle {plan['vehicle_id']}, {plan['market_area']} {plan['delivery_day']}")
    api.config.last_day = plan["delivery_day"]
    cfg.save(api.config)


def _closed_day(areas: list[dict[str, Any]]) -> str:
    """The latest day whose gate has closed: the one being (or just) decided."""
    day = min(date.fromisoformat(a["next_delivery_day"]) for a in areas) - timedelta(days=1)
    return day.isoformat()


def _show(found: dict[str, Any], mtu: int) -> int:
    """Print one table per decision; the number of decisions that are not pending."""
    decided = 0
    if not found["decisions"]:
        typer.echo(f"no plans or decisions for {found.get('delivery_day')}")
    for d in found["decisions"]:
        status = d.get("status", "?")
        line = f"{d['vehicle_id']}  {d.get('delivery_day', '')}  {status}"
        if status not in ("pending", "cancelled"):
            decided += 1
            requested = d.get("requested_kwh") or 0.0
            line += f"  {d.get('accepted_kwh', 0):g} of {requested:g} kWh"
            line += f" ({100 * (d.get('coverage') or 0):.0f}%)  cost {d.get('cost_eur', 0):.2f} EUR"
        typer.echo(line)
        rows = [["  point", "from", "to", "kWh"]]
        for w in windows(d, mtu):
            rows.append(
                [
                    f"  {w.point}",
                    w.start.strftime("%H:%M"),
                    w.end.strftime("%H:%M"),
                    f"{w.energy_kwh:.2f}",
                ]
            )
        if len(rows) > 1:
            typer.echo(table(rows))
        for reason in d.get("reasons") or []:
            typer.echo(
                f"  reason: {reason.get('reason', reason) if isinstance(reason, dict) else reason}"
            )
    return decided


def _mtu(areas: list[dict[str, Any]]) -> int:
    return int(areas[0]["mtu_minutes"]) if areas else 60


@app.command()
def decision(
    day: Annotated[
        str | None, typer.Option(help="delivery day YYYY-MM-DD [the latest closed]")
    ] = None,
    vehicle: Annotated[str | None, typer.Option(help="only this vehicle")] = None,
) -> None:
    """Your decisions of a day as tables of charging windows per point."""
    api = _api()
    try:
        areas = api.market_areas()
        found = api.decisions(day or _closed_day(areas), vehicle)
    except ApiError as exc:
        raise _fail(str(exc)) from exc
    finally:
        api.close()
    _show(found, _mtu(areas))


def _progress(areas: list[dict[str, Any]], day: str, waited: float) -> str:
    parts = [f"waiting for the decision of {day} ({waited:.0f} s)"]
    for a in areas:
        latest = a.get("latest_day")
        if a["next_delivery_day"] <= day:
            left = int(a["seconds_left"])
            clock = f"{left // 3600}:{left % 3600 // 60:02d}:{left % 60:02d}"
            parts.append(f"{a['market_area']}: gate closes in {clock}")
        elif latest and latest["delivery_day"] == day:
            parts.append(f"{a['market_area']}: {latest['phase_name']}")
        else:
            parts.append(f"{a['market_area']}: gate closed, clearing")
    return " · ".join(parts)


@app.command()
def wait(
    day: Annotated[str | None, typer.Option(help="delivery day [your last plan's]")] = None,
    vehicle: Annotated[str | None, typer.Option(help="only this vehicle")] = None,
    interval: Annotated[float, typer.Option(min=0.1, help="seconds between polls")] = 5.0,
    timeout: Annotated[float, typer.Option(min=0, help="give up after this many seconds")] = 3
    * 86400.0,
) -> None:
    """Poll until the decision arrives (a progress line meanwhile), then show it.
    Exit code 2 when it did not arrive within --timeout."""
    api = _api()
    started = time.monotonic()
    tty = sys.stderr.isatty()
    try:
        areas = api.market_areas()
        wanted = day or api.config.last_day or min(a["next_delivery_day"] for a in areas)
        while True:
            found = api.decisions(wanted, vehicle)
            waited = time.monotonic() - started
            pending = [d for d in found["decisions"] if d.get("status") == "pending"]
            if found["decisions"] and not pending:
                if tty:
                    typer.echo("", err=True)
                _show(found, _mtu(areas))
                return
            if waited >= timeout:
                raise _fail(f"no decision for {wanted} after {waited:.0f} s", 2)
            line = _progress(areas, wanted, waited)
            typer.echo(f"\r{line}" if tty else line, err=True, nl=not tty)
            time.sleep(interval)
            areas = api.market_areas()
    except ApiError as exc:
        raise _fail(str(exc)) from exc
    finally:
        api.close()
