"""City overview map: industry belts, employers, seeker density, candidate sites, market.

Inputs are GeoDataFrames in EPSG:4326 (columns listed in :mod:`maps._layers`). Seekers are
only ever shown as aggregated hexagons from :func:`planner.hexbin.hexbin`; the map refuses
cells with fewer than :data:`planner.hexbin.MIN_COUNT` seekers.
"""

from __future__ import annotations

import logging

import folium
import geopandas as gpd

from geo import InputError, Problem
from geo.industries import DEFAULT_CATALOGUE, IndustryCatalogue
from maps import _layers as layers
from maps._base import LegendSection, add_legend, base_map, bounds_of, finish
from planner.hexbin import HexBins

logger = logging.getLogger(__name__)


def overview_map(
    *,
    employers: gpd.GeoDataFrame,
    seeker_cells: HexBins | layers.SeekerCells | gpd.GeoDataFrame,
    candidate_sites: gpd.GeoDataFrame,
    talent_market: gpd.GeoDataFrame,
    belts: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    title: str,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
) -> folium.Map:
    """Build the city overview map.

    Parameters
    ----------
    employers
        Points with ``id``, ``name``, ``industry`` (code), ``demand`` (open positions);
        drawn as clustered markers coloured by industry, popup with name, industry (en + zh)
        and demand.
    seeker_cells
        Seeker hexagons (``count`` >= 5 each) or the :class:`~planner.hexbin.HexBins`
        result; drawn as a choropleth of ``count``.
    candidate_sites
        Points with ``id``, ``name``, ``kind``, ``capacity`` (visitors per day).
    talent_market
        Points with ``id``, ``name``, ``capacity``; drawn as a red star.
    belts
        Optional industry-belt polygons with ``industry`` (and optional ``name``).
    roads
        Optional street lines, drawn as a thin grey background (useful without tiles).
    title
        Map title (plain text).
    synthetic
        True for a synthetic city: plain background, no real-world tiles.
    tiles, attribution
        Real cities only: tile name or XYZ URL and its attribution (default OpenStreetMap).
    industries
        The scenario's industry catalogue (labels and colours of belts and employers).

    Raises
    ------
    geo.InputError
        Listing every problem found in the inputs (missing columns, wrong geometry types,
        unknown industry codes, seeker cells below the suppression threshold ...).
    """
    problems: list[Problem] = []
    emp = layers.check_employers(employers, problems, industries)
    seekers = layers.check_seeker_cells(seeker_cells, problems)
    sites = layers.check_candidate_sites(candidate_sites, problems)
    market = layers.check_talent_market(talent_market, problems)
    belt = layers.check_belts(belts, problems, industries) if belts is not None else None
    road = layers.check_roads(roads, problems) if roads is not None else None
    if problems:
        raise InputError(problems)
    assert emp is not None and seekers is not None and sites is not None and market is not None

    m = base_map(
        bounds=bounds_of([emp, seekers.cells, sites, market, belt]),
        title=title,
        subtitle="City overview 城市概览",
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
    )
    if road is not None:
        layers.add_roads(m, road)
    legend: list[LegendSection] = []
    shown: set[str] = set(emp["industry"].astype(str))
    # Seeker hexagons (semi-transparent greys) under the belts, so the belts stay readable.
    seeker_section = layers.add_seeker_cells(m, seekers)
    if belt is not None:
        layers.add_belts(m, belt, industries=industries)
        shown |= set(belt["industry"].astype(str))
    layers.add_employers(m, emp, industries=industries)
    places = layers.add_candidate_sites(m, sites)
    places.items.append(layers.add_talent_market(m, market))
    legend += [layers.industries_legend(shown, industries), seeker_section, places]
    if belt is not None:
        legend[0].note = "Shaded areas: industry belts; dots: employers. 色块为产业带，圆点为企业。"
    add_legend(m, legend)
    logger.info(
        "overview map: %d employers, %d seeker cells, %d sites",
        len(emp),
        len(seekers.cells),
        len(sites),
    )
    return finish(m)
