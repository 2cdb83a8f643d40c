"""A city five times Dongcao, end to end on one machine (issue 17).

    .venv/bin/python benchmarks/bench_city.py [--scale 5] [--date 2025-06-02] [--skip STEP ...]

Builds the demo city at ``--scale`` (``data/dongcao-x<scale>``, once), then runs the whole
pipeline in this process, each step timed with its own peak resident memory (the kernel's
peak counter is reset before each step; ``/proc/self/status`` VmHWM):

* ``build``: the generator (skipped when the folder is complete);
* ``validate``: load and check every layer and the street network (``dianmian validate``);
* ``plan``: belts, travel times, staffed siting, assignment, crowd report, trade-off curve,
  written to ``out/bench/city/<scenario>/`` (``dianmian plan`` = validate + plan);
* ``routes``: one day's routes for all volunteers (solver seconds reported apart);
* ``maps``: the planner's HTML maps (size of each page, and the load time of the planner's
  pages and one volunteer page in headless Chromium against an empty map);
* ``api``: the API's in-process state (:func:`api.state.load_state`: plan files, network,
  nearest-point labels) as the first worker builds it at start-up (labels file removed
  first), then two worker processes mapping that file (start-up, RSS, PSS, USS each;
  ``benchmarks/bench_api_start.py``).

Targets (issue 17): ``dianmian plan`` (validate + plan) under 180 s with peak RSS under
8 GB; routes under 120 s of solver time; every map page under 15 MB. Each is stated met or
not. Writes ``out/bench/city.json``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._checks import idle_could_take
from benchmarks._common import OUT_DIR, peak_rss_mb, reset_peak_rss, write_json

PLAN_S, PLAN_RSS_MB, ROUTES_SOLVER_S, MAP_MB = 180.0, 8192.0, 120.0, 15.0


class Steps:
    """Runs named steps, recording wall seconds and peak RSS of each."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        reset_peak_rss()
        print(f"-- {name} ...", flush=True)
        t0 = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - t0
        self.rows[name] = {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_rss_mb(), 1)}
        print(f"   {name}: {seconds:.1f} s, peak RSS {self.rows[name]['peak_rss_mb']:,.0f} MB")
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=5.0)
    ap.add_argument("--date", default="2025-06-02")
    ap.add_argument("--iterations", type=int, default=None, help="routes: solver iterations")
    ap.add_argument(
        "--district-volunteers",
        type=int,
        default=50,
        help="--district-loss: volunteers per district when splitting is forced (2 on Dongcao)",
    )
    ap.add_argument("--skip", nargs="*", default=[], choices=["routes", "maps", "api"])
    ap.add_argument(
        "--district-loss",
        action="store_true",
        help="only: Dongcao's day planned whole and by district (quality lost by splitting)",
    )
    args = ap.parse_args()
    if args.district_loss:
        path = write_json("city_districts", _district_loss(args))
        print(f"wrote {path}")
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from geo.democity import ensure_demo_city, folder_for_scale, is_complete
    from geo.engine import Engine
    from planner.city import load_city, write_city
    from planner.points.plan import make_plan, write_plan

    steps = Steps()
    folder = folder_for_scale(args.scale)
    built = is_complete(folder, scale=args.scale)
    steps.run("build", lambda: ensure_demo_city(folder, scale=args.scale))
    steps.rows["build"]["cached"] = built
    out_root = OUT_DIR / "city"
    city = steps.run("validate", lambda: load_city(folder, out_root=out_root))
    target = out_root / city.scenario.name
    engine = Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)

    def plan_step() -> Any:
        made = make_plan(city, engine=engine)
        write_city(city, target)
        write_plan(made, city, target)
        return made

    plan = steps.run("plan", plan_step)
    summary = plan.summary
    staffing = summary["staffing"]
    result: dict[str, Any] = {
        "scale": args.scale,
        "city": city.summary(),
        "steps": steps.rows,
        "plan": {
            "timings_s": summary["timings_s"],
            "solver": staffing["solver"],
            "status": staffing["status"],
            "gap": staffing["gap"],
            "notes": staffing["notes"],
            "siting_rows": summary["siting"]["siting_rows"],
            "demand_groups": summary["siting"]["demand_groups"],
            "open_points": len(summary["siting"]["open_sites"]),
        },
    }
    if "routes" not in args.skip:
        result["routes"] = _routes(steps, city, plan, engine, out_root, args)
    if "maps" not in args.skip:
        result["maps"] = _maps(steps, city, target)
    if "api" not in args.skip:
        result["api"] = _api(steps, folder, out_root)
    result["targets"] = _targets(result)
    path = write_json("city", result)
    for name, met in result["targets"].items():
        print(f"{name}: {'met' if met['met'] else 'NOT met'} ({met['value']} vs {met['limit']})")
    print(f"wrote {path}")


