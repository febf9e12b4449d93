"""`chargeflow demo` (what `make demo` runs): a whole market day in about a minute.

1. The embedded broker and PostgreSQL, migrations, the example network and fleet, and every
   service, all on one accelerated clock that starts a few minutes before the next gate
   closure (CHARGEFLOW_DEMO_LEAD_MINUTES, CHARGEFLOW_DEMO_CLOCK_SPEED).
2. An auction-config with a price forecast (`chargeflow config publish`).
3. The simulated fleet submits its plans through the ingest gateway (`chargeflow simulate`).
4. Gate closure -> phase 1 -> aggregate bid -> simulated market -> phase 2 -> decisions.
5. The day's result, read back from the decisions service, is printed; the stack stays up
   until Ctrl-C (or exits with --exit-after-day).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import asyncpg
import httpx
import typer

from schemas.market_day import gate_closure, mtu_count, next_delivery_day
from services.common import registry, stackfile
from services.common.settings import CommonSettings, load_settings
from services.devstack.simulate import simulate_day
from services.devstack.stack import DevStack

AREA, TZ = "PL", "Europe/Warsaw"

app = typer.Typer(add_completion=False, help="Run a whole market day on the dev stack.")


def forecast(day: date) -> list[float]:
    """A plausible day-ahead price shape: cheap nights, a morning and a higher evening peak."""
    n = mtu_count(day, TZ, 60)
    shape = [
        55 + 35 * math.exp(-(((h - 8) / 2.0) ** 2)) + 90 * math.exp(-(((h - 19) / 2.5) ** 2))
        for h in range(n)
    ]
    return [round(p, 2) for p in shape]


def _say(message: str) -> None:
    typer.echo(f"[demo] {message}", err=True)


async def _operator_token(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        await registry.ensure_user(conn, "demo-operator", "operator")
        return (await registry.create_token(conn, "demo-operator", "chargeflow demo"))[1]
    finally:
        await conn.close()


def _run_cli(*args: str) -> str:
    """Another verb as a process of its own (the demo imports no service's module)."""
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", *args], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"chargeflow {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _wait_for_day(
    decisions_url: str, token: str, day: date, plans: int, gc: datetime
) -> dict[str, Any]:
    """Poll the operator day summary until every plan has its phase-2 decision."""
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/operator/api/days/{AREA}/{day.isoformat()}"
    deadline = time.monotonic() + 300
    with httpx.Client(base_url=decisions_url, headers=headers, timeout=10) as client:
        while time.monotonic() < deadline:
            response = client.get(path)
            if response.status_code == 200:
                body = response.json()
                decided = body.get("decisions") or {}
                done = int(decided.get("accepted", 0)) + int(decided.get("rejected", 0))
                phase = (body.get("run") or {}).get("phase")
                if phase == 2 and done >= plans:
                    return dict(body)
                _say(f"waiting for decisions: {done}/{plans} (run phase {phase})")
            else:
                _say(f"waiting for gate closure ({gc.isoformat()}) and the auction")
            time.sleep(2)
    raise TimeoutError("the day was not cleared within 300 s; see .chargeflow/logs/")


def _summary(body: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    run = body["run"]
    keep = ("run_id", "phase", "fallback", "welfare_eur", "total_requested_kwh",
            "total_accepted_kwh", "coverage")  # fmt: skip
    out: dict[str, Any] = {"market_area": body["market_area"], "delivery_day": body["delivery_day"]}
    out |= {k: run[k] for k in keep}
    out["plans_submitted"] = counts
    out["decisions"] = body["decisions"]
    out["nodes"] = [
        {"node_id": n["node_id"], "capacity_kwh": n["capacity_kwh"],
         "peak_energy_kwh": round(max(n["energy_kwh"], default=0.0), 1),
         "max_congestion_eur_mwh": max(n["congestion_eur_mwh"], default=0.0)}
        for n in run["nodes"]
    ]  # fmt: skip
    return out


def _mtu_table(run: dict[str, Any]) -> str:
    """Per MTU: local start, cleared price, energy scheduled, as a bar for the eye."""
    peak = max(run["energy_kwh"], default=0.0) or 1.0
    lines = ["MTU start (local)          price EUR/MWh   energy kWh"]
    for start, price, energy in zip(
        run["mtu_starts"], run["prices_eur_mwh"], run["energy_kwh"], strict=True
    ):
        bar = "#" * round(30 * energy / peak)
        lines.append(f"{start:26} {price:13.2f} {energy:12.1f}  {bar}")
    return "\n".join(lines)


@app.callback(invoke_without_command=True)
def demo(
    exit_after_day: Annotated[
        bool, typer.Option(help="stop once the day's result is printed")
    ] = False,
    vehicles: Annotated[int | None, typer.Option(help="at most this many vehicles")] = None,
) -> None:
    """Start everything, run one market day on an accelerated clock, print the result."""
    lead = float(os.environ.get("CHARGEFLOW_DEMO_LEAD_MINUTES", "4"))
    speed = float(os.environ.get("CHARGEFLOW_DEMO_CLOCK_SPEED", "8"))
    day = next_delivery_day(datetime.now(UTC) + timedelta(minutes=lead + 1), TZ)
    gc = gate_closure(day, TZ)
    os.environ["CHARGEFLOW_CLOCK_START"] = (gc - timedelta(minutes=lead)).isoformat()
    os.environ["CHARGEFLOW_CLOCK_SPEED"] = str(speed)
    settings = load_settings(CommonSettings)
    _say(
        f"delivery day {day}; the clock starts {lead:g} min before gate closure "
        f"{gc.isoformat()} and runs x{speed:g}"
    )
    stack = DevStack(settings)
    where = stack.start()
    try:
        typer.echo(json.dumps(where, indent=2))
        url = stackfile.database_url(settings)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"market_area": AREA, "price_forecast": {day.isoformat(): forecast(day)}}, f)
        _say(_run_cli("config", "publish", f.name).strip())
        token = asyncio.run(_operator_token(url))
        counts = asyncio.run(
            simulate_day(url, where["ingest"], AREA, day=day, token=token, vehicles=vehicles)
        )
        _say(f"plans submitted: {counts}")
        body = _wait_for_day(where["decisions"], token, day, counts["accepted"], gc)
        typer.echo(json.dumps(_summary(body, counts), indent=2))
        typer.echo(_mtu_table(body["run"]))
        _say(f"operator API: {where['decisions']}/operator/api/days/{AREA}/{day}; token {token}")
        if not exit_after_day:
            _say("the stack stays up; Ctrl-C to stop")
            while True:
                time.sleep(1)
    except KeyboardInterrupt:
        _say("stopping")
    finally:
        stack.stop()
