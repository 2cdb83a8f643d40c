"""Fast, exact snapping of query points onto street edges with a k-d tree.

The engine snaps with shapely's STRtree nearest-line search (about 30 us per point), which
is fine for planning but too slow for a query service answering 10,000 points in a batch.
Here every street segment is sampled at most :data:`SAMPLE_M` metres apart and the samples go
into a :class:`scipy.spatial.cKDTree`:

1. the nearest sample is at distance ``d0``, so the nearest street is at most ``d0`` away;
2. every point of a segment lies within ``SAMPLE_M / 2`` of one of its samples, so any
   segment that could be nearer than ``d0`` has a sample within ``d0 + SAMPLE_M / 2``;
3. exact point-to-segment distances over those candidates pick the nearest.

The result is the same edge, position and distance as the engine's snapping (up to exact
ties between streets), returned as the engine's :class:`~geo.engine.SnappedPoints`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import shapely
from scipy.spatial import cKDTree

from .base import ModeBase
from .snap import SnappedPoints

SAMPLE_M = 20.0
"""Largest spacing (m) of the samples along a street segment."""

FIRST_RADIUS_M = 80.0
"""First search radius (m) of a single-point snap; most points lie this close to a street."""

FIRST_K = 8
"""Samples fetched per point in one vectorised query before falling back to a ball query."""


ARRAYS = (
    "seg_edge",
    "seg_a",
    "seg_d",
    "seg_len2",
    "seg_offset",
    "line_len",
    "sample_seg",
    "sample_xy",
)
"""Arrays an index is made of (:meth:`SegmentIndex.arrays`); the k-d tree is rebuilt from
``sample_xy`` without copying it, so arrays mapped from a file stay shared."""


class SegmentIndex:
    """Nearest usable street edge of points, for one mode (coordinates in the network CRS).

    Parameters
    ----------
    base
        The mode's graph.
    sample_m
        Largest spacing (m) of the samples along a street segment.
    arrays
        :meth:`arrays` of an index built before for the same `base` and `sample_m` (e.g.
        read-only, memory-mapped); computed here if ``None``.
    """

    def __init__(
        self,
        base: ModeBase,
        *,
        sample_m: float = SAMPLE_M,
        arrays: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        if sample_m <= 0:
            msg = f"`sample_m` must be positive, got {sample_m}"
            raise ValueError(msg)
        self.base = base
        self.sample_m = float(sample_m)
        got = dict(arrays) if arrays is not None else self._compute(base, self.sample_m)
        missing = [name for name in ARRAYS if name not in got]
        if missing:
            msg = f"`arrays` lacks {missing}"
            raise ValueError(msg)
        self.seg_edge = got["seg_edge"]
        self.seg_a = got["seg_a"]
        self.seg_d = got["seg_d"]
        self.seg_len2 = got["seg_len2"]
        self.seg_offset = got["seg_offset"]
        self.line_len = got["line_len"]
        self.sample_seg = got["sample_seg"]
        self._check_sizes(base)
        self.tree = cKDTree(
            got["sample_xy"], balanced_tree=False, compact_nodes=False, copy_data=False
        )

    def _check_sizes(self, base: ModeBase) -> None:
        n_seg = self.seg_edge.size
        ok = (
            self.seg_a.shape == self.seg_d.shape == (n_seg, 2)
            and self.seg_len2.shape == self.seg_offset.shape == (n_seg,)
            and self.line_len.shape == (base.network.n_edges,)
            and (n_seg == 0 or int(self.seg_edge.min()) >= 0)
            and (n_seg == 0 or int(self.seg_edge.max()) < base.network.n_edges)
            and (self.sample_seg.size == 0 or int(self.sample_seg.max()) < n_seg)
        )
        if not ok:
            msg = "`arrays` do not fit the network (sizes or indices out of range)"
            raise ValueError(msg)

    @staticmethod
    def _compute(base: ModeBase, sample_m: float) -> dict[str, np.ndarray]:
        edges = np.flatnonzero(base.usable)
        coords, which = shapely.get_coordinates(base.lines[edges], return_index=True)
        same = which[1:] == which[:-1]
        a = coords[:-1][same]
        b = coords[1:][same]
        seg_edge = edges[which[:-1][same]]
        seg_d = b - a
        seg_len = np.hypot(seg_d[:, 0], seg_d[:, 1])
        # Distance along the edge's line to each segment's start (for the fraction).
        starts = np.concatenate([[0.0], np.cumsum(seg_len)])[:-1]
        first = np.r_[True, seg_edge[1:] != seg_edge[:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(seg_len.size), 0))
        # Samples: both ends and every <= sample_m metres in between.
        n_samples = np.maximum(np.ceil(seg_len / sample_m).astype(np.int64), 1) + 1
        owner = np.repeat(np.arange(seg_len.size), n_samples)
        pos = np.arange(owner.size) - np.repeat(np.cumsum(n_samples) - n_samples, n_samples)
        t = pos / (n_samples[owner] - 1)
        return {
            "seg_edge": seg_edge,
            "seg_a": a,
            "seg_d": seg_d,
            "seg_len2": seg_len**2,
            "seg_offset": starts - starts[group_start],
            "line_len": shapely.length(base.lines),
            "sample_seg": owner,
            "sample_xy": np.ascontiguousarray(a[owner] + seg_d[owner] * t[:, None]),
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays of this index by name (:data:`ARRAYS`), e.g. to store them."""
        out = {name: getattr(self, name) for name in ARRAYS if name != "sample_xy"}
        out["sample_xy"] = self.tree.data
        return out

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_snap_m: float) -> SnappedPoints:
        """Snap points (network CRS, metres); far or non-finite points are invalid."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n = x.size
        edge = np.full(n, -1, dtype=np.int64)
        fraction = np.full(n, np.nan)
        sx = np.full(n, np.nan)
        sy = np.full(n, np.nan)
        dist = np.full(n, np.inf)
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if finite.size and self.sample_seg.size:
            px, py = x[finite], y[finite]
            d0, _ = self.tree.query(np.column_stack([px, py]))
            near = d0 <= max_snap_m + self.sample_m  # farther points cannot be snapped
            cand_pt, cand_seg = self._candidates(px, py, d0, near)
            seg, t, d = self._nearest_segment(px, py, cand_pt, cand_seg)
            hit = np.flatnonzero(near)
            seg, t, d = seg[hit], t[hit], d[hit]
            where = finite[hit]
            e = self.seg_edge[seg]
            along = self.seg_offset[seg] + t * np.sqrt(self.seg_len2[seg])
            total = self.line_len[e]
            edge[where] = e
            fraction[where] = np.where(
                total > 0, np.clip(along / np.where(total > 0, total, 1), 0, 1), 0
            )
            sx[where] = self.seg_a[seg, 0] + t * self.seg_d[seg, 0]
            sy[where] = self.seg_a[seg, 1] + t * self.seg_d[seg, 1]
            dist[where] = d
        valid = (edge >= 0) & (dist <= max_snap_m)
        edge[~valid] = -1
        return SnappedPoints(
            ids=np.arange(n),
            x=x,
            y=y,
            edge=edge,
            fraction=np.where(valid, fraction, np.nan),
            snap_x=np.where(valid, sx, np.nan),
            snap_y=np.where(valid, sy, np.nan),
            distance_m=np.where(valid, dist, np.nan),
            valid=valid,
            mode=self.base.mode,
        )

    def snap_one(self, x: float, y: float, *, max_snap_m: float) -> tuple[int, float, float]:
        """Snap one point: ``(edge, fraction, distance m)``, edge ``-1`` if not snapped.

        Same result as :meth:`snap`, with one ball query in the common case (a k-d tree
        nearest query costs twice as much per call): all samples within a radius ``r``; if
        the nearest segment found is at ``d`` with ``d + sample_m / 2 <= r``, no other
        segment can be nearer; otherwise the radius grows and the query repeats.
        """
        if not (math.isfinite(x) and math.isfinite(y)) or self.sample_seg.size == 0:
            return -1, math.nan, math.nan
        limit = max_snap_m + self.sample_m
        radius = min(FIRST_RADIUS_M, limit)
        while True:
            near = self.tree.query_ball_point((x, y), radius)
            if not near:
                if radius >= limit:
                    return -1, math.nan, math.nan
                radius = min(radius * 4, limit)
                continue
            segs = np.unique(self.sample_seg[near])
            a, d, len2 = self.seg_a[segs], self.seg_d[segs], self.seg_len2[segs]
            rx, ry = x - a[:, 0], y - a[:, 1]
            with np.errstate(invalid="ignore", divide="ignore"):
                t = np.clip(np.where(len2 > 0, (rx * d[:, 0] + ry * d[:, 1]) / len2, 0), 0, 1)
            dist = np.hypot(rx - t * d[:, 0], ry - t * d[:, 1])
            b = int(np.argmin(dist))
            best = float(dist[b])
            if best + self.sample_m / 2 <= radius or radius >= limit:
                break
            radius = min(best + self.sample_m / 2 + 1e-6, limit)
        if best > max_snap_m:
            return -1, math.nan, math.nan
        seg = int(segs[b])
        e = int(self.seg_edge[seg])
        total = float(self.line_len[e])
        along = float(self.seg_offset[seg]) + float(t[b]) * math.sqrt(float(len2[b]))
        fraction = min(max(along / total, 0.0), 1.0) if total > 0 else 0.0
        return e, fraction, best

    def _candidates(
        self, px: np.ndarray, py: np.ndarray, d0: np.ndarray, near: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(point, segment) pairs of every segment with a sample within ``d0 + sample_m/2``.

        The :data:`FIRST_K` nearest samples usually cover that radius (one vectorised
        query); points where they do not (busy junctions) get a ball query.
        """
        xy = np.column_stack([px, py])
        radius = np.where(near, d0 + self.sample_m / 2 + 1e-6, -1.0)
        k = min(FIRST_K, self.sample_seg.size)
        dk, ik = self.tree.query(xy, k=k)
        dk, ik = dk.reshape(px.size, k), ik.reshape(px.size, k)
        inside = dk <= radius[:, None]
        pt = np.repeat(np.arange(px.size), k)[inside.ravel()]
        samples = ik[inside]
        more = np.flatnonzero(near & inside[:, -1])  # the k-th sample is still inside
        if more.size:
            lists = self.tree.query_ball_point(xy[more], radius[more], return_sorted=False)
            counts = np.fromiter((len(c) for c in lists), np.int64, len(lists))
            extra = np.fromiter((s for c in lists for s in c), np.int64, int(counts.sum()))
            pt = np.concatenate([pt, np.repeat(more, counts)])
            samples = np.concatenate([samples, extra])
        seg = self.sample_seg[samples]
        # One pair per (point, segment).
        key = pt * self.sample_seg.size + seg
        _, first = np.unique(key, return_index=True)
        return pt[first], seg[first]

    def _nearest_segment(
        self, px: np.ndarray, py: np.ndarray, cand_pt: np.ndarray, cand_seg: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per point: nearest candidate segment, projection parameter t in [0, 1], distance."""
        seg = np.zeros(px.size, dtype=np.int64)
        tt = np.zeros(px.size)
        dd = np.full(px.size, np.inf)
        if cand_pt.size == 0:
            return seg, tt, dd
        a = self.seg_a[cand_seg]
        d = self.seg_d[cand_seg]
        rx = px[cand_pt] - a[:, 0]
        ry = py[cand_pt] - a[:, 1]
        len2 = self.seg_len2[cand_seg]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(len2 > 0, (rx * d[:, 0] + ry * d[:, 1]) / len2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        dist = np.hypot(rx - t * d[:, 0], ry - t * d[:, 1])
        # Nearest per point: sort by (point, distance), take the first of each point.
        order = np.lexsort((dist, cand_pt))
        pts_sorted = cand_pt[order]
        first = np.r_[True, pts_sorted[1:] != pts_sorted[:-1]]
        best = order[first]
        seg[cand_pt[best]] = cand_seg[best]
        tt[cand_pt[best]] = t[best]
        dd[cand_pt[best]] = dist[best]
        return seg, tt, dd
