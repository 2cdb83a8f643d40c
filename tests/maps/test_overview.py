"""Overview map: validation, privacy guard, escaping, legend."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from geo import InputError
from maps._base import render_html
from maps._layers import seeker_breaks
from maps.overview import overview_map


@pytest.fixture
def layers(employers, seeker_bins, candidate_sites, talent_market, belts, roads):
    return {
        "employers": employers,
        "seeker_cells": seeker_bins,
        "candidate_sites": candidate_sites,
        "talent_market": talent_market,
        "belts": belts,
        "roads": roads,
    }


def test_fixture_seeker_cells_are_known(seeker_bins):
    # The 4 lone seekers are suppressed, and so is the cell of 5 (complementary
    # suppression: 4 people in 4 suppressed cells would all be 1s, see planner.disclosure).
    assert sorted(seeker_bins.cells["count"]) == [7, 12]
    assert (seeker_bins.suppressed, seeker_bins.suppressed_cells) == (9, 5)


def test_overview_html_content(layers):
    html = render_html(overview_map(**layers, title="Dongcao 东草", synthetic=True))
    assert "Evil" in html and "<b>Evil</b>" not in html  # user text is escaped
    assert "Cells with fewer than 5 seekers are not shown" in html
    assert "Suppressed: 9 seekers in 5 cells." in html
    # Labels travel JSON-encoded (non-ASCII as \\uXXXX escapes) inside the page's script.
    assert json.dumps("纺织服装鞋业")[1:-1] in html
    assert "tile.openstreetmap.org" not in html  # synthetic: no real-world tiles


def test_real_city_uses_osm_or_given_tiles(layers):
    osm = render_html(overview_map(**layers, title="t", synthetic=False))
    assert "tile.openstreetmap.org" in osm
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    custom = render_html(
        overview_map(**layers, title="t", synthetic=False, tiles=url, attribution="© Example")
    )
    assert "tiles.example.org" in custom and json.dumps("© Example")[1:-1] in custom


def _drop(frame, col):
    return frame.drop(columns=[col])


@pytest.mark.parametrize(
    ("key", "mutate", "match"),
    [
        ("employers", lambda f: _drop(f, "demand"), "missing column.*`demand`"),
        ("employers", lambda f: f.assign(industry="steel"), "unknown industry `steel`"),
        ("employers", lambda f: f.assign(demand=-1), "`demand` must be a number >= 0"),
        ("employers", lambda f: f.set_crs(None, allow_override=True), "no CRS"),
        (
            "employers",
            lambda f: f.set_geometry([shapely.box(0, 0, 1, 1)] * len(f)),
            "geometry type",
        ),
        ("employers", lambda f: f.drop(columns="geometry"), "must be a GeoDataFrame|geometry"),
        ("candidate_sites", lambda f: _drop(f, "capacity"), "`capacity`"),
        ("talent_market", lambda f: f.set_geometry([shapely.Point()]), "empty geometry"),
        ("belts", lambda f: f.assign(industry="shoes"), "unknown industry `shoes`"),
        ("roads", lambda f: f.set_geometry([shapely.Point(113.7, 23.0)] * len(f)), "geometry type"),
    ],
)
def test_bad_layers_are_reported(layers, key, mutate, match):
    try:
        layers[key] = mutate(layers[key])
    except (ValueError, AttributeError):  # e.g. GeoDataFrame refuses to exist without geometry
        layers[key] = layers[key].drop(columns="geometry").to_dict()
    with pytest.raises(InputError, match=match):
        overview_map(**layers, title="t", synthetic=True)


def test_all_problems_are_raised_at_once(layers):
    layers["employers"] = layers["employers"].drop(columns="demand")
    layers["candidate_sites"] = layers["candidate_sites"].drop(columns="kind")
    with pytest.raises(InputError) as info:
        overview_map(**layers, title="t", synthetic=True)
    assert len(info.value.problems) == 2


def test_small_seeker_cells_are_refused(layers, seeker_points):
    # Cells straight from a hexbin with no suppression must never reach a map.
    from planner.hexbin import hexbin

    raw = hexbin(seeker_points, metric_crs="EPSG:32649", min_count=1)
    layers["seeker_cells"] = raw.cells
    with pytest.raises(InputError, match="count` < 5"):
        overview_map(**layers, title="t", synthetic=True)


def test_raw_seeker_points_are_refused(layers, seeker_points):
    layers["seeker_cells"] = seeker_points.assign(count=10)
    with pytest.raises(InputError, match="geometry type"):
        overview_map(**layers, title="t", synthetic=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"synthetic": True, "tiles": "OpenStreetMap"}, "`tiles` must be None"),
        ({"synthetic": False, "tiles": "https://x/{z}/{x}/{y}.png"}, "needs an `attribution`"),
    ],
)
def test_bad_tile_settings(layers, kwargs, match):
    with pytest.raises(InputError, match=match):
        overview_map(**layers, title="t", **kwargs)


def test_empty_layers_give_a_clear_error(layers):
    for key in ("employers", "candidate_sites", "talent_market", "belts"):
        layers[key] = layers[key].iloc[:0]
    layers["seeker_cells"] = layers["seeker_cells"].cells.iloc[:0]
    with pytest.raises(InputError, match="every layer given to the map is empty"):
        overview_map(**layers, title="t", synthetic=True)


@pytest.mark.parametrize(
    "counts", [[5], [5, 5, 5], [5, 6, 7, 8, 9, 10, 11, 100], list(range(5, 500, 7))]
)
def test_seeker_breaks_cover_all_counts(counts):
    import numpy as np

    edges = seeker_breaks(np.array(counts))
    assert edges[0] == 5 and np.all(np.diff(edges) > 0)
    assert edges[-1] >= max(counts)
    assert len(edges) - 1 <= 5


def test_geodataframe_in_other_crs_is_reprojected(layers):
    layers["candidate_sites"] = layers["candidate_sites"].to_crs("EPSG:32649")
    html = render_html(overview_map(**layers, title="t", synthetic=True))
    assert "113.741" in html


def test_hexbins_and_plain_cells_are_both_accepted(layers):
    layers["seeker_cells"] = gpd.GeoDataFrame(layers["seeker_cells"].cells)
    html = render_html(overview_map(**layers, title="t", synthetic=True))
    assert "Suppressed:" not in html  # unknown without the HexBins object


def test_every_cell_suppressed_still_draws_the_map(layers):
    """A small town whose seekers all live in cells below five: the layer is empty, no error."""
    layers["seeker_cells"] = layers["seeker_cells"].cells.iloc[:0]
    html = render_html(overview_map(**layers, title="t", synthetic=True))
    assert "Cells with fewer than 5 seekers are not shown" in html


def test_cells_follow_the_scenarios_k(layers):
    """A bureau's `[privacy] min_count = 3`: hexbin's cell of 3 people is shown and the
    legend says 3; the same cells as a bare frame (k unknown) are held to the default."""
    from planner.hexbin import hexbin

    # The fixture's groups of 12, 7 and 5 people plus a group of 3 (no lone people, whose
    # suppressed cells would make the 3 a complementary suppression).
    groups = [((113.745, 23.025), 12), ((113.765, 23.015), 7), ((113.755, 23.035), 5)]
    coords = [c for c, n in [*groups, ((113.78, 23.04), 3)] for _ in range(n)]
    points = gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(len(coords))], "industries": "textile"},
        geometry=gpd.points_from_xy([c[0] for c in coords], [c[1] for c in coords]),
        crs="EPSG:4326",
    )
    bins = hexbin(points, metric_crs="EPSG:32649", min_count=3)
    assert sorted(bins.cells["count"].astype(int)) == [3, 5, 7, 12]
    layers["seeker_cells"] = bins
    html = render_html(overview_map(**layers, title="t", synthetic=True))
    assert "Cells with fewer than 3 seekers are not shown" in html
    layers["seeker_cells"] = bins.cells
    with pytest.raises(InputError, match="count` < 5"):
        overview_map(**layers, title="t", synthetic=True)
