"""Synthetic street graphs for tests and benchmarks (osmnx-style, EPSG:4326).

A jittered grid with a few missing blocks, mixed road classes, one-way streets (both
digitisation directions) and edge lengths slightly above the straight distance, so that
shortest paths have no ties. Not a model of any real city (see :mod:`geo.democity` for the
demo city).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyproj

from ..network import utm_crs

_CLASSES = np.array(["primary", "secondary", "tertiary", "residential", "service", "footway"])
_CLASS_P = np.array([0.08, 0.1, 0.12, 0.5, 0.1, 0.1])


def grid_graph(
    rows: int,
    cols: int,
    *,
    spacing_m: float = 120.0,
    jitter: float = 0.25,
    drop: float = 0.08,
    oneway: float = 0.15,
    seed: int = 0,
    centre_lonlat: tuple[float, float] = (113.75, 23.02),
    geometry: bool = False,
) -> nx.MultiDiGraph[int]:
    """A jittered `rows` x `cols` grid street graph.

    Parameters
    ----------
    spacing_m
        Block size (m).
    jitter
        Node displacement as a share of `spacing_m`.
    drop
        Share of grid edges removed.
    oneway
        Share of the remaining edges that are one-way (random direction).
    seed
        Random seed.
    centre_lonlat
        Where to place the grid (degrees).
    geometry
        Give each edge a bent two-segment geometry (as OSM ways have).
    """
    rng = np.random.default_rng(seed)
    crs = utm_crs(*centre_lonlat)
    to_lonlat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    cx, cy = to_metric.transform(*centre_lonlat)
    gy, gx = np.mgrid[0:rows, 0:cols]
    x = cx + (gx.ravel() - cols / 2) * spacing_m + rng.normal(0, jitter * spacing_m, rows * cols)
    y = cy + (gy.ravel() - rows / 2) * spacing_m + rng.normal(0, jitter * spacing_m, rows * cols)
    lon, lat = to_lonlat.transform(x, y)
    idx = np.arange(rows * cols).reshape(rows, cols)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(u.size) >= drop
    u, v = u[keep], v[keep]
    flip = rng.random(u.size) < 0.5
    u, v = np.where(flip, v, u), np.where(flip, u, v)
    straight = np.hypot(x[v] - x[u], y[v] - y[u])
    length = straight * rng.uniform(1.0, 1.3, u.size)
    highway = rng.choice(_CLASSES, size=u.size, p=_CLASS_P)
    is_oneway = (rng.random(u.size) < oneway) & (highway != "footway")
    bend = rng.normal(0, 0.1, (u.size, 2)) * spacing_m

    graph: nx.MultiDiGraph[int] = nx.MultiDiGraph(crs="EPSG:4326")
    node_ids = np.arange(rows * cols, dtype=np.int64) + 1000
    graph.add_nodes_from(
        (int(i), {"x": float(a), "y": float(b)}) for i, a, b in zip(node_ids, lon, lat, strict=True)
    )
    for k in range(u.size):
        a, b = int(u[k]), int(v[k])
        attrs: dict[str, object] = {
            "length": float(length[k]),
            "highway": str(highway[k]),
            "oneway": bool(is_oneway[k]),
            "reversed": False,
        }
        if geometry:
            import shapely

            mx = (x[a] + x[b]) / 2 + bend[k, 0]
            my = (y[a] + y[b]) / 2 + bend[k, 1]
            pts = np.column_stack(to_lonlat.transform([x[a], mx, x[b]], [y[a], my, y[b]]))
            line = shapely.LineString(pts)
            attrs["geometry"] = line
            attrs["length"] = float(_metric_length(line, to_metric))
        graph.add_edge(int(node_ids[a]), int(node_ids[b]), **attrs)
        if not is_oneway[k]:
            rev = dict(attrs, reversed=True)
            if geometry:
                rev["geometry"] = attrs["geometry"].reverse()  # type: ignore[attr-defined]
            graph.add_edge(int(node_ids[b]), int(node_ids[a]), **rev)
    return graph


def _metric_length(line: object, to_metric: pyproj.Transformer) -> float:
    import shapely

    coords = np.asarray(shapely.get_coordinates(line))
    mx, my = to_metric.transform(coords[:, 0], coords[:, 1])
    return float(np.hypot(np.diff(mx), np.diff(my)).sum())
