"""The supervisor's restart back-off: doubling from 1 s to 30 s, reset after a healthy minute."""

from __future__ import annotations

from services.devstack.supervisor import Backoff


def test_quick_deaths_double_the_wait_up_to_the_cap() -> None:
    b = Backoff()
    failures, delays = 0, []
    for _ in range(8):
        failures = b.failures_after(failures, ran_s=3.0)
        delays.append(b.delay(failures))
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]


def test_a_minute_of_running_starts_the_count_again() -> None:
    b = Backoff()
    failures = 0
    for _ in range(5):
        failures = b.failures_after(failures, ran_s=1.0)
    assert b.delay(failures) == 16
    failures = b.failures_after(failures, ran_s=60.0)
    assert (failures, b.delay(failures)) == (1, 1)
    failures = b.failures_after(failures, ran_s=59.0)
    assert b.delay(failures) == 2
