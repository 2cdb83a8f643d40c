"""The city plan on a small generated city: constraints, conservation, privacy, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyogrio
import pytest

from geo.democity import build_demo_city
from planner.city import load_city
from planner.errors import InfeasibleError
from planner.points import tradeoff
from planner.points.plan import make_plan, siting_rows, write_plan

SCALE = 0.06


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    folder = build_demo_city(tmp_path_factory.mktemp("town") / "town", seed=7, scale=SCALE)
    return load_city(folder)


@pytest.fixture(scope="module")
def plan(city):
    params = dataclasses.replace(city.scenario.planning, n_points=4, time_limit_s=5.0)
    return make_plan(city, params)


def test_capacities_hold_and_every_visit_is_accounted_for(plan):
    pts = plan.service_points()
    assert pts["is_market"].sum() == 1
    assert (pts["status"] == "candidate").sum() <= 4  # n_points new points at most
    new = pts[~pts["is_market"]]
    assert (new["load"] <= new["capacity"] + 1e-6).all()
    w = plan.demand.groups["weight"].to_numpy()
    served = plan.assignment.flows["visits"].sum() + plan.assignment.unassigned.sum()
    assert served == pytest.approx(w.sum())
    assert plan.summary["before"]["market_load"] == pytest.approx(w.sum(), abs=0.1)


def test_points_serve_only_matching_industries(plan):
    flows = plan.assignment.flows
    groups = plan.demand.groups
    for g, f in zip(flows["group"], flows["facility"], strict=True):
        if f == plan.market:
            continue
        assert set(groups["industries"].iat[g].split(";")) & plan.industries[f]


def test_unserved_demand_has_reasons(plan):
    flows = plan.assignment.flows
    at_points = flows[flows["facility"] != plan.market]
    w = plan.demand.groups["weight"].to_numpy()
    got = np.bincount(at_points["group"], weights=at_points["visits"], minlength=w.size)
    short = got < w - 1e-6
    assert (plan.assignment.reason[short] != "").all()


def test_market_crowd_falls(plan):
    before, after = plan.summary["before"], plan.summary["after"]
    assert after["market_load"] < before["market_load"]
    assert 0.0 <= after["seeker_share_still_at_market"] <= 1.0
    for mode, fig in after["travel_time_by_mode"].items():
        assert fig["p50_min"] <= before["travel_time_by_mode"][mode]["p50_min"] + 1e-9


def test_outputs_expose_no_seeker_location(plan, city, tmp_path):
    paths = write_plan(plan, city, tmp_path)
    assert (tmp_path / "tradeoff.json").is_file()
    layers = dict(pyogrio.list_layers(paths[0]))
    assert set(layers) == {
        "service_points",
        "belts",
        "assignment_cells",
        "catchments",
        "seeker_cells",
    }
    assert layers["service_points"] == "Point"
    for name in ("assignment_cells", "catchments", "seeker_cells"):
        assert "Polygon" in layers[name]
    cells = pyogrio.read_dataframe(paths[0], layer="seeker_cells")
    assert (cells["count"] >= 5).all()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"n_points": 10_000}, "`n_points` = 10000 but there are only"),
        (
            {"model": "capacitated", "employer_visit_rate": 100.0, "n_points": 1},
            r"visits/day, but 1 new sites can hold at most .*: open at least \d+ new sites",
        ),
    ],
)
def test_infeasible_settings_raise(city, change, match):
    params = dataclasses.replace(city.scenario.planning, **change)
    with pytest.raises(InfeasibleError, match=match):
        make_plan(city, params)


@pytest.mark.parametrize("model", ["pmedian", "coverage", "min_points"])
def test_other_models_run_and_hold_constraints(city, model):
    params = dataclasses.replace(city.scenario.planning, model=model, n_points=3, time_limit_s=3.0)
    plan = make_plan(city, params)
    pts = plan.service_points()
    new = pts[~pts["is_market"]]
    assert (new["load"] <= new["capacity"] + 1e-6).all()
    assert (pts["mean_wait_min"] <= params.target_wait_min + 1e-9).all()
    if model != "min_points":
        assert (new["status"] == "candidate").sum() <= 3


def test_trip_overhead_of_each_mode_is_included(plan):
    from geo.modes import TRIP_OVERHEAD_S, TravelMode

    groups = plan.demand.groups
    for mode in ("bus", "car"):
        rows = ((groups["kind"] == "seeker") & (groups["mode"] == mode)).to_numpy()
        t = plan.demand.time_s[rows]
        assert (t[np.isfinite(t)] >= TRIP_OVERHEAD_S[TravelMode(mode)]).all()


def test_every_open_point_is_safe_at_the_peak_hour(plan, city):
    """Finite peak-hour waits within the target, loads within staffed capacity, staff
    within the pool, existing stations open, excluded sites closed."""
    target = plan.params.target_wait_min
    points = plan.summary["after"]["points"]
    for p in points:
        assert p["mean_wait_min"] is not None and np.isfinite(p["mean_wait_min"])
        assert p["mean_wait_min"] <= target + 1e-9
        assert p["load"] <= p["capacity"] + 0.05  # both rounded to 0.1
        assert p["p95_on_site"] <= p["max_on_site"]
        assert 1 <= p["staff"] <= p["max_staff"]
    staffing = plan.summary["staffing"]
    assert staffing["staff_used"] <= staffing["pool"]
    assert sum(p["staff"] for p in points if not p["is_market"]) == staffing["staff_used"]
    status = plan.facilities["status"].to_numpy()
    assert plan.open_mask[status == "existing"].all()
    assert not plan.open_mask[status == "excluded"].any()


def test_unserved_visits_are_listed_with_reasons(city):
    """With a tiny pool most demand cannot be served safely: it is reported, never queued."""
    params = dataclasses.replace(city.scenario.planning, n_points=4, time_limit_s=3.0)
    small = dataclasses.replace(city.scenario.staffing, pool=len(_existing(city)) + 1,
                                desk_volunteers=0, market_staff=1)  # fmt: skip
    scenario = dataclasses.replace(city.scenario, staffing=small)
    plan = make_plan(dataclasses.replace(city, scenario=scenario), params)
    unserved = plan.summary["after"]["unserved"]
    assert unserved["visits"] > 0
    assert sum(unserved["by_reason"].values()) == pytest.approx(unserved["visits"], abs=0.5)
    assert set(unserved["by_reason"]) <= {
        "not enough staff in the pool",
        "no site within reach",
        "sites within reach at their safe limit",
    }
    for p in plan.summary["after"]["points"]:
        assert p["mean_wait_min"] <= params.target_wait_min + 1e-9


def test_tradeoff_curve_covers_the_counts(plan):
    rows = plan.tradeoff["points"]
    assert rows and all(
        r["worst_mean_wait_min"] <= plan.params.target_wait_min + 1e-6 for r in rows
    )
    assert all(r["staff_used"] <= plan.tradeoff["pool"] for r in rows)
    objectives = [r["objective"] for r in rows]
    assert objectives == sorted(objectives, reverse=True)  # more points allowed never hurts


def _existing(city):
    sites = city.layer("candidate_sites")
    return sites[sites["status"] == "existing"]


def test_tradeoff_budget_skips_counts_and_says_so(plan, city, monkeypatch):
    monkeypatch.setattr(tradeoff, "CURVE_BUDGET_S", 0.0)
    cost, weights, row = siting_rows(plan.demand)
    curve = tradeoff.tradeoff_curve(
        cost, weights, plan.demand, row, plan.facilities, plan.market, plan.params, plan.peak,
        city.scenario.staffing,
    )  # fmt: skip
    assert curve["points"] == []
    assert curve["skipped_counts"]
    assert "skipped: the time budget ran out" in curve["note"]
    # The plan's own count is never skipped when its siting is handed over: it is reused.
    staffing = dataclasses.replace(city.scenario.staffing, tradeoff_points=(2, 4))
    assert plan.params.n_points == 4
    reused = tradeoff.tradeoff_curve(
        cost, weights, plan.demand, row, plan.facilities, plan.market, plan.params, plan.peak,
        staffing, plan=plan.staffing,
    )  # fmt: skip
    assert reused["skipped_counts"] == [2]
    assert [r["new_points"] for r in reused["points"]] == [4]
    assert reused["points"][0]["objective"] == plan.staffing.objective
    assert "not run again" in reused["note"]


@pytest.mark.parametrize(
    ("configured", "n_points", "most", "counts", "factor"),
    [
        ((10, 20, 40, 80), 40, 400, [10, 20, 40, 80], 1.0),
        ((10, 20, 40, 80), 200, 400, [25, 50, 100, 200], 2.5),
        ((10, 20, 40, 80), 200, 120, [25, 50, 100], 2.5),
        ((), 40, 400, [], 1.0),
    ],
)
def test_curve_counts_stretch_to_the_plan(configured, n_points, most, counts, factor):
    assert tradeoff.curve_counts(configured, n_points, most) == (counts, factor)
