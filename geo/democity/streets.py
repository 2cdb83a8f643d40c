"""Irregular local street patterns and main-street selection.

A built-up area is a set of jittered points on a few rotated grids (one orientation per
quarter, so neighbourhoods differ). Its streets are the Delaunay triangulation of the points,
thinned to a realistic degree: the minimum spanning tree keeps everything connected and a
random share of the remaining short triangle edges closes blocks, giving a mean degree near
three with T-junctions, crossroads and dead ends, as in Chinese urban villages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay, cKDTree


@dataclass(frozen=True)
class Blob:
    """An irregular, roughly round built-up area (local frame, metres).

    The boundary radius at angle ``t`` is ``radius * (1 + sum(a_k cos(k t + p_k)))`` for
    ``k = 2, 3, 4``.
    """

    cx: float
    cy: float
    radius: float
    amps: tuple[float, float, float]
    phases: tuple[float, float, float]

    def radius_at(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        r = np.ones_like(theta)
        for k, (a, p) in enumerate(zip(self.amps, self.phases, strict=True), start=2):
            r = r + a * np.cos(k * theta + p)
        return self.radius * r

    def contains(self, x: np.ndarray, y: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
        dx, dy = np.asarray(x) - self.cx, np.asarray(y) - self.cy
        return np.hypot(dx, dy) <= self.radius_at(np.arctan2(dy, dx)) + margin

    def edge_point(self, theta: float, *, inset: float = 0.0) -> tuple[float, float]:
        """Point on the boundary at angle `theta` (rad), moved `inset` metres inwards."""
        r = float(self.radius_at(np.array(theta))) - inset
        return self.cx + r * np.cos(theta), self.cy + r * np.sin(theta)

    @property
    def max_radius(self) -> float:
        return self.radius * (1.0 + sum(self.amps))


def make_blob(rng: np.random.Generator, cx: float, cy: float, radius: float) -> Blob:
    amps = tuple(float(a) for a in rng.uniform(0.03, 0.06, size=3))
    phases = tuple(float(p) for p in rng.uniform(0.0, 2 * np.pi, size=3))
    return Blob(cx, cy, radius, amps, phases)  # type: ignore[arg-type]


def blob_points(
    rng: np.random.Generator,
    blob: Blob,
    spacing: float,
    *,
    quarters: int = 3,
    jitter: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Jittered points filling `blob` at about `spacing` metres, one grid angle per sector.

    Returns the points (``(n, 2)``, metres) and the grid angle of each point's sector.
    """
    half = blob.max_radius + spacing
    ticks = np.arange(-half, half + spacing, spacing)
    gu, gv = np.meshgrid(ticks, ticks)
    gu, gv = gu.ravel(), gv.ravel()
    start = rng.uniform(0.0, 2 * np.pi)
    angles = rng.uniform(0.0, np.pi / 2, size=quarters)
    pts, grid_angle = [], []
    for q in range(quarters):
        a = angles[q]
        x = blob.cx + gu * np.cos(a) - gv * np.sin(a)
        y = blob.cy + gu * np.sin(a) + gv * np.cos(a)
        x = x + rng.normal(0.0, jitter * spacing, size=x.size)
        y = y + rng.normal(0.0, jitter * spacing, size=y.size)
        theta = np.mod(np.arctan2(y - blob.cy, x - blob.cx) - start, 2 * np.pi)
        sector = np.minimum((theta / (2 * np.pi / quarters)).astype(int), quarters - 1)
        keep = (sector == q) & blob.contains(x, y)
        pts.append(np.column_stack([x[keep], y[keep]]))
        grid_angle.append(np.full(int(keep.sum()), a))
    xy = np.concatenate(pts)
    ang = np.concatenate(grid_angle)
    # Where sectors meet, two grids overlap: drop the later point of every too-close pair.
    pairs = cKDTree(xy).query_pairs(0.45 * spacing, output_type="ndarray")
    drop = np.zeros(len(xy), dtype=bool)
    drop[pairs.max(axis=1)] = True
    return xy[~drop], ang[~drop]


