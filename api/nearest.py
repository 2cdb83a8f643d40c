"""The k nearest service points of any point, in O(k) after one precomputation per mode.

At start-up every network node is labelled, per industry group, with its `k_max` nearest
service points: the travel time (s) from the node to each and the distance (m) along that
fastest path. Labels come from the travel-time engine's searches (:mod:`geo.engine`:
service points are snapped onto their streets and searched from on the reversed graph, with
the distances read off the search trees), so a query never runs a shortest-path search:

1. project the query point to the network CRS and snap it onto the nearest usable street
   edge (the engine's spatial index);
2. the point leaves its edge through one of the two ends (partial edge time, plus the
   off-network leg at walking speed), so its k nearest are the best k of the two ends'
   label rows (plus any service point on the same edge, reached directly along it).

This is exact: a service point among the k nearest of the query point is among the k
nearest of the end node its fastest path leaves through (ties aside).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyproj

from geo import TravelMode
from geo.engine import ModeBase, SnappedPoints
from geo.engine.paths import Route, route
from geo.engine.segment_index import SegmentIndex
from geo.engine.snap import WALK_SPEED_MS, partial_time, snap_points
from geo.engine.voronoi import label_k_with_lengths
from geo.network import StreetNetwork

logger = logging.getLogger(__name__)

ALL = ""
"""Group key of "every service point" (no industry filter)."""


@dataclass(frozen=True)
class Nearest:
    """Answer of a nearest query for m points.

    Attributes
    ----------
    facility
        ``(m, k)`` indices into the service points, nearest first; ``-1`` for none.
    time_s, length_m
        ``(m, k)`` travel time (s) and network distance (m), access legs included;
        ``inf`` where none.
    snap_m
        ``(m,)`` distance (m) from each point to its street; ``nan`` if not snapped.
    valid
        ``(m,)`` False for points farther than the snap limit from every street (or not
        finite); those have no answers.
    """

    facility: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray
    snap_m: np.ndarray
    valid: np.ndarray


@dataclass(frozen=True, eq=False)
class _Labels:
    facility: np.ndarray  # (n_nodes, K) int32, -1 for none
    time_s: np.ndarray  # (n_nodes, K)
    length_m: np.ndarray  # (n_nodes, K)


class NearestIndex:
    """Precomputed nearest-service-point labels of one travel mode.

    Parameters
    ----------
    network
        The street network.
    mode
        Travel mode of the person going to the service point.
    lon, lat
        Service point locations (degrees, EPSG:4326).
    groups
        Per group key (e.g. an industry code) the indices of the service points in it;
        :data:`ALL` (every point) is always added.
    k_max
        Largest k that will be asked.
    max_snap_m
        Query points and service points farther than this (m) from every usable street are
        not snapped.
    """

    def __init__(
        self,
        network: StreetNetwork,
        mode: TravelMode | str,
        lon: np.ndarray,
        lat: np.ndarray,
        *,
        groups: Mapping[str, Sequence[int] | np.ndarray] | None = None,
        k_max: int = 5,
        max_snap_m: float = 2000.0,
    ) -> None:
        if k_max < 1:
            msg = f"`k_max` must be at least 1, got {k_max}"
            raise ValueError(msg)
        self.network = network
        self.mode = TravelMode(mode)
        self.k_max = int(k_max)
        self.max_snap_m = float(max_snap_m)
        self.base = ModeBase.build(network, self.mode)
        self.segments = SegmentIndex(self.base)
        self._to_metric = pyproj.Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)
        n_fac = int(np.asarray(lon).size)
        fx, fy = self._project(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        self.facilities = snap_points(
            self.base, fx, fy, np.arange(n_fac), max_snap_m=self.max_snap_m, on_error="mask"
        )
        if not self.facilities.valid.all():
            logger.warning(
                "%s: %d of %d service points are farther than %g m from a street; "
                "they are never answered",
                self.mode.value,
                int((~self.facilities.valid).sum()),
                n_fac,
                self.max_snap_m,
            )
        wanted: dict[str, np.ndarray] = {ALL: np.arange(n_fac)}
        for key, members in (groups or {}).items():
            wanted[str(key)] = np.asarray(members, dtype=np.int64)
        self.labels = self._label(wanted)
        # Facilities per street edge, for points on the same edge as a facility.
        ok = np.flatnonzero(self.facilities.valid)
        self._fac_edges = np.unique(self.facilities.edge[ok])
        self._fac_edge_mask = np.zeros(network.n_edges, dtype=bool)
        self._fac_edge_mask[self._fac_edges] = True
        self._by_edge: dict[int, np.ndarray] = {
            int(e): ok[self.facilities.edge[ok] == e] for e in self._fac_edges
        }
        self._members = {key: np.isin(np.arange(n_fac), m) for key, m in wanted.items()}

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.labels)

    def _project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._to_metric.transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    # -- precomputation ----------------------------------------------------------------------

    def _label(self, groups: dict[str, np.ndarray]) -> dict[str, _Labels]:
        """Times and path lengths from every node to the k nearest service points per group."""
        top = label_k_with_lengths(self.base, self.facilities, groups, k=self.k_max)
        out = {key: _Labels(fac, tim, lng) for key, (fac, tim, lng) in top.items()}
        logger.info(
            "%s: labelled %d nodes with the %d nearest of %d service points, %d group(s)",
            self.mode.value,
            self.base.n_nodes,
            self.k_max,
            len(self.facilities),
            len(out),
        )
        return out

    # -- queries ----------------------------------------------------------------------------

    def snap(self, lon: np.ndarray, lat: np.ndarray) -> SnappedPoints:
        """Snap points given in degrees (EPSG:4326); far or non-finite points are invalid."""
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        x, y = self._project(lon, lat)
        return self.segments.snap(x, y, max_snap_m=self.max_snap_m)

    def query(self, lon: np.ndarray, lat: np.ndarray, *, k: int = 1, group: str = ALL) -> Nearest:
        """The `k` nearest service points (of `group`) of each point (degrees, EPSG:4326)."""
        if not 1 <= k <= self.k_max:
            msg = f"`k` must be in 1..{self.k_max}, got {k}"
            raise ValueError(msg)
        if group not in self.labels:
            msg = f"unknown group {group!r}; groups: {', '.join(sorted(self.labels))}"
            raise ValueError(msg)
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        if lon.size == 1:
            return self._query_one(float(lon[0]), float(lat[0]), k, group)
        pts = self.snap(lon, lat)
        fac, tim, lng = self._merge(pts, self.labels[group], group, k)
        return Nearest(fac, tim, lng, pts.distance_m, pts.valid)

    def _query_one(self, lon: float, lat: float, k: int, group: str) -> Nearest:
        x, y = self._to_metric.transform(lon, lat)
        e, f, dist = self.segments.snap_one(x, y, max_snap_m=self.max_snap_m)
        fac, tim, lng = self._merge_one(e, f, dist, self.labels[group], group, k)
        return Nearest(fac, tim, lng, np.array([dist]), np.array([e >= 0]))

    def _merge_one(
        self, e: int, f: float, access_m: float, lab: _Labels, group: str, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_merge` for one point snapped to edge `e` at fraction `f`, in plain Python
        (numpy's per-call overhead would dominate)."""
        fac = np.full((1, k), -1, dtype=np.int64)
        tim = np.full((1, k), np.inf)
        lng = np.full((1, k), np.inf)
        if e < 0:
            return fac, tim, lng
        base, net = self.base, self.network
        access_s = access_m / WALK_SPEED_MS
        street_m = float(net.edge_length_m[e])
        best: dict[int, tuple[float, float]] = {}
        ends = (
            (int(net.edge_v[e]), _portion(1.0 - f, float(base.t_fwd[e])), (1.0 - f) * street_m),
            (int(net.edge_u[e]), _portion(f, float(base.t_bwd[e])), f * street_m),
        )
        for node, t_leg, m_leg in ends:
            if t_leg == math.inf:
                continue
            for j, t, m in zip(
                lab.facility[node].tolist(),
                lab.time_s[node].tolist(),
                lab.length_m[node].tolist(),
                strict=True,
            ):
                if j < 0:
                    break
                cand = (t + t_leg + access_s, m + m_leg + access_m)
                if j not in best or cand[0] < best[j][0]:
                    best[j] = cand
        if self._fac_edge_mask[e]:
            for j, t, m in self._same_edge_one(e, f, access_m, group):
                if j not in best or t < best[j][0]:
                    best[j] = (t, m)
        ranked = sorted(best.items(), key=lambda item: item[1][0])[:k]
        for r, (j, (t, m)) in enumerate(ranked):
            fac[0, r], tim[0, r], lng[0, r] = j, t, m
        return fac, tim, lng

    def _merge(
        self, pts: SnappedPoints, lab: _Labels, group: str, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        base, net = self.base, self.network
        ok = pts.valid
        e = np.where(ok, pts.edge, 0)
        f = np.where(ok, pts.fraction, 0.0)
        access_m = np.where(ok, pts.distance_m, np.inf)
        access_s = access_m / WALK_SPEED_MS
        street_m = net.edge_length_m[e]
        # Leaving forward reaches edge_v after (1 - f) of the edge, backward edge_u after f.
        exits = (
            (net.edge_v[e], partial_time(1 - f, base.t_fwd[e]), (1 - f) * street_m),
            (net.edge_u[e], partial_time(f, base.t_bwd[e]), f * street_m),
        )
        fac = np.concatenate([lab.facility[node] for node, _, _ in exits], axis=1)
        tim = np.concatenate(
            [lab.time_s[node] + (t + access_s)[:, None] for node, t, _ in exits], axis=1
        )
        lng = np.concatenate(
            [lab.length_m[node] + (m + access_m)[:, None] for node, _, m in exits], axis=1
        )
        if self._fac_edges.size:
            fac, tim, lng = self._same_edge(pts, fac, tim, lng, group)
        return _top_k_unique(fac, tim, lng, k)

    def _same_edge(
        self,
        pts: SnappedPoints,
        fac: np.ndarray,
        tim: np.ndarray,
        lng: np.ndarray,
        group: str,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add direct candidates for service points on a query point's own street edge."""
        edge = np.where(pts.valid, pts.edge, 0)
        hit = np.flatnonzero(pts.valid & self._fac_edge_mask[edge])
        rows = self._same_edge_rows(pts, hit, group) if hit.size else []
        if not rows:
            return fac, tim, lng
        width = max(np.unique([r[0] for r in rows], return_counts=True)[1])
        add_f = np.full((fac.shape[0], width), -1, dtype=fac.dtype)
        add_t = np.full((fac.shape[0], width), np.inf)
        add_l = np.full((fac.shape[0], width), np.inf)
        fill: dict[int, int] = {}
        for i, j, t, m in rows:
            c = fill.get(i, 0)
            add_f[i, c], add_t[i, c], add_l[i, c] = j, t, m
            fill[i] = c + 1
        return (
            np.concatenate([fac, add_f], axis=1),
            np.concatenate([tim, add_t], axis=1),
            np.concatenate([lng, add_l], axis=1),
        )

    def _same_edge_rows(
        self, pts: SnappedPoints, hit: np.ndarray, group: str
    ) -> list[tuple[int, int, float, float]]:
        """(point, service point, time s, length m) straight along the shared street edge.

        Rare (a query point on the very street of a service point), so a plain loop.
        """
        rows: list[tuple[int, int, float, float]] = []
        for i in hit.tolist():
            e, f, d = int(pts.edge[i]), float(pts.fraction[i]), float(pts.distance_m[i])
            rows.extend((i, j, t, m) for j, t, m in self._same_edge_one(e, f, d, group))
        return rows

    def _same_edge_one(
        self, e: int, f: float, access_m: float, group: str
    ) -> list[tuple[int, int | float, float]]:
        """(service point, time s, length m) from fraction `f` of edge `e` along the edge."""
        base, fp, member = self.base, self.facilities, self._members[group]
        out: list[tuple[int, int | float, float]] = []
        for j in self._by_edge[e].tolist():
            if not member[j]:
                continue
            delta = float(fp.fraction[j]) - f
            t_edge = float(base.t_fwd[e] if delta >= 0 else base.t_bwd[e])
            t = _portion(abs(delta), t_edge)
            if t == math.inf:
                continue
            access = access_m + float(fp.distance_m[j])
            m = abs(delta) * float(self.network.edge_length_m[e]) + access
            out.append((j, t + access / WALK_SPEED_MS, m))
        return out

    def route(self, lon: float, lat: float, facility: int) -> Route:
        """The fastest street-following route from a point to service point `facility`.

        Runs one search (for drawing one route, not for ranking).
        """
        origin = self.snap(np.array([lon]), np.array([lat]))
        return route(self.base, origin, self.facilities.take([facility]))


def _portion(portion: float, time_s: float) -> float:
    """Time (s) of a portion of an edge; none of an edge costs 0 even if barred (inf)."""
    return 0.0 if portion == 0 else portion * time_s


def _top_k_unique(
    fac: np.ndarray, tim: np.ndarray, lng: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row the k fastest distinct facilities (one may appear through both edge ends)."""
    tim = np.where(fac >= 0, tim, np.inf)
    order = np.argsort(tim, axis=1, kind="stable")
    fac = np.take_along_axis(fac, order, axis=1)
    tim = np.take_along_axis(tim, order, axis=1)
    lng = np.take_along_axis(lng, order, axis=1)
    # A repeat is always slower than the first occurrence (sorted), so drop later ones.
    dup = np.zeros(fac.shape, dtype=bool)
    for j in range(1, fac.shape[1]):
        dup[:, j] = (fac[:, :j] == fac[:, j : j + 1]).any(axis=1)
    tim = np.where(dup, np.inf, tim)
    order = np.argsort(tim, axis=1, kind="stable")[:, :k]
    fac = np.take_along_axis(fac, order, axis=1)
    tim = np.take_along_axis(tim, order, axis=1)
    lng = np.take_along_axis(lng, order, axis=1)
    none = ~np.isfinite(tim)
    return np.where(none, -1, fac), tim, np.where(none, np.inf, lng)
