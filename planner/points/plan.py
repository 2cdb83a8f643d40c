"""A city's service-point plan: belts, siting, assignment and the before/after crowd report.

:func:`make_plan` runs the steps on a validated :class:`~planner.city.City`;
:func:`write_plan` writes ``plan.gpkg`` (no seeker location is exposed: assignments and
catchments are built from hexagonal cells with at least five seekers) and
``plan_summary.json``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.engine import Engine
from geo.industries import BELT_INDUSTRIES, INDUSTRY_CODES
from geo.layers import LayerName
from geo.scenario import PlanningParams
from planner.city import City, seeker_cells
from planner.errors import InfeasibleError
from planner.hexbin import MIN_COUNT, hex_polygons
from planner.points import crowd
from planner.points.assign import Assignment, assign, industry_match
from planner.points.belts import detect_belts
from planner.points.demand import Demand, build_demand, group_mean
from planner.points.siting import (
    CapacitatedPMedian,
    MaxCoverage,
    MinPointsCoverage,
    PMedian,
    SitingResult,
)

logger = logging.getLogger(__name__)

MIN_INDUSTRY_SHARE = 0.10
"""An open point serves every industry making up at least this share of its siting load."""


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything :func:`make_plan` computed (see :func:`write_plan` for the files)."""

    params: PlanningParams
    facilities: gpd.GeoDataFrame
    market: int
    open_mask: np.ndarray
    industries: list[set[str]]
    demand: Demand
    siting: SitingResult
    assignment: Assignment
    belts: gpd.GeoDataFrame
    summary: dict[str, Any]

    def service_points(self) -> gpd.GeoDataFrame:
        """Open points and the market with load, capacity, industries and staffing figures."""
        open_idx = np.flatnonzero(self.open_mask)
        pts = self.facilities.iloc[open_idx].copy()
        pts["industries"] = [";".join(sorted(self.industries[i])) for i in open_idx]
        pts["load"] = np.round(self.assignment.loads[open_idx], 1)
        per_point = {p["id"]: p for p in self.summary["after"]["points"]}
        for col in ("load_share", "staff", "mean_wait_min", "staff_needed", "peak_on_site"):
            pts[col] = [per_point[i][col] for i in pts["id"]]
        pts["is_market"] = [i == self.market for i in open_idx]
        cols = ["id", "name", "kind", "industries", "capacity", "load", "load_share", "staff"]
        cols += ["mean_wait_min", "staff_needed", "peak_on_site", "is_market", "geometry"]
        return pts[cols].reset_index(drop=True)


def make_plan(
    city: City,
    params: PlanningParams | None = None,
    *,
    engine: Engine | None = None,
    progress: Callable[[str], None] | None = None,
) -> Plan:
    """Site service points for `city` and assign every seeker and employer.

    Parameters
    ----------
    city
        A validated city (:class:`planner.city.City`).
    params
        Planning parameters (default: the scenario's ``[planning]``).
    engine
        Travel-time engine to reuse (default: a new one on the city's network).
    progress
        Called with a short text before each step.

    Raises
    ------
    InfeasibleError
        If the settings cannot be met (e.g. more points than candidate sites, or capacities
        too small for the demand in the capacitated model).
    """
    say = progress or (lambda _m: None)
    params = params or city.scenario.planning
    engine = engine or Engine(city.network, max_snap_m=params.max_snap_m)
    clock = _Clock()
    facilities = _facilities_of(city, params)
    market = len(facilities) - 1

    say("industry belts")
    employers = city.layer(LayerName.EMPLOYERS)
    belts = detect_belts(employers.to_crs(city.network.crs)).belts.to_crs("EPSG:4326")
    clock.lap("belts")

    demand = build_demand(
        engine,
        city.layer(LayerName.SEEKERS),
        employers,
        facilities,
        visit_rate=params.visit_rate,
        employer_visit_rate=params.employer_visit_rate,
        cell_m=params.cell_m,
        cutoff_s=2.0 * params.max_travel_min * 60.0,
        no_cutoff=np.arange(len(facilities)) == market,
        progress=say,
    )
    clock.lap("travel_times")

    say(f"siting ({params.model})")
    siting, siting_row = _site(demand, facilities, market, params)
    clock.lap("siting")
    open_mask = np.zeros(len(facilities), dtype=bool)
    open_mask[siting.open_sites] = True
    open_mask[market] = True
    industries = _point_industries(demand, siting.assignment[siting_row], len(facilities), market)

    say("assignment")
    assignment = _assign(demand, facilities, market, open_mask, industries, params)
    clock.lap("assignment")

    say("crowd report")
    summary = _report(city, demand, assignment, facilities, market, open_mask, params)
    summary["siting"] = _siting_summary(siting, demand, facilities, params)
    summary["belts"] = len(belts)
    clock.lap("report")
    summary["timings_s"] = clock.timings()
    logger.info("plan made in %.1f s", summary["timings_s"]["total"])
    return Plan(
        params=params,
        facilities=facilities,
        market=market,
        open_mask=open_mask,
        industries=industries,
        demand=demand,
        siting=siting,
        assignment=assignment,
        belts=belts,
        summary=summary,
    )


