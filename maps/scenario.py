"""Maps of a planned scenario, built from the files in ``out/<scenario>/``.

Reads ``city.gpkg`` (employers, candidate sites, talent market, seeker cells, major roads),
``plan.gpkg`` and ``plan_summary.json`` if present, and the newest (or a given) day of routes
under ``routes/<date>/routes.json`` if present; writes ``maps/*.html``. Nothing is
recomputed, so maps can be remade after editing styles without re-planning.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import geopandas as gpd
import pyogrio

from geo import ScenarioError
from maps.plan import PlanLayers
from maps.write import write_maps
from planner.daily.record import VolunteerRoute, load_routes

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


def write_scenario_maps(
    out_dir: str | Path,
    *,
    title: str,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    date: str | None = None,
) -> list[Path]:
    """Write ``<out_dir>/maps/*.html`` from the planned scenario in `out_dir`.

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
            }
        new_points = points[~points["is_market"].astype(bool)].reset_index(drop=True)
        catch = _layer(plan_gpkg, "catchments")
        if catch is not None:
            # The market's own catchment is left out: the market has its own marker.
            catch = catch.rename(columns={"service_point": "point_id"})
            catch = catch[catch["point_id"].isin(new_points["id"])].reset_index(drop=True)
        plan = PlanLayers(service_points=new_points, catchments=catch, crowd=crowd)
    day_routes = latest_routes(out, date)
    return write_maps(
        out / "maps",
        employers=layers["employers"],
        seeker_cells=layers["seeker_cells"],
        candidate_sites=layers["candidate_sites"],
        talent_market=layers["talent_market"],
        belts=belts,
        roads=layers["roads"],
        plan=plan,
        routes=None if day_routes is None else day_routes[1],
        routes_date=None if day_routes is None else day_routes[0],
        title=title,
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
    )