def delaunay_edges(xy: np.ndarray) -> np.ndarray:
    """Unique undirected edges ``(m, 2)`` (smaller index first) of the Delaunay triangulation."""
    tri = Delaunay(xy).simplices
    e = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    e.sort(axis=1)
    return np.unique(e, axis=0)


def thin_to_streets(
    rng: np.random.Generator,
    xy: np.ndarray,
    edges: np.ndarray,
    *,
    spacing: float,
    mean_degree: float = 3.0,
    forced: np.ndarray | None = None,
) -> np.ndarray:
    """Streets from candidate `edges`: spanning forest plus short extra edges.

    Parameters
    ----------
    xy
        Node coordinates (m).
    edges
        Candidate undirected edges ``(m, 2)``.
    spacing
        Typical block size (m); extra edges much longer than it are unlikely.
    mean_degree
        Target mean node degree (about 3 for street networks).
    forced
        Boolean mask over `edges` that must be kept (e.g. bridges).

    Returns
    -------
    numpy.ndarray
        Indices into `edges` of the kept streets, sorted.
    """
    n = len(xy)
    m = len(edges)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    length = np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T)
    mat = sp.coo_array((length, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(mat).tocoo()
    key = edges[:, 0].astype(np.int64) * n + edges[:, 1]
    tkey = np.minimum(tree.row, tree.col).astype(np.int64) * n + np.maximum(tree.row, tree.col)
    in_tree = np.isin(key, tkey)
    if forced is not None:
        in_tree |= forced
    rest = np.flatnonzero(~in_tree)
    n_extra = round(mean_degree * n / 2.0) - int(in_tree.sum())
    if n_extra > 0 and rest.size:
        weight = (spacing / length[rest]) ** 6
        n_extra = min(n_extra, int(np.count_nonzero(weight > 0)))
        pick = rng.choice(rest, size=n_extra, replace=False, p=weight / weight.sum())
        in_tree[pick] = True
    return np.flatnonzero(in_tree)


def corridor_paths(
    xy: np.ndarray,
    eu: np.ndarray,
    ev: np.ndarray,
    pairs: list[tuple[int, int]],
    *,
    width: float,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Street paths that stay near the straight line between each pair of nodes.

    Each path is a shortest path (undirected) under edge weights ``length * (1 + (d /
    width)**2)``, where ``d`` is the distance (m) of the edge's midpoint from the straight
    segment between the pair: main streets run straight through town instead of wandering
    along the irregular local streets, and parallel corridors give parallel paths.

    Returns, per pair, the edge indices along the path and a boolean array that is True
    where the path runs from ``ev`` to ``eu`` (against the stored direction); an
    unreachable pair gives empty arrays.
    """
    n = len(xy)
    length = np.hypot(*(xy[eu] - xy[ev]).T)
    mid = (xy[eu] + xy[ev]) / 2.0
    lo, hi = np.minimum(eu, ev).astype(np.int64), np.maximum(eu, ev).astype(np.int64)
    keys = lo * n + hi
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for s, t in pairs:
        a, b = xy[s], xy[t]
        ab = b - a
        denom = max(float(ab @ ab), 1e-9)
        f = np.clip(((mid - a) @ ab) / denom, 0.0, 1.0)
        d = np.hypot(*(mid - (a + f[:, None] * ab)).T)
        w = length * (1.0 + (d / width) ** 2)
        mat = sp.coo_array((np.r_[w, w], (np.r_[eu, ev], np.r_[ev, eu])), shape=(n, n)).tocsr()
        _, pred = dijkstra(mat, directed=True, indices=int(s), return_predecessors=True)
        nodes = [int(t)]
        while pred[nodes[-1]] >= 0:
            nodes.append(int(pred[nodes[-1]]))
        seq = np.asarray(nodes[::-1], dtype=np.int64)
        if seq.size < 2 or seq[0] != s:
            out.append((np.zeros(0, np.int64), np.zeros(0, bool)))
            continue
        u, v = seq[:-1], seq[1:]
        idx = order[np.searchsorted(sorted_keys, np.minimum(u, v) * n + np.maximum(u, v))]
        out.append((idx, eu[idx] != u))
    return out
