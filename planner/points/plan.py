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
import scipy.sparse as sp

from geo.engine import Engine
from geo.layers import LayerName
from geo.scenario import PlanningParams
from planner.city import City, seeker_cells
from planner.errors import InfeasibleError
from planner.hexbin import MIN_COUNT, hex_polygons
from planner.points import report
from planner.points.assign import Assignment, assign, industry_match
from planner.points.belts import detect_belts
from planner.points.demand import Demand, build_demand, group_mean
from planner.points.siting import SitingProblem, SitingResult
from planner.points.siting.assemble import make_result
from planner.points.siting.staffed import StaffedResult, StaffedSiting
from planner.points.staffed_step import PeakSetting, peak_setting, site_and_staff
from planner.points.staffing import staff_for
from planner.points.tradeoff import tradeoff_curve

logger = logging.getLogger(__name__)

POINT_COLUMNS = (
    "status",
    "is_market",
    "load",
    "capacity",
    "room_capacity",
    "load_share",
    "staff",
    "max_staff",
    "arrivals_per_hour_peak",
    "service_min",
    "mean_wait_min",
    "target_wait_min",
    "p90_wait_min",
    "peak_on_site",
    "p95_on_site",
    "max_on_site",
    "utilisation",
)
"""Per-point figures of ``plan_summary.json`` that the ``service_points`` layer carries."""

