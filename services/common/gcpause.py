"""Pause Python's cyclic garbage collector around bulk work that allocates but never cycles.

Clearing a day builds and drops millions of small objects (100 000 plans parsed, their
auction results, their decision events). Each allocation burst triggers generation-2
collections that walk every live object - the whole state table too - again and again:
measured on 100 000 plans, parsing the day took 4.9 s with the collector and 1.4 s
without, building the results 3.1 s against 1.2 s, the decisions 4.4 s against 1.8 s.
These objects are freed by reference counting; the collector runs again when the last
paused section ends, so any cycle made meanwhile is still collected.

The collector switch is process-wide, so sections (several threads may clear at once)
are counted: the collector is re-enabled when the last one ends, and only if it was
enabled when the first one began.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


def without_gc(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` inside :func:`gc_paused`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with gc_paused():
            return fn(*args, **kwargs)

    return wrapper
