"""Write all maps of a scenario as self-contained HTML files.

Layout of `out_dir` (e.g. ``out/<scenario>/maps``)::

    overview.html            always
    plan.html                if a plan is given
    routes.html              if routes are given
    routes/<volunteer>.html  one phone page per volunteer, if routes are given and no
                             `pages_dir` (a scenario writes them to
                             ``routes/<date>/volunteers/`` instead, see maps.scenario)

Outputs of an earlier run that this run does not produce (``plan.html``, ``routes.html``,
``routes/*.html``) are removed, so a folder never mixes today's overview with yesterday's
plan.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo.industries import DEFAULT_CATALOGUE, IndustryCatalogue
from maps._base import render_html
from maps._layers import SeekerCells
from maps.daily import ROUTE_PALETTE, routes_map
from maps.overview import overview_map
from maps.phone import employer_facts, volunteer_page
from maps.plan import PlanLayers, plan_map
from planner.daily.record import VolunteerRoute
from planner.hexbin import HexBins

logger = logging.getLogger(__name__)


def page_file_name(volunteer_id: str, taken: set[str]) -> str:
    """A safe, unique file name (``<id>.html``) for a volunteer's page."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", volunteer_id).strip("._") or "volunteer"
    name, k = f"{stem}.html", 2
    while name.lower() in taken:
        name, k = f"{stem}_{k}.html", k + 1
    taken.add(name.lower())
    return name


def _write(path: Path, text: str) -> Path:
    # Write then rename, so a browser never opens a half-written map.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    logger.info("wrote %s (%.1f kB)", path, path.stat().st_size / 1e3)
    return path


def _remove_stale(path: Path) -> None:
    if path.is_file():
        path.unlink()
        logger.info("removed stale %s", path)


def _everyone(
    routes: Sequence[VolunteerRoute], day_routes: Sequence[VolunteerRoute] | None
) -> list[VolunteerRoute]:
    """Every volunteer once: the drawable record from `routes` (it has the stops' places and
    the street path), the others (idle, with their reason) from `day_routes`."""
    drawn = {r.volunteer_id: r for r in routes}
    listed = [drawn.pop(r.volunteer_id, r) for r in (day_routes or ())]
    return listed + list(drawn.values())


def volunteer_pages_html(
    routes: Sequence[VolunteerRoute],
    everyone: Sequence[VolunteerRoute],
    names: Mapping[str, str],
    *,
    scenario: str,
    date: str | None,
    employers: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame | None,
    synthetic: bool,
    tiles: str | None,
    attribution: str | None,
) -> dict[str, str]:
    """``file name -> page`` of every volunteer in `everyone`, coloured as on routes.html
    (the k-th route of `routes` gets the k-th colour)."""
    colours = {r.volunteer_id: ROUTE_PALETTE[k % len(ROUTE_PALETTE)] for k, r in enumerate(routes)}
    facts = employer_facts(employers)
    return {
        names[route.volunteer_id]: volunteer_page(
            route,
            scenario=scenario,
            synthetic=synthetic,
            date=date,
            employers=facts,
            tiles=tiles,
            attribution=attribution,
            roads=roads,
            colour=colours.get(route.volunteer_id, ROUTE_PALETTE[2]),
        )
        for route in everyone
    }


def write_volunteer_pages(
    folder: str | Path,
    routes: Sequence[VolunteerRoute],
    day_routes: Sequence[VolunteerRoute] | None = None,
    **options: Any,
) -> list[Path]:
    """Write one page per volunteer into `folder` (stale pages removed); `options` as in
    :func:`volunteer_pages_html`."""
    everyone = _everyone(routes, day_routes)
    taken: set[str] = set()
    names = {r.volunteer_id: page_file_name(r.volunteer_id, taken) for r in everyone}
    pages = volunteer_pages_html(routes, everyone, names, **options)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.html"):
        if old.name not in pages:
            _remove_stale(old)
    return [_write(out / name, text) for name, text in pages.items()]


