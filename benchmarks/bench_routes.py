"""Benchmark: the routing core (``planner.daily.vrp.solve_day``) on Solomon VRPTW and CVRPLIB A/X.

Each instance is turned into the product's own model (a :class:`DayProblem` with identical
volunteers at the depot, customers as required visits whose ``units`` are the demand and
``max_tasks`` the capacity) and solved by the same ``solve_day`` as a real day, so the numbers
measure the product's code path. Conventions (see the READMEs in the bench folder):

* Solomon: distances truncated to one decimal (we work in tenths), travel time = distance,
  vehicles free, total distance compared with the ``.sol`` optima.
* CVRPLIB A and X (<= 400 nodes): rounded EUC_2D distances, compared with the ``.sol`` costs
  (A: proven optima; X: best known as of April 2022).

Every returned route is re-checked independently here (capacity, time windows, every customer
once) and its cost recomputed from coordinates. Writes ``out/bench/routes.json``.

The search stops by iterations, as in the product (reproducible on any machine):
``max(12,000, budget / n)`` iterations for an instance of ``n`` customers, ``budget`` = 1.2
million customer-iterations by default, calibrated to about 10 s per instance on the 2-core
reference machine (a PyVRP iteration costs about 0.3-0.8 ms at 100-400 customers there,
growing like ``n**0.4``; small instances get more iterations). Balancing is off
(``balance=0``): the published optima minimise distance only.

    .venv/bin/python benchmarks/bench_routes.py                        # all (~100 x ~10 s)
    .venv/bin/python benchmarks/bench_routes.py --only C101,A-n32-k5 --budget 200000
    .venv/bin/python benchmarks/bench_routes.py --sets solomon
    .venv/bin/python benchmarks/bench_routes.py --synthetic-only       # Dongcao-scale timing
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo import Industry, TravelMode  # noqa: E402
from geo.timeofday import parse_hhmm  # noqa: E402
from planner.daily.vrp import (  # noqa: E402
    CostMatrices,
    DayProblem,
    Escort,
    Lunch,
    SolveOptions,
    TimeWindow,
    Visit,
    Volunteer,
    solve_day,
    visit_priority,
)

DEFAULT_BENCH = REPO.parent / "shared" / "bench"
X_MAX_NODES = 400
HORIZON_CVRP = 10**9  # no time limit on CVRP routes


def bench_dir() -> Path:
    return Path(os.environ.get("DIANMIAN_BENCH_DIR", DEFAULT_BENCH))


@dataclass
class Instance:
    name: str
    set: str
    dist: np.ndarray  # integer travel cost = time (tenths for Solomon)
    demand: np.ndarray
    capacity: int
    ready: np.ndarray
    due: np.ndarray  # latest service start
    service: np.ndarray
    horizon: int
    vehicles: int
    bks: float
    scale: int  # Solomon works in tenths


def _sol_cost(path: Path) -> float:
    match = re.search(r"Cost\s+([\d.]+)", path.read_text())
    if match is None:
        msg = f"no `Cost` line in {path}"
        raise ValueError(msg)
    return float(match.group(1))


def read_solomon(path: Path) -> Instance:
    lines = path.read_text().splitlines()
    vehicles, capacity = (int(x) for x in lines[4].split())
    rows = np.array([[float(x) for x in ln.split()] for ln in lines[9:] if ln.strip()])
    xy = rows[:, 1:3]
    euclid = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    # Convention 1: d = floor(10 * euclid) / 10; we keep tenths as integers. The small epsilon
    # guards against 10*euclid landing a hair below an integer in floating point.
    dist = np.floor(euclid * 10 + 1e-9).astype(np.int64)
    return Instance(
        name=path.stem,
        set="solomon",
        dist=dist,
        demand=rows[:, 3].astype(np.int64),
        capacity=capacity,
        ready=np.rint(rows[:, 4] * 10).astype(np.int64),
        due=np.rint(rows[:, 5] * 10).astype(np.int64),
        service=np.rint(rows[:, 6] * 10).astype(np.int64),
        horizon=round(rows[0, 5] * 10),
        vehicles=vehicles,
        bks=_sol_cost(path.with_suffix(".sol")),
        scale=10,
    )


def read_cvrp(path: Path, set_name: str) -> Instance:
    text = path.read_text()
    capacity = int(re.search(r"CAPACITY\s*:\s*(\d+)", text).group(1))  # type: ignore[union-attr]
    coord_block = text.split("NODE_COORD_SECTION")[1].split("DEMAND_SECTION")[0]
    demand_block = text.split("DEMAND_SECTION")[1].split("DEPOT_SECTION")[0]
    xy = np.array([[float(x) for x in ln.split()[1:3]] for ln in coord_block.strip().splitlines()])
    demand = np.array([int(ln.split()[1]) for ln in demand_block.strip().splitlines()])
    dist = np.rint(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))).astype(np.int64)
    n = len(demand)
    # Fleet is free: enough identical vehicles for any sensible solution.
    vehicles = min(n - 1, 2 * math.ceil(demand.sum() / capacity) + 10)
    return Instance(
        name=path.stem,
        set=set_name,
        dist=dist,
        demand=demand,
        capacity=capacity,
        ready=np.zeros(n, np.int64),
        due=np.full(n, HORIZON_CVRP, np.int64),
        service=np.zeros(n, np.int64),
        horizon=HORIZON_CVRP,
        vehicles=vehicles,
        bks=_sol_cost(path.with_suffix(".sol")),
        scale=1,
    )


def to_day_problem(inst: Instance) -> DayProblem:
    """The instance in the product's model: customers are required visits, vehicles volunteers."""
    n = len(inst.demand)
    mode = TravelMode.EBIKE
    tasks = [
        Visit(
            id=str(i),
            node=i,
            industry=None,
            service_s=int(inst.service[i]),
            # Product windows bound the whole visit; Solomon's due date bounds its start.
            windows=(TimeWindow(int(inst.ready[i]), int(inst.due[i] + inst.service[i])),),
            required=True,
            units=int(inst.demand[i]),
        )
        for i in range(1, n)
    ]
    vols = [
        Volunteer(
            id=f"veh{k}",
            start_node=0,
            end_node=0,
            shift=TimeWindow(0, inst.horizon),
            mode=mode,
            industries=frozenset(),
            max_tasks=inst.capacity,
            seats=0,
        )
        for k in range(inst.vehicles)
    ]
    mats = CostMatrices({mode: inst.dist}, {mode: inst.dist})
    return DayProblem(tasks, vols, mats)


