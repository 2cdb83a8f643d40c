"""Maps of a planned scenario, built from the files in ``out/<scenario>/``.

Reads ``city.gpkg`` (employers, candidate sites, talent market, seeker cells, major roads),
``plan.gpkg`` and ``plan_summary.json`` if present, and the newest (or a given) day of routes
under ``routes/<date>/routes.json`` if present; writes ``maps/*.html``. Nothing is
recomputed, so maps can be remade after editing styles without re-planning.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import geopandas as gpd
import pyogrio

from geo import ScenarioError
from geo.crs import Datum, frame_from_wgs84
from geo.industries import DEFAULT_CATALOGUE, IndustryCatalogue
from maps._layers import SeekerCells
from maps.loop import LoopSection
from maps.market import MarketDemand, market_demand
from maps.plan import PlanLayers
from maps.write import write_maps, write_volunteer_pages
from planner.daily.record import (
    VolunteerRoute,
    load_plan,
    load_routes,
    routes_in_datum,
)
from planner.disclosure import DEFAULT_K
from planner.hexbin import MIN_COUNT
from planner.loop.report import last_day, loop_summary, published_summary
from planner.privacy import strip_home_legs
from planner.store import open_existing

logger = logging.getLogger(__name__)


def _layer(path: Path, name: str) -> gpd.GeoDataFrame | None:
    if not path.is_file() or name not in set(pyogrio.list_layers(path)[:, 0]):
        return None
    return gpd.read_file(path, layer=name)


def latest_routes(
    out_dir: Path, date: str | None = None
) -> tuple[str, tuple[VolunteerRoute, ...]] | None:
    """Date and route records of `date` (or the newest date) under ``routes/``, or ``None``."""
    root = out_dir / "routes"
    if date is not None:
        path = root / date / "routes.json"
        if not path.is_file():
            msg = f"no routes for {date}: `{path}` does not exist (run `dianmian routes` first)"
            raise ScenarioError(msg)
        return date, load_routes(path)
    days = sorted(p for p in root.glob("*/routes.json")) if root.is_dir() else []
    if not days:
        return None
    return days[-1].parent.name, load_routes(days[-1])


def day_volunteers(out_dir: Path, date: str) -> tuple[VolunteerRoute, ...] | None:
    """Every volunteer of `date` (with or without tasks, idle ones with their reason) from
    ``routes/<date>/plan.json``, or ``None`` if the day has no plan record."""
    path = out_dir / "routes" / date / "plan.json"
    return load_plan(path).routes if path.is_file() else None


def shift_routes(routes: tuple[VolunteerRoute, ...], datum: Datum) -> tuple[VolunteerRoute, ...]:
    """Route records with stops and lines moved from WGS-84 to `datum` (for its tiles)."""
    return routes_in_datum(routes, datum)


@dataclasses.dataclass(frozen=True)
class LoopOptions:
    """Where the loop section of plan.html comes from.

    Attributes
    ----------
    database_url
        The scenario's database (``DATABASE_URL``); ``None``: ``<out_dir>/dianmian.sqlite``.
    min_count
        Smallest published count (``[privacy] min_count``).
    follow_up_days
        Days of silence after which an open case is due a follow-up (``[loop]``).
    scenario
        The scenario folder, for the commands the section suggests without a database.
    """

    database_url: str | None = None
    min_count: int = DEFAULT_K
    follow_up_days: int = 7
    scenario: str = "SCENARIO"


def loop_section(out_dir: Path, options: LoopOptions) -> LoopSection:
    """The published loop report of the scenario's database as of its last recorded day
    (:func:`planner.loop.report.published_summary`), or a section without a report."""
    store = open_existing(out_dir, options.database_url)
    if store is None:
        return LoopSection(None, options.scenario)
    try:
        day = last_day(store)
        if day is None:
            return LoopSection(None, options.scenario)
        summary = loop_summary(store, day, days=options.follow_up_days)
    finally:
        store.close()
    logger.info("loop section as of %s (%d registrations)", day, summary["totals"]["registrations"])
    return LoopSection(published_summary(summary, k=options.min_count), options.scenario)


def write_scenario_maps(
    out_dir: str | Path,
    *,
    title: str,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    date: str | None = None,
    industries: IndustryCatalogue | None = None,
    coordinates: Datum = Datum.WGS84,
    volunteer_homes: bool = False,
    loop: LoopOptions | None = None,
) -> list[Path]:
    """Write ``<out_dir>/maps/*.html`` from the planned scenario in `out_dir`.

    plan.html gets the loop section (:mod:`maps.loop`) from the scenario's database
    (`loop`, default: the SQLite file in `out_dir`), as of the last day recorded in it; with
    no database or no registration in it, the section says how to create one.

    Volunteers' routes are drawn without their home legs (start/end at their service
    point, see :func:`planner.privacy.strip_home_legs`) unless `volunteer_homes`
    (``[privacy] volunteer_homes``).

    `industries` gives labels and colours (default: the catalogue recorded in
    ``city_summary.json``); with `coordinates` ``gcj02`` every overlay is shifted to GCJ-02 to
    sit on GCJ-02 tiles (Amap, Tencent; ``[map] coordinates``).

    Raises
    ------
    geo.ScenarioError
        If ``city.gpkg`` is missing (run ``dianmian plan`` first).
    """
    out = Path(out_dir)
    city = out / "city.gpkg"
    if not city.is_file():
        msg = f"`{city}` does not exist; run `dianmian plan` for this scenario first"
        raise ScenarioError(msg)
    layers = {
        name: _layer(city, name)
        for name in ("employers", "candidate_sites", "talent_market", "seeker_cells", "roads")
    }
    missing = [name for name, gdf in layers.items() if gdf is None and name != "roads"]
    if missing:
        msg = f"`{city}` lacks layer(s) {missing}; re-run `dianmian plan`"
        raise ScenarioError(msg)
    if industries is None:
        industries = _recorded_industries(out)
    plan_gpkg = out / "plan.gpkg"
    plan = None
    belts = _layer(plan_gpkg, "belts")
    points = _layer(plan_gpkg, "service_points")
    if points is not None:
        summary_path = out / "plan_summary.json"
        crowd = None
        if summary_path.is_file():
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            crowd = {
                "market_before": summary["before"]["market_load"],
                "market_after": summary["after"]["market_load"],
                "market_capacity": summary["before"]["market_capacity"],
                "trips": {k: summary[k].get("travel_time_all", {}) for k in ("before", "after")},
            }
            curve_path = out / "tradeoff.json"
            if curve_path.is_file():
                crowd["tradeoff"] = json.loads(curve_path.read_text(encoding="utf-8"))
        new_points = points[~points["is_market"].astype(bool)].reset_index(drop=True)
        catch = _layer(plan_gpkg, "catchments")
        if catch is not None:
            # The market's own catchment is left out: the market has its own marker.
            catch = catch.rename(columns={"service_point": "point_id"})
            catch = catch[catch["point_id"].isin(new_points["id"])].reset_index(drop=True)
        plan = PlanLayers(
            service_points=new_points,
            catchments=catch,
            crowd=crowd,
            market_demand=_market_demand(plan_gpkg, points, out / "plan_summary.json"),
            loop=dataclasses.replace(
                loop_section(out, loop or LoopOptions()),
                point_names=dict(
                    zip(points["id"].astype(str), points["name"].astype(str), strict=True)
                ),
            ),
        )
    day_routes = latest_routes(out, date)
    routes_date, routes = (None, None) if day_routes is None else day_routes
    everyone = None if routes_date is None else day_volunteers(out, routes_date)
    if routes is not None and not volunteer_homes:
        routes = _without_homes(routes, points)
        everyone = None if everyone is None else _without_homes(everyone, points)
    if coordinates is not Datum.WGS84:
        layers = {
            k: None if v is None else frame_from_wgs84(v, coordinates) for k, v in layers.items()
        }
        belts = None if belts is None else frame_from_wgs84(belts, coordinates)
        if plan is not None:
            plan = PlanLayers(
                service_points=frame_from_wgs84(plan.service_points, coordinates),
                catchments=None
                if plan.catchments is None
                else frame_from_wgs84(plan.catchments, coordinates),
                crowd=plan.crowd,
                loop=plan.loop,
                market_demand=None
                if plan.market_demand is None
                else dataclasses.replace(
                    plan.market_demand,
                    cells=frame_from_wgs84(plan.market_demand.cells, coordinates),
                ),
            )
        routes = None if routes is None else shift_routes(routes, coordinates)
        everyone = None if everyone is None else shift_routes(everyone, coordinates)
    return write_maps(
        out / "maps",
        employers=layers["employers"],
        seeker_cells=_recorded_cells(out, layers["seeker_cells"]),
        candidate_sites=layers["candidate_sites"],
        talent_market=layers["talent_market"],
        belts=belts,
        roads=layers["roads"],
        plan=plan,
        routes=routes,
        routes_date=routes_date,
        pages_dir=None if routes_date is None else out / "routes" / routes_date / "volunteers",
        day_routes=everyone,
        title=title,
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
        industries=industries,
    )


def write_day_pages(
    out_dir: str | Path,
    date: str,
    *,
    title: str,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    industries: IndustryCatalogue | None = None,
    coordinates: Datum = Datum.WGS84,
    volunteer_homes: bool = False,
) -> list[Path]:
    """Write ``routes/<date>/volunteers/<id>.html``: one phone page per volunteer of the day.

    Reads ``routes/<date>/routes.json`` (drawable routes) and ``plan.json`` (every volunteer,
    idle ones with their reason), the employers and streets of ``city.gpkg`` and the service
    points of ``plan.gpkg``; arguments as in :func:`write_scenario_maps` (`industries` is
    accepted for a uniform call and unused).

    Raises
    ------
    geo.ScenarioError
        If the day has no ``routes.json``.
    """
    del industries  # the pages show no industry colours
    out = Path(out_dir)
    day = latest_routes(out, date)
    assert day is not None  # a given date either exists or raises
    routes = day[1]
    everyone = day_volunteers(out, date)
    points = _layer(out / "plan.gpkg", "service_points")
    employers = _layer(out / "city.gpkg", "employers")
    roads = _layer(out / "city.gpkg", "roads")
    if not volunteer_homes:
        routes = _without_homes(routes, points)
        everyone = None if everyone is None else _without_homes(everyone, points)
    if coordinates is not Datum.WGS84:
        routes = shift_routes(routes, coordinates)
        everyone = None if everyone is None else shift_routes(everyone, coordinates)
        roads = None if roads is None else frame_from_wgs84(roads, coordinates)
    return write_volunteer_pages(
        out / "routes" / date / "volunteers",
        routes,
        everyone,
        scenario=title,
        date=date,
        employers=employers,
        roads=roads,
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
    )


def _market_demand(
    plan_gpkg: Path, points: gpd.GeoDataFrame, summary_path: Path
) -> MarketDemand | None:
    """Aggregated demand still sent to the market, with the plan's reasons (or None)."""
    cells = _layer(plan_gpkg, "assignment_cells")
    if cells is None or "is_market" not in points:
        return None
    reasons: dict[str, float] = {}
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        reasons = {str(k): float(v) for k, v in summary["after"].get("reasons", {}).items()}
    markets = points.loc[points["is_market"].astype(bool), "id"].astype(str)
    return market_demand(cells, markets, reasons=reasons)


def _without_homes(
    routes: tuple[VolunteerRoute, ...], points: gpd.GeoDataFrame | None
) -> tuple[VolunteerRoute, ...]:
    """Published routes start and end at the volunteer's service point, never at home."""
    where: dict[str, tuple[float, float, str]] = {}
    if points is not None and len(points):
        pts = points.to_crs("EPSG:4326") if points.crs is not None else points
        for pid, name, geom in zip(pts["id"], pts["name"], pts.geometry, strict=True):
            where[str(pid)] = (float(geom.x), float(geom.y), str(name))
    return strip_home_legs(routes, where)


def _recorded_cells(out: Path, cells: gpd.GeoDataFrame) -> SeekerCells:
    """The seeker cells of ``city.gpkg`` with the k (``[privacy] min_count``) and the
    suppressed total that ``dianmian plan`` recorded in ``city_summary.json``."""
    try:
        summary = json.loads((out / "city_summary.json").read_text(encoding="utf-8"))
        k = int(summary.get("privacy_min_count", MIN_COUNT))
        hidden = summary.get("seekers_in_suppressed_cells")
    except (OSError, ValueError, TypeError, AttributeError):
        k, hidden = MIN_COUNT, None
    return SeekerCells(cells, None if hidden is None else int(hidden), None, k)


def _recorded_industries(out: Path) -> IndustryCatalogue:
    """The catalogue ``dianmian plan`` recorded in ``city_summary.json`` (or the default)."""
    path = out / "city_summary.json"
    try:
        records = json.loads(path.read_text(encoding="utf-8")).get("industry_catalogue")
        return IndustryCatalogue.from_records(records) if records else DEFAULT_CATALOGUE
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return DEFAULT_CATALOGUE