class _Clock:
    """Wall-clock time of each pipeline step (s, rounded to 0.01)."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 2)
        self.last = now

    def timings(self) -> dict[str, float]:
        return {**self.laps, "total": round(time.perf_counter() - self.started, 2)}


def _facilities_of(city: City, params: PlanningParams) -> gpd.GeoDataFrame:
    """Candidate sites then the central market (last row); checks the counts."""
    sites = city.layer(LayerName.CANDIDATE_SITES)
    market_layer = city.layer(LayerName.TALENT_MARKET)
    if len(market_layer) != 1:
        msg = f"`talent_market` must have exactly one row, got {len(market_layer)}"
        raise InfeasibleError(msg)
    n_new = len(sites)
    if params.model != "min_points" and params.n_points > n_new:
        msg = f"`n_points` = {params.n_points} but there are only {n_new} candidate sites"
        raise InfeasibleError(msg)
    return _facilities(sites, market_layer)


def _assign(
    demand: Demand,
    facilities: gpd.GeoDataFrame,
    market: int,
    open_mask: np.ndarray,
    industries: list[set[str]],
    params: PlanningParams,
) -> Assignment:
    """Assign every demand group to an open point of its industries, or to the market."""
    capacities = np.where(open_mask, facilities["capacity"].to_numpy(dtype=float), 0.0)
    allowed = industry_match(demand.groups["industries"], industries)
    return assign(
        demand.time_s,
        demand.groups["weight"].to_numpy(),
        allowed,
        capacities,
        market=market,
        max_time_s=params.max_travel_min * 60.0,
        modes=demand.groups["mode"].to_numpy(),
    )


def _siting_summary(
    siting: SitingResult, demand: Demand, facilities: gpd.GeoDataFrame, params: PlanningParams
) -> dict[str, Any]:
    rows = int(siting.assignment.size)
    return {
        **siting.summary(),
        "open_sites": [str(facilities["id"].iat[i]) for i in siting.open_sites],
        "fixed_sites": [str(facilities["id"].iat[i]) for i in siting.fixed_sites],
        "demand_groups": demand.n_groups,
        "siting_rows": rows,
        "aggregation": (
            f"demand aggregated by {params.cell_m:g} m hexagon and travel mode "
            f"({rows:,} siting rows; {demand.n_groups:,} groups with "
            "industries for the assignment); a row's time to a site is the weighted mean of "
            "its members' own network travel times"
        ),
    }


def _facilities(sites: gpd.GeoDataFrame, market: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    m = market.copy()
    m["kind"] = "talent_market"
    cols = ["id", "name", "kind", "capacity", "geometry"]
    out = pd.concat([sites[cols], m[cols]], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=sites.crs)


def siting_rows(demand: Demand) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse demand groups that differ only by industry (siting ignores industries).

    Returns the collapsed cost matrix (weighted mean of the groups' rows, so the total
    weighted travel time of any plan is unchanged), weights, and each group's row.
    """
    keys = demand.groups[["kind", "mode", "q", "r"]]
    codes, uniques = pd.MultiIndex.from_frame(keys).factorize()
    w = demand.groups["weight"].to_numpy()
    weights = np.bincount(codes, weights=w, minlength=len(uniques))
    cost = group_mean(codes, demand.time_s, len(uniques), weights=w)
    return cost, weights, codes


