"""Map file sizes and load times in headless Chromium, for the Dongcao demo city.

Builds the overview, plan and routes maps from ``data/dongcao`` (3,300 employers, 42,000
seekers -> hexagons, 250 candidate sites, 71,718 street segments), with a stand-in plan (30
service points with 15-min-like buffer catchments) and stand-in routes (100 volunteers, 8
visits each, 200-vertex paths), writes them to ``out/bench/maps/`` and opens each in
headless Chromium. The baseline, measured in the same run, is an empty map with the same
vendored Leaflet assets; ratios are load time / baseline load time.

Load time: from navigation start to "map ready" (all inline scripts run, initial zoom
animation finished), median of 3 loads, measured with ``performance.now()`` in the page.

Run: ``.venv/bin/python benchmarks/bench_maps.py`` (writes ``out/bench/maps.json``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._browser import chromium, median_load_ms  # noqa: E402
from maps._base import base_map, bounds_of, finish, render_html  # noqa: E402
from maps.plan import PlanLayers  # noqa: E402
from maps.write import write_maps  # noqa: E402
from planner.daily.record import parse_routes  # noqa: E402
from planner.hexbin import hexbin  # noqa: E402

GPKG = ROOT / "data" / "dongcao" / "dongcao.gpkg"
OUT = ROOT / "out" / "bench"


def _layers() -> dict[str, gpd.GeoDataFrame]:
    if not GPKG.exists():
        msg = f"{GPKG} is missing: run `make demo` (or the demo-city generator) first"
        raise SystemExit(msg)
    names = ["employers", "seekers", "candidate_sites", "talent_market", "roads", "belts_truth"]
    return {n: gpd.read_file(GPKG, layer=n).to_crs("EPSG:4326") for n in names}


def _stand_in_plan(sites: gpd.GeoDataFrame, rng: np.random.Generator) -> PlanLayers:
    sp = sites.sample(30, random_state=1).copy()
    codes = ["textile", "electrical", "furniture", "toys", "food", "chemical", "other"]
    sp["industries"] = [
        ";".join(rng.choice(codes, rng.integers(1, 4), replace=False)) for _ in range(30)
    ]
    sp["load"] = rng.integers(20, 400, 30)
    polys = sp.to_crs("EPSG:32650").buffer(2500, quad_segs=16).to_crs("EPSG:4326")
    catch = gpd.GeoDataFrame(
        {"point_id": sp["id"].to_numpy(), "minutes": 15}, geometry=polys.to_numpy(), crs=4326
    )
    crowd = {"market_before": 2400.0, "market_after": 900.0}
    cols = ["id", "name", "kind", "industries", "load", "capacity", "geometry"]
    return PlanLayers(sp[cols], catch, crowd)


def _stand_in_routes(employers: gpd.GeoDataFrame, rng: np.random.Generator) -> list[dict]:
    routes = []
    xy = np.column_stack([employers.geometry.x, employers.geometry.y])
    for v in range(100):
        home = xy[rng.integers(len(xy))] + rng.normal(0, 0.003, 2)
        visits = xy[rng.choice(len(xy), 8, replace=False)]
        pts = np.vstack([home, visits, home])
        # 200-vertex path through the stops (stands in for a street-following geometry).
        t = np.linspace(0, len(pts) - 1, 200)
        path = np.column_stack([np.interp(t, np.arange(len(pts)), pts[:, k]) for k in (0, 1)])

        def stop(kind: str, k: int, lon: float, lat: float, arrive: int, leave: int) -> dict:
            return {
                "kind": kind,
                "node": k,
                "task_id": None if kind != "visit" else f"visit:{lon:.6f},{lat:.6f}",
                "label": f"Employer {k}" if kind == "visit" else "",
                "lon": float(lon),
                "lat": float(lat),
                "arrival_s": arrive,
                "start_s": arrive,
                "departure_s": leave,
                "travel_s": 0.0,
                "travel_m": 0.0,
            }

        stops = [stop("start", 0, home[0], home[1], 30600, 30600)]
        for k, (lon, lat) in enumerate(visits, 1):
            stops.append(stop("visit", k, lon, lat, 30600 + 1800 * k, 30600 + 1800 * k + 1200))
        stops.append(stop("end", 0, home[0], home[1], 48600, 48600))
        routes.append(
            {
                "volunteer_id": f"V{v:03d}",
                "name": f"Volunteer {v}",
                "mode": "walk",
                "stops": stops,
                "geometry": path.tolist(),
            }
        )
    return routes


def main() -> None:
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    lay = _layers()
    bins = hexbin(lay["seekers"], metric_crs="EPSG:32650")
    market = lay["talent_market"]
    belts = lay["belts_truth"][["industry", "geometry"]]
    plan = _stand_in_plan(lay["candidate_sites"], rng)
    routes = parse_routes(_stand_in_routes(lay["employers"], rng))
    read_s = time.perf_counter() - t0

    out = OUT / "maps"
    variants = {"with_roads": lay["roads"][["geometry"]], "no_roads": None}
    sizes: dict[str, dict[str, float]] = {}
    build_s: dict[str, float] = {}
    for variant, roads in variants.items():
        t0 = time.perf_counter()
        paths = write_maps(
            out / variant,
            employers=lay["employers"],
            seeker_cells=bins,
            candidate_sites=lay["candidate_sites"],
            talent_market=market,
            belts=belts,
            roads=roads,
            plan=plan,
            routes=routes,
            title="Dongcao 东草",
            synthetic=True,
        )
        build_s[variant] = time.perf_counter() - t0
        sizes[variant] = {str(p.relative_to(out / variant)): p.stat().st_size / 1e6 for p in paths}

    baseline = out / "baseline.html"
    m = base_map(
        bounds=bounds_of([market.to_crs("EPSG:32650").buffer(1000).to_crs("EPSG:4326")]),
        title="baseline",
        synthetic=True,
    )
    baseline.write_text(render_html(finish(m)), encoding="utf-8")

    loads: dict[str, dict[str, float]] = {}
    with chromium() as ctx:
        base_ms = median_load_ms(ctx, baseline)
        for variant in variants:
            for name in ("overview.html", "plan.html", "routes.html", "routes/V000.html"):
                ms = median_load_ms(ctx, out / variant / name)
                loads[f"{variant}/{name}"] = {"ms": ms, "ratio": ms / base_ms}

    result = {
        "inputs": {
            "employers": len(lay["employers"]),
            "seekers": len(lay["seekers"]),
            "hex_cells": len(bins.cells),
            "candidate_sites": len(lay["candidate_sites"]),
            "road_segments": len(lay["roads"]),
            "service_points": len(plan.service_points),
            "volunteers": len(routes),
        },
        "read_s": read_s,
        "build_write_s": build_s,
        "size_mb": sizes,
        "baseline_ms": base_ms,
        "load": loads,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "maps.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result["inputs"]))
    print(f"baseline (empty map, same assets): {base_ms:.0f} ms")
    rows = []
    for variant in variants:
        for name in ("overview.html", "plan.html", "routes.html", "routes/V000.html"):
            key = f"{variant}/{name}"
            rows.append((key, sizes[variant][name], loads[key]["ms"], loads[key]["ratio"]))
    print(
        pd.DataFrame(rows, columns=["page", "MB", "load ms", "x baseline"]).to_string(index=False)
    )
    print("build+write s:", {k: round(v, 1) for k, v in build_s.items()})


if __name__ == "__main__":
    main()
