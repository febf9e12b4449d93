"""`python -m auction clear` (what `chargeflow auction clear` runs), as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from schemas.auction import AuctionResult

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "instance.json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auction", "clear", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_good_instance_prints_the_result_json_and_nothing_else(tmp_path: Path) -> None:
    out = run(str(EXAMPLE))
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    result = AuctionResult.model_validate_json(out.stdout)
    assert result.phase == 1 and len(result.plans) == 4
    assert result.welfare_eur > 0
    # phase 2 with awarded quantities; byte-identical on a second run
    doc = json.loads(EXAMPLE.read_text())
    doc["awarded_mwh"] = [0.01] * 24
    path = tmp_path / "phase2.json"
    path.write_text(json.dumps(doc))
    first, second = run(str(path), "--phase", "2"), run(str(path), "--phase", "2")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert max(AuctionResult.model_validate_json(first.stdout).aggregate.demand_kwh) <= 10.0


def test_bad_instance_exits_non_zero_listing_every_error_with_empty_stdout(
    tmp_path: Path,
) -> None:
    doc = json.loads(EXAMPLE.read_text())
    doc["prices_eur_mwh"] = doc["prices_eur_mwh"][:20]
    doc["plans"][0]["stops"][1]["charging_point_id"] = "P-UNKNOWN"
    doc["plans"][0]["stops"][2]["arrival"] = "2026-11-25T16:00:00+01:00"
    doc["plans"][3]["bid"].append({"energy_kwh": 5.0, "price_eur_mwh": 999.0})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    out = run(str(path))
    assert out.returncode != 0
    assert out.stdout == ""
    for want in (
        "prices_eur_mwh: 20 prices given",
        "plans[0].stops[1].charging_point_id: unknown charging point 'P-UNKNOWN'",
        "plans[0].stops[2] overlaps stops[1]",
        "plans[3].bid[2].price_eur_mwh: rises above bid[1]",
    ):
        assert want in out.stderr
    assert "(4 errors)" in out.stderr


def test_naive_timestamp_and_missing_file_fail_cleanly(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text())
    doc["plans"][1]["stops"][0]["departure"] = "2026-11-26T00:00:00"
    path = tmp_path / "naive.json"
    path.write_text(json.dumps(doc))
    out = run(str(path))
    assert out.returncode != 0 and out.stdout == ""
    assert "plans[1].stops[0].departure" in out.stderr
    missing = run(str(tmp_path / "nope.json"))
    assert missing.returncode != 0 and missing.stdout == "" and "cannot read" in missing.stderr


def test_timings_go_to_stderr_as_json_and_leave_stdout_unchanged() -> None:
    plain, timed = run(str(EXAMPLE)), run(str(EXAMPLE), "--timings")
    assert timed.returncode == 0, timed.stderr
    assert timed.stdout == plain.stdout
    stages = json.loads(timed.stderr)
    assert list(stages) == [
        "read", "parse", "check", "result", "write", "build", "jit", "solve", "prices"
    ]  # fmt: skip
    assert all(seconds >= 0 for seconds in stages.values())


def test_text_the_fast_parse_leaves_to_the_model_clears_to_the_same_bytes(tmp_path: Path) -> None:
    """An escape in the text sends the instance down the pydantic path (schemas/fastinstance.py):
    the same instance must give the same result."""
    text = EXAMPLE.read_text()
    escaped = text.replace('"Europe/Warsaw"', '"\\u0045urope/Warsaw"')
    assert escaped != text
    path = tmp_path / "escaped.json"
    path.write_text(escaped)
    slow, fast = run(str(path)), run(str(EXAMPLE))
    assert slow.returncode == 0, slow.stderr
    assert slow.stdout == fast.stdout
