"""Make folium's HTML work offline: inline the vendored Leaflet assets.

folium links Leaflet and its plugins from CDNs (jsdelivr, cdnjs). A bureau laptop or a CI
machine without internet would show a blank page. :func:`inline_assets` replaces every
``<script src=...>`` and ``<link rel="stylesheet" href=...>`` in the rendered page by the
matching file of ``maps/_assets`` (see its README for versions and licences), with images
referenced from CSS turned into ``data:`` URIs, so the page needs no other file.

Assets are matched by file name, not by full URL, so a folium upgrade that bumps a CDN
version keeps working; a link to anything we do not vendor raises
:class:`~maps._errors.OfflineAssetError` instead of silently producing a page that needs
the internet.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
from pathlib import Path

from maps._errors import OfflineAssetError

logger = logging.getLogger(__name__)

ASSET_DIR = Path(__file__).resolve().parent / "_assets"

# CDN file name (as folium links it) -> vendored file.
_ASSETS: dict[str, str] = {
    "leaflet.js": "leaflet.js",
    "leaflet.css": "leaflet.css",
    "leaflet.markercluster.js": "leaflet.markercluster.js",
    "MarkerCluster.css": "MarkerCluster.css",
    "MarkerCluster.Default.css": "MarkerCluster.Default.css",
    "Control.FullScreen.min.js": "Control.FullScreen.js",
    "Control.FullScreen.js": "Control.FullScreen.js",
    "Control.FullScreen.css": "Control.FullScreen.css",
    "leaflet-measure.min.js": "leaflet-measure.js",
    "leaflet-measure.js": "leaflet-measure.js",
    "leaflet-measure.min.css": "leaflet-measure.css",
    "leaflet-measure.css": "leaflet-measure.css",
}

LEAFLET_ONLY_JS = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js")]
LEAFLET_ONLY_CSS = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css")]
"""What a :class:`folium.Map` needs from the CDN list once jQuery, Bootstrap and Font Awesome
are dropped (our maps use none of them; see ``maps/_assets/README.md``)."""

_SCRIPT_TAG = re.compile(r"<script\b[^>]*\bsrc=\"(?P<url>[^\"]+)\"[^>]*>\s*</script>", re.I)
_LINK_TAG = re.compile(r"<link\b[^>]*\bhref=\"(?P<url>[^\"]+)\"[^>]*>", re.I)
_CSS_URL = re.compile(r"url\(\s*(?P<q>[\"']?)(?P<ref>[^\"')]+)(?P=q)\s*\)")
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$|/\*# sourceMappingURL=.*?\*/", re.M)
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


def _vendored(url: str) -> Path:
    name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    if name not in _ASSETS:
        msg = (
            f"the map links `{url}`, which is not vendored in maps/_assets; the page would "
            "need the internet. Vendor the file (see maps/_assets/README.md) or avoid the "
            "feature that needs it (folium.Popup needs jQuery, folium.Icon Bootstrap)"
        )
        raise OfflineAssetError(msg)
    return ASSET_DIR / _ASSETS[name]


def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower())
    if mime is None or not path.is_file():
        msg = f"CSS asset `{path.name}` is missing from maps/_assets or has an unknown type"
        raise OfflineAssetError(msg)
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.cache
def _inline_css(path: Path) -> str:
    css = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))

    def replace(match: re.Match[str]) -> str:
        ref = match.group("ref")
        # VML behaviour hooks and existing data URIs are not files.
        if ref.startswith(("data:", "#")):
            return match.group(0)
        return f'url("{_data_uri(path.parent / ref)}")'

    return f"<style>/* {path.name} (vendored) */\n{_CSS_URL.sub(replace, css)}</style>"


@functools.cache
def _inline_js(path: Path) -> str:
    js = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
    # A literal "</script" inside the code would end the inline element early.
    js = js.replace("</script", "<\\/script")
    return f"<script>/* {path.name} (vendored) */\n{js}</script>"


def inline_assets(html: str) -> str:
    """Replace CDN ``<script>``/``<link>`` tags of a rendered folium page by inline assets.

    Raises
    ------
    OfflineAssetError
        If the page links a script or stylesheet that is not vendored.
    """
    seen: set[Path] = set()

    def once(path: Path, text: str) -> str:
        # The same asset linked twice (two plugins of one kind) is inlined once.
        if path in seen:
            return ""
        seen.add(path)
        return text

    def script(match: re.Match[str]) -> str:
        path = _vendored(match.group("url"))
        return once(path, _inline_js(path))

    def link(match: re.Match[str]) -> str:
        tag = match.group(0)
        if "stylesheet" not in tag.lower():
            msg = f"the map links a non-stylesheet resource: `{tag}`"
            raise OfflineAssetError(msg)
        path = _vendored(match.group("url"))
        return once(path, _inline_css(path))

    out = _LINK_TAG.sub(link, _SCRIPT_TAG.sub(script, html))
    logger.debug("inlined %d vendored assets", len(seen))
    return out
