"""Everything a running API serves, loaded once: :class:`ApiState`.

:func:`load_state` reads a planned scenario (``scenario.toml`` and the street network from the
scenario folder; ``plan.gpkg``, ``city.gpkg``, ``plan_summary.json`` and ``routes/`` from
``OUT/<scenario>/``) and precomputes the nearest-service-point labels of every mode.
:func:`build_state` does the same from objects already in memory (tests, notebooks).
The state is read-only after construction, so one instance serves concurrent requests.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from api.collections import LAYERS, SPECS, Collection, build_collection
from api.labels import state_labels
from api.settings import Settings
from geo import InputError, ScenarioError, TravelMode
from geo.engine import NearestIndex
from geo.industries import DEFAULT_CATALOGUE, IndustryCatalogue
from geo.network import StreetNetwork, load_network_cached
from geo.scenario import Scenario
from planner.daily.record import VolunteerRoute, load_routes, parse_routes
from planner.disclosure import DEFAULT_K, MERGED, check, protect
from planner.publish import version_folder
from planner.store import Store, store_url

logger = logging.getLogger(__name__)

PLAN_FILE = "plan.gpkg"
CITY_FILE = "city.gpkg"
SUMMARY_FILE = "plan_summary.json"
ROUTES_DIR = "routes"
ROUTES_FILE = "routes.json"
LABELS_DIR = "api-labels"


@dataclass(frozen=True, eq=False)
class ServicePoints:
    """The open service points, in the order the nearest labels index them."""

    ids: list[str]
    names: list[str]
    kinds: list[str | None]
    industries: list[list[str]]
    is_market: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_frame(
        cls, frame: gpd.GeoDataFrame, codes: tuple[str, ...] = DEFAULT_CATALOGUE.codes
    ) -> ServicePoints:
        """From the ``service_points`` layer (``industries`` ``;``-separated; the market
        serves all `codes` unless told otherwise)."""
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs("EPSG:4326")
        missing = [c for c in ("id", "name", "industries") if c not in frame.columns]
        if missing:
            msg = f"`service_points` layer lacks column(s) {missing}"
            raise ScenarioError(msg)
        is_market = (
            frame["is_market"].fillna(False).astype(bool).to_numpy()
            if "is_market" in frame.columns
            else np.zeros(len(frame), dtype=bool)
        )
        industries = []
        for value, market in zip(frame["industries"].tolist(), is_market.tolist(), strict=True):
            serves = [c.strip() for c in str(value or "").split(";") if c.strip()]
            # The talent market serves every industry unless told otherwise.
            industries.append(serves if serves or not market else list(codes))
        kinds = frame["kind"].tolist() if "kind" in frame.columns else [None] * len(frame)
        return cls(
            ids=[str(v) for v in frame["id"].tolist()],
            names=[str(v) for v in frame["name"].tolist()],
            kinds=[None if k is None or k != k else str(k) for k in kinds],
            industries=industries,
            is_market=is_market,
            lon=frame.geometry.x.to_numpy(dtype=float),
            lat=frame.geometry.y.to_numpy(dtype=float),
        )

    def groups(self, codes: tuple[str, ...] = DEFAULT_CATALOGUE.codes) -> dict[str, np.ndarray]:
        """Indices of the service points serving each industry code of `codes`."""
        return {
            code: np.array([i for i, inds in enumerate(self.industries) if code in inds], int)
            for code in codes
        }


class RouteBook:
    """Volunteers' daily routes from ``routes/<YYYY-MM-DD>/routes.json``, read on demand.

    A day's file is parsed once and re-read only when it changes on disk (a new plan).
    """

    def __init__(
        self,
        folder: Path | None,
        *,
        routes: Mapping[date, Iterable[VolunteerRoute] | list[dict[str, Any]]] | None = None,
    ):
        self.folder = folder
        self._fixed = {
            day: {r.volunteer_id: r for r in parse_routes(list(rs), source=f"routes {day}")}
            for day, rs in (routes or {}).items()
        }
        self._cache: dict[date, tuple[float, dict[str, VolunteerRoute]]] = {}
        self._lock = threading.Lock()

    def dates(self) -> list[date]:
        """Planned dates, oldest first."""
        found = set(self._fixed)
        if self.folder is not None and self.folder.is_dir():
            for child in self.folder.iterdir():
                try:
                    day = date.fromisoformat(child.name)
                except ValueError:
                    continue
                if (child / ROUTES_FILE).is_file():
                    found.add(day)
        return sorted(found)

    def day(self, day: date) -> dict[str, VolunteerRoute] | None:
        """Route records of `day` by volunteer id, or ``None`` if that day was not planned."""
        if day in self._fixed:
            return self._fixed[day]
        if self.folder is None:
            return None
        path = self.folder / day.isoformat() / ROUTES_FILE
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return None
        with self._lock:
            cached = self._cache.get(day)
            if cached is not None and cached[0] == mtime:
                return cached[1]
            try:
                records = load_routes(path)
            except InputError as exc:
                msg = f"`{path}` cannot be read: {exc}"
                raise ScenarioError(msg) from exc
            routes = {r.volunteer_id: r for r in records}
            self._cache[day] = (mtime, routes)
            return routes

    def point_of(self, volunteer_id: str) -> str | None:
        """The service point a volunteer belongs to (``service_point`` of their newest
        route), or ``None`` if no route names one."""
        for day in reversed(self.dates()):
            try:
                route = (self.day(day) or {}).get(volunteer_id)
            except ScenarioError:
                continue
            if route is not None and route.service_point:
                return route.service_point
        return None


@dataclass(frozen=True, eq=False)
class ApiState:
    """A loaded, planned scenario ready to serve.

    Attributes
    ----------
    name, title
        Scenario name (``out/<name>/``) and title.
    network
        The street network.
    service_points
        Open service points (order of the nearest labels).
    nearest
        Nearest-service-point index per travel mode.
    collections
        Served layers by collection name.
    summary
        The plan's before/after crowd figures, as written by the planner.
    routes
        Volunteers' daily routes.
    store
        Database of demand reports and completed tasks.
    max_snap_m
        Points farther than this (m) from every street are outside the network area.
    industries
        The scenario's industry catalogue (the ``industry`` parameters resolve against it).
    version
        Version of the published plan served (``None``: unversioned files).
    """

    name: str
    title: str
    network: StreetNetwork
    service_points: ServicePoints
    nearest: dict[TravelMode, NearestIndex]
    collections: dict[str, Collection]
    summary: dict[str, Any]
    routes: RouteBook
    store: Store
    max_snap_m: float
    industries: IndustryCatalogue = DEFAULT_CATALOGUE
    version: str | None = None

    @property
    def modes(self) -> tuple[TravelMode, ...]:
        return tuple(self.nearest)

    @property
    def k_max(self) -> int:
        return min(ix.k_max for ix in self.nearest.values())

    def area(self) -> tuple[float, float, float, float]:
        """Network bounding box ``(min_lon, min_lat, max_lon, max_lat)``."""
        return self.network.bounds_lonlat()

    def close(self) -> None:
        self.store.close()


def build_state(
    network: StreetNetwork,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    store: Store,
    name: str = "scenario",
    title: str = "",
    summary: Mapping[str, Any] | None = None,
    routes: RouteBook | None = None,
    modes: Iterable[TravelMode | str] = (TravelMode.WALK, TravelMode.EBIKE),
    k_max: int = 5,
    max_snap_m: float = 2000.0,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
    min_count: int = DEFAULT_K,
    version: str | None = None,
    labels_dir: Path | None = None,
) -> ApiState:
    """An :class:`ApiState` from layers in memory.

    Parameters
    ----------
    layers
        GeoDataFrames by collection name (see :data:`api.collections.SPECS`);
        ``service-points`` is required, the others are served if given.
    min_count
        Disclosure threshold k of the seeker cells (see :func:`seeker_cells_to_serve`).
    version
        Version of the published plan.
    labels_dir
        Folder of the nearest labels on disk (:mod:`api.labels`): read memory-mapped, shared
        by every worker, built there once if missing or stale. ``None``: computed in memory.
    """
    if "service-points" not in layers:
        msg = "`layers` needs `service-points`"
        raise ScenarioError(msg)
    unknown = sorted(set(layers) - set(SPECS))
    if unknown:
        msg = f"`layers` has unknown collection(s) {unknown}; known: {', '.join(SPECS)}"
        raise ScenarioError(msg)
    points = ServicePoints.from_frame(layers["service-points"], industries.codes)
    groups = points.groups(industries.codes)
    wanted = tuple(dict.fromkeys(TravelMode(m) for m in modes))
    nearest: dict[TravelMode, NearestIndex] = {}
    if labels_dir is not None:
        nearest = state_labels(
            labels_dir,
            network,
            wanted,
            points.lon,
            points.lat,
            groups,
            k_max=k_max,
            max_snap_m=max_snap_m,
        )
    else:
        for m in wanted:
            nearest[m] = NearestIndex(
                network,
                m,
                points.lon,
                points.lat,
                groups=groups,
                k_max=k_max,
                max_snap_m=max_snap_m,
            )
    layers = dict(layers)
    if "seeker-cells" in layers:
        cells = seeker_cells_to_serve(layers["seeker-cells"], min_count)
        if cells is None:
            del layers["seeker-cells"]
        else:
            layers["seeker-cells"] = cells
    collections = {n: build_collection(SPECS[n], layers[n]) for n in SPECS if n in layers}
    return ApiState(
        name=name,
        title=title or name,
        network=network,
        service_points=points,
        nearest=nearest,
        collections=collections,
        summary=dict(summary or {}),
        routes=routes or RouteBook(None),
        store=store,
        max_snap_m=max_snap_m,
        industries=industries,
        version=version,
    )


def seeker_cells_to_serve(cells: gpd.GeoDataFrame, k: int) -> gpd.GeoDataFrame | None:
    """The seeker cells as they may be served, or ``None`` if they may not.

    Cells written by the planner are already under disclosure control (a ``merged``
    column); they are checked again (no count in ``1..k-1``). Cells without it (written by
    an older version) are protected here with :func:`planner.disclosure.protect`.
    """
    parts = [c for c in cells.columns if c.startswith("n_")]
    if MERGED not in cells.columns:
        logger.warning("seeker cells have no `merged` column (older plan): protected at load")
        frame = cells.copy()
        frame[["count", *parts]] = frame[["count", *parts]].fillna(0).astype("int64")
        got = protect(frame, total="count", parts=parts, k=k)
        return gpd.GeoDataFrame(got.table, geometry="geometry", crs=cells.crs)
    problems = check(cells, ["count", *parts, MERGED], k=k)
    if problems:
        logger.error("seeker cells are not served: %s", "; ".join(problems))
        return None
    return cells


def plan_folder(scenario: Scenario, out_root: str | Path) -> Path:
    return Path(out_root) / scenario.name


def planned_scenario(scenario_folder: str | Path, out_root: str | Path) -> tuple[Scenario, Path]:
    """The scenario and its plan folder; :class:`geo.ScenarioError` if it is not planned yet."""
    scenario = Scenario.load(scenario_folder)
    folder = plan_folder(scenario, out_root)
    try:
        files, _version = version_folder(folder)
    except OSError as exc:
        raise ScenarioError(str(exc)) from exc
    missing = [f for f in (PLAN_FILE, CITY_FILE, SUMMARY_FILE) if not (files / f).is_file()]
    if missing:
        msg = (
            f"scenario `{scenario.name}` is not planned: missing {', '.join(missing)} in "
            f"`{files}`; run `dianmian plan {scenario.folder}` first"
        )
        raise ScenarioError(msg)
    return scenario, folder


def check_planned(scenario_folder: str | Path, out_root: str | Path) -> Path:
    """The plan folder of a scenario; :class:`geo.ScenarioError` if it is not planned yet."""
    return planned_scenario(scenario_folder, out_root)[1]


def load_state(
    scenario_folder: str | Path, out_root: str | Path, *, settings: Settings | None = None
) -> ApiState:
    """Load a planned scenario from its folder and ``OUT/<scenario>/``.

    Raises
    ------
    ScenarioError
        If the scenario or a plan file is missing or unreadable (the message names every
        missing file and says to run ``dianmian plan`` first).
    NetworkError
        If the street network cannot be loaded.
    """
    settings = settings or Settings()
    scenario, folder = planned_scenario(scenario_folder, out_root)
    # A published plan is read from its own version folder, which never changes; the
    # routes and the database stay in OUT/<scenario>/.
    try:
        files, version = version_folder(folder)
    except OSError as exc:
        raise ScenarioError(str(exc)) from exc
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, (which, layer) in LAYERS.items():
        path = files / (PLAN_FILE if which == "plan" else CITY_FILE)
        try:
            layers[name] = gpd.read_file(path, layer=layer)
        except Exception as exc:  # pyogrio raises several types; a missing layer is common
            if name == "service-points":
                msg = f"cannot read layer `{layer}` of `{path}`: {exc}"
                raise ScenarioError(msg) from exc
            logger.warning("layer `%s` of `%s` not served: %s", layer, path, exc)
    try:
        summary = json.loads((files / SUMMARY_FILE).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        msg = f"`{files / SUMMARY_FILE}` is not valid JSON: {exc}"
        raise ScenarioError(msg) from exc
    if not isinstance(summary, dict):
        msg = f"`{files / SUMMARY_FILE}` must hold a JSON object"
        raise ScenarioError(msg)
    network = load_network_cached(scenario.network_source, modes=settings.modes)
    url = store_url(folder, settings.database_url)
    max_snap_m = settings.max_snap_m or scenario.planning.max_snap_m
    return build_state(
        network,
        layers,
        store=Store(url),
        name=scenario.name,
        title=scenario.title,
        summary=summary,
        routes=RouteBook(folder / ROUTES_DIR),
        modes=settings.modes,
        k_max=settings.max_k,
        max_snap_m=max_snap_m,
        industries=scenario.industries,
        min_count=scenario.privacy.min_count,
        version=version or "unversioned",
        labels_dir=settings.labels_dir or folder / LABELS_DIR,
    )
