"""The state table: latest revision wins, cancellations stick, the changelog rebuilds it."""

from __future__ import annotations

from datetime import date

from services.aggregator.state import DayRecord, Table

AD = ("PL", date(2026, 11, 26))


def replay(changes: list[tuple[bytes, bytes | None]]) -> Table:
    t = Table()
    for key, value in changes:
        t.restore(0, key, value)
    return t


def test_latest_revision_wins_and_older_ones_are_ignored() -> None:
    t = Table()
    assert t.submit(0, AD, "a", 1, "V1", 0, b"r1")[0] == "stored"
    assert t.submit(0, AD, "a", 1, "V1", 1, b"r1")[0] == "duplicate"
    assert t.submit(0, AD, "a", 0, "V1", 2, b"r0") == ("stale", None)
    assert t.submit(0, AD, "a", 2, "V1", 3, b"r2")[0] == "stored"
    assert t.day(0, AD).plans["a"].raw == b"r2"
    assert t.live_count(0) == 1


def test_cancellation_removes_the_plan_and_blocks_older_revisions() -> None:
    t = Table()
    t.submit(0, AD, "a", 1, "V1", 0, b"r1")
    assert t.cancel(0, AD, "a", 0, "V1", 1) == ("stale", None)  # cancels an older revision
    assert t.cancel(0, AD, "a", 1, "V1", 2)[0] == "cancelled"
    assert t.live_count(0) == 0
    assert t.submit(0, AD, "a", 1, "V1", 3, b"r1")[0] == "duplicate"  # a redelivery
    assert t.live_count(0) == 0
    assert t.submit(0, AD, "a", 2, "V1", 4, b"r2")[0] == "stored"  # a new revision
    assert t.live_count(0) == 1


def test_changelog_replay_rebuilds_the_same_state() -> None:
    t = Table()
    changes = []
    for args in [("a", 0, b"x"), ("b", 0, b"y"), ("a", 1, b"z")]:
        _, change = t.submit(0, AD, args[0], args[1], "V", 0, args[2])
        assert change is not None
        changes.append(change)
    _, change = t.cancel(0, AD, "b", 0, "V", 5)
    assert change is not None
    changes.append(change)
    changes.append(t.set_record(0, AD, DayRecord("bid", "2026-11-25T12:00:00+01:00", "x", "r")))
    back = replay(changes)
    day = back.day(0, AD)
    assert {k: (e.revision, e.raw) for k, e in day.plans.items()} == {
        "a": (1, b"z"),
        "b": (0, None),
    }
    assert day.record == DayRecord("bid", "2026-11-25T12:00:00+01:00", "x", "r")
    assert back.live_count(0) == 1
