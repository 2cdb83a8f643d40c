"""Validation of the routing model's dataclasses and small helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import InputError, TravelMode
from geo.timeofday import parse_hhmm
from planner.daily.vrp import (
    CostMatrices,
    DayProblem,
    DayState,
    Escort,
    Lunch,
    SolveOptions,
    TimeWindow,
    Visit,
    Volunteer,
    visit_priority,
)
from planner.daily.vrp.build import volunteer_codes

DAY = TimeWindow(parse_hhmm("08:00"), parse_hhmm("18:00"))


def mats(n: int = 3) -> CostMatrices:
    m = np.ones((n, n)) - np.eye(n)
    return CostMatrices({TravelMode.WALK: m}, {TravelMode.WALK: m})


@given(st.integers(0, 200), st.integers(0, 200), st.integers(0, 50), st.integers(0, 50))
def test_priority_grows_with_demand_and_staleness(d: int, s: int, dd: int, ds: int) -> None:
    p = visit_priority(d, s)
    assert 1.0 <= p <= 10.0
    assert visit_priority(d + dd, s + ds) >= p


@pytest.mark.parametrize(
    ("factory", "word"),
    [
        (lambda: TimeWindow(100, 50), "start_s"),
        (lambda: Visit("", 0, None, 60, (DAY,)), "id"),
        (lambda: Visit("v", 0, None, 60, ()), "windows"),
        (lambda: Visit("v", 0, None, 7200, (TimeWindow(0, 3600),)), "shorter"),
        (lambda: Visit("v", 0, None, 60, (DAY,), priority=0), "priority"),
        (lambda: Escort("e", 0, 1, None, 0, 0, 10), "seekers"),
        (lambda: Escort("e", 0, 1, None, 1, 100, 10), "ready_s"),
        (lambda: Volunteer("v", 0, 0, DAY, TravelMode.CAR, frozenset()), "mode"),
        (
            lambda: Volunteer(
                "v",
                0,
                0,
                DAY,
                TravelMode.WALK,
                frozenset(),
                lunch=Lunch(TimeWindow(parse_hhmm("19:00"), parse_hhmm("20:00"))),
            ),
            "lunch",
        ),
        (lambda: Lunch(DAY, 0), "duration_s"),
        (lambda: DayState(now_s=-1), "now_s"),
        (lambda: DayState(now_s=0, done=frozenset({"e"}), carrying={"v": ("e",)}), "done"),
    ],
)
def test_bad_inputs_name_the_argument(factory, word: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=word):
        factory()


def test_matrices_are_checked() -> None:
    with pytest.raises(InputError, match="shape"):
        CostMatrices({TravelMode.WALK: np.zeros((2, 3))}, {TravelMode.WALK: np.zeros((2, 3))})
    with pytest.raises(InputError, match="negative"):
        CostMatrices({TravelMode.WALK: -np.ones((2, 2))}, {TravelMode.WALK: np.ones((2, 2))})


def test_day_problem_cross_checks_all_problems_at_once() -> None:
    v = Volunteer("v", 0, 9, DAY, TravelMode.EBIKE, frozenset())
    tasks = [Visit("t", 7, None, 60, (DAY,)), Visit("t", 1, None, 60, (DAY,))]
    with pytest.raises(InputError) as err:
        DayProblem(tasks, [v], mats())
    text = str(err.value)
    assert "duplicate task" in text and "node outside" in text and "no cost matrix" in text


def test_solve_options_are_checked() -> None:
    with pytest.raises(ValueError, match="iterations"):
        SolveOptions(iterations=0)
    with pytest.raises(ValueError, match="balance"):
        SolveOptions(balance=-1)
    with pytest.raises(ValueError, match="objective"):
        SolveOptions(objective="money")  # type: ignore[arg-type]


@given(st.integers(1, 300))
def test_volunteer_codes_form_an_antichain(n: int) -> None:
    """No volunteer's code fits inside another's, so an own stop fits only its owner."""
    k, subsets = volunteer_codes(n)
    assert len(set(subsets)) == n
    assert all(len(s) > 0 and max(s) < k for s in subsets)
    sets = [set(s) for s in subsets[:40]]
    assert not any(a < b for a in sets for b in sets)
