"""A day's timeline: schedules and the places a task still fits, against brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import TravelMode
from planner.daily.record import StopKind
from planner.daily.vrp import TimeWindow, Volunteer
from planner.daily.vrp.build import Crew
from planner.daily.vrp.timeline import Act, Timeline


def _feasible(
    dur: np.ndarray, start: int, early: int, acts: list[Act], end: int, late: int
) -> bool:
    """Brute force: walk the day, waiting for openings, nothing late."""
    t, node = early, start
    for a in acts:
        t = max(t + int(dur[node, a.node]), a.early_s)
        if t > a.late_s:
            return False
        t, node = t + a.service_s, a.node
    return t + int(dur[node, end]) <= late


def _act(node: int, early: int, width: int, service: int, tid: str) -> Act:
    return Act(StopKind.VISIT, node, tid, service, early, early + width, units=1)


acts_st = st.lists(
    st.tuples(
        st.integers(1, 7),
        st.integers(8 * 3600, 15 * 3600),
        st.integers(0, 4 * 3600),
        st.integers(0, 3600),
    ),
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(acts_st, acts_st.filter(lambda x: len(x) == 1), st.integers(0, 2**32 - 1))
def test_insertions_are_exactly_the_feasible_places(day, new, seed):
    rng = np.random.default_rng(seed)
    dur = rng.integers(60, 2400, (8, 8)).astype(float)
    np.fill_diagonal(dur, 0)
    shift = TimeWindow(8 * 3600, 17 * 3600)
    vol = Volunteer("v", 0, 0, shift, TravelMode.WALK, frozenset(), max_tasks=10)
    crew = Crew(vol, 0, shift.start_s, None, ())
    acts = [_act(n, e, w, s, f"t{k}") for k, (n, e, w, s) in enumerate(day)]
    if not _feasible(dur, 0, shift.start_s, acts, 0, shift.end_s):
        return  # only feasible days are ever checked
    tl = Timeline(crew, dur, list(acts))
    cand = _act(*new[0], "x")
    found = {i.at for i in tl.insertions([[cand]], seats=4)}
    truth = {
        k
        for k in range(len(acts) + 1)
        if _feasible(dur, 0, shift.start_s, [*acts[:k], cand, *acts[k:]], 0, shift.end_s)
    }
    assert found == truth
    # The schedule of a feasible day keeps every window and returns in time.
    _depart, slots = tl.schedule()
    for a, s in zip(acts, slots, strict=False):
        assert a.early_s <= s.start_s <= a.late_s and s.arrival_s <= s.start_s
    assert slots[-1].arrival_s <= shift.end_s
