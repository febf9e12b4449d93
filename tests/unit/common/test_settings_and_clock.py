"""Settings fail fast with the variable's name; the clock has real, accelerated, fixed modes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.common.clock import Clock
from services.common.settings import CommonSettings, ConfigError, load_settings


def test_bad_setting_exits_naming_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("CHARGEFLOW_CLOCK_SPEED", "-3")
    monkeypatch.setenv("CHARGEFLOW_DATABASE_URL", "mysql://x")
    with pytest.raises(ConfigError) as exc:
        load_settings(CommonSettings)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "CHARGEFLOW_CLOCK_SPEED=" in err and "greater than or equal to 0" in err
    assert "CHARGEFLOW_DATABASE_URL=" in err and "postgresql://" in err


def test_naive_clock_start_is_rejected(monkeypatch):
    monkeypatch.setenv("CHARGEFLOW_CLOCK_START", "2026-11-25T10:00:00")
    with pytest.raises(ConfigError):
        load_settings(CommonSettings)


def test_settings_read_prefixed_environment(monkeypatch):
    monkeypatch.setenv("CHARGEFLOW_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("CHARGEFLOW_CLOCK_START", "2026-11-25T10:00:00+01:00")
    monkeypatch.setenv("CHARGEFLOW_CLOCK_SPEED", "60")
    settings = load_settings(CommonSettings)
    clock = Clock.from_settings(settings)
    assert settings.kafka_bootstrap == "kafka:9092"
    assert clock.speed == 60
    assert abs((clock.now() - datetime(2026, 11, 25, 9, tzinfo=UTC)).total_seconds()) < 60


def test_fixed_clock_moves_only_when_told():
    start = datetime(2026, 3, 28, 11, 59, tzinfo=timezone(timedelta(hours=1)))
    clock = Clock.fixed(start)
    assert clock.now() == start
    clock.advance(timedelta(minutes=2))
    assert clock.now() == start + timedelta(minutes=2)
    assert clock.now().tzinfo is not None
    assert clock.wall_seconds_until(start + timedelta(hours=1)) == float("inf")


def test_accelerated_clock_runs_faster_than_wall_time():
    clock = Clock(datetime(2026, 11, 24, 11, 0, tzinfo=UTC), speed=3600)
    target = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # one clock hour = one wall second
    wait = clock.wall_seconds_until(target)
    assert 0.9 < wait <= 1.0
    asyncio.run(asyncio.wait_for(clock.sleep_until(target, poll=0.05), timeout=3))
    assert clock.now() >= target


def test_clock_refuses_naive_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock().set(datetime(2026, 1, 1))


def test_processes_sharing_an_anchor_agree_on_an_accelerated_clock():
    start = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    anchor = datetime.now(UTC) - timedelta(seconds=10)  # the stack started 10 s ago
    late_joiner = Clock(start, speed=60, anchor=anchor)
    assert abs((late_joiner.now() - (start + timedelta(minutes=10))).total_seconds()) < 5
    unanchored = Clock(start, speed=60)
    assert (late_joiner.now() - unanchored.now()) > timedelta(minutes=9)
