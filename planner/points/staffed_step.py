"""The siting step of a plan: choose and staff the points (any siting model, then staffing).

:func:`peak_setting` turns the scenario's opening hours and ``[staffing]`` into the peak
hour's share of arrivals and each site's capacity table; :func:`site_and_staff` runs the
chosen siting model and staffs its points from the pool (the ``staffed`` model does both in
one MILP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray

from geo.scenario import PlanningParams
from geo.staffing import StaffingParams
from planner.points.siting import (
    CapacitatedPMedian,
    MaxCoverage,
    MinPointsCoverage,
    PMedian,
    SitingResult,
)
from planner.points.siting.staffed import StaffedResult, StaffedSiting
from planner.points.staffing import capacity_table, max_safe_arrivals

STATUS_EXISTING, STATUS_EXCLUDED = "existing", "excluded"


@dataclass(frozen=True, eq=False)
class PeakSetting:
    """Arrival pattern, limits and what staff can serve at every facility.

    Attributes
    ----------
    hourly_shares
        Share of a day's arrivals in each opening hour.
    peak_share
        The largest of them (the peak hour).
    tables
        ``(n_facilities, max_staff + 1)`` safe daily visits by staff count (the market's row
        is its capacity with its own staff at every index).
    max_staff, max_on_site
        Per facility (the market: its own staff and safe occupancy).
    pool
        Staff for the points (desk volunteers included).
    market_staff, market_capacity
        The market's own staff and its safe daily visits with them.
    """

    hourly_shares: tuple[float, ...]
    peak_share: float
    tables: NDArray[np.float64]
    max_staff: NDArray[np.intp]
    max_on_site: NDArray[np.float64]
    pool: int
    market_staff: int
    market_capacity: float


def _site_limit(facilities: gpd.GeoDataFrame, column: str, default: int) -> NDArray[np.int64]:
    """A per-site limit column; empty or 0 means the ``[staffing]`` default."""
    if column not in facilities:
        return np.full(len(facilities), default, dtype=np.int64)
    values = np.asarray(
        [int(v) if str(v).strip() not in ("", "nan", "None") else 0 for v in facilities[column]],
        dtype=np.int64,
    )
    return np.where(values > 0, values, default)


def peak_setting(
    facilities: gpd.GeoDataFrame, market: int, params: PlanningParams, staffing: StaffingParams
) -> PeakSetting:
    """Peak-hour share, per-facility limits and capacity tables (see :class:`PeakSetting`)."""
    opens, closes = params.open_hours
    shares = staffing.hourly_shares(max(1, math.ceil(closes - opens - 1e-9)))
    peak = max(shares)
    max_staff = _site_limit(facilities, "max_staff", staffing.max_staff)
    on_site = _site_limit(facilities, "max_on_site", staffing.max_on_site).astype(float)
    market_staff = staffing.market_staff_or_default(staff_per_point=params.staff_per_point)
    max_staff[market] = market_staff
    on_site[market] = staffing.market_max_on_site
    room = facilities["capacity"].to_numpy(dtype=float)
    tables = np.zeros((len(facilities), int(max_staff.max()) + 1))
    for occupancy in np.unique(on_site):
        rows = np.flatnonzero((on_site == occupancy) & (np.arange(len(facilities)) != market))
        if rows.size == 0:
            continue
        table = capacity_table(
            int(max_staff[rows].max()),
            params.service_min,
            target_wait_min=params.target_wait_min,
            max_on_site=float(occupancy),
            peak_share=peak,
        )
        for j in rows:
            t = table[: max_staff[j] + 1]
            tables[j, : t.size] = np.minimum(t, room[j])
            tables[j, t.size :] = tables[j, t.size - 1]
    lam = max_safe_arrivals(
        market_staff,
        params.service_min,
        target_wait_min=params.target_wait_min,
        max_on_site=float(on_site[market]),
    )
    market_capacity = min(room[market], lam / peak)
    tables[market, :] = market_capacity
    return PeakSetting(
        hourly_shares=shares,
        peak_share=peak,
        tables=tables,
        max_staff=max_staff.astype(np.intp),
        max_on_site=on_site,
        pool=staffing.total_pool(staff_per_point=params.staff_per_point, n_points=params.n_points),
        market_staff=market_staff,
        market_capacity=market_capacity,
    )


def statuses(facilities: gpd.GeoDataFrame) -> NDArray[np.str_]:
    """``status`` of every facility (``candidate`` when the column is absent)."""
    if "status" not in facilities:
        return np.full(len(facilities), "candidate")
    return facilities["status"].astype(str).replace("", "candidate").to_numpy(dtype=str)


def staffed_model(
    cost: NDArray[np.float64],
    weights: NDArray[np.float64],
    facilities: gpd.GeoDataFrame,
    market: int,
    params: PlanningParams,
    peak: PeakSetting,
    *,
    allowed: NDArray[np.intp] | None = None,
    p: int | None = None,
) -> StaffedSiting:
    """The staffed siting model over the siting rows (`allowed`: only these sites may open)."""
    status = statuses(facilities)
    excluded = status == STATUS_EXCLUDED
    if allowed is not None:
        excluded |= ~np.isin(np.arange(len(facilities)), allowed)
    existing = np.flatnonzero(status == STATUS_EXISTING)
    excluded[existing] = False
    return StaffedSiting.from_cost_matrix(
        cost,
        weights,
        params.n_points if p is None else p,
        peak.tables,
        pool=peak.pool,
        market=market,
        market_capacity=peak.market_capacity,
        max_cost=params.max_travel_min * 60.0,
        existing=existing,
        excluded=np.flatnonzero(excluded),
    )


def site_and_staff(
    cost: NDArray[np.float64],
    weights: NDArray[np.float64],
    facilities: gpd.GeoDataFrame,
    market: int,
    params: PlanningParams,
    peak: PeakSetting,
) -> tuple[StaffedResult, SitingResult | None]:
    """Open and staff points; also the plain siting model's result for the other models."""
    if params.model == "staffed":
        model = staffed_model(cost, weights, facilities, market, params, peak)
        return model.solve(time_limit_s=params.time_limit_s), None
    plain = _plain_siting(cost, weights, facilities, market, params)
    chosen = np.setdiff1d(plain.open_sites, [market])
    new = np.setdiff1d(chosen, np.flatnonzero(statuses(facilities) == STATUS_EXISTING))
    model = staffed_model(
        cost, weights, facilities, market, params, peak, allowed=chosen, p=int(new.size)
    )
    return model.solve(time_limit_s=params.time_limit_s), plain


def _plain_siting(
    cost: NDArray[np.float64],
    weights: NDArray[np.float64],
    facilities: gpd.GeoDataFrame,
    market: int,
    params: PlanningParams,
) -> SitingResult:
    """The classic models: existing stations fixed open, excluded sites unreachable."""
    status = statuses(facilities)
    cost = np.where((status == STATUS_EXCLUDED)[None, :], np.inf, cost)
    fixed = [market, *np.flatnonzero(status == STATUS_EXISTING).tolist()]
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
