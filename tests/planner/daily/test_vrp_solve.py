"""Planning a day with ``solve_day``: every constraint re-checked by an independent checker."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _routes_checker import check_plan

from geo import Industry, TravelMode
from geo.timeofday import parse_hhmm
from planner.daily.vrp import (
    CostMatrices,
    DayProblem,
    DayState,
    Escort,
    Lunch,
    SolveOptions,
    StopKind,
    TimeWindow,
    Visit,
    Volunteer,
    solve_day,
)
from planner.errors import InfeasibleError

FAST = SolveOptions(iterations=300, no_improvement=150, seed=1)
T, E, F = Industry.TEXTILE, Industry.ELECTRICAL, Industry.FOOD
DAY = TimeWindow(parse_hhmm("08:00"), parse_hhmm("18:00"))


def grid_matrices(n: int, seed: int = 0) -> CostMatrices:
    """Integer matrices on random points: walking 1.25 m/s, e-bike 4 m/s (metres, seconds)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 4000, (n, 2))
    dist = np.rint(np.abs(xy[:, None, :] - xy[None, :, :]).sum(-1))  # Manhattan: a street grid
    durs = {TravelMode.WALK: np.rint(dist / 1.25), TravelMode.EBIKE: np.rint(dist / 4.0)}
    coords = np.c_[113.7 + xy[:, 0] / 1e5, 23.0 + xy[:, 1] / 1e5]
    return CostMatrices(durs, {m: dist for m in durs}, coords)


def vol(i: str, node: int, inds: set[Industry], **kw: object) -> Volunteer:
    base: dict[str, object] = dict(
        id=i,
        start_node=node,
        end_node=node,
        shift=DAY,
        mode=TravelMode.EBIKE,
        industries=frozenset(inds),
    )
    base.update(kw)
    return Volunteer(**base)  # type: ignore[arg-type]


def visit(i: str, node: int, ind: Industry | None, **kw: object) -> Visit:
    base: dict[str, object] = dict(id=i, node=node, industry=ind, service_s=900, windows=(DAY,))
    base.update(kw)
    return Visit(**base)  # type: ignore[arg-type]


def random_day(seed: int, n_vol: int = 4, n_visit: int = 14, n_escort: int = 3) -> DayProblem:
    rng = np.random.default_rng(seed)
    n = 40
    inds = [T, E, F]
    vols = []
    for k in range(n_vol):
        lunch = Lunch(TimeWindow(parse_hhmm("11:30"), parse_hhmm("13:30")), 2700, (k, 30 + k))
        vols.append(
            vol(
                f"v{k}",
                k,
                set(rng.choice(inds, 2, replace=False).tolist()),
                end_node=30 + k if k % 2 else k,
                max_tasks=5,
                seats=3,
                lunch=lunch,
                mode=TravelMode.WALK if k % 2 else TravelMode.EBIKE,
            )
        )
    tasks: list[Visit | Escort] = []
    for j in range(n_visit):
        o = parse_hhmm("08:00") + int(rng.integers(0, 8)) * 1800
        windows = (
            (TimeWindow(o, o + 3 * 3600),)
            if j % 3
            else (
                TimeWindow(o, parse_hhmm("12:00")),
                TimeWindow(parse_hhmm("14:00"), parse_hhmm("17:00")),
            )
        )
        tasks.append(
            visit(
                f"t{j}",
                int(rng.integers(5, 30)),
                inds[j % 3],
                windows=windows,
                priority=float(rng.integers(1, 10)),
            )
        )
    for j in range(n_escort):
        iv = parse_hhmm("10:00") + int(rng.integers(0, 10)) * 1800
        tasks.append(
            Escort(
                f"e{j}",
                j % 4,
                int(rng.integers(5, 30)),
                inds[j % 3],
                int(rng.integers(1, 4)),
                iv - 5400,
                iv,
            )
        )
    return DayProblem(tasks, vols, grid_matrices(n, seed))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_days_satisfy_every_constraint(seed: int) -> None:
    problem = random_day(seed)
    plan = solve_day(problem, options=FAST)
    check_plan(problem, plan)
    assert plan.planned_task_ids  # something is planned


def test_tiny_day_matches_brute_force() -> None:
    """One volunteer, four visits, no windows: the plan equals the best of all 24 orders."""
    mats = grid_matrices(6, seed=5)
    tasks = [visit(f"t{j}", j + 1, None) for j in range(4)]
    problem = DayProblem(tasks, [vol("v", 0, set())], mats)
    plan = solve_day(problem, options=FAST)
    check_plan(problem, plan)
    d = mats.durations[TravelMode.EBIKE]
    best = min(
        sum(d[a, b] for a, b in itertools.pairwise((0, *perm, 0)))
        for perm in itertools.permutations(range(1, 5))
    )
    assert plan.routes[0].travel_s == pytest.approx(best)


