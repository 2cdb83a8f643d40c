"""City-level day routes on a small generated town: tasks, constraints, re-planning, files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from _routes_checker import check_plan

from geo import Industry, InputError
from geo.democity import build_demo_city
from maps.sheets import write_sheets
from planner.city import load_city
from planner.daily.record import load_plan
from planner.daily.run import (
    DayParams,
    day_tasks,
    parse_date,
    plan_city_day,
    routes_dir,
    routes_for_day,
    write_routes,
)
from planner.daily.select import (
    MAX_CYCLE_DAYS,
    Claimant,
    claim_visits,
    days_since_visit,
    service_seconds,
)
from planner.daily.state import load_state, parse_state, state_to_dict
from planner.daily.vrp import (
    DayState,
    Escort,
    SolveOptions,
    StopKind,
    TimeWindow,
    Visit,
    solve_day,
)
from planner.daily.vrp.partition import plan_districts
from planner.daily.vrp.solve import prepare_day
from planner.errors import InfeasibleError
from planner.points.plan import make_plan

DATE = "2025-06-02"
FAST = SolveOptions(iterations=400, no_improvement=200, seed=3)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    folder = build_demo_city(tmp_path_factory.mktemp("day") / "town", seed=7, scale=0.06)
    return load_city(folder)


@pytest.fixture(scope="module")
def plan(city):
    params = dataclasses.replace(city.scenario.planning, n_points=4, time_limit_s=5.0)
    return make_plan(city, params)


@dataclass(frozen=True)
class Booked:
    """An escorted interview as the registration loop books it (planner.loop.BookedEscort)."""

    interview_id: int
    service_point_id: str | None
    employer_id: str
    industry: str
    interview_s: int
    group_size: int


def booked_escorts(city, plan, n: int) -> list[Booked]:
    """`n` interviews at employers near open points, of an industry the point serves."""
    points = plan.service_points().to_crs("EPSG:4326").reset_index(drop=True)
    emps = city.layer("employers").to_crs("EPSG:4326").reset_index(drop=True)
    out = []
    for k in range(n):
        pt = points.iloc[k % len(points)]
        serves = set(str(pt["industries"]).split(";"))
        ok = emps[emps["industry"].astype(str).isin(serves)]
        d = (ok.geometry.x - pt.geometry.x) ** 2 + (ok.geometry.y - pt.geometry.y) ** 2
        emp = ok.loc[d.sort_values().index[k // len(points)]]
        # Within the employer's hours, as the loop books interviews.
        opens, closes = (TimeWindow.parse(emp["opens"], emp["closes"]).start_s,
                         TimeWindow.parse(emp["opens"], emp["closes"]).end_s)  # fmt: skip
        at = min(max((10 + k % 5) * 3600, opens + 3600), closes - 1800)
        out.append(
            Booked(100 + k, str(pt["id"]), str(emp["id"]), str(emp["industry"]), at, 1 + k % 3)
        )
    return out


@pytest.fixture(scope="module")
def booked(city, plan):
    return booked_escorts(city, plan, round(0.6 * len(city.layer("volunteers"))))


@pytest.fixture(scope="module")
def day(city, plan, booked):
    return day_tasks(city, plan, DATE, escorts=booked)


@pytest.fixture(scope="module")
def routed(city, plan, booked):
    run = plan_city_day(city, plan, DATE, options=FAST, escorts=booked)
    return run.plan, run.problem


# -- tasks -------------------------------------------------------------------------------


def test_tasks_are_deterministic_for_a_date(city, plan, day, booked):
    again = day_tasks(city, plan, dt.date(2025, 6, 2), escorts=booked)
    assert again.tasks == day.tasks
    assert again.volunteers == day.volunteers
    assert again.locations.equals(day.locations)
    other = day_tasks(city, plan, "2025-06-03")
    assert [t.id for t in other.tasks] != [t.id for t in day.tasks] or [
        t.priority for t in other.tasks
    ] != [t.priority for t in day.tasks]


def test_tasks_have_both_kinds_and_valid_places(day, city, booked):
    visits = [t for t in day.tasks if isinstance(t, Visit)]
    escorts = [t for t in day.tasks if isinstance(t, Escort)]
    assert len(visits) >= 3 * len(day.volunteers)
    # Every escort serves a booked interview and names it (id and label).
    assert sorted(e.id for e in escorts) == sorted(
        f"escort:interview-{b.interview_id}" for b in booked
    )
    by_id = {f"escort:interview-{b.interview_id}": b for b in booked}
    for e in escorts:
        b = by_id[e.id]
        assert f"#{b.interview_id}" in e.label and e.interview_s == b.interview_s
        assert e.seekers == b.group_size and e.industry == b.industry
    kinds = day.locations["kind"].to_numpy()
    employers = city.layer("employers").set_index("id")
    for v in visits:
        assert kinds[v.node] == "employer"
        emp = employers.loc[v.id.removeprefix("visit:")]
        assert v.windows == (TimeWindow.parse(emp["opens"], emp["closes"]),)
        assert v.industry == Industry(emp["industry"])
        assert 15 * 60 <= v.service_s <= 25 * 60
    for e in escorts:
        # Escorts start at a service point: no seeker's home is ever a node.
        assert kinds[e.pickup_node] == "point"
        assert kinds[e.delivery_node] == "employer"
        assert 1 <= e.seekers <= 3 and e.ready_s < e.interview_s
    assert set(kinds) == {"home", "point", "employer"}
    assert "seeker" not in " ".join(day.locations["key"])


@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_claims_pick_top_priorities_in_reach(seed, n_claimants):
    rng = np.random.default_rng(seed)
    n = 30
    industry = rng.choice(["textile", "food"], n)
    priority = np.round(rng.uniform(1, 10, n), 1)
    opens = rng.choice([7, 8, 9], n) * 3600
    closes = opens + rng.choice([1, 8], n) * 3600
    service = np.full(n, 1200)
    claimants = [
        Claimant(
            industries=frozenset({Industry(rng.choice(["textile", "food"]))}),
            quota=int(rng.integers(0, 8)),
            reach_row=rng.uniform(0, 2000, n),
            shift=(8 * 3600, 17 * 3600),
        )
        for _ in range(n_claimants)
    ]
    kw = dict(industry=industry, priority=priority, opens_s=opens, closes_s=closes)
    chosen = claim_visits(claimants, service_s=service, reach_s=1000, **kw)

    def eligible(c):
        overlap = np.minimum(closes, c.shift[1]) - np.maximum(opens, c.shift[0])
        inds = [i.value for i in c.industries]
        return np.isin(industry, inds) & (overlap >= service) & (c.reach_row <= 1000)

    assert len(set(chosen.tolist())) == chosen.size <= sum(c.quota for c in claimants)
    union = np.logical_or.reduce([eligible(c) for c in claimants])
    assert union[chosen].all()
    for c in claimants:  # nobody is short of tasks while an eligible employer is left over
        left = eligible(c) & ~np.isin(np.arange(n), chosen)
        mine = np.isin(chosen, np.flatnonzero(eligible(c))).sum()
        assert not left.any() or mine >= c.quota
    if n_claimants == 1:  # brute force: the top `quota` eligible by priority
        c = claimants[0]
        idx = np.flatnonzero(eligible(c))
        top = idx[np.lexsort((idx, -priority[idx]))][: c.quota]
        assert sorted(top.tolist()) == chosen.tolist()


def test_reach_is_a_cost_not_a_wall():
    """A claimant with nothing in reach claims farther employers, nearer first at equal
    priority, and nothing beyond the farthest reach."""
    n = 6
    industry = np.array(["food"] * n)
    priority = np.array([5.0, 5.0, 5.0, 9.0, 5.0, 5.0])
    reach = np.array([1500.0, 2400.0, 1900.0, 4000.0, 900.0, np.inf])
    day = np.full(n, 8 * 3600), np.full(n, 17 * 3600), np.full(n, 1200)
    c = Claimant(frozenset({Industry.FOOD}), 3, reach, (8 * 3600, 17 * 3600))
    kw = dict(industry=industry, priority=priority, opens_s=day[0], closes_s=day[1])
    walled = claim_visits([c], service_s=day[2], reach_s=1000, **kw)
    assert walled.tolist() == [4]  # the old wall: one task, two thirds of the day at home
    costly = claim_visits(
        [c], service_s=day[2], reach_s=1000, reach_cost_s=600, max_reach_s=3600, **kw
    )
    # values: 5-0.83, 5-2.33, 5-1.5, (beyond 3600 s), 5, (no route)
    assert costly.tolist() == [0, 2, 4]


def test_volunteers_start_at_home_with_lunch_at_point_or_home(day, city):
    vols = city.layer("volunteers")
    for v, row in zip(day.volunteers, vols.itertuples(), strict=True):
        assert day.locations["key"].iat[v.start_node] == f"home:{v.id}"
        assert v.end_node == v.start_node and v.max_tasks == 10
        assert v.shift == TimeWindow.parse(row.available_from, row.available_to)
        if v.lunch is not None:
            assert v.lunch.duration_s == 45 * 60
            assert v.lunch.window.start_s >= 11.5 * 3600 and v.lunch.window.end_s <= 13.5 * 3600
            point = day.locations["key"].iat[v.lunch.places[0]]
            assert point == f"point:{day.point_of[v.id]}"
        else:  # short shifts that do not cover 45 min of 11:30-13:30
            first_work = v.shift.start_s + 3600  # a shift starts with an hour of work
            overlap = min(v.shift.end_s, 13.5 * 3600) - max(first_work, 11.5 * 3600)
            assert overlap < 45 * 60


def test_start_at_point(city, plan):
    d = day_tasks(city, plan, DATE, params=DayParams(start_at="point"))
    for v in d.volunteers:
        assert d.locations["key"].iat[v.start_node] == f"point:{d.point_of[v.id]}"


@given(st.text(min_size=1, max_size=12), st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)))
def test_days_since_visit_grows_daily_and_wraps(employer_id, date):
    d0 = days_since_visit(employer_id, date)
    d1 = days_since_visit(employer_id, date + dt.timedelta(days=1))
    assert 0 <= d0 < MAX_CYCLE_DAYS
    assert d1 == d0 + 1 or d1 == 0


def test_service_time_grows_with_size():
    s = service_seconds(np.array([1, 4, 20, 200, 5000]))
    assert (np.diff(s) >= 0).all() and s[0] >= 15 * 60 and s[-1] == 25 * 60
    assert (s % 60 == 0).all()


# -- routes ------------------------------------------------------------------------------


def test_every_constraint_holds_and_drops_have_reasons(routed):
    day_plan, problem = routed
    check_plan(problem, day_plan)
    assert day_plan.planned_task_ids
    assert all(d.reason for d in day_plan.dropped)
    assert any(n.startswith("search stopped by") for n in day_plan.notes)
    assert not any("timings" in n for n in day_plan.notes)  # plan.json holds no timings


def _metric(lonlat, crs):
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def test_route_geometry_follows_the_streets(routed, city):
    day_plan, problem = routed
    net = city.network
    streets = shapely.linestrings(
        np.stack(
            [
                np.column_stack([net.x[net.edge_u], net.y[net.edge_u]]),
                np.column_stack([net.x[net.edge_v], net.y[net.edge_v]]),
            ],
            axis=1,
        )
    )
    if net.edge_geometry is not None:
        has = np.array([g is not None for g in net.edge_geometry])
        streets[has] = net.edge_geometry[has]
    tree = shapely.STRtree(streets)
    stops_xy = _metric(np.asarray(problem.matrices.coords), net.crs)
    checked = 0
    for r in day_plan.routes:
        if r.is_empty:
            continue
        xy = _metric(np.asarray(r.geometry), net.crs)
        _, dist = tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
        # Off-street vertices may only be the stops themselves (the short access legs).
        off = dist > 0.5
        if off.any():
            d_stop = np.min(np.hypot(*(xy[off][:, None, :] - stops_xy[None]).transpose(2, 0, 1)), 1)
            assert (d_stop < 0.5).all(), f"{r.volunteer_id}: vertex off the streets"
        # The line is as long as the planned travel (both from the engine's fastest paths).
        length = float(shapely.length(shapely.linestrings(xy)))
        assert length == pytest.approx(r.distance_m, rel=0.02, abs=5.0)
        checked += 1
    assert checked


def test_replan_with_done_absent_and_now(city, plan, routed, booked):
    first, _ = routed
    busy = [r for r in first.routes if not r.is_empty]
    gone = busy[0].volunteer_id
    done = sorted({t for r in busy[1:] for t in r.task_ids[:2]})
    run = plan_city_day(
        city, plan, DATE, options=FAST, done=done, absent=[gone], now="11:00", escorts=booked
    )
    day_plan, problem = run.plan, run.problem
    state = DayState(now_s=11 * 3600, done=frozenset(done), absent=frozenset([gone]))
    check_plan(problem, day_plan, state)
    assert not day_plan.route(gone).stops and "absent" in day_plan.route(gone).reason
    assert not set(done) & day_plan.planned_task_ids
    for r in day_plan.routes:
        assert all(s.departure_s >= 11 * 3600 for s in r.stops)
    # Tasks (and their ids) do not change when re-planning.
    assert [t.id for t in problem.tasks] == [t.id for t in routed[1].tasks]


def test_replan_from_a_position_carrying_a_group(city, plan, day, booked, routed):
    durations = routed[1].matrices.durations
    esc, vol = next(
        (t, v)
        for t in day.tasks
        if isinstance(t, Escort)
        for v in day.volunteers
        if t.industry in v.industries
        and v.shift.start_s <= t.ready_s
        and t.interview_s + 3600 <= v.shift.end_s
        and durations[v.mode][t.pickup_node, t.delivery_node] < (t.interview_s - t.ready_s) / 2
    )
    point = day.locations["ref"].iat[esc.pickup_node]
    state = DayState(
        now_s=max(esc.ready_s, vol.shift.start_s),
        positions={vol.id: point},
        carrying={vol.id: (esc.id,)},
    )
    day_plan = plan_city_day(city, plan, DATE, options=FAST, state=state, escorts=booked).plan
    r = day_plan.route(vol.id)
    assert r.stops[0].node == esc.pickup_node
    assert esc.id in r.task_ids or esc.id in {d.task_id for d in day_plan.dropped}


def test_unknown_ids_in_state_are_listed(city, plan):
    with pytest.raises(InputError) as err:
        plan_city_day(
            city,
            plan,
            DATE,
            options=FAST,
            state=DayState(done=frozenset({"visit:nope"}), positions={"V001": "nowhere"}),
            absent=["V999"],
        )
    text = str(err.value)
    assert "visit:nope" in text and "V999" in text and "nowhere" in text


def test_a_task_nobody_can_do_is_dropped_with_a_reason_or_raises(routed):
    _, problem = routed
    known = {i for v in problem.volunteers for i in v.industries}
    unknown = next(i for i in Industry if i not in known)
    node = next(t.node for t in problem.tasks if isinstance(t, Visit))
    odd = Visit("visit:odd", node, unknown, 600, (TimeWindow(8 * 3600, 17 * 3600),))
    extra = dataclasses.replace(problem, tasks=(*problem.tasks, odd))
    out = solve_day(extra, options=FAST)
    reason = {d.task_id: d.reason for d in out.dropped}["visit:odd"]
    assert unknown.value in reason
    required = dataclasses.replace(odd, required=True)
    with pytest.raises(InfeasibleError, match="visit:odd"):
        solve_day(dataclasses.replace(problem, tasks=(*problem.tasks, required)))


# -- files and state -----------------------------------------------------------------------


def test_write_routes_files_and_pages(routed, tmp_path):
    day_plan, _problem = routed
    paths = write_routes(day_plan, tmp_path / "r")
    for key in ("json", "records", "geojson", "gpx"):
        assert paths[key].is_file()
    assert not list((tmp_path / "r").rglob("*.html"))  # the planner writes data only
    paths.update(write_sheets(load_plan(paths["json"]), tmp_path / "r", title="Town 2025-06-02"))
    busy = {r.volunteer_id for r in day_plan.routes if not r.is_empty}
    page = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in page and "http" not in page.split("</head>")[1]
    geo = json.loads(paths["geojson"].read_text())
    lines = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == len(busy)


def test_routes_for_day_writes_dated_folder_with_state(city, plan, tmp_path):
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps({"now": "12:00", "absent": ["V001"]}))
    run = routes_for_day(
        city, plan, DATE, out_root=tmp_path / "out", state_file=state_file, options=FAST
    )
    out = routes_dir(tmp_path / "out", city.scenario.name, DATE)
    assert out == tmp_path / "out" / city.scenario.name / "routes" / DATE
    assert run.paths["json"].parent == out
    assert json.loads(run.paths["state"].read_text()) == {"now": "12:00", "absent": ["V001"]}
    assert {"matrices_s", "solver_s", "geometry_s"} <= set(run.timings)
    assert not run.plan.route("V001").stops and "absent" in run.plan.route("V001").reason
    meta = json.loads(run.paths["run"].read_text())  # timings live here, not in plan.json
    assert meta["seed"] == FAST.seed and "solver_s" in meta["timings_s"]
    assert "solve_seconds" not in run.paths["json"].read_text()


# -- a fair, explainable, reproducible day ------------------------------------------------


def test_same_input_and_seed_give_the_same_plan_json(city, plan, routed, booked, tmp_path):
    again = plan_city_day(city, plan, DATE, options=FAST, escorts=booked).plan
    a = write_routes(routed[0], tmp_path / "a")["json"].read_bytes()
    b = write_routes(again, tmp_path / "b")["json"].read_bytes()
    assert a == b


def test_no_task_left_out_while_a_volunteer_who_can_take_it_has_room(routed):
    day_plan, problem = routed
    # Independent check: a left-out visit, and an idle volunteer who knows its industry,
    # reaches it inside its hours and is back before the shift ends, would be a broken rule.
    tasks = {t.id: t for t in problem.tasks}
    for d in day_plan.dropped:
        t = tasks[d.task_id]
        assert "left out" in d.reason or "no volunteer" in d.reason
        assert "with room for it" not in d.reason
        if not isinstance(t, Visit):
            continue
        for v in problem.volunteers:
            r = day_plan.route(v.id)
            if not r.is_empty or not r.stops or t.industry not in v.industries:
                continue
            dur = problem.matrices.durations[v.mode]
            w = t.windows[0]
            arrive = max(r.stops[0].departure_s + dur[v.start_node, t.node], w.start_s)
            fits = arrive + t.service_s <= w.end_s
            back = arrive + t.service_s + dur[t.node, v.end_node] <= v.shift.end_s
            lunch_ok = v.lunch is None or (v.lunch.window.end_s - v.lunch.window.start_s) >= (
                v.lunch.duration_s + t.service_s + 2 * dur[v.start_node, t.node]
            )
            assert not (fits and back and lunch_ok), f"{t.id} left out while {v.id} is idle"


def test_every_volunteer_has_a_route_or_a_reason_and_a_report(routed):
    day_plan, problem = routed
    assert [r.volunteer_id for r in day_plan.routes] == [v.id for v in problem.volunteers]
    for r in day_plan.routes:
        assert not r.is_empty or r.reason
        d = r.to_dict()
        assert {"tasks", "working_s", "travel_s", "idle_s", "waiting_s"} <= set(d)
        hours = r.shift_end_s - r.shift_start_s
        assert (
            d["working_s"] + d["travel_s"] + d["idle_s"] + r.lunch_s == pytest.approx(hours, abs=1)
            or d["idle_s"] == 0
        )
    fig = day_plan.summary()
    assert fig["with_tasks"] + fig["without_tasks"] == len(problem.volunteers)
    assert 0 < fig["utilisation"] <= 1


def test_days_start_with_work_and_lunch_stays_in_its_window(routed):
    day_plan, problem = routed
    vols = {v.id: v for v in problem.volunteers}
    for r in day_plan.routes:
        if r.is_empty:
            continue
        assert r.stops[1].kind is not StopKind.LUNCH, r.volunteer_id
        v = vols[r.volunteer_id]
        for s in r.stops:
            if s.kind is StopKind.LUNCH:
                assert v.lunch is not None
                assert v.lunch.window.start_s <= s.start_s
                assert s.departure_s <= v.lunch.window.end_s
                assert s.start_s >= v.shift.start_s + 3600  # an hour of work first


def test_state_round_trip(tmp_path):
    data = {
        "now": "13:10",
        "done": ["visit:E1"],
        "absent": ["V2"],
        "lunch_taken": ["V1"],
        "positions": {"V3": "E1"},
        "carrying": {"V3": ["escort:x"]},
    }
    p = tmp_path / "s.json"
    p.write_text(json.dumps(data))
    state = load_state(p)
    assert state.now_s == 13 * 3600 + 600
    assert state_to_dict(state) == data
    assert parse_state({}).is_empty


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"now": "25:00"},
        {"now": 1300},
        {"done": "visit:E1"},
        {"absent": [1]},
        {"positions": ["V1"]},
        {"carrying": {"V1": "escort:x"}},
        {"later": True},
    ],
)
def test_malformed_state_is_rejected(data):
    with pytest.raises(InputError):
        parse_state(data)


def test_unreadable_state_file(tmp_path):
    p = tmp_path / "s.json"
    p.write_text("{not json")
    with pytest.raises(InputError, match="cannot read"):
        load_state(p)


@pytest.mark.parametrize("date", ["2025-13-01", "June 2", "", "2025/06/02"])
def test_bad_date(date):
    with pytest.raises(InputError, match="date"):
        parse_date(date)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"visits_per_volunteer": -1},
        {"reach_min": 0},
        {"max_group": 5, "seats": 4},
        {"start_at": "office"},
        {"lunch_window": ("13:00", "12:00")},
        {"max_walk_leg_min": 0},
    ],
)
def test_bad_params(kwargs):
    with pytest.raises(InputError):
        DayParams(**kwargs)


def test_balance_caps_tasks_per_volunteer(day):
    import math

    from planner.daily.run import DayParams
    from planner.daily.vrp import Visit

    params = DayParams()
    visits = sum(isinstance(t, Visit) for t in day.tasks)
    cap = min(params.max_tasks, max(1, math.ceil(params.balance * visits / len(day.volunteers))))
    assert {v.max_tasks for v in day.volunteers} == {cap}
    with pytest.raises(ValueError, match="`balance`"):
        DayParams(balance=-1.0)


def test_bookings_off_the_plan_are_left_out_with_a_note(city, plan, booked):
    stray = [
        Booked(900, "no-such-point", booked[0].employer_id, booked[0].industry, 36000, 1),
        Booked(901, booked[0].service_point_id, "no-such-employer", booked[0].industry, 36000, 1),
        Booked(902, booked[0].service_point_id, booked[0].employer_id, booked[0].industry,
               36000, 7),
    ]  # fmt: skip
    got = day_tasks(city, plan, DATE, escorts=stray)
    escorts = [t for t in got.tasks if isinstance(t, Escort)]
    assert any("interview 900" in n and "not open" in n for n in got.notes)
    assert any("interview 901" in n and "unknown" in n for n in got.notes)
    # A group of 7 goes as 3 + 3 + 1 (max_group 3), every part naming interview 902.
    assert sorted(e.seekers for e in escorts) == [1, 3, 3]
    assert all(e.id.startswith("escort:interview-902") for e in escorts)


# -- by district --------------------------------------------------------------------------


def test_by_district_holds_every_constraint_and_is_reproducible(city, plan, day, booked, tmp_path):
    opts = dataclasses.replace(FAST, districts_above=0, district_volunteers=2, workers=2)
    first = plan_city_day(city, plan, DATE, options=opts, escorts=booked)
    check_plan(first.problem, first.plan)  # the independent checker, on the whole problem
    assert first.plan.notes[0].startswith("planned in ")
    assert "districts of about 2 volunteers" in first.plan.notes[0]
    assert any(n.startswith("hand-over: ") for n in first.plan.notes)
    assert [r.volunteer_id for r in first.plan.routes] == [v.id for v in day.volunteers]
    planned = [t for r in first.plan.routes for t in set(r.task_ids)]
    dropped = [d.task_id for d in first.plan.dropped]
    assert sorted(planned + dropped) == sorted(t.id for t in day.tasks)  # each task once
    # Reasons are checked city-wide: none says a volunteer had room for it.
    assert not any("with room for it" in d.reason for d in first.plan.dropped)
    assert not any("district" in d.reason for d in first.plan.dropped)
    n_districts = int(first.plan.notes[0].split()[2])
    assert 2 <= n_districts <= len(set(day.point_of.values()))  # so two processes searched
    # The districts searched in two processes and one after the other: the same plan.json.
    serial = dataclasses.replace(opts, workers=1)
    again = plan_city_day(city, plan, DATE, options=serial, escorts=booked)
    a = write_routes(first.plan, tmp_path / "parallel")["json"].read_bytes()
    b = write_routes(again.plan, tmp_path / "serial")["json"].read_bytes()
    assert a == b


def test_districts_hold_every_volunteer_and_task_once(day, routed):
    _, problem = routed
    keys = day.locations["key"].astype(str)
    node = {k[len("point:") :]: i for i, k in enumerate(keys) if k.startswith("point:")}
    prepared = prepare_day(problem, None)
    for target in (1, 3, len(day.volunteers)):
        parts = plan_districts(
            problem, prepared.crews, prepared.modelled, day.point_of, node,
            target_volunteers=target, leg_s=600,
        )  # fmt: skip
        n_points = len(set(day.point_of.values()))
        assert len(parts) == max(1, min(n_points, round(len(prepared.crews) / target)))
        assert sorted(p for g in parts.points for p in g) == sorted(set(day.point_of.values()))
        assert sorted(v for g in parts.volunteers for v in g) == sorted(
            v.id for v in day.volunteers
        )
        assert sorted(t for g in parts.tasks for t in g) == sorted(t.id for t in prepared.modelled)
        again = plan_districts(
            problem, prepared.crews, prepared.modelled, day.point_of, node,
            target_volunteers=target, leg_s=600,
        )  # fmt: skip
        assert again == parts
