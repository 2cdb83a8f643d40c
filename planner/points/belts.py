"""Industry belts: weighted density clustering of employer points.

A DBSCAN variant on metric distance (projected metres): an employer is a *core* point when
the hiring demand of all employers of its industry within ``radius_m`` (itself included)
reaches ``min_demand``; cores closer than ``radius_m`` join one belt (connected components
of the radius graph, scipy), and non-core employers within ``radius_m`` of a core join that
core's belt. Everyone else is noise (label ``-1``). Belt polygons are the convex hull of the
members buffered by ``buffer_m``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo import InputError, Problem

logger = logging.getLogger(__name__)


def density_clusters(
    xy: ArrayLike, weights: ArrayLike, *, radius_m: float, min_demand: float
) -> NDArray[np.intp]:
    """Weighted DBSCAN labels (``0..k-1``, ``-1`` = noise) for points in metres.

    Parameters
    ----------
    xy
        ``(n, 2)`` projected coordinates (m).
    weights
        Demand per point (>= 0).
    radius_m
        Neighbourhood radius (m).
    min_demand
        Neighbourhood demand that makes a point a core point.
    """
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    w = np.asarray(weights, dtype=np.float64).ravel()
    n = pts.shape[0]
    if w.shape != (n,):
        msg = f"`weights` needs {n} values, got {w.shape}"
        raise ValueError(msg)
    if not radius_m > 0:
        msg = f"`radius_m` must be > 0, got {radius_m}"
        raise ValueError(msg)
    labels = np.full(n, -1, dtype=np.intp)
    if n == 0:
        return labels
    tree = cKDTree(pts)
    pairs = tree.query_pairs(radius_m, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    neigh = (
        w + np.bincount(i, weights=w[j], minlength=n) + np.bincount(j, weights=w[i], minlength=n)
    )
    core = neigh >= min_demand
    both = core[i] & core[j]
    graph = sp.coo_array((np.ones(int(both.sum())), (i[both], j[both])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    core_idx = np.flatnonzero(core)
    # Renumber the components that contain cores as 0..k-1 in order of first appearance.
    _, first, inverse = np.unique(comp[core_idx], return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    labels[core_idx] = rank[inverse]
    border = np.flatnonzero(~core)
    if border.size and core_idx.size:
        dist, nearest = cKDTree(pts[core_idx]).query(pts[border], distance_upper_bound=radius_m)
        ok = np.isfinite(dist)
        labels[border[ok]] = labels[core_idx[nearest[ok]]]
    return labels


@dataclass(frozen=True, eq=False)
class Belts:
    """Belt detection output.

    Parameters
    ----------
    labels
        Belt id per employer (index of ``belts``), ``-1`` = not in a belt.
    belts
        One row per belt: ``belt_id, industry, n_employers, demand, geometry`` (polygon in
        the employers' projected CRS).
    """

    labels: NDArray[np.intp]
    belts: gpd.GeoDataFrame


def detect_belts(
    employers: gpd.GeoDataFrame,
    *,
    industry_col: str = "industry",
    demand_col: str = "demand",
    radius_m: float = 800.0,
    min_demand: float = 50.0,
    buffer_m: float = 200.0,
) -> Belts:
    """Detect the belts of each industry from employer points weighted by hiring demand.

    Parameters
    ----------
    employers
        Point layer in a projected CRS (metres).
    industry_col, demand_col
        Columns holding the industry code and the hiring demand.
    radius_m, min_demand
        Density parameters (see :func:`density_clusters`), applied per industry.
    buffer_m
        Buffer (m) around the convex hull of each belt's members.
    """
    problems: list[str] = []
    if employers.crs is None or not employers.crs.is_projected:
        problems.append("`employers` must be in a projected CRS (metres)")
    for col in (industry_col, demand_col):
        if col not in employers.columns:
            problems.append(f"column `{col}` is missing")
    if problems:
        raise InputError([Problem("employers", None, p) for p in problems])
    xy = shapely.get_coordinates(employers.geometry.centroid.values)
    demand = employers[demand_col].to_numpy(dtype=np.float64)
    industry = employers[industry_col].astype(str).to_numpy()
    labels = np.full(len(employers), -1, dtype=np.intp)
    records: list[dict[str, object]] = []
    for code in pd.unique(industry):
        rows = np.flatnonzero(industry == code)
        local = density_clusters(xy[rows], demand[rows], radius_m=radius_m, min_demand=min_demand)
        for k in range(int(local.max()) + 1 if local.size else 0):
            members = rows[local == k]
            belt_id = len(records)
            labels[members] = belt_id
            hull = shapely.convex_hull(shapely.multipoints(xy[members]))
            records.append(
                {
                    "belt_id": belt_id,
                    "industry": code,
                    "n_employers": int(members.size),
                    "demand": float(demand[members].sum()),
                    "geometry": shapely.buffer(hull, buffer_m),
                }
            )
    columns = ["belt_id", "industry", "n_employers", "demand", "geometry"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    belts = gpd.GeoDataFrame(frame, geometry="geometry", crs=employers.crs)
    logger.info("detected %d belts over %d industries", len(belts), len(pd.unique(industry)))
    return Belts(labels, belts)
