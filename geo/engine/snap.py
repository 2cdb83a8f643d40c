"""Snap points onto the street network of one travel mode.

Points are projected onto the nearest *street edge* the mode may use (a shapely STRtree
over edge geometries), not onto the nearest node. On OpenStreetMap data edges are often
hundreds of metres long, so a point in the middle of a long street would otherwise start
from a node far away and be charged (or spared) the walk along half the street. With edge
snapping a point starts from its projection, and the partial edge time to either end is
exact (uniform speed along an edge). The straight leg from the point to its projection (the
*snap distance*) is charged at walking speed (:data:`geo.modes.WALK_SPEED_KPH`) in every
mode: people walk to the street and to the door.

Points farther than ``max_snap_m`` from every usable edge, or with non-finite coordinates,
are rejected with :class:`geo.SnapError` naming them, or marked invalid with
``on_error="mask"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import pyproj
import shapely

from ..errors import SnapError
from ..modes import WALK_SPEED_KPH, TravelMode
from .base import Arcs, ModeBase

logger = logging.getLogger(__name__)

DEFAULT_MAX_SNAP_M = 2000.0
"""Default largest distance (m) between a point and the street it is snapped to."""

WALK_SPEED_MS = WALK_SPEED_KPH / 3.6
"""Walking speed (m/s) of the off-network access leg."""

_LIST_LIMIT = 20


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """Points projected onto the street edges of one mode.

    All coordinates are metres in the network CRS.

    Attributes
    ----------
    ids
        Identifier of each point (the ``id`` column or index of a GeoDataFrame, the `ids`
        argument, else ``0..n-1``).
    x, y
        The input points.
    edge
        Street edge (index into the network's edge arrays) each point is snapped to, ``-1``
        where invalid.
    fraction
        Position along the edge's digitised direction, 0 at ``edge_u``, 1 at ``edge_v``.
    snap_x, snap_y
        The projection on the street.
    distance_m
        Straight distance from the point to its projection (the off-network leg).
    valid
        False for points that could not be snapped (only with ``on_error="mask"``).
    mode
        Travel mode whose streets were used.
    """

    ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge: np.ndarray
    fraction: np.ndarray
    snap_x: np.ndarray
    snap_y: np.ndarray
    distance_m: np.ndarray
    valid: np.ndarray
    mode: TravelMode

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def access_s(self) -> np.ndarray:
        """Time (s) of the off-network leg at walking speed (``nan`` where invalid)."""
        return np.where(self.valid, self.distance_m / WALK_SPEED_MS, np.nan)

    def take(self, index: Any) -> SnappedPoints:
        """The points at `index` (integer positions, slice or boolean mask)."""
        idx = np.arange(len(self))[index]
        idx = np.atleast_1d(idx)
        return SnappedPoints(
            ids=self.ids[idx],
            x=self.x[idx],
            y=self.y[idx],
            edge=self.edge[idx],
            fraction=self.fraction[idx],
            snap_x=self.snap_x[idx],
            snap_y=self.snap_y[idx],
            distance_m=self.distance_m[idx],
            valid=self.valid[idx],
            mode=self.mode,
        )

    def nearest_node(self, base: ModeBase) -> np.ndarray:
        """The end node of each point's edge closer along the street (``-1`` where invalid)."""
        e = np.where(self.valid, self.edge, 0)
        node = np.where(
            self.fraction <= 0.5, base.network.edge_u[e], base.network.edge_v[e]
        ).astype(np.int64)
        return np.where(self.valid, node, -1)

    def to_frame(self) -> pd.DataFrame:
        """One row per point (for reports and debugging)."""
        return pd.DataFrame(
            {
                "id": self.ids,
                "edge": self.edge,
                "fraction": self.fraction,
                "snap_x": self.snap_x,
                "snap_y": self.snap_y,
                "distance_m": self.distance_m,
                "valid": self.valid,
            }
        )


def coerce_points(
    points: Any, *, network_crs: str, crs: Any = None, ids: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points as ``x``, ``y`` arrays in `network_crs` (metres) and their ids.

    Parameters
    ----------
    points
        A GeoDataFrame/GeoSeries (its own CRS is used), shapely points (one or an array), an
        ``(n, 2)`` array-like or one ``(x, y)`` pair.
    network_crs
        Target CRS.
    crs
        CRS of plain coordinates (e.g. ``"EPSG:4326"`` for lon/lat); default `network_crs`.
    ids
        Point identifiers; default the GeoDataFrame's ``id`` column or index, else ``0..n-1``.
    """
    xy, own_crs, default_ids = _xy_of(points)
    if own_crs is not None:
        if crs is not None and pyproj.CRS(crs) != own_crs:
            msg = f"`crs` {crs!r} contradicts the points' own CRS {own_crs.to_string()}"
            raise ValueError(msg)
        crs = own_crs
    x = xy[:, 0].astype(float).copy()
    y = xy[:, 1].astype(float).copy()
    if crs is not None and pyproj.CRS(crs) != pyproj.CRS(network_crs):
        tr = pyproj.Transformer.from_crs(crs, network_crs, always_xy=True)
        x, y = (np.asarray(a, dtype=float) for a in tr.transform(x, y))
    if ids is None:
        ids = default_ids if default_ids is not None else np.arange(x.size)
    ids = np.asarray(ids)
    if ids.shape != (x.size,):
        msg = f"`ids` must have one entry per point ({x.size}), got shape {ids.shape}"
        raise ValueError(msg)
    return x, y, ids


def _xy_of(points: Any) -> tuple[np.ndarray, pyproj.CRS | None, np.ndarray | None]:
    """``(n, 2)`` coordinates of `points`, their own CRS and ids (GeoPandas input only)."""
    import geopandas as gpd

    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        if isinstance(points, gpd.GeoDataFrame) and "id" in points.columns:
            ids = points["id"].to_numpy()
        else:
            ids = points.index.to_numpy()
        xy = _xy_of_geometries(np.asarray(points.geometry.array, dtype=object))
        return xy, points.crs, ids
    if isinstance(points, shapely.Geometry):
        return _xy_of_geometries(np.array([points], dtype=object)), None, None
    arr = np.asarray(points)
    if arr.dtype == object and arr.size and isinstance(arr.flat[0], shapely.Geometry):
        return _xy_of_geometries(arr.ravel()), None, None
    try:
        xy = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        msg = "`points` must be (n, 2) coordinates, shapely points or a GeoDataFrame"
        raise ValueError(msg) from None
    if xy.ndim == 1 and xy.size == 2:
        xy = xy.reshape(1, 2)
    if xy.ndim != 2 or xy.shape[1] != 2:
        msg = f"`points` must have shape (n, 2), got {xy.shape}"
        raise ValueError(msg)
    return xy, None, None


def _xy_of_geometries(geoms: np.ndarray) -> np.ndarray:
    """Coordinates of point geometries; empty or missing geometries give NaN."""
    xy = np.full((geoms.size, 2), np.nan)
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if ok.any():
        kinds = shapely.get_type_id(geoms[ok])
        if (kinds != 0).any():
            msg = "`points` must be point geometries"
            raise ValueError(msg)
        xy[ok] = shapely.get_coordinates(geoms[ok])
    return xy


def snap_points(
    base: ModeBase,
    x: np.ndarray,
    y: np.ndarray,
    ids: np.ndarray,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    on_error: Literal["raise", "mask"] = "raise",
) -> SnappedPoints:
    """Project points onto the nearest street edge usable by the base's mode.

    Raises
    ------
    SnapError
        With ``on_error="raise"``, if any point has non-finite coordinates or lies farther
        than `max_snap_m` from every usable street; the message names each such point.
    """
    if on_error not in ("raise", "mask"):
        msg = f"`on_error` must be 'raise' or 'mask', got {on_error!r}"
        raise ValueError(msg)
    if not (np.isfinite(max_snap_m) and max_snap_m >= 0):
        msg = f"`max_snap_m` must be a finite distance >= 0 m, got {max_snap_m!r}"
        raise ValueError(msg)
    n = x.size
    edge = np.full(n, -1, dtype=np.int64)
    fraction = np.full(n, np.nan)
    sx = np.full(n, np.nan)
    sy = np.full(n, np.nan)
    dist = np.full(n, np.inf)
    finite = np.isfinite(x) & np.isfinite(y)
    usable = np.flatnonzero(base.usable)
    if finite.any() and usable.size:
        tree, lines = _tree(base)
        pts = shapely.points(x[finite], y[finite])
        (pi, li), d = tree.query_nearest(pts, return_distance=True, all_matches=False)
        where = np.flatnonzero(finite)[pi]
        line = lines[li]
        along = shapely.line_locate_point(line, pts[pi])
        total = shapely.length(line)
        proj = shapely.line_interpolate_point(line, along)
        edge[where] = usable[li]
        fraction[where] = np.where(
            total > 0, np.clip(along / np.where(total > 0, total, 1), 0, 1), 0
        )
        sx[where] = shapely.get_x(proj)
        sy[where] = shapely.get_y(proj)
        dist[where] = d
    valid = (edge >= 0) & (dist <= max_snap_m)
    if not valid.all() and on_error == "raise":
        raise SnapError(_snap_message(ids, x, y, dist, ~valid, max_snap_m, base.mode))
    if not valid.all():
        logger.info("%d of %d points could not be snapped (%s)", (~valid).sum(), n, base.mode)
    edge[~valid] = -1
    return SnappedPoints(
        ids=ids,
        x=x,
        y=y,
        edge=edge,
        fraction=np.where(valid, fraction, np.nan),
        snap_x=np.where(valid, sx, np.nan),
        snap_y=np.where(valid, sy, np.nan),
        distance_m=np.where(valid, dist, np.nan),
        valid=valid,
        mode=base.mode,
    )


def _tree(base: ModeBase) -> tuple[shapely.STRtree, np.ndarray]:
    """Spatial index over the mode's usable street lines (built once per mode)."""

    def build() -> tuple[shapely.STRtree, np.ndarray]:
        lines = base.lines[base.usable]
        return shapely.STRtree(lines), lines

    tree, lines = cast(tuple[shapely.STRtree, np.ndarray], base.memo("tree", build))
    return tree, lines


def _snap_message(
    ids: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    dist: np.ndarray,
    bad: np.ndarray,
    max_snap_m: float,
    mode: TravelMode,
) -> str:
    where = np.flatnonzero(bad)
    parts = []
    for i in where[:_LIST_LIMIT]:
        if not (np.isfinite(x[i]) and np.isfinite(y[i])):
            why = "coordinates are not finite"
        elif not np.isfinite(dist[i]):
            why = "no usable street"
        else:
            why = f"{dist[i]:.1f} m from the nearest street"
        parts.append(f"id {plain(ids[i])!r} (index {i}): {why}")
    more = f"; ... and {where.size - _LIST_LIMIT} more" if where.size > _LIST_LIMIT else ""
    return (
        f"{where.size} point(s) cannot be snapped to the {mode.value} network "
        f"(`max_snap_m` = {max_snap_m:g} m): " + "; ".join(parts) + more
    )


# ---------------------------------------------------------------------------------------------
# Legs between snapped points and the real nodes of their street edges


def leaving_arcs(base: ModeBase, pts: SnappedPoints, first: int) -> Arcs:
    """Arcs from virtual nodes ``first + i`` (point i) to the ends it may travel to."""
    return _legs(base, pts, first, leaving=True)


def arriving_arcs(base: ModeBase, pts: SnappedPoints, first: int) -> Arcs:
    """Arcs into virtual nodes ``first + i`` (point i) from the ends it may be reached from."""
    return _legs(base, pts, first, leaving=False)


def _legs(base: ModeBase, pts: SnappedPoints, first: int, *, leaving: bool) -> Arcs:
    ok = np.flatnonzero(pts.valid)
    e = pts.edge[ok]
    f = pts.fraction[ok]
    access_t = pts.distance_m[ok] / WALK_SPEED_MS
    access_m = pts.distance_m[ok]
    street_len = base.network.edge_length_m[e]
    u = base.network.edge_u[e].astype(np.int64)
    v = base.network.edge_v[e].astype(np.int64)
    tf, tb = base.t_fwd[e], base.t_bwd[e]
    me = first + ok.astype(np.int64)
    # Leaving: forward to v costs (1-f) of the forward time, backward to u costs f of the
    # backward time. Arriving: from u along the forward direction (f), from v backward (1-f).
    if leaving:
        cand = [
            (v, partial_time(1 - f, tf), (1 - f) * street_len),
            (u, partial_time(f, tb), f * street_len),
        ]
    else:
        cand = [
            (u, partial_time(f, tf), f * street_len),
            (v, partial_time(1 - f, tb), (1 - f) * street_len),
        ]
    srcs, dsts, ts, ls = [], [], [], []
    for node, t, ln in cand:
        allowed = np.isfinite(t)
        srcs.append(me[allowed] if leaving else node[allowed])
        dsts.append(node[allowed] if leaving else me[allowed])
        ts.append(t[allowed] + access_t[allowed])
        ls.append(ln[allowed] + access_m[allowed])
    arcs, _ = Arcs.fastest(
        np.concatenate(srcs), np.concatenate(dsts), np.concatenate(ts), np.concatenate(ls)
    )
    return arcs


def direct_arcs(
    base: ModeBase, origins: SnappedPoints, first_o: int, dests: SnappedPoints, first_d: int
) -> Arcs:
    """Arcs between an origin and a destination on the same street edge, along the edge.

    Travelling from fraction ``fo`` to ``fd`` needs the forward direction when ``fd >= fo``
    and the backward direction when ``fd <= fo``.
    """
    o = pd.DataFrame({"o": np.flatnonzero(origins.valid)})
    o["edge"] = origins.edge[o["o"]]
    d = pd.DataFrame({"d": np.flatnonzero(dests.valid)})
    d["edge"] = dests.edge[d["d"]]
    pairs = o.merge(d, on="edge")
    if pairs.empty:
        return Arcs(*(np.empty(0, dtype=t) for t in (np.int64, np.int64, float, float)))
    oi = pairs["o"].to_numpy()
    di = pairs["d"].to_numpy()
    e = pairs["edge"].to_numpy()
    delta = dests.fraction[di] - origins.fraction[oi]
    t_edge = np.where(delta >= 0, base.t_fwd[e], base.t_bwd[e])
    t = (
        partial_time(np.abs(delta), t_edge)
        + (origins.distance_m[oi] + dests.distance_m[di]) / WALK_SPEED_MS
    )
    ln = (
        np.abs(delta) * base.network.edge_length_m[e]
        + origins.distance_m[oi]
        + dests.distance_m[di]
    )
    ok = np.isfinite(t)
    arcs, _ = Arcs.fastest(first_o + oi[ok], first_d + di[ok], t[ok], ln[ok])
    return arcs


def partial_time(portion: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Time (s) of a `portion` of an edge; nothing of an edge costs 0 even if barred (inf)."""
    with np.errstate(invalid="ignore"):
        return np.where(portion == 0, 0.0, portion * time_s)


def partial_time_one(portion: float, time_s: float) -> float:
    """:func:`partial_time` of one edge in plain Python (for per-query code paths)."""
    return 0.0 if portion == 0 else portion * time_s


def plain(value: object) -> object:
    """A numpy scalar as the Python value (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value