def test_skills_route_each_task_to_a_volunteer_who_knows_it() -> None:
    mats = grid_matrices(12)
    tasks = [visit(f"t{j}", j + 2, T if j % 2 else F) for j in range(8)]
    vols = [vol("tex", 0, {T}), vol("food", 1, {F})]
    problem = DayProblem(tasks, vols, mats)
    plan = solve_day(problem, options=FAST)
    check_plan(problem, plan)
    assert {t for t in plan.route("tex").task_ids} == {f"t{j}" for j in range(1, 8, 2)}
    assert {t for t in plan.route("food").task_ids} == {f"t{j}" for j in range(0, 8, 2)}


def test_escort_pickup_precedes_delivery_on_the_same_route() -> None:
    mats = grid_matrices(10)
    esc = Escort("e", 3, 7, T, 2, parse_hhmm("09:00"), parse_hhmm("11:00"))
    problem = DayProblem([esc, visit("t", 5, T)], [vol("a", 0, {T}), vol("b", 1, {E})], mats)
    plan = solve_day(problem, options=FAST)
    check_plan(problem, plan)
    kinds = [s.kind for s in plan.route("a").stops if s.task_id == "e"]
    assert kinds == [StopKind.PICKUP, StopKind.DELIVERY]


def test_escort_group_larger_than_every_seat_count_is_dropped_with_reason() -> None:
    mats = grid_matrices(10)
    esc = Escort("e", 3, 7, T, 5, parse_hhmm("09:00"), parse_hhmm("11:00"))
    problem = DayProblem([esc], [vol("a", 0, {T}, seats=4)], mats)
    plan = solve_day(problem, options=FAST)
    check_plan(problem, plan)
    assert [d.task_id for d in plan.dropped] == ["e"]
    assert "seats" in plan.dropped[0].reason


def test_max_tasks_caps_each_route_and_drops_lowest_priority() -> None:
    mats = grid_matrices(12)
    tasks = [visit(f"t{j}", j + 1, None, priority=float(j + 1)) for j in range(6)]
    problem = DayProblem(tasks, [vol("v", 0, set(), max_tasks=4)], mats)
    plan = solve_day(problem, options=SolveOptions(iterations=300, prize_per_priority_s=36000))
    check_plan(problem, plan)
    assert sorted(d.task_id for d in plan.dropped) == ["t0", "t1"]
    assert all("priority" in d.reason for d in plan.dropped)
    # The only volunteer who could do them is full: the reason says so, not "day too short".
    assert all("daily task limit" in d.reason for d in plan.dropped)


def test_short_day_drops_low_priority_first() -> None:
    """A 2-hour shift fits about half the visits; the high-priority ones are kept."""
    mats = grid_matrices(14, seed=3)
    tasks = [
        visit(f"t{j}", j + 1, None, service_s=1200, priority=10.0 if j < 3 else 1.0)
        for j in range(10)
    ]
    v = vol("v", 0, set(), shift=TimeWindow(parse_hhmm("09:00"), parse_hhmm("11:00")))
    problem = DayProblem(tasks, [v], mats)
    plan = solve_day(problem, options=FAST)
    check_plan(problem, plan)
    assert {"t0", "t1", "t2"} <= plan.planned_task_ids
    assert plan.dropped and all(d.priority == 1.0 for d in plan.dropped)


def test_lunch_break_is_planned_inside_its_window() -> None:
    mats = grid_matrices(12)
    lunch = Lunch(TimeWindow(parse_hhmm("12:00"), parse_hhmm("13:00")), 1800, (0, 11))
    problem = DayProblem(
        [visit(f"t{j}", j + 1, None) for j in range(6)], [vol("v", 0, set(), lunch=lunch)], mats
    )
    plan = solve_day(problem, options=FAST)
    check_plan(problem, plan)
    assert sum(s.kind is StopKind.LUNCH for s in plan.route("v").stops) == 1


@pytest.mark.parametrize(
    ("task", "reason_word"),
    [
        (visit("x", 3, Industry.CHEMICAL), "industry"),
        (
            visit("x", 3, None, windows=(TimeWindow(parse_hhmm("19:00"), parse_hhmm("21:00")),)),
            "shift does not meet its hours",
        ),
        (visit("x", 3, None, units=20), "daily task limit"),
    ],
)
def test_impossible_optional_task_is_dropped_with_reason(task: Visit, reason_word: str) -> None:
    problem = DayProblem([task, visit("ok", 4, None)], [vol("v", 0, {T})], grid_matrices(8))
    plan = solve_day(problem, options=FAST)
    check_plan(problem, plan)
    assert [d.task_id for d in plan.dropped] == ["x"]
    assert reason_word in plan.dropped[0].reason


