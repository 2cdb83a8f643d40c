"""Demand for service points: seekers and employers, grouped, with travel times to sites.

Seekers are grouped by hexagonal cell, travel mode and industries of experience; employers
by cell and industry. A group's travel time to a site is the *mean* of its members' own
network travel times (each member snapped to the street network for its own mode), so the
weighted total travel time of any plan that sends a whole group to one site is exact.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo.engine import Engine, TravelTimes
from geo.modes import TRIP_OVERHEAD_S, TravelMode
from geo.network import diagnose_points
from planner.hexbin import axial_index

logger = logging.getLogger(__name__)

EMPLOYER_MODE = TravelMode.EBIKE
"""Employers' contact with a point is a volunteer's e-bike visit (or a staff member's)."""


@dataclass(frozen=True, eq=False)
class Demand:
    """Grouped demand and its travel times.

    Attributes
    ----------
    groups
        One row per group: ``kind`` ("seeker"/"employer"), ``mode``, ``q``, ``r`` (hexagon),
        ``industries`` (``;``-separated), ``people`` (seekers or employers in the group),
        ``weight`` (expected visits per day), ``unsnapped`` (members too far from a street
        usable by their mode; they keep the group's mean time).
    time_s
        ``(n_groups, n_sites)`` mean travel time (s) of each group to each site; ``inf``
        where beyond the search cutoff or unreachable.
    seeker_group, employer_group
        Group index of every seeker / employer (input order).
    seeker_time_s
        ``(n_seekers, n_sites)`` each seeker's own travel time (s), float32, including the
        fixed trip overhead of their mode (:data:`geo.modes.TRIP_OVERHEAD_S`).
    cell_m
        Hexagon size (m) used for grouping.
    """

    groups: pd.DataFrame
    time_s: np.ndarray
    seeker_group: np.ndarray
    employer_group: np.ndarray
    seeker_time_s: np.ndarray
    cell_m: float

    @property
    def n_groups(self) -> int:
        return len(self.groups)


def build_demand(
    engine: Engine,
    seekers: gpd.GeoDataFrame,
    employers: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    visit_rate: float,
    employer_visit_rate: float,
    cell_m: float,
    cutoff_s: float | None,
    no_cutoff: np.ndarray | None = None,
    progress: Callable[[str], None] | None = None,
) -> Demand:
    """Group seekers and employers and compute their travel times to `sites`.

    Parameters
    ----------
    engine
        Travel-time engine on the city's network.
    seekers, employers, sites
        Validated layers (EPSG:4326); `sites` are all candidate sites plus fixed ones.
    visit_rate
        Share of seekers visiting per day (their weight).
    employer_visit_rate
        Visits per employer per day (their weight).
    cell_m
        Hexagon size (m) for grouping.
    cutoff_s
        Travel times beyond this (s) are not searched (``inf``); ``None`` searches all.
    no_cutoff
        Boolean mask over `sites` whose times are always computed in full (e.g. the central
        market, whose "before" travel times are reported).
    """
    say = progress or (lambda _m: None)
    full = np.zeros(len(sites), bool) if no_cutoff is None else np.asarray(no_cutoff, bool)
    seeker_time, unsnapped = _seeker_times(engine, seekers, sites, cutoff_s, full, say)
    say(f"travel times of {len(employers):,} employers")
    employer_time, employer_bad = _times(
        engine, EMPLOYER_MODE.value, employers, sites, cutoff_s, full
    )
    codes, groups = _group(
        engine.network.crs,
        seekers,
        employers,
        visit_rate=visit_rate,
        employer_visit_rate=employer_visit_rate,
        cell_m=cell_m,
    )
    groups["unsnapped"] = np.bincount(
        codes, weights=np.concatenate([unsnapped, employer_bad]), minlength=len(groups)
    ).astype(int)
    say(f"{len(groups):,} demand groups")
    all_time = np.vstack([seeker_time, employer_time.astype(np.float32)])
    time_s = group_mean(codes, all_time, len(groups))
    return Demand(
        groups=groups,
        time_s=time_s,
        seeker_group=codes[: len(seekers)],
        employer_group=codes[len(seekers) :],
        seeker_time_s=seeker_time,
        cell_m=cell_m,
    )


def _seeker_times(
    engine: Engine,
    seekers: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    cutoff_s: float | None,
    full: np.ndarray,
    say: Callable[[str], None],
) -> tuple[np.ndarray, np.ndarray]:
    """Each seeker's travel time (s, float32, with the trip overhead of their mode) to each
    site, by their own mode, and the mask of seekers too far from a street of their mode."""
    seeker_time = np.full((len(seekers), len(sites)), np.inf, dtype=np.float32)
    unsnapped = np.zeros(len(seekers), dtype=bool)
    modes = seekers["mode"].astype(str).to_numpy()
    for mode in pd.unique(modes):
        rows = np.flatnonzero(modes == mode)
        say(f"travel times of {rows.size:,} seekers by {mode}")
        times, bad = _times(engine, mode, seekers.iloc[rows], sites, cutoff_s, full)
        seeker_time[rows] = times + TRIP_OVERHEAD_S[TravelMode(mode)]
        unsnapped[rows] = bad
    return seeker_time, unsnapped


def _group(
    crs: str,
    seekers: gpd.GeoDataFrame,
    employers: gpd.GeoDataFrame,
    *,
    visit_rate: float,
    employer_visit_rate: float,
    cell_m: float,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Group code of every seeker then employer, and the groups (keys, people, weight)."""
    sx, sy = _metric_xy(seekers, crs)
    ex, ey = _metric_xy(employers, crs)
    sq, sr = axial_index(sx, sy, cell_m)
    eq, er = axial_index(ex, ey, cell_m)
    seeker_keys = pd.DataFrame(
        {
            "kind": "seeker",
            "mode": seekers["mode"].astype(str).to_numpy(),
            "q": sq,
            "r": sr,
            "industries": seekers["industries"].astype(str).to_numpy(),
        }
    )
    employer_keys = pd.DataFrame(
        {
            "kind": "employer",
            "mode": EMPLOYER_MODE.value,
            "q": eq,
            "r": er,
            "industries": employers["industry"].astype(str).to_numpy(),
        }
    )
    keys = pd.concat([seeker_keys, employer_keys], ignore_index=True)
    codes, uniques = pd.MultiIndex.from_frame(keys).factorize()
    groups = pd.MultiIndex.from_tuples(list(uniques), names=list(keys.columns)).to_frame(
        index=False
    )
    weight_each = np.concatenate(
        [np.full(len(seekers), visit_rate), np.full(len(employers), employer_visit_rate)]
    )
    groups["people"] = np.bincount(codes, minlength=len(groups))
    groups["weight"] = np.bincount(codes, weights=weight_each, minlength=len(groups))
    return np.asarray(codes), groups


def _metric_xy(gdf: gpd.GeoDataFrame, crs: str) -> tuple[np.ndarray, np.ndarray]:
    geom = gdf.geometry.to_crs(crs)
    return geom.x.to_numpy(), geom.y.to_numpy()


def _times(
    engine: Engine,
    mode: str,
    points: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    cutoff_s: float | None,
    full: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Travel times (s) of `points` to `sites` by `mode`, and the mask of unsnappable points.

    Points too far from any street usable by `mode` are snapped for walking instead (they
    walk to the point); they are counted, never dropped.
    """
    tt = engine[mode]
    snapped = tt.snap(points, on_error="mask")
    out = np.full((len(points), len(sites)), np.inf, dtype=np.float32)
    site_pts = tt.snap(sites, on_error="mask")
    reachable = site_reachable(tt, sites)
    cut = np.flatnonzero(~full)
    if cut.size:
        m = tt.matrix(snapped, site_pts.take(cut), cutoff_s=cutoff_s)
        out[:, cut] = m.dense_time()
    if full.any():
        m = tt.matrix(snapped, site_pts.take(np.flatnonzero(full)))
        out[:, np.flatnonzero(full)] = m.dense_time()
    bad = ~snapped.valid
    if bad.any() and mode != TravelMode.WALK.value:
        rows = np.flatnonzero(bad)
        fallback, _ = _times(
            engine, TravelMode.WALK.value, points.iloc[rows], sites, cutoff_s, full
        )
        out[rows] = fallback
        logger.info("%d %s users lie far from %s streets; they walk instead", rows.size, mode, mode)
    out[:, ~reachable] = np.inf
    return out, bad


@functools.lru_cache(maxsize=16)
def _site_diagnosis(tt: TravelTimes, ids: tuple[str, ...], xy: bytes) -> np.ndarray:
    """Reachability of sites by `tt`'s mode (memoised: every seeker mode asks again)."""
    coords = np.frombuffer(xy, dtype=float).reshape(-1, 2)
    diag = diagnose_points(tt.network, coords, tt.mode, ids=list(ids), max_snap_m=tt.max_snap_m)
    for message in diag.loc[diag["status"] != "ok", "message"]:
        logger.warning("site %s: unreachable", message)
    return np.asarray(diag["status"].to_numpy() == "ok")


def site_reachable(tt: TravelTimes, sites: gpd.GeoDataFrame) -> np.ndarray:
    """Mask of `sites` that `tt`'s mode reaches: on or near the mode's kept street component.

    A site near a street cut off from the rest of the mode's network (a clipped extract, a
    gated estate) would otherwise snap onto a far street of the kept part with a long
    walking leg and look reachable; a site far from every usable street is unreachable too.
    Both get ``inf`` travel times, so siting never opens them for this mode; each is logged
    with its distances to the nearest usable street and to the kept component.
    """
    geom = sites.geometry.to_crs("EPSG:4326")
    xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()]).astype(float)
    ids = tuple(sites["id"].astype(str))
    return _site_diagnosis(tt, ids, xy.tobytes())


def group_mean(
    codes: np.ndarray, values: np.ndarray, n_groups: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """(Weighted) mean of `values` rows per group code.

    A group's entry is ``inf`` when any of its members with a positive weight has ``inf``
    there (unreachable for one member means no single time describes the group).
    """
    w = np.ones(codes.size) if weights is None else np.asarray(weights, dtype=np.float64)
    member = sp.csr_array((w, (codes, np.arange(codes.size))), shape=(n_groups, codes.size))
    finite = np.isfinite(values)
    sums = member @ np.where(finite, values, 0.0).astype(np.float64)
    n_bad = member @ (~finite).astype(np.float64)
    totals = np.bincount(codes, weights=w, minlength=n_groups)
    mean = sums / np.maximum(totals, 1e-12)[:, None]
    mean[n_bad > 0] = np.inf
    return mean
