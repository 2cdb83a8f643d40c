"""District searches one after the other vs in parallel processes, on one city's day (issue 17).

    .venv/bin/python benchmarks/bench_districts.py [--scale 5] [--date 2025-06-02]
        [--workers 2] [--iterations N] [--day-cache PATH]

Builds the day's routing problem of the demo city at ``--scale`` (validate, plan, the day's
tasks and travel matrices: minutes at scale 5), or loads it from ``--day-cache`` (a pickle
this script wrote on an earlier run: inputs, not outputs), then plans it by district
(:func:`planner.daily.vrp.districts.solve_by_district`, forced with ``districts_above = 0``)
with ``workers = 1`` and with ``--workers``, same seed and iterations. Prints the phases
(district searches, hand-over, checks) of each run, the speed-up of the district phase and
of the whole solve, and whether the two ``plan.json`` are byte-identical (they must be).
Writes ``out/bench/districts.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import write_json


class _Phases(logging.Handler):
    """Keeps the phase seconds :func:`solve_by_district` logs at its end."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: tuple[float, ...] = ()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("by district:"):
            args = record.args if isinstance(record.args, tuple) else ()
            self.seconds = tuple(float(x) for x in args if isinstance(x, (int, float)))


def _day(args: argparse.Namespace) -> tuple[Any, dict[str, str], dict[str, int]]:
    """The day's problem, volunteers' points and points' matrix nodes (built or cached)."""
    cache = Path(args.day_cache) if args.day_cache else None
    if cache is not None and cache.exists():
        with cache.open("rb") as f:
            problem, point_of, locations = pickle.load(f)
    else:
        from geo.democity import ensure_demo_city, folder_for_scale
        from geo.engine import Engine
        from planner.city import load_city
        from planner.daily.costs import day_matrices
        from planner.daily.run import day_tasks
        from planner.daily.vrp import DayProblem
        from planner.points.plan import make_plan

        city = load_city(ensure_demo_city(folder_for_scale(args.scale), scale=args.scale))
        engine = Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
        plan = make_plan(city, engine=engine)
        day = day_tasks(city, plan, args.date, engine=engine)
        matrices, _ = day_matrices(day, engine)
        problem = DayProblem(day.tasks, day.volunteers, matrices)
        point_of, locations = dict(day.point_of), day.locations
        if cache is not None:
            with cache.open("wb") as f:
                pickle.dump((problem, point_of, locations), f)
    keys = locations["key"].astype(str)
    node = {k[len("point:") :]: i for i, k in enumerate(keys) if k.startswith("point:")}
    return problem, point_of, node


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=5.0)
    ap.add_argument("--date", default="2025-06-02")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--iterations", type=int, default=None)
    ap.add_argument("--district-volunteers", type=int, default=80)
    ap.add_argument("--day-cache", default=None, help="pickle of the day's problem (read/write)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    phases = _Phases()
    logging.getLogger("planner.daily.vrp.districts").addHandler(phases)

    from planner.daily.export import plan_json
    from planner.daily.vrp import SolveOptions
    from planner.daily.vrp.districts import solve_by_district

    problem, point_of, node = _day(args)
    base = SolveOptions(districts_above=0, district_volunteers=args.district_volunteers)
    if args.iterations is not None:
        base = replace(base, iterations=args.iterations, no_improvement=args.iterations // 2)
    out: dict[str, Any] = {
        "scale": args.scale,
        "tasks": len(problem.tasks),
        "volunteers": len(problem.volunteers),
        "iterations": base.iterations,
    }
    digests = {}
    for workers in (1, args.workers):
        load = os.getloadavg()
        t0 = time.perf_counter()
        plan = solve_by_district(problem, point_of, node, options=replace(base, workers=workers))
        wall = time.perf_counter() - t0
        text = plan_json(plan)
        digests[workers] = hashlib.sha256(text.encode()).hexdigest()
        districts, hand_over, checks = phases.seconds
        fig = plan.summary()
        out[f"workers_{workers}"] = {
            "solve_s": round(wall, 1),
            "districts_s": round(districts, 1),
            "hand_over_s": round(hand_over, 1),
            "checks_s": round(checks, 1),
            "load_before": [round(x, 2) for x in load],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "tasks_planned": fig["tasks_planned"],
            "tasks_left_out": fig["tasks_left_out"],
            "plan_json_sha256": digests[workers],
        }
        print(f"workers={workers}", out[f"workers_{workers}"], flush=True)
    one, many = out["workers_1"], out[f"workers_{args.workers}"]
    out["speed_up"] = {
        "districts": round(one["districts_s"] / many["districts_s"], 2),
        "solve": round(one["solve_s"] / many["solve_s"], 2),
    }
    out["identical_plan_json"] = digests[1] == digests[args.workers]
    print("speed-up", out["speed_up"], "identical plan.json:", out["identical_plan_json"])
    write_json("districts", out)
    if not out["identical_plan_json"]:
        sys.exit("the parallel plan differs from the serial one")


if __name__ == "__main__":
    main()
