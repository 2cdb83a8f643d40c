"""Travel costs and street geometry between a day's locations (see :mod:`planner.daily.run`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from geo import DianmianError, TravelMode
from geo.engine import Engine, SnappedPoints
from planner.daily.legs import LegSearch
from planner.daily.tasks import UNREACHABLE_S, DayParams, DayTasks
from planner.daily.vrp import (
    CostMatrices,
    PathGeometry,
)

logger = logging.getLogger(__name__)


def day_matrices(
    day: DayTasks, engine: Engine, *, params: DayParams | None = None
) -> tuple[CostMatrices, LegGeometry]:
    """Travel times (s) and distances (m) among `day`'s locations per mode in use, and a
    street-following geometry callable per mode (legs computed on demand and cached).

    Both are rounded to whole seconds and metres (the solver works in integers, so the
    plan's times agree exactly with the matrices). Pairs without a route, or farther apart
    than the mode's longest leg (`params`), cost ``UNREACHABLE_S``. The callables count
    their own time in ``geometry.seconds`` (a :class:`GeometryClock` attribute).
    """
    params = params or DayParams()
    cutoff = {TravelMode.WALK: params.max_walk_leg_min, TravelMode.EBIKE: params.max_ebike_leg_min}
    modes = sorted({v.mode for v in day.volunteers}) or [TravelMode.WALK]
    durations: dict[TravelMode, np.ndarray] = {}
    distances: dict[TravelMode, np.ndarray] = {}
    for m in modes:
        tm = engine[m].matrix(day.snapped[m], lengths=True, cutoff_s=cutoff[m] * 60)
        t = tm.dense_time()
        d = tm.dense_length()
        assert d is not None  # lengths=True
        bad = ~np.isfinite(t)
        durations[m] = np.rint(np.where(bad, UNREACHABLE_S, t))
        distances[m] = np.rint(np.where(bad | ~np.isfinite(d), UNREACHABLE_S, d))
        np.fill_diagonal(durations[m], 0.0)
        np.fill_diagonal(distances[m], 0.0)
        logger.info(
            "%s: %d x %d matrix, %.0f%% of pairs within %g min",
            m.value,
            t.shape[0],
            t.shape[1],
            100 * (1 - bad.mean()),
            cutoff[m],
        )
    coords = day.locations[["lon", "lat"]].to_numpy(dtype=float)
    clock = GeometryClock()
    geometry = {
        m: StreetLegs(
            engine,
            day.snapped[m],
            coords,
            clock,
            limit_s=cutoff[m] * 60 + 1,
            durations=durations[m],
        )
        for m in modes
    }
    return CostMatrices(durations, distances, coords), LegGeometry(geometry, clock)


@dataclass
class GeometryClock:
    """Seconds spent computing leg geometry, the number of legs computed and how many of
    them in batches (:meth:`StreetLegs.prefetch`)."""

    seconds: float = 0.0
    legs: int = 0
    batched: int = 0


class LegGeometry(dict[TravelMode, PathGeometry]):
    """``{mode: PathGeometry}`` that also carries the :class:`GeometryClock`."""

    def __init__(self, data: Mapping[TravelMode, PathGeometry], clock: GeometryClock) -> None:
        super().__init__(data)
        self.clock = clock


class StreetLegs:
    """Street-following geometry of one mode's legs, ``(from_node, to_node) -> [(lon, lat)]``
    (a :data:`planner.daily.vrp.PathGeometry`), cached.

    :meth:`prefetch` computes many legs at once (:class:`planner.daily.legs.LegSearch`: one
    bounded tree search per origin); a leg not prefetched, or that the batch leaves out,
    is computed alone by ``TravelTimes.path``. Off the streets, a leg is a straight line.
    """

    def __init__(
        self,
        engine: Engine,
        snapped: SnappedPoints,
        coords: np.ndarray,
        clock: GeometryClock,
        *,
        limit_s: float,
        durations: np.ndarray | None = None,
    ) -> None:
        self.tt = engine[snapped.mode]
        self.durations = durations
        self.snapped = snapped
        self.coords = coords
        self.clock = clock
        self.limit_s = limit_s
        self.cache: dict[tuple[int, int], list[tuple[float, float]]] = {}
        self.search: LegSearch | None = None

    def prefetch(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Compute the legs `pairs` (not yet known) in one batch."""
        todo = sorted({(a, b) for a, b in pairs if a != b and (a, b) not in self.cache})
        if not todo:
            return
        t0 = time.perf_counter()
        if self.search is None:
            self.search = LegSearch(
                self.tt, self.snapped, limit_s=self.limit_s, durations=self.durations
            )
        found = self.search.lines(todo)
        self.cache.update(found)
        self.clock.seconds += time.perf_counter() - t0
        self.clock.legs += len(found)
        self.clock.batched += len(found)

    def __call__(self, a: int, b: int) -> list[tuple[float, float]]:
        if (a, b) not in self.cache:
            t0 = time.perf_counter()
            try:
                line = self.tt.path(self.snapped.take([a]), self.snapped.take([b])).line_lonlat
                self.cache[(a, b)] = [(float(x), float(y)) for x, y in line.coords]
            except DianmianError as exc:  # off the streets: show the leg as a straight line
                logger.warning("no street geometry from node %d to %d: %s", a, b, exc)
                c = self.coords
                self.cache[(a, b)] = [(c[a, 0], c[a, 1]), (c[b, 0], c[b, 1])]
            self.clock.seconds += time.perf_counter() - t0
            self.clock.legs += 1
        return self.cache[(a, b)]