def _routes(
    steps: Steps, city: Any, plan: Any, engine: Any, out_root: Path, args: argparse.Namespace
) -> dict[str, Any]:
    from planner.daily.run import routes_for_day
    from planner.daily.vrp import SolveOptions

    options = None
    if args.iterations is not None:
        options = SolveOptions(iterations=args.iterations, no_improvement=args.iterations // 2)
    run = steps.run(
        "routes",
        lambda: routes_for_day(
            city, plan, args.date, out_root=out_root, options=options, engine=engine
        ),
    )
    fig = run.plan.summary()
    return {
        "timings_s": run.timings,
        "tasks_planned": fig["tasks_planned"],
        "tasks_left_out": fig["tasks_left_out"],
        "volunteers": fig["volunteers"],
        "with_tasks": fig["with_tasks"],
        "idle": fig["volunteers"] - fig["with_tasks"],
        "idle_reasons": _kinds(r.reason for r in run.plan.routes if r.is_empty),
        "left_out_reasons": _kinds(d.reason for d in run.plan.dropped),
        "left_out_while_an_idle_volunteer_could_take_it": idle_could_take(run.plan, run.problem),
        "utilisation": fig["utilisation"],
        "notes": list(run.plan.notes),
    }


def _kinds(reasons: Any) -> dict[str, int]:
    """Reasons counted by kind (numbers blanked, so "3 at their limit" and "5 at ..." agree)."""
    import re
    from collections import Counter

    return dict(Counter(re.sub(r"[0-9][0-9.:,]*", "N", r) for r in reasons).most_common(8))


def _district_loss(args: argparse.Namespace) -> dict[str, Any]:
    """Dongcao's day solved as one problem and by district (about ``--district-volunteers``
    per district; forced with ``districts_above = 0``), same seed and iterations."""
    from dataclasses import replace

    from geo.democity import ensure_demo_city, folder_for_scale
    from geo.engine import Engine
    from planner.city import load_city
    from planner.daily.run import plan_city_day
    from planner.daily.vrp import SolveOptions
    from planner.points.plan import make_plan

    folder = ensure_demo_city(folder_for_scale(1.0))
    city = load_city(folder)
    engine = Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
    plan = make_plan(city, engine=engine)
    base = SolveOptions()
    if args.iterations is not None:
        base = SolveOptions(iterations=args.iterations, no_improvement=args.iterations // 2)
    out: dict[str, Any] = {"iterations": base.iterations}
    for name, opts in (
        ("whole", replace(base, districts_above=10**9)),
        (
            "districts",
            replace(base, districts_above=0, district_volunteers=args.district_volunteers),
        ),
    ):
        t0 = time.perf_counter()
        run = plan_city_day(city, plan, args.date, options=opts, engine=engine)
        fig = run.plan.summary()
        out[name] = {
            "tasks": len(run.problem.tasks),
            "tasks_planned": fig["tasks_planned"],
            "tasks_left_out": fig["tasks_left_out"],
            "travel_h": fig["travel_h"],
            "travel_h_per_task": round(fig["travel_h"] / max(1, fig["tasks_planned"]), 3),
            "with_tasks": fig["with_tasks"],
            "solver_s": run.timings["solver_s"],
            "wall_s": round(time.perf_counter() - t0, 1),
            "idle": fig["volunteers"] - fig["with_tasks"],
            "left_out_while_an_idle_volunteer_could_take_it": idle_could_take(
                run.plan, run.problem
            ),
            "notes": [n for n in run.plan.notes if n.startswith(("planned in", "hand-over"))],
        }
        print(name, out[name])
        last = run
    out["geometry"] = _geometry_ratio(last, engine)
    print("geometry", out["geometry"])
    w, d = out["whole"], out["districts"]
    out["loss"] = {
        "tasks_planned": d["tasks_planned"] - w["tasks_planned"],
        "travel_h_per_task_ratio": round(d["travel_h_per_task"] / w["travel_h_per_task"], 3)
        if w["travel_h_per_task"]
        else None,
        "solver_speed_ratio": round(w["solver_s"] / d["solver_s"], 2) if d["solver_s"] else None,
    }
    return out


def _geometry_ratio(run: Any, engine: Any) -> dict[str, Any]:
    """Street geometry of the plan's legs, one leg at a time (``TravelTimes.path``, as before)
    and in one batch (:class:`planner.daily.costs.StreetLegs`), timed in the same process."""
    import itertools

    import numpy as np

    from planner.daily.costs import GeometryClock, StreetLegs
    from planner.daily.tasks import DayParams

    coords = run.day.locations[["lon", "lat"]].to_numpy(dtype=float)
    out: dict[str, Any] = {}
    for mode in sorted({r.mode for r in run.plan.routes}):
        legs = sorted(
            {
                (a.node, b.node)
                for r in run.plan.routes
                if r.mode == mode
                for a, b in itertools.pairwise(r.stops)
                if a.node != b.node
            }
        )
        snapped = run.day.snapped[mode]
        limit = 60 * {"walk": DayParams().max_walk_leg_min}.get(
            mode.value, DayParams().max_ebike_leg_min
        )
        one = StreetLegs(engine, snapped, coords, GeometryClock(), limit_s=limit + 1)
        t0 = time.perf_counter()
        single = [one(a, b) for a, b in legs]
        one_s = time.perf_counter() - t0
        batch = StreetLegs(
            engine,
            snapped,
            coords,
            GeometryClock(),
            limit_s=limit + 1,
            durations=run.problem.matrices.durations[mode],
        )
        t0 = time.perf_counter()
        batch.prefetch(legs)
        batched = [batch(a, b) for a, b in legs]
        batch_s = time.perf_counter() - t0
        same = sum(
            len(x) == len(y) and np.allclose(np.asarray(x), np.asarray(y), atol=1e-9)
            for x, y in zip(single, batched, strict=True)
        )
        out[mode.value] = {
            "legs": len(legs),
            "one_by_one_s": round(one_s, 2),
            "batch_s": round(batch_s, 2),
            "speed_ratio": round(one_s / batch_s, 1) if batch_s else None,
            "identical_lines": same,
        }
    return out


def _maps(steps: Steps, city: Any, target: Path) -> dict[str, Any]:
    from maps.scenario import write_scenario_maps

    sc = city.scenario
    pages = steps.run(
        "maps",
        lambda: write_scenario_maps(
            target,
            title=sc.title,
            synthetic=sc.synthetic,
            tiles=None,
            attribution=sc.map.attribution or None,
            industries=sc.industries,
            coordinates=sc.map.coordinates,
        ),
    )
    sizes = {
        Path(p).name: round(Path(p).stat().st_size / 2**20, 2)
        for p in pages
        if str(p).endswith(".html")
    }
    return {"size_mb": sizes, "load": _map_loads([Path(p) for p in pages], city, target)}


def _map_loads(pages: list[Path], city: Any, target: Path) -> dict[str, Any]:
    """Median "map ready" time (ms) of each planner page and one volunteer page in headless
    Chromium, against an empty map with the same assets (the baseline, same run)."""
    from benchmarks._browser import chromium, median_load_ms, write_blank_map
    from maps._base import bounds_of

    html = [p for p in pages if p.suffix == ".html"]
    # The planner's pages sit in maps/, the volunteers' one level below: all of the first,
    # one busy volunteer's page (an empty day's page is a stub).
    top = min((p.parent for p in html), key=lambda d: len(d.parts), default=target)
    busy = [p for p in html if p.parent != top and p.stat().st_size > 50_000]
    chosen = [p for p in html if p.parent == top] + busy[:1]
    bounds = bounds_of([city.layer("candidate_sites")])
    blank = write_blank_map(target / "bench-blank.html", bounds)
    try:
        with chromium() as ctx:
            base_ms = median_load_ms(ctx, blank)
            loads = {str(p.relative_to(target)): median_load_ms(ctx, p) for p in chosen}
    except Exception as exc:  # no Chromium here: the sizes still stand
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        blank.unlink(missing_ok=True)
    return {
        "baseline_ms": round(base_ms),
        "pages": {
            k: {"ms": round(v), "x_baseline": round(v / base_ms, 1)} for k, v in loads.items()
        },
        "note": "map ready (scripts run, initial zoom done), median of 3 loads, 1280x800",
    }


def _api(steps: Steps, folder: Path, out_root: Path) -> dict[str, Any]:
    """API start-up: labels built in-process (cold, as the first worker), then two worker
    processes started at once mapping them (warm), with their RSS/PSS/USS."""
    import shutil

    from api.settings import Settings
    from api.state import LABELS_DIR, load_state, planned_scenario
    from benchmarks.bench_api_start import run as run_workers

    _scenario, plan_dir = planned_scenario(folder, out_root)
    shutil.rmtree(plan_dir / LABELS_DIR, ignore_errors=True)
    settings = Settings(
        scenario=folder,
        out=out_root,
        database_url=f"sqlite:///{tempfile.mkdtemp(prefix='bench-city-')}/api.sqlite",
    )
    state = steps.run("api", lambda: load_state(folder, out_root, settings=settings))
    info: dict[str, Any] = {
        "modes": list(state.modes),
        "service_points": len(state.service_points),
        "nodes": state.network.n_nodes,
        "note": "`api`: start-up of the first worker, building the labels file; "
        "`workers`: two further workers started together, mapping it",
    }
    state.close()
    info["workers"] = run_workers(folder, out_root, 2)
    return info


def _targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = result["steps"]
    plan_s = rows["validate"]["seconds"] + rows["plan"]["seconds"]
    plan_mb = max(rows["validate"]["peak_rss_mb"], rows["plan"]["peak_rss_mb"])
    out = {
        "plan_seconds": {"value": round(plan_s, 1), "limit": PLAN_S, "met": plan_s < PLAN_S},
        "plan_peak_rss_mb": {"value": plan_mb, "limit": PLAN_RSS_MB, "met": plan_mb < PLAN_RSS_MB},
    }
    if "routes" in result:
        solver = float(result["routes"]["timings_s"].get("solver_s", float("nan")))
        out["routes_solver_seconds"] = {
            "value": round(solver, 1),
            "limit": ROUTES_SOLVER_S,
            "met": solver < ROUTES_SOLVER_S,
        }
    if result.get("maps"):
        biggest = max(result["maps"]["size_mb"].values())
        out["largest_map_mb"] = {"value": biggest, "limit": MAP_MB, "met": biggest < MAP_MB}
    return out


if __name__ == "__main__":
    main()