def check_routes(inst: Instance, routes: list[list[int]]) -> tuple[int, list[str]]:
    """Independent cost and feasibility check of customer-number routes."""
    problems = []
    seen = [c for r in routes for c in r]
    n = len(inst.demand)
    if sorted(seen) != list(range(1, n)):
        problems.append("customers not visited exactly once")
    if len(routes) > inst.vehicles:
        problems.append(f"{len(routes)} routes > {inst.vehicles} vehicles")
    cost = 0
    for r in routes:
        path = [0, *r, 0]
        cost += int(sum(inst.dist[a, b] for a, b in itertools.pairwise(path)))
        if inst.demand[r].sum() > inst.capacity:
            problems.append(f"route {r[:3]}... over capacity")
        t = 0
        for a, b in itertools.pairwise(path):
            t = max(t + (inst.service[a] if a else 0) + inst.dist[a, b], inst.ready[b])
            if b and t > inst.due[b]:
                problems.append(f"customer {b} served at {t} after due {inst.due[b]}")
        if t > inst.horizon:
            problems.append(f"route {r[:3]}... returns at {t} after {inst.horizon}")
    return cost, problems


BUDGET = 1_200_000
"""Customer-iterations per instance (about 10 s on the reference machine, see above)."""


MIN_ITERATIONS = 12_000


