"""From node labels to the k nearest facilities of snapped points.

A snapped point leaves its street edge through one of the two ends (partial edge time plus
the off-network leg at walking speed), or reaches a facility on the same edge directly along
it. Its k nearest facilities are therefore the best k distinct ones among: the labels of
both end nodes (each plus its leg) and the facilities on its own edge. This is exact: a
facility among the k nearest of the point is among the k nearest of the end node its
fastest path leaves through (ties aside).

Used by :class:`~geo.engine.voronoi.NearestFacilities` (times) and
:class:`~geo.engine.nearest.NearestIndex` (times and path lengths).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import ModeBase
from .snap import WALK_SPEED_MS, SnappedPoints, partial_time, partial_time_one


@dataclass(frozen=True, eq=False)
class Candidates:
    """Candidate facilities per point (one row per point, any number of columns).

    ``facility`` is ``-1`` and ``time_s``/``length_m`` are ``inf`` where a slot is empty.
    ``length_m`` is ``None`` when lengths are not tracked.
    """

    facility: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray | None

    def concat(self, other: Candidates) -> Candidates:
        lng = None
        if self.length_m is not None and other.length_m is not None:
            lng = np.concatenate([self.length_m, other.length_m], axis=1)
        return Candidates(
            np.concatenate([self.facility, other.facility], axis=1),
            np.concatenate([self.time_s, other.time_s], axis=1),
            lng,
        )


def via_edge_ends(
    base: ModeBase,
    points: SnappedPoints,
    facility: np.ndarray,
    time_s: np.ndarray,
    length_m: np.ndarray | None = None,
) -> Candidates:
    """Candidates through both ends of each point's edge, from per-node labels.

    Parameters
    ----------
    facility, time_s, length_m
        ``(n_nodes, k)`` labels: nearest facilities of every node, the time (s) and path
        length (m) from the node to each.
    """
    net = base.network
    ok = points.valid
    e = np.where(ok, points.edge, 0)
    f = np.where(ok, points.fraction, 0.0)
    access_m = np.where(ok, points.distance_m, np.inf)
    access_s = access_m / WALK_SPEED_MS
    street_m = net.edge_length_m[e]
    # Leaving forward reaches edge_v after (1 - f) of the edge, backward edge_u after f.
    exits = (
        (net.edge_v[e], partial_time(1 - f, base.t_fwd[e]), (1 - f) * street_m),
        (net.edge_u[e], partial_time(f, base.t_bwd[e]), f * street_m),
    )
    fac = np.concatenate([facility[node] for node, _, _ in exits], axis=1)
    tim = np.concatenate([time_s[node] + (t + access_s)[:, None] for node, t, _ in exits], axis=1)
    lng = None
    if length_m is not None:
        lng = np.concatenate(
            [length_m[node] + (m + access_m)[:, None] for node, _, m in exits], axis=1
        )
    return Candidates(fac, np.where(fac >= 0, tim, np.inf), lng)


class SameEdge:
    """Facilities by street edge, for points on the very street of a facility.

    Parameters
    ----------
    base
        The mode's graph.
    facilities
        Snapped facilities (invalid ones are ignored).
    """

    def __init__(self, base: ModeBase, facilities: SnappedPoints) -> None:
        self.base = base
        self.facilities = facilities
        ok = np.flatnonzero(facilities.valid)
        edges = np.unique(facilities.edge[ok])
        self.edge_mask = np.zeros(base.network.n_edges, dtype=bool)
        self.edge_mask[edges] = True
        self.by_edge: dict[int, list[int]] = {
            int(e): ok[facilities.edge[ok] == e].tolist() for e in edges
        }

    def one(
        self, e: int, f: float, access_m: float, member: np.ndarray
    ) -> list[tuple[int, float, float]]:
        """``(facility, time s, length m)`` from fraction `f` of edge `e` straight along it,
        for facilities with ``member[j]`` true (plain Python: called per query)."""
        fp, base = self.facilities, self.base
        out: list[tuple[int, float, float]] = []
        for j in self.by_edge.get(e, ()):
            if not member[j]:
                continue
            delta = float(fp.fraction[j]) - f
            t = partial_time_one(abs(delta), float(base.t_fwd[e] if delta >= 0 else base.t_bwd[e]))
            if t == math.inf:
                continue
            access = access_m + float(fp.distance_m[j])
            length = abs(delta) * float(base.network.edge_length_m[e]) + access
            out.append((j, t + access / WALK_SPEED_MS, length))
        return out

    def candidates(self, points: SnappedPoints, member: np.ndarray) -> Candidates | None:
        """Direct candidates of every point on a facility's edge; ``None`` if there are none.

        Rare (a point on the very street of a facility), so a plain loop over those points.
        """
        if not self.by_edge:
            return None
        edge = np.where(points.valid, points.edge, 0)
        hit = np.flatnonzero(points.valid & self.edge_mask[edge])
        e, f, d = points.edge.tolist(), points.fraction.tolist(), points.distance_m.tolist()
        rows = [self.one(e[i], f[i], d[i], member) for i in hit.tolist()]
        width = max((len(r) for r in rows), default=0)
        if width == 0:
            return None
        n = len(points)
        fac = np.full((n, width), -1, dtype=np.int64)
        tim = np.full((n, width), np.inf)
        lng = np.full((n, width), np.inf)
        for i, row in zip(hit.tolist(), rows, strict=True):
            for c, (j, t, m) in enumerate(row):
                fac[i, c], tim[i, c], lng[i, c] = j, t, m
        return Candidates(fac, tim, lng)


def top_k_unique(cand: Candidates, k: int) -> Candidates:
    """Per row the `k` fastest distinct facilities (one may appear through both edge ends).

    Returns ``(n, k)`` arrays; empty slots are ``-1``/``inf``.
    """
    fac, tim, lng = cand.facility, np.where(cand.facility >= 0, cand.time_s, np.inf), cand.length_m
    order = np.argsort(tim, axis=1, kind="stable")
    fac = np.take_along_axis(fac, order, axis=1)
    tim = np.take_along_axis(tim, order, axis=1)
    # A repeat is always slower than the first occurrence (sorted), so drop later ones.
    dup = np.zeros(fac.shape, dtype=bool)
    for j in range(1, fac.shape[1]):
        dup[:, j] = ((fac[:, :j] == fac[:, j : j + 1]) & (fac[:, j : j + 1] >= 0)).any(axis=1)
    tim = np.where(dup, np.inf, tim)
    second = np.argsort(tim, axis=1, kind="stable")[:, :k]
    fac = np.take_along_axis(fac, second, axis=1)
    tim = np.take_along_axis(tim, second, axis=1)
    none = ~np.isfinite(tim)
    n = fac.shape[0]
    out_f = np.full((n, k), -1, dtype=np.int64)
    out_t = np.full((n, k), np.inf)
    out_f[:, : fac.shape[1]] = np.where(none, -1, fac)
    out_t[:, : tim.shape[1]] = tim
    out_l = None
    if lng is not None:
        lng = np.take_along_axis(np.take_along_axis(lng, order, axis=1), second, axis=1)
        out_l = np.full((n, k), np.inf)
        out_l[:, : lng.shape[1]] = np.where(none, np.inf, lng)
    return Candidates(out_f, out_t, out_l)