def _site(
    demand: Demand, facilities: gpd.GeoDataFrame, market: int, params: PlanningParams
) -> tuple[SitingResult, np.ndarray]:
    """Solve the siting model; also return each demand group's row in the siting problem."""
    cost, weights, rows = siting_rows(demand)
    result = _solve_siting(cost, weights, facilities, market, params)
    return result, rows


def _solve_siting(
    cost: np.ndarray,
    weights: np.ndarray,
    facilities: gpd.GeoDataFrame,
    market: int,
    params: PlanningParams,
) -> SitingResult:
    fixed = [market]
    max_s = params.max_travel_min * 60.0
    limit = params.time_limit_s
    if params.model == "pmedian":
        return PMedian.from_cost_matrix(cost, weights, params.n_points, fixed=fixed).solve(
            time_limit_s=limit
        )
    if params.model == "capacitated":
        caps = facilities["capacity"].to_numpy(dtype=float)
        model = CapacitatedPMedian.from_cost_matrix(
            cost, weights, params.n_points, caps, fixed=fixed
        )
        return model.solve(time_limit_s=limit)
    if params.model == "coverage":
        return MaxCoverage.from_cost_matrix(
            cost, weights, params.n_points, max_s, fixed=fixed
        ).solve(time_limit_s=limit)
    return MinPointsCoverage.from_cost_matrix(
        cost, weights, max_s, params.coverage_share, fixed=fixed
    ).solve(time_limit_s=limit)


def _point_industries(
    demand: Demand, site_of_group: np.ndarray, n_fac: int, market: int
) -> list[set[str]]:
    """Industries each open point serves: those with at least 10 % of its siting load."""
    groups = demand.groups
    w = groups["weight"].to_numpy()
    load = np.zeros((n_fac, len(INDUSTRY_CODES)))
    col = {c: i for i, c in enumerate(INDUSTRY_CODES)}
    for g, site in enumerate(site_of_group):
        if site < 0:
            continue
        codes = str(groups["industries"].iat[g]).split(";")
        for c in codes:
            load[site, col[c]] += w[g] / len(codes)
    out: list[set[str]] = []
    for j in range(n_fac):
        if j == market:
            out.append(set(INDUSTRY_CODES))
            continue
        total = load[j].sum()
        if total <= 0:
            out.append(set())
            continue
        share = load[j] / total
        chosen = {INDUSTRY_CODES[i] for i in np.flatnonzero(share >= MIN_INDUSTRY_SHARE)}
        chosen.add(INDUSTRY_CODES[int(np.argmax(share))])
        out.append(chosen)
    return out


def _report(
    city: City,
    demand: Demand,
    assignment: Assignment,
    facilities: gpd.GeoDataFrame,
    market: int,
    open_mask: np.ndarray,
    params: PlanningParams,
) -> dict[str, Any]:
    """The before/after crowd report (``plan_summary.json`` without siting and timings)."""
    w = demand.groups["weight"].to_numpy()
    seekers = (demand.groups["kind"] == "seeker").to_numpy()
    return {
        "scenario": city.scenario.name,
        "title": city.scenario.title,
        "model": params.model,
        "parameters": {k: getattr(params, k) for k in params.__dataclass_fields__},
        "daily_visits": {
            "seekers": round(float(w[seekers].sum()), 1),
            "employers": round(float(w[~seekers].sum()), 1),
            "total": round(float(w.sum()), 1),
        },
        "before": _before(demand, facilities, market, params),
        "after": _after(demand, assignment, facilities, market, open_mask, params),
    }


def _point_figures(load: float, staff: int, params: PlanningParams) -> dict[str, Any]:
    hours = params.open_hours
    open_h = (int(hours[0]), int(np.ceil(hours[1])))
    per_hour = load / max(hours[1] - hours[0], 1e-9)
    try:
        wait: float | None = crowd.erlang_c(per_hour, params.service_min, staff).mean_wait_min
    except InfeasibleError:
        wait = None  # the queue grows all day: reported as "unstable"
    occ = crowd.peak_occupancy(load, service_min=params.service_min, open_hours=open_h)
    return {
        "mean_wait_min": None if wait is None else round(wait, 1),
        "staff_needed": crowd.staff_needed(per_hour, params.service_min, params.target_wait_min),
        "peak_on_site": round(float(occ.on_site.max()), 1) if occ.on_site.size else 0.0,
    }