def write_maps(
    out_dir: str | Path,
    *,
    employers: gpd.GeoDataFrame,
    seeker_cells: HexBins | SeekerCells | gpd.GeoDataFrame,
    candidate_sites: gpd.GeoDataFrame,
    talent_market: gpd.GeoDataFrame,
    belts: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    plan: PlanLayers | Mapping[str, Any] | None = None,
    routes: Sequence[VolunteerRoute] | None = None,
    routes_date: str | None = None,
    title: str,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
    pages_dir: str | Path | None = None,
    day_routes: Sequence[VolunteerRoute] | None = None,
    scenario: str | None = None,
) -> list[Path]:
    """Write the overview, and the plan and route maps when given; return the paths written.

    Parameters
    ----------
    out_dir
        Folder for the HTML files (created if missing).
    employers, seeker_cells, candidate_sites, talent_market, belts, roads
        Context layers (see :func:`maps.overview.overview_map`).
    plan
        :class:`maps.plan.PlanLayers` or a mapping with ``service_points`` and optional
        ``catchments`` and ``crowd``; None skips ``plan.html``.
    routes
        Volunteer route records (see :mod:`maps.daily`); None skips ``routes.html`` and the
        pages.
    routes_date
        Their date (``YYYY-MM-DD``), shown on the phone pages.
    title, synthetic, tiles, attribution
        As in :func:`maps.overview.overview_map`.
    industries
        The scenario's industry catalogue (labels and colours).
    pages_dir
        Folder of the volunteers' phone pages (default ``<out_dir>/routes``); earlier pages
        there that this run does not write are removed.
    day_routes
        Every volunteer of the day, with or without tasks (default: `routes`): each gets
        one page (:func:`maps.phone.volunteer_page`), an idle one with its reason.
    scenario
        Scenario title for the pages' titles (default: `title`).

    Raises
    ------
    geo.InputError
        If an input is malformed (raised before anything is written).
    """
    out = Path(out_dir)
    common: dict[str, Any] = {
        "title": title,
        "synthetic": synthetic,
        "tiles": tiles,
        "attribution": attribution,
    }
    context: dict[str, Any] = {
        "employers": employers,
        "seeker_cells": seeker_cells,
        "candidate_sites": candidate_sites,
        "talent_market": talent_market,
        "belts": belts,
        "roads": roads,
        "industries": industries,
    }
    # Build (and so validate) every map before writing any file.
    pages: dict[str, str] = {"overview.html": render_html(overview_map(**context, **common))}
    if plan is not None:
        layers = plan if isinstance(plan, PlanLayers) else PlanLayers(**dict(plan))
        pages["plan.html"] = render_html(
            plan_map(
                service_points=layers.service_points,
                catchments=layers.catchments,
                crowd=layers.crowd,
                market_demand=layers.market_demand,
                loop=layers.loop,
                **context,
                **common,
            )
        )
    point_names: dict[str, str] = {}
    if plan is not None:
        sp = layers.service_points
        point_names = dict(zip(sp["id"].astype(str), sp["name"].astype(str), strict=True))
    volunteer_pages: dict[str, str] = {}
    folder = Path(pages_dir) if pages_dir is not None else out / "routes"
    if routes is not None:
        everyone = _everyone(routes, day_routes)
        taken: set[str] = set()
        names = {r.volunteer_id: page_file_name(r.volunteer_id, taken) for r in everyone}
        rel = Path(os.path.relpath(folder, out)).as_posix()
        links = {vid: f"{rel}/{name}" for vid, name in names.items()}
        pages["routes.html"] = render_html(
            routes_map(routes, roads=roads, page_links=links, point_names=point_names, **common)
        )
        volunteer_pages = volunteer_pages_html(
            routes,
            everyone,
            names,
            scenario=scenario or title,
            date=routes_date,
            employers=employers,
            roads=roads,
            synthetic=synthetic,
            tiles=tiles,
            attribution=attribution,
        )

    out.mkdir(parents=True, exist_ok=True)
    written = [_write(out / name, text) for name, text in pages.items()]
    for stale in ("plan.html", "routes.html"):
        if stale not in pages:
            _remove_stale(out / stale)
    for route_dir in {out / "routes", folder}:
        if route_dir.is_dir():
            for old in route_dir.glob("*.html"):
                if old.name not in volunteer_pages or route_dir != folder:
                    _remove_stale(old)
    if volunteer_pages:
        folder.mkdir(parents=True, exist_ok=True)
        written += [_write(folder / name, text) for name, text in volunteer_pages.items()]
    return written