@pytest.mark.parametrize(
    "task",
    [
        visit("x", 3, Industry.CHEMICAL, required=True),
        visit(
            "x",
            3,
            None,
            required=True,
            windows=(TimeWindow(parse_hhmm("06:00"), parse_hhmm("07:30")),),
        ),
    ],
)
def test_impossible_required_task_raises_naming_it(task: Visit) -> None:
    problem = DayProblem([task], [vol("v", 0, {T})], grid_matrices(8))
    with pytest.raises(InfeasibleError, match="`x`"):
        solve_day(problem, options=FAST)


def test_replan_keeps_done_tasks_out_and_respects_absence_and_positions() -> None:
    problem = random_day(7)
    first = solve_day(problem, options=FAST)
    check_plan(problem, first)
    busy = next(r for r in first.routes if len(r.task_ids) >= 2)
    done = frozenset(busy.task_ids[:1])
    state = DayState(
        now_s=parse_hhmm("10:30"),
        done=done,
        absent=frozenset({"v1"}) - {busy.volunteer_id},
        positions={busy.volunteer_id: busy.stops[1].node},
    )
    plan = solve_day(problem, options=FAST, state=state)
    check_plan(problem, plan, state)
    assert not (plan.planned_task_ids & done)
    if busy.volunteer_id != "v1":  # absent: a record without stops, with the reason
        assert not plan.route("v1").stops and "absent" in plan.route("v1").reason
    assert all(s.departure_s >= state.now_s for r in plan.routes for s in r.stops[:1])


def test_replan_delivers_a_carried_group_with_the_same_volunteer() -> None:
    mats = grid_matrices(10)
    esc = Escort("e", 3, 7, T, 2, parse_hhmm("09:00"), parse_hhmm("12:00"))
    vols = [vol("a", 0, {T}), vol("b", 1, {T})]
    problem = DayProblem([esc, visit("t", 5, T)], vols, mats)
    state = DayState(now_s=parse_hhmm("10:00"), positions={"b": 3}, carrying={"b": ("e",)})
    plan = solve_day(problem, options=FAST, state=state)
    check_plan(problem, plan, state)
    assert [s.kind for s in plan.route("b").stops if s.task_id == "e"] == [StopKind.DELIVERY]


def test_path_geometry_hook_builds_the_line() -> None:
    mats = grid_matrices(6)
    problem = DayProblem([visit("t", 2, None)], [vol("v", 0, set())], mats)
    calls: list[tuple[int, int]] = []

    def path(a: int, b: int) -> list[tuple[float, float]]:
        calls.append((a, b))
        return [(float(a), 0.0), (float(a) + 0.5, 1.0), (float(b), 0.0)]

    plan = solve_day(problem, options=FAST, path_geometry=path)
    assert calls == [(0, 2), (2, 0)]
    assert plan.routes[0].geometry == ((0.0, 0.0), (0.5, 1.0), (2.0, 0.0), (2.5, 1.0), (0.0, 0.0))


def test_day_without_tasks_keeps_everyone_at_the_start() -> None:
    problem = DayProblem([], [vol("v", 2, set())], grid_matrices(4))
    plan = solve_day(problem, options=FAST)
    assert [s.kind for s in plan.route("v").stops] == [StopKind.START]
    assert plan.dropped == () and plan.objective == 0


def test_penalty_bound_warning_is_logged_not_shown(monkeypatch, caplog, recwarn) -> None:
    """PyVRP's PenaltyBoundWarning speaks of the search, not the plan: it goes to the log;
    any other warning still reaches the caller."""
    import logging
    import warnings

    import pyvrp
    from pyvrp.exceptions import PenaltyBoundWarning

    from planner.daily.vrp import solve as solve_module

    real = pyvrp.solve

    def noisy(*args, **kwargs):
        warnings.warn("penalty at its maximum", PenaltyBoundWarning, stacklevel=1)
        warnings.warn("something else", UserWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(solve_module.pyvrp, "solve", noisy)
    mats = grid_matrices(6, seed=5)
    problem = DayProblem([visit("t0", 1, None)], [vol("v", 0, set())], mats)
    with caplog.at_level(logging.INFO, logger="planner.daily.vrp.solve"):
        plan = solve_day(problem, options=FAST)
    assert plan.planned_task_ids == {"t0"}
    assert "penalty reached its bound" in caplog.text
    kinds = [w.category for w in recwarn.list]
    assert PenaltyBoundWarning not in kinds and UserWarning in kinds