def iterations_for(n_customers: int, budget: int = BUDGET) -> int:
    """Iterations for an instance of `n_customers` (see the module docstring)."""
    return max(MIN_ITERATIONS, round(budget / max(1, n_customers)))


def run_instance(inst: Instance, budget: int, seed: int) -> dict:
    problem = to_day_problem(inst)
    iterations = iterations_for(len(problem.tasks), budget)
    opts = SolveOptions(
        iterations=iterations,
        no_improvement=None,
        seconds=120.0,  # safety net only
        seed=seed,
        objective="time",
        balance=0.0,
    )
    t0 = time.perf_counter()
    plan = solve_day(problem, options=opts)
    elapsed = time.perf_counter() - t0
    routes = [[int(t) for t in r.task_ids] for r in plan.routes if not r.is_empty]
    cost, problems = check_routes(inst, routes)
    if plan.dropped:
        problems.append(f"{len(plan.dropped)} customers dropped")
    ours = cost / inst.scale
    return {
        "name": inst.name,
        "set": inst.set,
        "bks": inst.bks,
        "ours": round(ours, 1),
        "gap_pct": round(100 * (ours - inst.bks) / inst.bks, 3),
        "vehicles": len(routes),
        "iterations": iterations,
        "seconds": round(elapsed, 2),
        "feasible": not problems,
        "problems": problems[:5],
        "routes": routes,
    }


def instances(sets: list[str], only: set[str] | None) -> list[tuple[str, Path]]:
    base = bench_dir()
    found: list[tuple[str, Path]] = []
    if "solomon" in sets:
        found += [("solomon", p) for p in sorted((base / "vrptw" / "solomon").glob("*.txt"))]
    if "A" in sets:
        found += [("A", p) for p in sorted((base / "cvrp" / "A").glob("*.vrp"))]
    if "X" in sets:
        for p in sorted((base / "cvrp" / "X").glob("*.vrp")):
            if int(re.search(r"-n(\d+)-", p.name).group(1)) <= X_MAX_NODES:  # type: ignore[union-attr]
                found.append(("X", p))
    if only:
        found = [(s, p) for s, p in found if p.stem in only]
    return found


def synthetic_day(n_vol: int, n_visits: int, n_escorts: int, seed: int = 1) -> DayProblem:
    """A Dongcao-sized random day on Euclidean matrices (street detour factor 1.3)."""
    rng = np.random.default_rng(seed)
    n_points = 12 + n_vol + n_visits + n_escorts
    xy = rng.uniform(0, 12_000, (n_points, 2))  # a 12 km x 12 km town, metres
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)) * 1.3
    durs = {TravelMode.WALK: dist / 1.33, TravelMode.EBIKE: dist / 4.5}
    mats = CostMatrices(durs, {TravelMode.WALK: dist, TravelMode.EBIKE: dist})
    inds = list(Industry)
    service_points = list(range(12))
    vols = []
    for i in range(n_vol):
        home = int(rng.integers(12, n_points))
        sp = service_points[i % 12]
        vols.append(
            Volunteer(
                f"v{i}",
                start_node=home,
                end_node=home if i % 2 else sp,
                shift=TimeWindow(parse_hhmm("08:30"), parse_hhmm("17:30")),
                mode=TravelMode.EBIKE if i % 4 else TravelMode.WALK,
                industries=frozenset(rng.choice(inds, 3, replace=False).tolist()),
                max_tasks=10,
                lunch=Lunch(TimeWindow(parse_hhmm("11:30"), parse_hhmm("13:30")), 2700, (sp, home)),
            )
        )
    tasks: list[Visit | Escort] = []
    for j in range(n_visits):
        opens = parse_hhmm("08:00") + int(rng.integers(0, 5)) * 1800
        pri = visit_priority(int(rng.integers(0, 40)), int(rng.integers(0, 40)))
        node = int(rng.integers(12, n_points))
        win = (
            TimeWindow(opens, parse_hhmm("12:00")),
            TimeWindow(parse_hhmm("13:30"), parse_hhmm("18:00")),
        )
        tasks.append(Visit(f"t{j}", node, inds[j % 7], 900, win, priority=pri))
    for j in range(n_escorts):
        interview = parse_hhmm("09:30") + int(rng.integers(0, 13)) * 1800
        tasks.append(
            Escort(
                f"e{j}",
                service_points[j % 12],
                int(rng.integers(12, n_points)),
                inds[j % 7],
                int(rng.integers(1, 4)),
                interview - 7200,
                interview,
            )
        )
    return DayProblem(tasks, vols, mats)


