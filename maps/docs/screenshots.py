"""Screenshots of a scenario's map pages at desktop (1280x800) and phone (390x844) size.

Run after ``dianmian demo`` (or ``dianmian maps``)::

    PYTHONPATH=$PWD .venv/bin/python maps/docs/screenshots.py out/dongcao

Writes ``maps/docs/<scenario>-<page>-<desktop|phone>.png`` for overview, plan, plan with
its loop section open and the open-cases layer on (``plan-loop``), routes, the day page of
the first volunteer with tasks and of the first without, using headless Chromium (system
``/usr/bin/chromium`` or ``DIANMIAN_CHROMIUM``) through Playwright. PNGs are reduced to a
256-colour palette with Pillow when it is installed (a few hundred kB each). Page names
after the folder take only those pages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
SETTLE_JS = """() => new Promise((done) => {
  const m = window.dianmian_map;
  if (!m) { done(); return; }
  const frames = (n, then) => (n ? requestAnimationFrame(() => frames(n - 1, then)) : then());
  frames(2, () => {
    if (m._animatingZoom || document.querySelector('.leaflet-zoom-anim')) {
      m.once('zoomend', () => frames(4, done));
    } else { frames(4, done); }
  });
})"""

PREPARE = {
    "plan-loop": """() => {
  const loop = document.querySelector('.dm-loop details'); if (loop) loop.open = true;
  const crowd = document.querySelector('.dm-crowd details'); if (crowd) crowd.open = false;
  const layer = (window.dianmian_layers || {})['loop'];
  if (layer) window.dianmian_map.addLayer(layer);
}""",
}
"""Page variants: JavaScript run before the screenshot."""


def pages(scenario_dir: Path) -> dict[str, Path]:
    """Page name -> HTML file of the scenario (day pages of the newest day)."""
    maps = scenario_dir / "maps"
    out = {name: maps / f"{name}.html" for name in ("overview", "plan", "routes")}
    out["plan-loop"] = maps / "plan.html"
    days = sorted((scenario_dir / "routes").glob("*/volunteers"))
    if days:
        vols = sorted(days[-1].glob("*.html"))
        busy = [p for p in vols if "class='dm-idle'" not in p.read_text(encoding="utf-8")]
        idle = [p for p in vols if p not in busy]
        if busy:
            out["volunteer"] = busy[0]
        if idle:
            out["volunteer-idle"] = idle[0]
    return {k: v for k, v in out.items() if v.is_file()}


def _shrink(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as im:
        # Fast octree keeps the small legend swatches' hues (median cut shifts them).
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    small.save(path, optimize=True)


def main(scenario_dir: Path, only: set[str] | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("DIANMIAN_CHROMIUM", "/usr/bin/chromium")
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for size, (w, h) in SIZES.items():
            page = browser.new_page(viewport={"width": w, "height": h})
            for name, html in pages(scenario_dir).items():
                if only and name not in only:
                    continue
                page.goto(html.resolve().as_uri(), wait_until="load")
                if name in PREPARE:
                    page.evaluate(PREPARE[name])
                page.evaluate(SETTLE_JS)
                path = DOCS / f"{scenario_dir.name}-{name}-{size}.png"
                page.screenshot(path=str(path))
                _shrink(path)
                written.append(path)
            page.close()
        browser.close()
    return written


if __name__ == "__main__":
    names = set(sys.argv[2:]) or None  # optional: only these pages
    for shot in main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/dongcao"), names):
        sys.stdout.write(f"{shot} {shot.stat().st_size / 1e3:.0f} kB\n")
