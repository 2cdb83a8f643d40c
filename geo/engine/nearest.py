"""The k nearest facilities of any point, in O(k) after one precomputation per mode.

At construction every network node is labelled, per group (e.g. an industry), with its
`k_max` nearest facilities: the travel time (s) from the node to each and the distance (m)
along that fastest path (:func:`geo.engine.voronoi.label_k_with_lengths`: facilities are
snapped onto their streets and searched from on the reversed graph, distances read off the
search trees). A query then never runs a shortest-path search:

1. project the query point to the network CRS and snap it onto the nearest usable street
   edge (:class:`~geo.engine.segment_index.SegmentIndex`, a k-d tree over street samples);
2. combine the labels of both ends of its edge with the partial edge and access legs, add
   facilities on the same edge, keep the best k distinct ones
   (:mod:`geo.engine.candidates`).

This is exact: a facility among the k nearest of the query point is among the k nearest of
the end node its fastest path leaves through (ties aside).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyproj

from ..modes import TravelMode
from ..network import StreetNetwork
from .base import ModeBase
from .candidates import SameEdge, top_k_unique, via_edge_ends
from .paths import Route, route
from .segment_index import SegmentIndex
from .snap import DEFAULT_MAX_SNAP_M, WALK_SPEED_MS, SnappedPoints, partial_time_one, snap_points
from .voronoi import label_k_with_lengths

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NearestResult:
    """Answer of a nearest query for m points.

    Attributes
    ----------
    facility
        ``(m, k)`` indices into the facilities, nearest first; ``-1`` for none.
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
class NodeLabels:
    """The k nearest facilities of every node: ``(n_nodes, k)`` facility (``-1`` = none),
    time (s) and path length (m) from the node to each."""

    facility: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray


