"""Offline pages: every CDN link is replaced by a vendored, inlined asset."""

from __future__ import annotations

import re

import pytest

from maps._base import render_html
from maps._errors import OfflineAssetError
from maps._offline import ASSET_DIR, inline_assets
from maps.overview import overview_map

TAG_WITH_URL = re.compile(r"<(?:script|link)\b[^>]*(?:src|href)=\"[^\"]*\"", re.I)


def test_inline_replaces_known_cdn_links_and_embeds_css_images():
    page = (
        '<head><script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"/>'
        '<script src="https://cdn.example.org/other/leaflet.js"></script></head>'
    )
    out = inline_assets(page)
    assert TAG_WITH_URL.search(out) is None
    # The same asset linked twice is inlined once.
    assert out.count("leaflet.js (vendored)") == 1
    # Leaflet's layer-control icon is referenced from CSS: it must become a data URI.
    assert "images/layers.png" not in out
    assert 'url("data:image/png;base64,' in out
    assert (ASSET_DIR / "leaflet.js").read_text(encoding="utf-8")[:200] in out


@pytest.mark.parametrize(
    "tag",
    [
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>',
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css"/>',
        '<link rel="icon" href="https://example.org/leaflet.css"/>',
    ],
)
def test_unvendored_links_raise(tag):
    with pytest.raises(OfflineAssetError, match=r"vendored|non-stylesheet"):
        inline_assets(f"<head>{tag}</head>")


def test_rendered_overview_has_no_external_script_or_stylesheet(
    employers, seeker_bins, candidate_sites, talent_market
):
    html = render_html(
        overview_map(
            employers=employers,
            seeker_cells=seeker_bins,
            candidate_sites=candidate_sites,
            talent_market=talent_market,
            title="t",
            synthetic=True,
        )
    )
    assert TAG_WITH_URL.search(html) is None
    for needle in ("jquery", "bootstrap", "awesome-markers", "fontawesome"):
        assert needle not in html.lower()
    for asset in (
        "leaflet.js",
        "leaflet.markercluster.js",
        "Control.FullScreen.js",
        "leaflet-measure.js",
    ):
        assert f"{asset} (vendored)" in html


def test_vendored_licences_are_present():
    names = {p.name for p in (ASSET_DIR / "licenses").iterdir()}
    assert {
        "leaflet.LICENSE",
        "leaflet.markercluster.LICENSE",
        "leaflet.fullscreen.LICENSE",
        "leaflet-measure.LICENSE",
    } <= names
