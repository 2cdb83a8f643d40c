"""What the loop needs of a planned city: employers, open service points, volunteers, engine.

:class:`LoopCity` holds them and answers the two spatial questions of the loop, vectorised on
the travel-time engine:

* :meth:`LoopCity.responsible_points`: each registration's responsible service point, the
  nearest open point serving one of its industries by its own mode (one multi-source
  nearest-facility labelling per mode and industry, cached);
* :meth:`LoopCity.employer_pairs`: every (registration, employer) pair of a shared industry
  within the registration's own-mode travel limit, with its travel time (one sparse matrix
  per mode and industry, searched from the smaller side with the limit as radius; with
  registration keys, kept in memory so later runs compute new registrations only).

Times include the fixed trip overhead of the mode (:data:`geo.modes.TRIP_OVERHEAD_S`), as
in the plan. Homes too far from streets usable by their mode are walked from (as in the
plan); homes too far from every street get no point and no pairs (reason
``outside_network``).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo import INDUSTRY_CODES, TravelMode
from geo.engine import Engine, NearestFacilities, SnappedPoints
from geo.modes import TRIP_OVERHEAD_S

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


def clock_s(value: Any) -> int:
    """Seconds since midnight of ``HH:MM`` (raises ``ValueError`` naming the value)."""
    try:
        hours, minutes = (int(p) for p in str(value).strip().split(":"))
    except ValueError:
        msg = f"{value!r} is not a HH:MM time"
        raise ValueError(msg) from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60 and hours * 60 + minutes <= 24 * 60):
        msg = f"{value!r} is not a time of day between 00:00 and 24:00"
        raise ValueError(msg)
    return hours * 3600 + minutes * 60


def fmt_clock(seconds: float) -> str:
    minutes = int(seconds) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class LoopParams:
    """Settings of the loop (``[loop]`` in ``scenario.toml``; all optional).

    Attributes
    ----------
    per_registration
        Most openings recommended to one registration at a time (``N``).
    candidates_per_opening
        No employer is sent more candidates than this multiple of its open positions
        (candidates with an open recommendation or a booked interview count).
    max_travel_min
        Longest trip (min, own mode, trip overhead included) to a recommended employer.
    follow_up_days
        An open case silent for this many days is due for a follow-up call.
    solver
        ``"flow"`` (default): the exact min-cost flow (OR-Tools); ``"highs"``: the LP by
        HiGHS column generation (the first implementation, slower on large runs).
    pool
        ``highs`` only: pairs per registration in the first LP round (column generation
        adds the rest).
    """

    per_registration: int = 3
    candidates_per_opening: float = 3.0
    max_travel_min: float = 45.0
    follow_up_days: int = 7
    solver: str = "flow"
    pool: int = 12

    def __post_init__(self) -> None:
        problems = []
        if self.per_registration < 1:
            problems.append(f"`per_registration` must be >= 1, got {self.per_registration}")
        if not self.candidates_per_opening > 0:
            problems.append(
                f"`candidates_per_opening` must be > 0, got {self.candidates_per_opening}"
            )
        if not 0 < self.max_travel_min <= 24 * 60:
            problems.append(f"`max_travel_min` must be in (0, 1440], got {self.max_travel_min}")
        if self.follow_up_days < 1:
            problems.append(f"`follow_up_days` must be >= 1, got {self.follow_up_days}")
        if self.solver not in ("flow", "highs"):
            problems.append(f"`solver` must be 'flow' or 'highs', got {self.solver!r}")
        if self.pool < self.per_registration:
            problems.append(f"`pool` must be >= `per_registration`, got {self.pool}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def max_travel_s(self) -> float:
        return self.max_travel_min * 60.0

    @classmethod
    def from_toml(cls, path: str | Path) -> LoopParams:
        """The ``[loop]`` table of a ``scenario.toml`` (defaults if absent)."""
        with Path(path).open("rb") as fh:
            table = tomllib.load(fh).get("loop", {})
        unknown = sorted(set(table) - set(cls.__dataclass_fields__))
        if unknown:
            msg = f"`{path}`: unknown key(s) {unknown} in [loop]"
            raise ValueError(msg)
        return cls(**table)


@dataclass(frozen=True, eq=False)
class HomeSnaps:
    """Registrations' homes snapped for the mode they travel by (walk if theirs cannot)."""

    mode: np.ndarray  # effective mode per registration ("" = outside the network)
    snapped: dict[str, tuple[np.ndarray, SnappedPoints]]  # mode -> (rows, points)


