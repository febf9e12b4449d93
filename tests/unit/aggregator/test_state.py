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


def test_a_plan_id_of_another_vehicle_can_neither_replace_nor_cancel_its_plan() -> None:
    """A direct producer that learnt someone's plan_id (issue 10: plans for other owners'
    vehicles) cannot take the plan over with a higher revision for its own vehicle."""
    t = Table()
    t.submit(0, AD, "a", 1, "V1", 0, b"r1")
    assert t.submit(0, AD, "a", 9, "V-MALLORY", 1, b"forged") == ("taken", None)
    assert t.cancel(0, AD, "a", 9, "V-MALLORY", 2) == ("taken", None)
    assert t.day(0, AD).plans["a"].raw == b"r1" and t.live_count(0) == 1
    t.cancel(0, AD, "a", 1, "V1", 3)  # cancelled, its id stays its vehicle's
    assert t.submit(0, AD, "a", 9, "V-MALLORY", 4, b"forged") == ("taken", None)


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


def test_a_forgotten_day_leaves_nothing_in_memory_nor_after_a_restore() -> None:
    t, other = Table(), ("PL", date(2026, 11, 27))
    changes = [t.submit(0, AD, f"p{i}", 0, "V", i, b"{}")[1] for i in range(3)]
    changes.append(t.cancel(0, AD, "p1", 0, "V", 9)[1])
    changes.append(t.set_record(0, AD, DayRecord("done", "2026-11-25T12:00:00+01:00", "x")))
    changes.append(t.submit(0, other, "q", 0, "W", 10, b"{}")[1])
    tombstones = t.forget(0, AD)
    assert [k for k, _ in tombstones] == [
        b"PL/2026-11-26/p/p0",
        b"PL/2026-11-26/p/p1",
        b"PL/2026-11-26/p/p2",
        b"PL/2026-11-26/d",  # the day key last
    ]
    assert all(v is None for _, v in tombstones)
    assert [ad for _, ad, _ in t.days()] == [other] and t.entry_count(0) == 1
    back = replay([c for c in changes if c is not None] + tombstones)
    assert [ad for _, ad, _ in back.days()] == [other]  # no empty day left behind
    assert back.live_count(0) == 1 and back.entry_count(0) == 1
    assert t.forget(0, AD) == []  # forgetting twice writes nothing


def test_a_day_written_again_after_its_tombstones_comes_back() -> None:
    t = Table()
    history = [t.submit(0, AD, "a", 0, "V", 0, b"{}")[1], *t.forget(0, AD)]
    history.append(t.submit(0, AD, "b", 0, "V", 1, b"{}")[1])
    back = replay([c for c in history if c is not None])
    assert list(back.day(0, AD).plans) == ["b"]


def test_an_exclusion_survives_the_changelog_and_is_written_once() -> None:
    t = Table()
    change = t.submit(0, AD, "a", 0, "V", 0, b"{}")[1]
    excluded = t.exclude(0, AD, "a", [("bid[0]", "clearing_failed: FlowError")])
    assert change is not None and excluded is not None
    assert t.exclude(0, AD, "a", [("", "again")]) is None
    assert t.exclude(0, AD, "gone", [("", "x")]) is None
    back = replay([change, excluded])
    assert back.day(0, AD).plans["a"].excluded == (("bid[0]", "clearing_failed: FlowError"),)


def test_the_live_entries_rebuild_the_same_table() -> None:
    t = Table()
    t.submit(0, AD, "a", 2, "V", 0, b'{"x": 1}', "cfg-1")
    t.submit(0, AD, "b", 0, "W", 1, b"{}")
    t.cancel(0, AD, "b", 0, "W", 2)
    t.exclude(0, AD, "a", [("", "why")])
    t.set_record(0, AD, DayRecord("bid", "2026-11-25T12:00:00+01:00", "x", "r", done_at=None))
    entries = list(t.entries(0))
    assert len(entries) == t.entry_count(0) == 3
    back = replay(entries)
    assert back.day(0, AD).plans == t.day(0, AD).plans
    assert back.day(0, AD).record == t.day(0, AD).record
    assert back.live_count(0) == t.live_count(0) == 1


def test_a_day_record_with_fields_from_a_newer_version_still_restores() -> None:
    value = b'{"status": "done", "gate_closure": "g", "closed_at": "c", "new_field": 1}'
    back = replay([(b"PL/2026-11-26/d", value)])
    assert back.day(0, AD).record == DayRecord("done", "g", "c")
