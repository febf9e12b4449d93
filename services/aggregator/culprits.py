"""Clear a day without the plans that make the engine fail (pure; no I/O).

When a clearing raises, the day must clear without the culprit plans, not without everyone
(DESIGN §5: one bad record never changes anyone else's result). Two ways to find them:

1. The engine's instance check names plans: every error ``plans[i]...`` points at one plan.
   Those plans are left out and the rest is solved again (one more solve).
2. A failure that names no plan is bisected: the plans are kept in a fixed order, the
   longest prefix that still solves is found by binary search (log2 N solves), and the plan
   right after it is the culprit: with it the prefix fails, without it it solves. It is left
   out and the search goes on from that known-good prefix, so each culprit costs about
   log2 N + 1 solves, whatever else the day holds.

If the day fails with no plan at all, the failure is the day's (network, prices, awards),
not a plan's: :class:`DayFailure` is raised and the caller rejects every plan as before.
The search is deterministic for deterministic solves (the same plans in the same order
give the same culprits), so a replay reproduces the same run. It spends at most
``max_solves`` solves; past that, the plans after the known-good prefix are left out too,
each with a reason saying so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from schemas.base import FieldError

R = TypeVar("R")

# "plans[12].stops[0].charging_point_id: unknown charging point 'X'" -> 12, "stops[0]...", ...
_PLAN_ERROR = re.compile(r"^plans\[(\d+)\](?:\.)?(\S*?)(?::| )\s*(.*)$", re.DOTALL)


class DayFailure(Exception):
    """The clearing fails without any plan: no plan is to blame."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass
class Isolated(Generic[R]):
    result: R
    kept: list[int]  # positions of the plans in the result, in their order
    culprits: dict[int, list[FieldError]] = field(default_factory=dict)
    solves: int = 0  # solves spent, the first one included


def failure_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def blamed_plans(exc: BaseException, n: int) -> dict[int, list[FieldError]] | None:
    """Plans named by the engine's instance check, with their errors; None when the error
    does not list per-plan messages (or names a day-level problem too)."""
    errors = getattr(exc, "errors", None)
    if not isinstance(errors, list) or not errors:
        return None
    blamed: dict[int, list[FieldError]] = {}
    for message in errors:
        match = _PLAN_ERROR.match(str(message))
        if match is None or int(match.group(1)) >= n:
            return None  # a day-level error: leaving plans out would not help
        index, loc, reason = int(match.group(1)), match.group(2), match.group(3)
        blamed.setdefault(index, []).append(
            FieldError(loc=loc[:256], reason=f"clearing_failed: {reason or message}"[:2000])
        )
    return blamed


def isolate(n: int, solve: Callable[[Sequence[int]], R], max_solves: int = 40) -> Isolated[R]:
    """Solve plans ``0..n-1``, leaving out the ones that make ``solve`` raise.

    ``solve(positions)`` clears the plans at those positions (ascending) or raises.
    Raises :class:`DayFailure` when even no plans at all fail.
    """
    culprits: dict[int, list[FieldError]] = {}
    solves = 0

    def attempt(positions: Sequence[int]) -> tuple[R | None, Exception | None]:
        nonlocal solves
        solves += 1
        try:
            return solve(positions), None
        except Exception as exc:  # any failure of the engine is a verdict, not a crash
            return None, exc

    def done(result: R | None, kept: list[int]) -> Isolated[R]:
        assert result is not None  # every prefix handed back was solved
        return Isolated(result, kept, culprits, solves)

    def out_of_solves(rest: list[int], last: Exception | None) -> None:
        why = (
            "clearing_failed: not cleared: finding the plans that make the engine fail took "
            f"more than {max_solves} solves"
        )
        if last is not None:
            why += f" (last failure: {failure_text(last)})"
        for p in rest:
            culprits[p] = [FieldError(loc="", reason=why[:2000])]

    kept = list(range(n))
    good, good_result = 0, None  # kept[:good] is known to solve, with this result
    empty_known, empty_result = False, None
    while True:
        result, exc = attempt(kept)
        if exc is None:
            return done(result, kept)
        blamed = blamed_plans(exc, len(kept))
        if blamed:
            for i, reasons in blamed.items():
                culprits[kept[i]] = reasons
            kept = [p for i, p in enumerate(kept) if i not in blamed]
            good, good_result = 0, None  # a prefix without them was never solved
            continue
        if not empty_known:
            empty_result, empty_exc = attempt([])
            if empty_exc is not None:
                raise DayFailure(empty_exc) from empty_exc
            empty_known = True
        if good == 0:
            good_result = empty_result
        # Binary search: kept[:good] solves, kept[:bad] fails; narrow until they are adjacent.
        bad, bad_exc = len(kept), exc
        while bad - good > 1 and solves < max_solves:
            mid = (good + bad) // 2
            mid_result, mid_exc = attempt(kept[:mid])
            if mid_exc is None:
                good, good_result = mid, mid_result
            else:
                bad, bad_exc = mid, mid_exc
        if bad - good > 1:
            out_of_solves(kept[good:], bad_exc)
            return done(good_result, kept[:good])
        # With kept[bad - 1] the known-good prefix fails: that plan is a culprit.
        culprits[kept[bad - 1]] = [
            FieldError(loc="", reason=f"clearing_failed: {failure_text(bad_exc)}"[:2000])
        ]
        kept = kept[: bad - 1] + kept[bad:]
        if good == len(kept):  # the culprit was the last plan: the rest is the good prefix
            return done(good_result, kept)
        if solves >= max_solves:
            out_of_solves(kept[good:], None)
            return done(good_result, kept[:good])