@dataclass(eq=False)
class LoopCity:
    """Employers, open service points and volunteers of a planned city, with its engine.

    Parameters
    ----------
    engine
        Travel-time engine on the city's network.
    employers
        ``id``, ``industry``, ``demand``, ``opens``, ``closes`` and a point geometry.
    points
        Open service points (the plan's ``service_points``): ``id``, ``industries``
        (``;``-separated; the market, ``is_market``, serves every industry).
    volunteers
        ``id``, ``industries``, ``mode`` (optional); each belongs to the nearest open
        point by their own mode (walk if none given).
    params
        Loop settings.
    """

    engine: Engine
    employers: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    volunteers: gpd.GeoDataFrame | None = None
    params: LoopParams = field(default_factory=LoopParams)
    _labels: dict[str, dict[Any, NearestFacilities]] = field(default_factory=dict, repr=False)
    _point_rows: np.ndarray | None = field(default=None, repr=False)
    _dest_snaps: dict[str, SnappedPoints] = field(default_factory=dict, repr=False)
    # registration key -> (employer indices int32, times s) to every employer of its
    # industries within its limit (see `employer_pairs`)
    _reach_cache: dict[Hashable, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        self.employers = _wgs84(self.employers).reset_index(drop=True)
        self.points = _wgs84(self.points).reset_index(drop=True)
        if self.volunteers is not None:
            self.volunteers = _wgs84(self.volunteers).reset_index(drop=True)
        missing = [c for c in ("id", "industry", "demand", "opens", "closes")]
        missing = [c for c in missing if c not in self.employers.columns]
        if missing:
            msg = f"`employers` lacks column(s) {missing}"
            raise ValueError(msg)
        self.employers["id"] = self.employers["id"].astype(str)
        self.points["id"] = self.points["id"].astype(str)
        self.opens_s = np.array([clock_s(v) for v in self.employers["opens"]], dtype=np.int64)
        self.closes_s = np.array([clock_s(v) for v in self.employers["closes"]], dtype=np.int64)
        self.employer_index = {e: i for i, e in enumerate(self.employers["id"])}
        self.industry_code = pd.Categorical(
            self.employers["industry"].astype(str), categories=INDUSTRY_CODES
        ).codes.astype(np.int64)

    @classmethod
    def from_folder(
        cls, scenario_folder: str | Path, plan_folder: str | Path, *, engine: Engine | None = None
    ) -> LoopCity:
        """From a planned scenario: ``plan.gpkg`` (service points), ``city.gpkg`` (employers,
        volunteers), the scenario's network and its ``[loop]`` settings."""
        from geo.network import load_network_cached
        from geo.scenario import Scenario

        scenario = Scenario.load(scenario_folder)
        folder = Path(plan_folder)
        for name in ("plan.gpkg", "city.gpkg"):
            if not (folder / name).is_file():
                msg = f"`{folder / name}` is missing; run `dianmian plan {scenario_folder}` first"
                raise FileNotFoundError(msg)
        if engine is None:
            network = load_network_cached(scenario.network_source)
            engine = Engine(network, max_snap_m=scenario.planning.max_snap_m)
        try:
            volunteers = gpd.read_file(folder / "city.gpkg", layer="volunteers")
        except Exception as exc:  # pyogrio raises several types for a missing layer
            logger.warning(
                "no volunteers layer in %s (%s): follow-ups name no volunteer", folder, exc
            )
            volunteers = None
        return cls(
            engine=engine,
            employers=gpd.read_file(folder / "city.gpkg", layer="employers"),
            points=gpd.read_file(folder / "plan.gpkg", layer="service_points"),
            volunteers=volunteers,
            params=LoopParams.from_toml(scenario.folder / "scenario.toml"),
        )

    # -- helpers ---------------------------------------------------------------------------

    def point_industries(self) -> list[set[str]]:
        out = []
        market = (
            self.points["is_market"].fillna(False).astype(bool).to_numpy()
            if "is_market" in self.points.columns
            else np.zeros(len(self.points), bool)
        )
        for value, is_market in zip(self.points["industries"], market, strict=True):
            codes = {c.strip() for c in str(value or "").split(";") if c.strip()}
            out.append(codes if codes or not is_market else set(INDUSTRY_CODES))
        return out

    def snap_homes(self, lon: np.ndarray, lat: np.ndarray, modes: np.ndarray) -> HomeSnaps:
        """Snap homes for their own mode; those too far from its streets walk (or are out)."""
        n = lon.size
        xy = np.column_stack([lon, lat])
        eff = np.asarray(modes, dtype=object).copy()
        snapped: dict[str, tuple[np.ndarray, SnappedPoints]] = {}
        walk = TravelMode.WALK.value
        order = [m for m in dict.fromkeys(eff.tolist()) if m != walk] + [walk]
        for mode in order:
            rows = np.flatnonzero(eff == mode)
            if rows.size == 0:
                continue
            pts = self.engine[mode].snap(xy[rows], crs="EPSG:4326", ids=rows, on_error="mask")
            bad = ~pts.valid
            eff[rows[bad]] = walk if mode != walk else ""
            if bad.all():
                continue
            snapped[mode] = (rows[~bad], pts.take(~bad))
        if (eff == "").any():
            logger.info("%d home(s) lie too far from every street", int((eff == "").sum()))
        return HomeSnaps(mode=eff.astype(str) if n else np.zeros(0, str), snapped=snapped)

    # -- responsible service points --------------------------------------------------------

    def _point_labels(self, mode: str) -> dict[Any, NearestFacilities]:
        if mode not in self._labels:
            inds = self.point_industries()
            rows = [i for i, s in enumerate(inds) for _ in sorted(s)]
            groups = [c for s in inds for c in sorted(s)]
            self._point_rows = np.asarray(rows, dtype=np.int64)
            if not rows:
                self._labels[mode] = {}
            else:
                labels = self.engine[mode].nearest_facilities(
                    self.points.iloc[rows], groups=groups, on_error="mask"
                )
                assert isinstance(labels, dict)
                self._labels[mode] = labels
        return self._labels[mode]

    def responsible_points(
        self, homes: HomeSnaps, industries: list[list[str]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Index of each registration's responsible point (``-1`` if none) and the trip (s)."""
        n = homes.mode.size
        best = np.full(n, -1, dtype=np.int64)
        best_t = np.full(n, np.inf)
        for mode, (rows, pts) in homes.snapped.items():
            labels = self._point_labels(mode)
            overhead = TRIP_OVERHEAD_S[TravelMode(mode)]
            for code, lab in labels.items():
                wants = np.array([code in industries[r] for r in rows], dtype=bool)
                if not wants.any():
                    continue
                fac, t = lab.for_points(pts.take(wants))
                t = t[:, 0] + overhead
                sel = rows[wants]
                better = (fac[:, 0] >= 0) & (t < best_t[sel])
                assert self._point_rows is not None
                best[sel[better]] = self._point_rows[fac[better, 0]]
                best_t[sel[better]] = t[better]
        return best, best_t

    # -- registration x employer pairs -----------------------------------------------------

    def employer_pairs(
        self,
        homes: HomeSnaps,
        industries: list[list[str]],
        employer_mask: np.ndarray,
        *,
        keys: Sequence[Hashable] | None = None,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(registration row, employer index, time s)`` of every eligible pair.

        Eligible: the employer is in `employer_mask`, its industry is one of the
        registration's, and the trip (own mode, overhead included) is within
        ``params.max_travel_s``.

        Parameters
        ----------
        keys
            One hashable per registration naming it and all its times depend on (id,
            home, mode, industries). Given, each registration's times to *every*
            employer of its industries are kept in memory (employers do not move), and a
            later call computes only registrations not seen before: a daily run pays for
            its new registrations only. Without keys nothing is kept.
        """
        say = progress or (lambda _m: None)
        n = homes.mode.size
        if keys is None:
            return self._reach(homes, industries, np.arange(n), employer_mask, say)
        if len(keys) != n:
            msg = f"`keys` must have one entry per registration ({n}), got {len(keys)}"
            raise ValueError(msg)
        todo = np.array([i for i, k in enumerate(keys) if k not in self._reach_cache], dtype=int)
        if todo.size:
            everyone = np.ones(len(self.employers), dtype=bool)
            fresh = self._reach(homes, industries, todo, everyone, say)
            self._remember(keys, todo, fresh)
        say(f"travel times of {n - todo.size:,} registration(s) from memory")
        emp_parts = [self._reach_cache[k][0] for k in keys]
        reg = np.repeat(np.arange(n), [a.size for a in emp_parts])
        emp = np.concatenate(emp_parts) if emp_parts else np.zeros(0, np.int64)
        t = np.concatenate([self._reach_cache[k][1] for k in keys]) if n else np.zeros(0)
        keep = employer_mask[emp]
        return reg[keep], emp[keep].astype(np.int64), t[keep]

    def _remember(
        self,
        keys: Sequence[Hashable],
        rows: np.ndarray,
        pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Keep the pairs of `rows` (all employers of their industries) under their keys."""
        r, e, t = pairs
        order = np.argsort(r, kind="stable")
        counts = np.bincount(r[order], minlength=len(keys))[rows]
        cuts = np.cumsum(counts)[:-1]
        emp = np.split(e[order].astype(np.int32), cuts)
        times = np.split(t[order], cuts)
        for i, row in enumerate(rows.tolist()):
            self._reach_cache[keys[row]] = (emp[i], times[i])

    def _employer_snaps(self, mode: str) -> SnappedPoints:
        if mode not in self._dest_snaps:
            self._dest_snaps[mode] = self.engine[mode].snap(self.employers, on_error="mask")
        return self._dest_snaps[mode]

    def _reach(
        self,
        homes: HomeSnaps,
        industries: list[list[str]],
        subset: np.ndarray,
        employer_mask: np.ndarray,
        say: Progress,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs of the registrations in `subset` with employers in `employer_mask`.

        One sparse matrix per mode and industry: the registrations of that mode wanting
        the industry against its employers, searched by the engine from the smaller side
        with the mode's limit as radius. Splitting by industry computes only times that
        can be used (no dense registrations x all-employers block) and keeps each search
        graph small; every employer is still searched from once per mode.
        """
        wants = np.zeros((homes.mode.size, len(INDUSTRY_CODES)), dtype=bool)
        code_of = {c: i for i, c in enumerate(INDUSTRY_CODES)}
        for r in subset.tolist():
            wants[r, [code_of[c] for c in industries[r]]] = True
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for mode, (all_rows, all_pts) in homes.snapped.items():
            inside = np.isin(all_rows, subset)
            rows, pts = all_rows[inside], all_pts.take(inside)
            overhead = TRIP_OVERHEAD_S[TravelMode(mode)]
            radius = self.params.max_travel_s - overhead
            if radius <= 0 or rows.size == 0:
                continue
            say(f"travel times of {rows.size:,} registrations to employers by {mode}")
            tt = self.engine[mode]
            dest = self._employer_snaps(mode)
            usable = employer_mask & dest.valid
            for code in np.flatnonzero(wants[rows].any(axis=0)).tolist():
                emp = np.flatnonzero(usable & (self.industry_code == code))
                who = np.flatnonzero(wants[rows, code])
                if emp.size == 0:
                    continue
                m = sp.coo_array(
                    tt.matrix(pts.take(who), dest.take(emp), cutoff_s=radius, sparse=True).time_s
                )
                parts.append((rows[who[m.row]], emp[m.col], np.asarray(m.data) + overhead))
        if not parts:
            z = np.zeros(0, np.int64)
            return z, z.copy(), np.zeros(0)
        reg = np.concatenate([p[0] for p in parts]).astype(np.int64)
        emp_all = np.concatenate([p[1] for p in parts]).astype(np.int64)
        t = np.concatenate([p[2] for p in parts]).astype(np.float64)
        return reg, emp_all, t

    # -- volunteers ------------------------------------------------------------------------

    def volunteer_points(self) -> dict[str, list[tuple[str, set[str]]]]:
        """Volunteers per service point id: ``[(volunteer id, industries)]``, by their own
        mode's nearest open point (walk when no mode is given)."""
        if self.volunteers is None or len(self.volunteers) == 0 or len(self.points) == 0:
            return {}
        vols = self.volunteers
        modes = (
            vols["mode"].fillna(TravelMode.WALK.value).astype(str).to_numpy()
            if "mode" in vols.columns
            else np.full(len(vols), TravelMode.WALK.value)
        )
        out: dict[str, list[tuple[str, set[str]]]] = {}
        for mode in dict.fromkeys(modes.tolist()):
            rows = np.flatnonzero(modes == mode)
            tt = self.engine[mode]
            lab = tt.nearest_facilities(self.points, on_error="mask")
            assert not isinstance(lab, dict)
            pts = tt.snap(vols.iloc[rows], on_error="mask")
            fac, _ = lab.for_points(pts)
            for r, f in zip(rows.tolist(), fac[:, 0].tolist(), strict=True):
                if f < 0:
                    continue
                inds = {c for c in str(vols["industries"].iloc[r]).split(";") if c}
                out.setdefault(str(self.points["id"].iloc[f]), []).append(
                    (str(vols["id"].iloc[r]), inds)
                )
        return out


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        return gdf.to_crs("EPSG:4326")
    return gdf.copy()
