"""Finding the plans a clearing fails with (culprits.isolate), on a fake solve: which plans
are left out, with which reason, and how many solves it takes."""

from __future__ import annotations

import math
from collections.abc import Sequence, Set

import pytest

from auction.clear import InstanceError
from services.aggregator.culprits import DayFailure, blamed_plans, isolate


class Engine:
    """Fails when any plan in `poison` is present (or any pair in `pairs` together)."""

    def __init__(self, poison: Set[int] = frozenset(), pairs: Sequence[Set[int]] = ()) -> None:
        self.poison = poison
        self.pairs = pairs
        self.calls: list[tuple[int, ...]] = []

    def __call__(self, positions: Sequence[int]) -> tuple[int, ...]:
        self.calls.append(tuple(positions))
        if self.poison & set(positions):
            raise ArithmeticError("numbers too large for exact int64 network simplex")
        for pair in self.pairs:
            if pair <= set(positions):
                raise ArithmeticError("these two do not go together")
        return tuple(positions)


def test_a_day_without_failures_takes_one_solve() -> None:
    found = isolate(100, Engine())
    assert found.kept == list(range(100)) and found.culprits == {} and found.solves == 1


def test_a_plan_that_breaks_the_solver_is_found_in_log2_n_solves() -> None:
    engine = Engine(poison={700})
    found = isolate(1024, engine)
    assert set(found.culprits) == {700}
    assert found.kept == [i for i in range(1024) if i != 700]
    assert found.result == tuple(found.kept)  # the result of the day without it
    assert "numbers too large" in found.culprits[700][0].reason
    assert found.culprits[700][0].reason.startswith("clearing_failed: ArithmeticError")
    # full + empty + log2(1024) bisection steps + the final full solve
    assert found.solves <= 1 + 1 + math.ceil(math.log2(1024)) + 1


def test_each_further_culprit_costs_about_log2_n_solves() -> None:
    n, poison = 1000, {3, 512, 999}
    found = isolate(n, Engine(poison=poison))
    assert set(found.culprits) == poison
    assert len(found.kept) == n - 3
    assert found.solves <= 2 + len(poison) * (math.ceil(math.log2(n)) + 1)


def test_plans_named_by_the_instance_check_are_left_out_without_bisection() -> None:
    calls = []

    def solve(positions: Sequence[int]) -> int:
        calls.append(list(positions))
        bad = [i for i, p in enumerate(positions) if p in (4, 9)]
        if bad:
            raise InstanceError(
                [f"plans[{i}].stops[0].charging_point_id: unknown charging point 'X'" for i in bad]
                + [f"plans[{bad[0]}].stops[1] overlaps stops[0] (or is out of order)"]
            )
        return len(positions)

    found = isolate(12, solve)
    assert set(found.culprits) == {4, 9} and found.solves == 2
    reasons = found.culprits[4]
    assert [r.loc for r in reasons] == ["stops[0].charging_point_id", "stops[1]"]
    assert reasons[0].reason == "clearing_failed: unknown charging point 'X'"
    assert found.result == 10


def test_a_day_level_instance_error_is_not_blamed_on_plans() -> None:
    errors = ["prices_eur_mwh: 23 prices given, the day has 24 MTUs", "plans[0].x: bad"]
    assert blamed_plans(InstanceError(errors), 5) is None
    assert blamed_plans(ValueError("plans[0].x: bad"), 5) is None  # no per-plan list
    assert blamed_plans(InstanceError(["plans[7].x: bad"]), 5) is None  # no such plan


def test_a_failure_without_any_plan_is_the_days() -> None:
    def solve(positions: Sequence[int]) -> int:
        raise RuntimeError("the network has no nodes")

    with pytest.raises(DayFailure) as failure:
        isolate(10, solve)
    assert isinstance(failure.value.cause, RuntimeError)


def test_plans_that_fail_only_together_lose_one_of_them() -> None:
    found = isolate(50, Engine(pairs=[{10, 40}]))
    assert set(found.culprits) == {40}  # the later one, given the plans before it solve
    assert 10 in found.kept


def test_out_of_solves_the_known_good_prefix_is_cleared_and_the_rest_left_out() -> None:
    found = isolate(1000, Engine(poison={900}), max_solves=4)
    assert found.solves <= 4
    assert found.kept == list(range(len(found.kept)))  # a prefix that solved
    assert found.result == tuple(found.kept)
    left_out = set(range(1000)) - set(found.kept)
    assert set(found.culprits) == left_out and 900 in left_out
    assert "more than 4 solves" in found.culprits[999][0].reason


def test_the_search_is_deterministic() -> None:
    a, b = Engine(poison={5, 77, 78}), Engine(poison={5, 77, 78})
    first, second = isolate(200, a), isolate(200, b)
    assert first.culprits == second.culprits and first.kept == second.kept
    assert a.calls == b.calls