class NearestIndex:
    """Precomputed k-nearest-facility labels of one travel mode.

    Parameters
    ----------
    network
        The street network.
    mode
        Travel mode of the person going to the facility.
    lon, lat
        Facility locations (degrees, EPSG:4326).
    groups
        Per group key (e.g. an industry code) the indices of the facilities in it; the
        group of every facility (key ``None`` in :meth:`query`) is always there.
    k_max
        Largest k that will be asked.
    max_snap_m
        Query points and facilities farther than this (m) from every usable street are not
        snapped (facilities so far are never answered, with a warning).
    labels
        Labels computed before for exactly these arguments (e.g. memory-mapped from a file,
        see :meth:`use_labels`), by group key (``""`` for all); computed here if ``None``.
    lines
        Street geometries of `network` (:func:`geo.engine.base.street_lines`), to share
        them between the indices of several modes.
    segments
        Arrays of the street snapping index built before for this network and mode
        (:meth:`SegmentIndex.arrays`, e.g. memory-mapped); computed here if ``None``.
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
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
        labels: Mapping[str, NodeLabels] | None = None,
        lines: np.ndarray | None = None,
        segments: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        if k_max < 1:
            msg = f"`k_max` must be at least 1, got {k_max}"
            raise ValueError(msg)
        self.network = network
        self.mode = TravelMode(mode)
        self.k_max = int(k_max)
        self.max_snap_m = float(max_snap_m)
        self.base = ModeBase.build(network, self.mode, lines=lines)
        self.segments = SegmentIndex(self.base, arrays=segments)
        self._to_metric = pyproj.Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)
        n_fac = int(np.asarray(lon).size)
        fx, fy = self.project(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        self.facilities = snap_points(
            self.base, fx, fy, np.arange(n_fac), max_snap_m=self.max_snap_m, on_error="mask"
        )
        if not self.facilities.valid.all():
            logger.warning(
                "%s: %d of %d facilities are farther than %g m from a street; "
                "they are never answered",
                self.mode.value,
                int((~self.facilities.valid).sum()),
                n_fac,
                self.max_snap_m,
            )
        wanted: dict[str, np.ndarray] = {"": np.arange(n_fac)}
        for key, members in (groups or {}).items():
            wanted[str(key)] = np.asarray(members, dtype=np.int64)
        self.labels: dict[str, NodeLabels] = {}
        if labels is None:
            self.labels = self._label(wanted)
        else:
            self.use_labels(labels, groups=wanted)
        self.same_edge = SameEdge(self.base, self.facilities)
        self._member = {key: np.isin(np.arange(n_fac), m) for key, m in wanted.items()}

    def use_labels(
        self,
        labels: Mapping[str, NodeLabels],
        *,
        groups: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Answer from `labels` (e.g. read-only arrays memory-mapped from a file) instead of
        the ones held now; they must cover the same groups with ``(n_nodes, k_max)`` arrays.

        Raises
        ------
        ValueError
            If a group is missing or extra, or an array has the wrong shape or kind.
        """
        want = set(groups) if groups is not None else set(self.labels)
        problems = []
        if set(labels) != want:
            problems.append(f"groups {sorted(labels)} instead of {sorted(want)}")
        shape = (self.base.n_nodes, self.k_max)
        for key, lab in labels.items():
            for name, arr, kind in (
                ("facility", lab.facility, "i"),
                ("time_s", lab.time_s, "f"),
                ("length_m", lab.length_m, "f"),
            ):
                if arr.shape != shape or arr.dtype.kind != kind:
                    problems.append(
                        f"`{key or 'all'}.{name}` is {arr.dtype}{list(arr.shape)}, "
                        f"expected kind {kind!r} {list(shape)}"
                    )
        if problems:
            msg = f"`labels` do not fit this index: {'; '.join(problems)}"
            raise ValueError(msg)
        self.labels = dict(labels)

    @property
    def groups(self) -> tuple[str, ...]:
        """Group keys other than the group of every facility."""
        return tuple(k for k in self.labels if k)

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Degrees (EPSG:4326) to metres in the network CRS."""
        x, y = self._to_metric.transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def _label(self, groups: dict[str, np.ndarray]) -> dict[str, NodeLabels]:
        """Times and path lengths from every node to the k nearest facilities per group."""
        top = label_k_with_lengths(self.base, self.facilities, groups, k=self.k_max)
        out = {key: NodeLabels(fac, tim, lng) for key, (fac, tim, lng) in top.items()}
        logger.info(
            "%s: labelled %d nodes with the %d nearest of %d facilities, %d group(s)",
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
        x, y = self.project(lon, lat)
        return self.segments.snap(x, y, max_snap_m=self.max_snap_m)

    def query(
        self, lon: np.ndarray, lat: np.ndarray, *, k: int = 1, group: str | None = None
    ) -> NearestResult:
        """The `k` nearest facilities (of `group`, default all) of each point (degrees)."""
        if not 1 <= k <= self.k_max:
            msg = f"`k` must be in 1..{self.k_max}, got {k}"
            raise ValueError(msg)
        key = group or ""
        if key not in self.labels:
            msg = f"unknown `group` {group!r}; groups: {', '.join(sorted(self.groups))}"
            raise ValueError(msg)
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        if lon.size == 1:
            return self._query_one(float(lon[0]), float(lat[0]), k, key)
        pts = self.snap(lon, lat)
        lab = self.labels[key]
        cand = via_edge_ends(self.base, pts, lab.facility, lab.time_s, lab.length_m)
        same = self.same_edge.candidates(pts, self._member[key])
        top = top_k_unique(cand if same is None else cand.concat(same), k)
        assert top.length_m is not None  # both candidate sets carry lengths
        return NearestResult(top.facility, top.time_s, top.length_m, pts.distance_m, pts.valid)

    def _query_one(self, lon: float, lat: float, k: int, key: str) -> NearestResult:
        """:meth:`query` for one point in plain Python (numpy's per-call overhead would
        dominate a single query); same candidates as :mod:`geo.engine.candidates`."""
        x, y = self._to_metric.transform(lon, lat)
        e, f, dist = self.segments.snap_one(x, y, max_snap_m=self.max_snap_m)
        fac = np.full((1, k), -1, dtype=np.int64)
        tim = np.full((1, k), np.inf)
        lng = np.full((1, k), np.inf)
        if e >= 0:
            best = self._candidates_one(e, f, dist, self.labels[key], key)
            ranked = sorted(best.items(), key=lambda item: item[1][0])[:k]
            for r, (j, (t, m)) in enumerate(ranked):
                fac[0, r], tim[0, r], lng[0, r] = j, t, m
        return NearestResult(fac, tim, lng, np.array([dist]), np.array([e >= 0]))

    def _candidates_one(
        self, e: int, f: float, access_m: float, lab: NodeLabels, key: str
    ) -> dict[int, tuple[float, float]]:
        """Fastest ``(time s, length m)`` per candidate facility of a point on edge `e`."""
        base, net = self.base, self.network
        access_s = access_m / WALK_SPEED_MS
        street_m = float(net.edge_length_m[e])
        best: dict[int, tuple[float, float]] = {}
        ends = (
            (int(net.edge_v[e]), partial_time_one(1 - f, float(base.t_fwd[e])), (1 - f) * street_m),
            (int(net.edge_u[e]), partial_time_one(f, float(base.t_bwd[e])), f * street_m),
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
        if self.same_edge.edge_mask[e]:
            for j, t, m in self.same_edge.one(e, f, access_m, self._member[key]):
                if j not in best or t < best[j][0]:
                    best[j] = (t, m)
        return best

    def route(self, lon: float, lat: float, facility: int) -> Route:
        """The fastest street-following route from a point (degrees) to `facility`.

        Runs one search (for drawing one route, not for ranking).
        """
        origin = self.snap(np.array([lon]), np.array([lat]))
        return route(self.base, origin, self.facilities.take([facility]))
