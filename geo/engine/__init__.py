"""Fast travel times on the street network: snapping, matrices, nearest facilities, routes.

Everything that needs network travel times (siting, assignment, routing, the nearest-point
API) goes through :class:`TravelTimes` (one mode) or :class:`Engine` (all modes)::

    engine = Engine(load_network("network.graphml"))
    walk = engine["walk"]
    pts = walk.snap(seekers)                     # GeoDataFrame in EPSG:4326, or x/y metres
    m = walk.matrix(pts, sites, cutoff_s=45 * 60)
    labels = walk.nearest_facilities(sites)      # every node -> nearest site, O(1) lookup
    route = walk.path((x0, y0), (x1, y1))        # street-following LineString

Design (measured choices are explained in the submodules): points are snapped onto street
edges (:mod:`.snap`) and enter the graph as virtual nodes (:mod:`.base`); searches are
scipy.sparse.csgraph Dijkstra runs, batched, from the smaller side of a matrix, with the
cutoff as search radius (:mod:`.search`, :mod:`.matrix`); nearest-facility labels come from
one multi-source pass on the reversed graph (:mod:`.voronoi`). :class:`NearestIndex` answers
"the k nearest facilities of this point" (per group, with times and distances) in O(k) from
labels precomputed once (:mod:`.nearest`, :mod:`.candidates`), for the API.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np

from ..modes import TravelMode
from ..network import StreetNetwork
from .base import ModeBase
from .matrix import TravelMatrix, node_matrix, point_matrix
from .nearest import NearestIndex, NearestResult
from .parallel import check_workers
from .paths import Route, route
from .snap import DEFAULT_MAX_SNAP_M, WALK_SPEED_MS, SnappedPoints, coerce_points, snap_points
from .voronoi import MAX_K, NearestFacilities, label

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_SNAP_M",
    "MAX_K",
    "WALK_SPEED_MS",
    "Engine",
    "ModeBase",
    "NearestFacilities",
    "NearestIndex",
    "NearestResult",
    "Route",
    "SnappedPoints",
    "TravelMatrix",
    "TravelTimes",
]

OnError = Literal["raise", "mask"]


class TravelTimes:
    """Travel times of one mode on one street network.

    Parameters
    ----------
    network
        The street network (node coordinates in its metric CRS).
    mode
        Travel mode; must be prepared on `network`.
    max_snap_m
        Default largest distance (m) from a point to the street it is snapped to.
    workers
        Default number of worker processes for big matrices (None: every CPU this process
        may use; 1: search in this process). Forked per call on Linux and other POSIX
        systems except macOS, only when the work is large enough to pay the start-up;
        results are identical whatever the number (see :mod:`geo.engine.parallel`).

    Notes
    -----
    Methods that take points accept whatever :meth:`snap` accepts, or already
    :class:`SnappedPoints` of this mode (snapping once and reusing is cheaper).
    """

    def __init__(
        self,
        network: StreetNetwork,
        mode: TravelMode | str,
        *,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
        workers: int | None = None,
    ) -> None:
        self.network = network
        self.mode = TravelMode(network.mode(mode).mode)
        self.max_snap_m = float(max_snap_m)
        check_workers(workers)
        self.workers = workers
        self.base = ModeBase.build(network, self.mode)

    def __repr__(self) -> str:
        return f"TravelTimes({self.network.source or 'network'!r}, mode={self.mode.value!r})"

    # -- snapping --------------------------------------------------------------------------

    def snap(
        self,
        points: Any,
        *,
        crs: Any = None,
        ids: Sequence[Hashable] | np.ndarray | None = None,
        max_snap_m: float | None = None,
        on_error: OnError = "raise",
    ) -> SnappedPoints:
        """Snap points onto the nearest street this mode may use.

        Parameters
        ----------
        points
            GeoDataFrame/GeoSeries (any CRS; ids from its ``id`` column or index), shapely
            points, an ``(n, 2)`` array or one ``(x, y)`` pair.
        crs
            CRS of plain coordinates, e.g. ``"EPSG:4326"`` for lon/lat; default the
            network's metric CRS.
        ids
            Identifiers of the points (for messages and matrix rows).
        max_snap_m
            Largest snap distance (m); default the engine's.
        on_error
            ``"raise"``: a :class:`geo.SnapError` names every point that is farther than
            `max_snap_m` or not finite. ``"mask"``: such points are marked invalid
            (``valid`` False) and get no travel times.
        """
        if isinstance(points, SnappedPoints):
            return self._check_snapped(points)
        x, y, pid = coerce_points(points, network_crs=self.network.crs, crs=crs, ids=ids)
        limit = self.max_snap_m if max_snap_m is None else float(max_snap_m)
        return snap_points(self.base, x, y, pid, max_snap_m=limit, on_error=on_error)

    def _check_snapped(self, points: SnappedPoints) -> SnappedPoints:
        if points.mode is not self.mode:
            msg = f"points were snapped for mode {points.mode.value!r}, not {self.mode.value!r}"
            raise ValueError(msg)
        return points

    # -- matrices --------------------------------------------------------------------------

    def matrix(
        self,
        origins: Any,
        destinations: Any = None,
        *,
        cutoff_s: float | None = None,
        lengths: bool = False,
        sparse: bool = False,
        crs: Any = None,
        on_error: OnError = "raise",
        workers: int | Literal["default"] | None = "default",
    ) -> TravelMatrix:
        """Travel times (s) from every origin to every destination.

        Parameters
        ----------
        origins, destinations
            Points (see :meth:`snap`); `destinations` defaults to `origins`.
        cutoff_s
            Pairs farther apart than this (s) get no time (``inf``); also speeds up the
            search. ``None`` for no cutoff.
        lengths
            Also compute distances (m) along the fastest paths (slower, about 2x).
        sparse
            Return ``scipy.sparse.csr_array`` matrices holding only finite entries.
        crs, on_error
            As in :meth:`snap`.
        workers
            Worker processes for this call (None: every CPU; 1: in this process); default
            the engine's `workers`.
        """
        o = self.snap(origins, crs=crs, on_error=on_error)
        d = o if destinations is None else self.snap(destinations, crs=crs, on_error=on_error)
        return point_matrix(
            self.base,
            o,
            d,
            cutoff_s=cutoff_s,
            lengths=lengths,
            sparse=sparse,
            workers=self._workers(workers),
        )

    def node_matrix(
        self,
        origin_nodes: Sequence[int] | np.ndarray,
        destination_nodes: Sequence[int] | np.ndarray | None = None,
        *,
        cutoff_s: float | None = None,
        lengths: bool = False,
        sparse: bool = False,
        workers: int | Literal["default"] | None = "default",
    ) -> TravelMatrix:
        """Travel times (s) between network nodes (indices into the node arrays); the
        keywords as in :meth:`matrix`."""
        o = np.asarray(origin_nodes)
        d = o if destination_nodes is None else np.asarray(destination_nodes)
        return node_matrix(
            self.base,
            o,
            d,
            cutoff_s=cutoff_s,
            lengths=lengths,
            sparse=sparse,
            workers=self._workers(workers),
        )

    def _workers(self, workers: int | Literal["default"] | None) -> int:
        return check_workers(self.workers if workers == "default" else workers)

    # -- nearest facilities ----------------------------------------------------------------

    def nearest_facilities(
        self,
        facilities: Any,
        *,
        k: int = 1,
        groups: Sequence[Hashable] | np.ndarray | None = None,
        cutoff_s: float | None = None,
        crs: Any = None,
        on_error: OnError = "raise",
    ) -> NearestFacilities | dict[Hashable, NearestFacilities]:
        """Label every node with its `k` nearest facilities (time from the node to them).

        Parameters
        ----------
        facilities
            Facility points (see :meth:`snap`).
        k
            How many nearest facilities per node (1..:data:`MAX_K`). ``k = 1`` is a single
            multi-source search; larger `k` searches from each facility.
        groups
            One label per facility (e.g. an industry); if given, the result is a dict
            ``{group: NearestFacilities}`` restricted to each group's facilities (facility
            indices still refer to the full list).
        cutoff_s
            Facilities farther than this (s) are not labelled.
        """
        if cutoff_s is not None and not (np.isfinite(cutoff_s) and cutoff_s >= 0):
            msg = f"`cutoff_s` must be a time >= 0 s or None, got {cutoff_s!r}"
            raise ValueError(msg)
        pts = self.snap(facilities, crs=crs, on_error=on_error)
        if groups is None:
            return label(self.base, pts, np.arange(len(pts)), k=k, cutoff_s=cutoff_s)
        g = np.asarray(groups, dtype=object)
        if g.shape != (len(pts),):
            msg = f"`groups` must have one label per facility ({len(pts)}), got shape {g.shape}"
            raise ValueError(msg)
        out: dict[Hashable, NearestFacilities] = {}
        for key in dict.fromkeys(g.tolist()):
            members = np.flatnonzero(g == key)
            out[key] = label(self.base, pts, members, k=k, cutoff_s=cutoff_s)
        return out

    # -- routes ----------------------------------------------------------------------------

    def path(self, origin: Any, destination: Any, *, crs: Any = None) -> Route:
        """Fastest route between two points, with its street-following geometry.

        Raises
        ------
        DisconnectedError
            If the points lie in parts of the network that do not connect.
        SnapError
            If a point is too far from the streets.
        """
        o = self.snap(origin, crs=crs)
        d = self.snap(destination, crs=crs)
        for name, p in (("origin", o), ("destination", d)):
            if len(p) != 1:
                msg = f"`{name}` must be one point, got {len(p)}"
                raise ValueError(msg)
        return route(self.base, o, d)


class Engine:
    """Travel times of every prepared mode of a network (:class:`TravelTimes` per mode,
    built on first use, with this engine's `max_snap_m` and `workers`)."""

    def __init__(
        self,
        network: StreetNetwork,
        *,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
        workers: int | None = None,
    ) -> None:
        self.network = network
        self.max_snap_m = max_snap_m
        check_workers(workers)
        self.workers = workers
        self._modes: dict[TravelMode, TravelTimes] = {}

    def __getitem__(self, mode: TravelMode | str) -> TravelTimes:
        key = TravelMode(self.network.mode(mode).mode)
        if key not in self._modes:
            self._modes[key] = TravelTimes(
                self.network, key, max_snap_m=self.max_snap_m, workers=self.workers
            )
        return self._modes[key]

    def mode(self, mode: TravelMode | str) -> TravelTimes:
        """Same as ``engine[mode]``."""
        return self[mode]
