"""Districts of a big day: balance, membership, determinism, hand-over and true reasons."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from _routes_checker import check_plan

from geo import Industry, TravelMode
from geo.timeofday import parse_hhmm
from planner.daily.export import plan_json
from planner.daily.vrp import (
    CostMatrices,
    DayProblem,
    Lunch,
    SolveOptions,
    TimeWindow,
    Visit,
    Volunteer,
    districts,
)
from planner.daily.vrp.districts import hand_over, plan_districts, solve_by_district
from planner.daily.vrp.solve import finish_day, prepare_day, search_day

FAST = SolveOptions(iterations=200, no_improvement=100, seed=2)
T, E, F = Industry.TEXTILE, Industry.ELECTRICAL, Industry.FOOD
DAY = TimeWindow(parse_hhmm("08:00"), parse_hhmm("18:00"))


def line_matrices(xs: np.ndarray) -> CostMatrices:
    """Places on a line at `xs` metres: e-bike 4 m/s, walking 1.25 m/s (s, m)."""
    dist = np.rint(np.abs(xs[:, None] - xs[None, :]))
    durs = {TravelMode.EBIKE: np.rint(dist / 4.0), TravelMode.WALK: np.rint(dist / 1.25)}
    coords = np.c_[113.7 + xs / 1e5, np.full(len(xs), 23.0)]
    return CostMatrices(durs, {m: dist for m in durs}, coords)


def vol(i: str, node: int, inds: set[str], **kw: object) -> Volunteer:
    base: dict[str, object] = dict(
        id=i, start_node=node, end_node=node, shift=DAY, mode=TravelMode.EBIKE,
        industries=frozenset(inds),
    )  # fmt: skip
    base.update(kw)
    return Volunteer(**base)  # type: ignore[arg-type]


def visit(i: str, node: int, ind: str | None, **kw: object) -> Visit:
    base: dict[str, object] = dict(id=i, node=node, industry=ind, service_s=1800, windows=(DAY,))
    base.update(kw)
    return Visit(**base)  # type: ignore[arg-type]


def two_towns(
    n_west: int, n_east: int, tasks_west: int, tasks_east: int
) -> tuple[DayProblem, dict[str, str], dict[str, int]]:
    """Two towns 6 km apart (points P0 at 0 m and P1 at 6,000 m); volunteers live at their
    point, tasks spread 0-1,500 m around it."""
    xs = [0.0, 6000.0]
    vols = []
    point_of = {}
    for k in range(n_west + n_east):
        east = k >= n_west
        vols.append(vol(f"v{k:02d}", 1 if east else 0, {T, E}))
        point_of[f"v{k:02d}"] = "P1" if east else "P0"
    tasks = []
    rng = np.random.default_rng(0)
    for j in range(tasks_west + tasks_east):
        east = j >= tasks_west
        xs.append((6000.0 if east else 0.0) + float(rng.uniform(-1500, 1500)))
        tasks.append(visit(f"t{j:03d}", len(xs) - 1, T if j % 2 else E))
    problem = DayProblem(tasks, vols, line_matrices(np.array(xs)))
    return problem, point_of, {"P0": 0, "P1": 1}


# -- districts ---------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    n_points=st.integers(1, 6),
    n_vols=st.integers(1, 14),
    n_tasks=st.integers(0, 30),
    target=st.integers(1, 6),
    seed=st.integers(0, 1000),
)
def test_every_volunteer_and_task_in_exactly_one_district(
    n_points: int, n_vols: int, n_tasks: int, target: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = n_points + n_vols + n_tasks
    xs = rng.uniform(0, 20000, n)
    points = {f"P{i}": i for i in range(n_points)}
    vols = [
        vol(f"v{k}", n_points + k, set(rng.choice([T, E, F], 2, replace=False).tolist()))
        for k in range(n_vols)
    ]
    point_of = {v.id: f"P{int(rng.integers(0, n_points))}" for v in vols}
    tasks = [
        visit(f"t{j}", n_points + n_vols + j, [T, E, F][j % 3]) for j in range(n_tasks)
    ]  # fmt: skip
    problem = DayProblem(tasks, vols, line_matrices(xs))
    day = prepare_day(problem, None)
    parts = plan_districts(
        problem, day.crews, day.modelled, point_of, points, target_volunteers=target, leg_s=600
    )
    used = sorted(set(point_of.values()))
    assert len(parts) == max(1, min(len(used), round(n_vols / target)))
    assert sorted(p for g in parts.points for p in g) == used
    assert sorted(v for g in parts.volunteers for v in g) == sorted(v.id for v in vols)
    assert sorted(t for g in parts.tasks for t in g) == sorted(t.id for t in day.modelled)
    assert sum(parts.work_s) == sum(t.service_s + 600 for t in day.modelled)
    again = plan_districts(
        problem, day.crews, day.modelled, point_of, points, target_volunteers=target, leg_s=600
    )
    assert again == parts  # deterministic


def test_volunteers_follow_the_work() -> None:
    """Ten volunteers in each town, but 3/4 of the work in the west: the west district gets
    about 3/4 of the hours (within one volunteer's day), by moving eastern volunteers."""
    problem, point_of, points = two_towns(10, 10, 60, 20)
    day = prepare_day(problem, None)
    parts = plan_districts(
        problem, day.crews, day.modelled, point_of, points, target_volunteers=10, leg_s=600
    )
    assert parts.points == (("P0",), ("P1",))
    west = parts.work_s[0] / sum(parts.work_s)
    assert abs(west - 0.75) < 0.01
    one_day = DAY.end_s - DAY.start_s
    assert abs(parts.hours_s[0] - west * sum(parts.hours_s)) <= one_day / 2
    assert parts.moved == 5
    assert len(parts.volunteers[0]) == 15
    # Those who moved are eastern volunteers (they keep their start at home).
    assert sum(point_of[v] == "P1" for v in parts.volunteers[0]) == 5


def test_districts_grow_by_neighbours() -> None:
    """Four towns on a line (0, 1, 10, 11 km), equal work and volunteers, two districts:
    the two western towns form one, the two eastern the other."""
    xs = np.array([0.0, 1000.0, 10000.0, 11000.0])
    vols = [vol(f"v{k}", k % 4, {T}) for k in range(8)]
    point_of = {v.id: f"P{v.start_node}" for v in vols}
    tasks = [visit(f"t{j}", j % 4, T) for j in range(16)]
    problem = DayProblem(tasks, vols, line_matrices(xs))
    day = prepare_day(problem, None)
    points = {f"P{i}": i for i in range(4)}
    parts = plan_districts(
        problem, day.crews, day.modelled, point_of, points, target_volunteers=4, leg_s=600
    )
    assert sorted(parts.points) == [("P0", "P1"), ("P2", "P3")]
    assert parts.moved == 0


# -- hand-over and reasons -------------------------------------------------------------------


def test_hand_over_gives_a_left_out_task_to_an_idle_volunteer_elsewhere() -> None:
    """District A's volunteer knows textiles only; its food visit is left out there. The
    idle volunteer of district B (who knows food, 2 km away) takes it in the hand-over."""
    xs = np.array([0.0, 2000.0, 300.0, 600.0])
    a = vol("a", 0, {T})
    b = vol("b", 1, {F})
    tasks = [visit("tex", 2, T), visit("food", 3, F)]
    problem = DayProblem(tasks, [a, b], line_matrices(xs))
    day = prepare_day(problem, None)
    crews = {c.vol.id: c for c in day.crews}
    _, west, _ = search_day(problem, [crews["a"]], day.modelled, FAST)
    _, east, _ = search_day(problem, [crews["b"]], [], FAST)
    timeline_of = {"a": west[0], "b": east[0]}
    assert not timeline_of["b"].has_task()
    note = hand_over(problem, day, timeline_of, FAST)
    assert note.startswith("hand-over: 1 of the 1 task(s)")
    assert [x.task_id for x in timeline_of["b"].acts] == ["food"]
    tls = [timeline_of["a"], timeline_of["b"]]
    plan = finish_day(problem, day, [t.crew for t in tls], tls, FAST, None, started=0.0)
    check_plan(problem, plan)
    assert plan.route("b").task_ids == ["food"]
    assert not plan.dropped


def test_by_district_hands_over_and_reasons_are_checked_city_wide() -> None:
    """Two towns; the west has more food work than its food-knowing volunteers can do, the
    east has idle food-knowing volunteers after its own work. Nothing is left out that any
    volunteer of the city could do, and a task no one can reach in time says so for all."""
    xs = np.array([0.0, 6000.0, *np.linspace(-800, 800, 12), 6200.0, 60000.0])
    lunch = Lunch(TimeWindow(parse_hhmm("11:30"), parse_hhmm("13:30")), 2700, (0, 1))
    west = [vol(f"w{k}", 0, {T}, lunch=lunch, max_tasks=4) for k in range(3)]
    east = [vol(f"e{k}", 1, {F}, lunch=lunch, max_tasks=4) for k in range(3)]
    point_of = {v.id: "P0" for v in west} | {v.id: "P1" for v in east}
    tasks = [visit(f"t{j:02d}", 2 + j, F if j % 3 == 0 else T) for j in range(12)]
    tasks.append(visit("east", 14, F))
    # 60 km away at 4 m/s: 4 h 10 min each way, inside a 10 h shift only without work.
    tasks.append(
        visit("far", 15, F, windows=(TimeWindow(parse_hhmm("09:00"), parse_hhmm("10:00")),))
    )
    problem = DayProblem(tasks, [*west, *east], line_matrices(xs))
    opts = SolveOptions(iterations=200, no_improvement=100, seed=2, district_volunteers=3)
    plan = solve_by_district(problem, point_of, {"P0": 0, "P1": 1}, options=opts)
    check_plan(problem, plan)
    planned = plan.planned_task_ids
    assert {f"t{j:02d}" for j in range(12)} | {"east"} <= planned
    (far,) = plan.dropped
    assert far.task_id == "far"
    assert "of 3 volunteers who know `food`" in far.reason  # all of the city's, not a district's
    assert "room" not in far.reason
    again = solve_by_district(problem, point_of, {"P0": 0, "P1": 1}, options=opts)
    assert again.to_dict() == plan.to_dict()


def test_districts_searched_in_parallel_give_the_serial_plan(tmp_path, monkeypatch) -> None:
    """Four districts searched by two processes (this one and a forked worker) give the
    plan of the searches one after the other, byte for byte; the worker really worked."""
    xs = np.array([0.0, 3000.0, 6000.0, 9000.0, *np.linspace(-500, 9500, 24)])
    lunch = Lunch(TimeWindow(parse_hhmm("11:30"), parse_hhmm("13:30")), 2700, (0, 1, 2, 3))
    vols = [
        vol(f"v{p}{k}", p, {F, T}, lunch=lunch, max_tasks=4) for p in range(4) for k in range(2)
    ]
    point_of = {v.id: f"P{v.start_node}" for v in vols}
    tasks = [visit(f"t{j:02d}", 4 + j, F if j % 2 else T) for j in range(24)]
    problem = DayProblem(tasks, vols, line_matrices(xs))
    nodes = {f"P{p}": p for p in range(4)}
    search = districts._search_district

    def traced(jobs, k):
        (tmp_path / f"{k}.pid").write_text(str(os.getpid()))
        return search(jobs, k)

    monkeypatch.setattr(districts, "_search_district", traced)
    base = SolveOptions(iterations=200, no_improvement=100, seed=4, district_volunteers=2)
    runs = {}
    for workers in (2, 1):
        opts = dataclasses.replace(base, workers=workers)
        runs[workers] = solve_by_district(problem, point_of, nodes, options=opts)
        pids = {p.read_text() for p in tmp_path.glob("*.pid")}
        assert len(list(tmp_path.glob("*.pid"))) == 4  # four districts
        assert (len(pids) == 2) == (workers == 2)
        for p in tmp_path.glob("*.pid"):
            p.unlink()
    check_plan(problem, runs[2])
    assert runs[2].notes[0].startswith("planned in 4 districts")
    assert plan_json(runs[2]) == plan_json(runs[1])


@pytest.mark.parametrize("workers", [0, -1, 1.5, "2", True])
def test_workers_must_be_a_whole_number(workers) -> None:
    with pytest.raises(ValueError, match="`workers` must be a whole number >= 1"):
        SolveOptions(workers=workers)
