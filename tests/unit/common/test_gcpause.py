"""The collector pause: nested and concurrent sections, and the state it restores."""

from __future__ import annotations

import gc
import threading

from services.common.gcpause import gc_paused, without_gc


def test_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collector_restarts_only_when_the_last_overlapping_section_ends() -> None:
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with gc_paused():
        thread.start()
        assert entered.wait(5)
    assert not gc.isenabled()  # the other thread's section is still open
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_decorated_function_runs_paused_and_restores_on_error() -> None:
    @without_gc
    def work(x: int) -> bool:
        if x < 0:
            raise ValueError("negative")
        return gc.isenabled()

    assert work(1) is False
    try:
        work(-1)
    except ValueError:
        pass
    assert gc.isenabled()
