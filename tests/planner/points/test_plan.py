"""The city plan on a small generated city: constraints, conservation, privacy, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyogrio
import pytest

from geo.democity import build_demo_city
from planner.city import load_city
from planner.errors import InfeasibleError
from planner.points.plan import make_plan, write_plan

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
    assert len(pts) == 5 and pts["is_market"].sum() == 1
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
        ({"model": "capacitated", "employer_visit_rate": 100.0, "n_points": 1}, "capacity"),
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
    if model != "min_points":
        assert len(new) == 3


def test_trip_overhead_of_each_mode_is_included(plan):
    from geo.modes import TRIP_OVERHEAD_S, TravelMode

    groups = plan.demand.groups
    for mode in ("bus", "car"):
        rows = ((groups["kind"] == "seeker") & (groups["mode"] == mode)).to_numpy()
        t = plan.demand.time_s[rows]
        assert (t[np.isfinite(t)] >= TRIP_OVERHEAD_S[TravelMode(mode)]).all()
