"""Page load times in headless Chromium, shared by the map benchmarks.

Load time: from navigation start to "map ready" (all inline scripts run, the initial zoom
animation finished), measured with ``performance.now()`` in the page; JavaScript errors
abort the benchmark. A page that does not get ready within the timeout counts as frozen.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
READY_JS = """() => new Promise((done) => {
  const m = window.dianmian_map;
  const frames = (n, then) => (n ? requestAnimationFrame(() => frames(n - 1, then)) : then());
  frames(2, () => {
    if (m._animatingZoom || document.querySelector('.leaflet-zoom-anim')) {
      m.once('zoomend', () => frames(2, () => done(performance.now())));
    } else { done(performance.now()); }
  });
})"""
TIMEOUT_MS = 60_000


@contextmanager
def chromium() -> Iterator[Any]:
    """A persistent headless Chromium context (1280 x 800) in a throw-away profile."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 800},
        )
        try:
            yield ctx
        finally:
            ctx.close()


def load_ms(context: Any, path: Path, repeat: int = 3) -> list[float]:
    """Milliseconds to "map ready" of `path`, once per `repeat`."""
    times = []
    for _ in range(repeat):
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
        page.goto(path.resolve().as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        page.wait_for_function("() => window.dianmian_map !== undefined", timeout=TIMEOUT_MS)
        times.append(float(page.evaluate(READY_JS)))
        page.close()
        if errors:
            raise SystemExit(f"{path.name}: JavaScript errors {errors[:3]}")
    return times


def median_load_ms(context: Any, path: Path, repeat: int = 3) -> float:
    return float(statistics.median(load_ms(context, path, repeat)))


def write_blank_map(path: Path, bounds: list[list[float]]) -> Path:
    """An empty map page with the same vendored assets: the baseline of the load ratios."""
    from maps._base import base_map, finish, render_html

    path.parent.mkdir(parents=True, exist_ok=True)
    m = base_map(bounds=bounds, title="baseline", synthetic=True)
    path.write_text(render_html(finish(m)), encoding="utf-8")
    return path