def _before(
    demand: Demand, facilities: gpd.GeoDataFrame, market: int, params: PlanningParams
) -> dict[str, Any]:
    """Everyone goes to the central market."""
    groups = demand.groups
    w = groups["weight"].to_numpy()
    seekers = (groups["kind"] == "seeker").to_numpy()
    total_visits = float(w.sum())
    market_cap = float(facilities["capacity"].iat[market])
    times = demand.time_s[:, market]
    return {
        "market_load": round(total_visits, 1),
        "market_capacity": market_cap,
        "market_load_vs_capacity": round(total_visits / market_cap, 3),
        "travel_time_by_mode": {
            mode: crowd.travel_time_summary(times[idx], w[idx])
            for mode, idx in _mode_rows(groups, seekers).items()
        },
        "travel_time_all": crowd.travel_time_summary(times[seekers], w[seekers]),
        **{
            f"market_{k}": v
            for k, v in _point_figures(total_visits, params.staff_per_point * 10, params).items()
        },
    }


def _after(
    demand: Demand,
    assignment: Assignment,
    facilities: gpd.GeoDataFrame,
    market: int,
    open_mask: np.ndarray,
    params: PlanningParams,
) -> dict[str, Any]:
    """The plan: market load, trip times, per-point figures, unassigned visits."""
    groups = demand.groups
    w = groups["weight"].to_numpy()
    seekers = (groups["kind"] == "seeker").to_numpy()
    flows = assignment.flows
    g = flows["group"].to_numpy()
    f = flows["facility"].to_numpy()
    v = flows["visits"].to_numpy()
    t = flows["time_s"].to_numpy()
    is_seeker_flow = seekers[g]
    seeker_visits = float(w[seekers].sum())
    to_market = float(v[is_seeker_flow & (f == market)].sum())
    after_by_mode = {}
    for mode, idx in _mode_rows(groups, seekers).items():
        sel = np.isin(g, idx)
        after_by_mode[mode] = crowd.travel_time_summary(t[sel], v[sel])
    points = _points(assignment.loads, facilities, market, open_mask, params)
    loads = assignment.loads
    market_cap = float(facilities["capacity"].iat[market])
    reasons = (
        pd.DataFrame({"reason": assignment.reason, "visits": w})
        .query("reason != ''")
        .groupby("reason")["visits"]
        .sum()
        .round(1)
        .sort_values(ascending=False)
    )
    return {
        "market_load": round(float(loads[market]), 1),
        "market_capacity": market_cap,
        "market_load_vs_capacity": round(float(loads[market]) / market_cap, 3),
        "seeker_share_still_at_market": round(to_market / seeker_visits, 4) if seeker_visits else 0,
        "open_points": int(open_mask.sum() - 1),
        "unassigned_visits": round(float(assignment.unassigned.sum()), 1),
        "reasons": {str(k): float(val) for k, val in reasons.items()},
        "travel_time_by_mode": after_by_mode,
        "travel_time_all": crowd.travel_time_summary(t[is_seeker_flow], v[is_seeker_flow]),
        "points": points,
    }


def _points(
    loads: np.ndarray,
    facilities: gpd.GeoDataFrame,
    market: int,
    open_mask: np.ndarray,
    params: PlanningParams,
) -> list[dict[str, Any]]:
    points = []
    for j in np.flatnonzero(open_mask):
        cap = float(facilities["capacity"].iat[j])
        staff = params.staff_per_point * (10 if j == market else 1)
        points.append(
            {
                "id": str(facilities["id"].iat[j]),
                "name": str(facilities["name"].iat[j]),
                "is_market": bool(j == market),
                "load": round(float(loads[j]), 1),
                "capacity": cap,
                "load_share": round(float(loads[j]) / cap, 3) if cap else None,
                "staff": staff,
                **_point_figures(float(loads[j]), staff, params),
            }
        )
    over = [p["id"] for p in points if not p["is_market"] and p["load"] > p["capacity"] + 1e-6]
    if over:  # the assignment LP makes this impossible; a violation is a bug, not a figure
        msg = f"capacity exceeded at {over}"
        raise AssertionError(msg)
    return points