def run_synthetic() -> dict:
    problem = synthetic_day(100, 600, 40)
    opts = SolveOptions()  # the product's defaults (iterations, balance)
    t0 = time.perf_counter()
    plan = solve_day(problem, options=opts)
    elapsed = time.perf_counter() - t0
    return {
        "volunteers": 100,
        "tasks": len(problem.tasks),
        "planned": len(plan.planned_task_ids),
        "dropped": len(plan.dropped),
        "routes_used": sum(not r.is_empty for r in plan.routes),
        "iterations": opts.iterations,
        "stopped_by": next((n for n in plan.notes if n.startswith("search stopped")), ""),
        "total_seconds": round(elapsed, 2),
        "target_seconds": 30,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--budget", type=int, default=BUDGET, help="customer-iterations per instance (~10 s)"
    )
    ap.add_argument("--only", default="", help="comma-separated instance names")
    ap.add_argument("--sets", default="solomon,A,X", help="comma-separated: solomon,A,X")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-synthetic", action="store_true")
    ap.add_argument("--synthetic-only", action="store_true")
    ap.add_argument("--out", default=str(REPO / "out" / "bench" / "routes.json"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    rows = []
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    todo = [] if args.synthetic_only else instances(args.sets.split(","), only)
    for set_name, path in todo:
        inst = read_solomon(path) if set_name == "solomon" else read_cvrp(path, set_name)
        row = run_instance(inst, args.budget, args.seed)
        rows.append(row)
        flag = "ok" if row["feasible"] else "INFEASIBLE " + "; ".join(row["problems"])
        print(
            f"{row['name']:14s} {row['set']:8s} bks={row['bks']:>10} ours={row['ours']:>10} "
            f"gap={row['gap_pct']:6.2f}% veh={row['vehicles']:3d} {row['seconds']:5.1f}s {flag}",
            flush=True,
        )
    summary = {}
    for s in ("solomon", "A", "X"):
        gaps = [r["gap_pct"] for r in rows if r["set"] == s]
        if gaps:
            summary[s] = {
                "instances": len(gaps),
                "mean_gap_pct": round(float(np.mean(gaps)), 3),
                "max_gap_pct": round(float(np.max(gaps)), 3),
                "all_feasible": all(r["feasible"] for r in rows if r["set"] == s),
            }
            print(f"{s:8s} n={len(gaps):3d} mean gap {np.mean(gaps):.2f}% max {np.max(gaps):.2f}%")
    synthetic = None
    if not args.no_synthetic:
        synthetic = run_synthetic()
        print("synthetic Dongcao-scale day:", synthetic)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "solver": "pyvrp " + _pyvrp_version(),
                "budget_customer_iterations": args.budget,
                "mean_seconds": round(float(np.mean([r["seconds"] for r in rows])), 2)
                if rows
                else None,
                "summary": summary,
                "synthetic": synthetic,
                "instances": rows,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


def _pyvrp_version() -> str:
    from importlib.metadata import version

    return version("pyvrp")


if __name__ == "__main__":
    main()
