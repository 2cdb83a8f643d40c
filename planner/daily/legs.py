"""Street-following geometry of many legs at once: one bounded tree search per origin.

``TravelTimes.path`` answers one leg with a search over the whole network (and builds the
graph with the two points added each time): at scale 5 that was 73 ms a leg, 265 s for a
day's 3,618 legs. Here the graph with every location of the day added as a virtual *leaving*
node and a virtual *arriving* node is built once per mode, and each origin gets one Dijkstra
search (SciPy), bounded by the longest leg asked from it (by the day's matrix), that serves
all legs leaving it.
The street pieces are then assembled by :func:`geo.engine.paths.street_coords`, as
:func:`geo.engine.paths.route` does (partial first and last edges, full edges in between),
and projected to longitude/latitude in one call.

A leg whose ends lie on the same street edge (the direct way along the edge may be the
fastest) or that the bounded search does not reach is left to ``TravelTimes.path``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pyproj
from scipy.sparse.csgraph import dijkstra

from geo.engine import TravelTimes
from geo.engine.paths import street_coords
from geo.engine.snap import SnappedPoints, arriving_arcs, leaving_arcs

logger = logging.getLogger(__name__)

Line = list[tuple[float, float]]

SLACK_S = 2.0
"""Seconds a search runs past the longest requested leg of the (rounded) matrix."""


class LegSearch:
    """Legs between the points of `snapped` on `tt`'s network (see the module docstring).

    Parameters
    ----------
    tt
        Travel times of one mode.
    snapped
        The day's locations snapped for that mode (leg ends are indices into it).
    limit_s
        Longest leg (s) searched for; farther legs go to ``TravelTimes.path``.
    durations
        Travel times (s) between the points (as the day's matrix); each origin's search then
        stops just past its longest requested leg.
    """

    def __init__(
        self,
        tt: TravelTimes,
        snapped: SnappedPoints,
        *,
        limit_s: float,
        durations: np.ndarray | None = None,
    ) -> None:
        base = tt.base
        self.base = base
        self.snapped = snapped
        self.limit_s = limit_s
        self.durations = durations
        n, k = base.n_nodes, len(snapped)
        self.n, self.k = n, k
        arcs = base.arcs.concat(leaving_arcs(base, snapped, n))
        arcs = arcs.concat(arriving_arcs(base, snapped, n + k))
        self.csr = arcs.csr(n + 2 * k)
        self.to_lonlat = pyproj.Transformer.from_crs(base.network.crs, "EPSG:4326", always_xy=True)

    def lines(self, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Line]:
        """Street-following lines (lon, lat) of the legs `pairs` this search can answer
        (the others are missing from the result)."""
        by_origin: dict[int, list[int]] = {}
        for a, b in sorted(set(pairs)):
            by_origin.setdefault(a, []).append(b)
        out: dict[tuple[int, int], np.ndarray] = {}
        sn = self.snapped
        for a, dests in by_origin.items():
            if not sn.valid[a]:
                continue
            limit = self.limit_s
            if self.durations is not None:
                limit = min(limit, float(self.durations[a, dests].max()) + SLACK_S)
            dist, pred = dijkstra(
                self.csr, indices=self.n + a, return_predecessors=True, limit=limit
            )
            for b in dests:
                target = self.n + self.k + b
                if a == b or not sn.valid[b] or sn.edge[a] == sn.edge[b]:
                    continue
                if not np.isfinite(dist[target]):
                    continue
                out[(a, b)] = self._coords(a, b, self._chain(pred, a, target))
        return self._project(out)

    def _chain(self, pred: np.ndarray, a: int, target: int) -> np.ndarray:
        chain = [target]
        while chain[-1] != self.n + a:
            chain.append(int(pred[chain[-1]]))
        return np.asarray(chain[-2:0:-1], dtype=np.int64)  # real nodes, in order

    def _coords(self, a: int, b: int, real: np.ndarray) -> np.ndarray:
        sn = self.snapped
        return street_coords(self.base, sn.take([a]), sn.take([b]), real)

    def _project(self, legs: dict[tuple[int, int], np.ndarray]) -> dict[tuple[int, int], Line]:
        if not legs:
            return {}
        keys = list(legs)
        sizes = [len(legs[k]) for k in keys]
        xy = np.concatenate([legs[k] for k in keys])
        lon, lat = self.to_lonlat.transform(xy[:, 0], xy[:, 1])
        out: dict[tuple[int, int], Line] = {}
        start = 0
        for key, size in zip(keys, sizes, strict=True):
            seg = slice(start, start + size)
            out[key] = list(zip(lon[seg].tolist(), lat[seg].tolist(), strict=True))
            start += size
        return out