ASSIGN_NEAREST = 6
"""A demand group may go to its six nearest matching points: keeps the assignment LP small
(on Dongcao measured: the LP 3x faster than with the eight nearest, total travel time of
the assignment 0.6 % higher with five)."""

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
    peak: PeakSetting
    staffing: StaffedResult
    staff: np.ndarray
    capacity: np.ndarray
    tradeoff: dict[str, Any]

    def service_points(self) -> gpd.GeoDataFrame:
        """Open points and the market: load, staffed capacity, staff and peak-hour queue.

        ``capacity`` is what the point's staff serve safely per day (peak-hour mean wait
        within ``target_wait_min``, people on site within ``max_on_site``); the room's own
        daily limit is ``room_capacity``.
        """
        open_idx = np.flatnonzero(self.open_mask)
        pts = self.facilities.iloc[open_idx].copy()
        pts["industries"] = [";".join(sorted(self.industries[i])) for i in open_idx]
        per_point = {p["id"]: p for p in self.summary["after"]["points"]}
        cols = list(POINT_COLUMNS)
        for col in cols:
            pts[col] = [per_point[i][col] for i in pts["id"]]
        keep = ["id", "name", "kind", "industries", *cols, "geometry"]
        return pts[keep].reset_index(drop=True)


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

    say(f"siting and staffing ({params.model})")
    peak = peak_setting(facilities, market, params, city.scenario.staffing)
    cost, weights, siting_row = siting_rows(demand)
    staffed, plain = site_and_staff(cost, weights, facilities, market, params, peak)
    siting = plain or _as_siting_result(staffed, cost, weights, market)
    clock.lap("siting")
    open_mask = np.zeros(len(facilities), dtype=bool)
    open_mask[staffed.open_sites] = True
    open_mask[market] = True
    industries = _point_industries(demand, staffed.flows, siting_row, market, city.industries.codes)

    say("assignment")
    assignment = _assign(demand, staffed.capacity, market, open_mask, industries, params)
    staff = _final_staff(assignment.loads, staffed, peak, market)
    capacity = peak.tables[np.arange(len(facilities)), np.minimum(staff, peak.tables.shape[1] - 1)]
    capacity = np.where(open_mask, capacity, 0.0)
    clock.lap("assignment")

    say("crowd report")
    summary = report.crowd_report(
        city, demand, assignment, facilities, market, open_mask, params, peak, staff, capacity
    )
    summary["siting"] = _siting_summary(siting, demand, facilities, params)
    summary["staffing"] = report.staffing_summary(staffed, staff, peak, facilities, market)
    summary["belts"] = len(belts)
    clock.lap("report")

    say("trade-off curve")
    curve = tradeoff_curve(
        cost,
        weights,
        demand,
        siting_row,
        facilities,
        market,
        params,
        peak,
        city.scenario.staffing,
        plan=staffed if plain is None else None,  # the staffed model's own run for n_points
    )
    clock.lap("tradeoff")
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
        peak=peak,
        staffing=staffed,
        staff=staff,
        capacity=capacity,
        tradeoff=curve,
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
    staffed_capacity: np.ndarray,
    market: int,
    open_mask: np.ndarray,
    industries: list[set[str]],
    params: PlanningParams,
) -> Assignment:
    """Assign every demand group to an open point of its industries, or to the market,
    within what each point's staff serve safely."""
    capacities = np.where(open_mask, staffed_capacity, 0.0)
    allowed = industry_match(demand.groups["industries"], industries)
    return assign(
        demand.time_s,
        demand.groups["weight"].to_numpy(),
        allowed,
        capacities,
        market=market,
        max_time_s=params.max_travel_min * 60.0,
        modes=demand.groups["mode"].to_numpy(),
        nearest=ASSIGN_NEAREST,
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
    """Candidate sites then the market, with ``status``, ``max_staff``, ``max_on_site``
    (0 = the ``[staffing]`` default)."""
    s = sites.copy()
    for col, default in (("status", "candidate"), ("max_staff", 0), ("max_on_site", 0)):
        if col not in s:
            s[col] = default
        s[col] = s[col].replace("", default)
    s["max_staff"] = s["max_staff"].astype(int)
    s["max_on_site"] = s["max_on_site"].astype(int)
    m = market.copy()
    m["kind"] = "talent_market"
    m["status"] = "market"
    m["max_staff"] = 0
    m["max_on_site"] = 0
    cols = ["id", "name", "kind", "capacity", "status", "max_staff", "max_on_site", "geometry"]
    out = pd.concat([s[cols], m[cols]], ignore_index=True)
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


def _as_siting_result(
    staffed: StaffedResult, cost: np.ndarray, weights: np.ndarray, market: int
) -> SitingResult:
    """The staffed plan as a :class:`SitingResult` (open sites, rows' main site)."""
    problem = SitingProblem.build(cost, weights, fixed=[market])
    return make_result(
        problem,
        staffed.open_sites,
        model=StaffedSiting.model_name,
        solver=staffed.solver,
        status=staffed.status,
        sense="min",
        objective=staffed.objective,
        bound=staffed.bound,
        runtime_s=staffed.runtime_s,
        assignment=staffed.assignment(),
        notes=list(staffed.notes),
    )


def _final_staff(
    loads: np.ndarray, staffed: StaffedResult, peak: PeakSetting, market: int
) -> np.ndarray:
    """Fewest staff covering each point's final load (never more than the siting gave)."""
    staff = np.zeros(loads.size, dtype=np.intp)
    for j in np.flatnonzero(staffed.staff > 0):
        need = staff_for(float(loads[j]), peak.tables[j])
        if need < 0:  # the assignment honours capacities: a violation is a bug
            msg = f"load {loads[j]:.1f} at site {j} exceeds what its staff serve"
            raise AssertionError(msg)
        staff[j] = max(1, min(need, int(staffed.staff[j])))
    staff[market] = peak.market_staff
    return staff


def _point_industries(
    demand: Demand,
    flows: sp.csr_array,
    siting_row: np.ndarray,
    market: int,
    codes: tuple[str, ...],
) -> list[set[str]]:
    """Industries (of the catalogue's `codes`) each open point serves: those with at least
    10 % of its siting load.

    A point's load by industry counts every siting row it takes visits from (`flows`, rows
    x sites), split over the row's groups by their visits and over a group's industries
    evenly: a row the siting shares between points counts at each of them.
    """
    groups = demand.groups
    w = groups["weight"].to_numpy()
    n_rows, n_fac = flows.shape
    col = {c: i for i, c in enumerate(codes)}
    text_of, texts = pd.factorize(groups["industries"].astype(str))
    split = np.zeros((len(texts), len(codes)))
    for t, text in enumerate(texts):
        parts = str(text).split(";")
        for c in parts:
            split[t, col[c]] += 1.0 / len(parts)
    # Visits of each siting row by industry, as shares of the row's visits.
    per_row = np.zeros((n_rows, len(codes)))
    np.add.at(per_row, siting_row, w[:, None] * split[text_of])
    row_w = per_row.sum(axis=1, keepdims=True)
    shares = np.divide(per_row, row_w, out=np.zeros_like(per_row), where=row_w > 0)
    load = np.asarray(sp.csr_array(flows).T @ shares)
    out: list[set[str]] = []
    for j in range(n_fac):
        if j == market:
            out.append(set(codes))
            continue
        total = load[j].sum()
        if total <= 0:
            out.append(set())
            continue
        share = load[j] / total
        chosen = {codes[i] for i in np.flatnonzero(share >= MIN_INDUSTRY_SHARE)}
        chosen.add(codes[int(np.argmax(share))])
        out.append(chosen)
    return out


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
    belts["label"] = [city.industries.label(c) for c in belts["industry"]]
    belts.to_file(gpkg, layer="belts", driver="GPKG")
    cells = assignment_cells(plan, city.network.crs)
    cells.to_file(gpkg, layer="assignment_cells", driver="GPKG")
    catchments(cells).to_file(gpkg, layer="catchments", driver="GPKG")
    seeker_cells(city, cell_m=plan.params.cell_m).to_file(gpkg, layer="seeker_cells", driver="GPKG")
    summary_path = out / "plan_summary.json"
    summary_path.write_text(json.dumps(plan.summary, ensure_ascii=False, indent=2, default=float))
    curve_path = out / "tradeoff.json"
    curve_path.write_text(json.dumps(plan.tradeoff, ensure_ascii=False, indent=2, default=float))
    return [gpkg, summary_path, curve_path]