def _mode_rows(groups: pd.DataFrame, seekers: np.ndarray) -> dict[str, np.ndarray]:
    modes = groups["mode"].to_numpy()
    return {str(m): np.flatnonzero(seekers & (modes == m)) for m in pd.unique(modes[seekers])}


# ---------------------------------------------------------------------------------------------
# Outputs


def assignment_cells(plan: Plan, crs: str) -> gpd.GeoDataFrame:
    """Seekers per (hexagon, service point), for cells with at least five seekers."""
    groups = plan.demand.groups
    flows = plan.assignment.flows
    seekers = groups["kind"].to_numpy() == "seeker"
    people_per_visit = np.where(
        groups["weight"].to_numpy() > 0, groups["people"] / groups["weight"], 0.0
    )
    fl = flows[seekers[flows["group"].to_numpy()]].copy()
    fl["q"] = groups["q"].to_numpy()[fl["group"]]
    fl["r"] = groups["r"].to_numpy()[fl["group"]]
    fl["seekers"] = fl["visits"] * people_per_visit[fl["group"]]
    cell_total = groups[seekers].groupby(["q", "r"])["people"].sum()
    shown = cell_total[cell_total >= MIN_COUNT].index
    fl = fl.set_index(["q", "r"])
    fl = fl[fl.index.isin(shown)].reset_index()
    table = (
        fl.groupby(["q", "r", "facility"])
        .agg(seekers=("seekers", "sum"), visits=("visits", "sum"), time_s=("time_s", "mean"))
        .reset_index()
    )
    table["service_point"] = plan.facilities["id"].to_numpy()[table["facility"]]
    polys = hex_polygons(table["q"].to_numpy(), table["r"].to_numpy(), plan.demand.cell_m)
    out = gpd.GeoDataFrame(
        {
            "cell": table["q"].astype(str) + "," + table["r"].astype(str),
            "service_point": table["service_point"],
            "seekers": table["seekers"].round(1),
            "visits_per_day": table["visits"].round(2),
            "mean_time_min": (table["time_s"] / 60.0).round(1),
        },
        geometry=polys,
        crs=crs,
    )
    return out.to_crs("EPSG:4326")


def catchments(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each point's catchment: the union of the cells that send it most of their seekers."""
    if cells.empty:
        return gpd.GeoDataFrame({"service_point": []}, geometry=[], crs="EPSG:4326")
    main = cells.sort_values("seekers", ascending=False).drop_duplicates("cell")
    dissolved = main.dissolve(by="service_point", aggfunc={"seekers": "sum"}).reset_index()
    return dissolved[["service_point", "seekers", "geometry"]]


def write_plan(plan: Plan, city: City, out_dir: str | Path) -> list[Path]:
    """Write ``plan.gpkg`` and ``plan_summary.json`` to `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / "plan.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    plan.service_points().to_file(gpkg, layer="service_points", driver="GPKG")
    belts = plan.belts.copy()
    belts["label"] = [_industry_label(c) for c in belts["industry"]]
    belts.to_file(gpkg, layer="belts", driver="GPKG")
    cells = assignment_cells(plan, city.network.crs)
    cells.to_file(gpkg, layer="assignment_cells", driver="GPKG")
    catchments(cells).to_file(gpkg, layer="catchments", driver="GPKG")
    seeker_cells(city, cell_m=plan.params.cell_m).to_file(gpkg, layer="seeker_cells", driver="GPKG")
    summary_path = out / "plan_summary.json"
    summary_path.write_text(json.dumps(plan.summary, ensure_ascii=False, indent=2, default=float))
    return [gpkg, summary_path]


def _industry_label(code: str) -> str:
    for ind in BELT_INDUSTRIES:
        if ind.value == code:
            return f"{ind.label_en} {ind.label_zh}"
    return code
