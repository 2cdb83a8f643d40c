"""Benchmark: our p-median heuristic vs the OR-Library optima (pmed1-pmed40) and spopt.

For each instance: shortest-path distances (Floyd-Warshall, scipy.sparse.csgraph) from the
instance graph with OR-Library's duplicate-edge rule (a later edge line overwrites an earlier
one), then

* ours:  ``planner.points.siting.PMedian.from_cost_matrix(...).solve("heuristic")``;
* spopt: ``spopt.locate.PMedian.from_cost_matrix(...).solve(PULP_CBC_CMD)`` in a subprocess,
  capped at ``--spopt-timeout`` seconds (recorded as "no result" when capped).

Both timings cover model build + solve from the distance matrix.

Staffing case table (issue 11): the same graphs become staffed-siting instances (demand at
every node, deterministic weights, the node nearest the centre as the market with its own
staff, capacity tables from Erlang C with a morning-rush peak, a staff pool that binds). Our
heuristic (``StaffedSiting.solve("heuristic")``, the plan's code path) is compared with the
exact MILP (``solve("milp")``, HiGHS, capped at ``--milp-timeout`` s): objective gap to the
MILP's value and to its proven bound, and the time ratio.

Writes ``out/bench/siting.json`` and prints the tables with totals.

    .venv/bin/python benchmarks/bench_siting.py                      # full run (long: spopt)
    .venv/bin/python benchmarks/bench_siting.py --no-spopt --only pmed1,pmed2
    .venv/bin/python benchmarks/bench_siting.py --staffing-only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse.csgraph import floyd_warshall

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BENCH = REPO.parent / "shared" / "bench"
STARTUP_GRACE_S = 10.0  # interpreter start, imports and Floyd-Warshall in the spopt worker


def bench_dir() -> Path:
    return Path(os.environ.get("DIANMIAN_BENCH_DIR", DEFAULT_BENCH)) / "pmed"


def read_optima(folder: Path) -> dict[str, int]:
    lines = (folder / "pmedopt.txt").read_text().splitlines()[1:]
    pairs = (line.split() for line in lines if line.strip())
    return {name: int(value) for name, value in pairs}


def load_instance(path: Path) -> tuple[np.ndarray, int]:
    """Distance matrix (n x n) and p of one OR-Library pmed file."""
    tokens = np.array(path.read_text().split(), dtype=np.int64)
    n, m, p = (int(t) for t in tokens[:3])
    edges = tokens[3 : 3 + 3 * m].reshape(m, 3)
    lo = np.minimum(edges[:, 0], edges[:, 1]) - 1
    hi = np.maximum(edges[:, 0], edges[:, 1]) - 1
    # "Last occurrence wins": the first hit in the reversed list is the last edge line.
    _, first_in_reversed = np.unique((lo * n + hi)[::-1], return_index=True)
    last = m - 1 - first_in_reversed
    graph = np.full((n, n), np.inf)
    graph[lo[last], hi[last]] = edges[last, 2]
    graph[hi[last], lo[last]] = edges[last, 2]
    np.fill_diagonal(graph, 0.0)
    return floyd_warshall(graph, directed=False), p


def run_ours(dist: np.ndarray, p: int, seed: int) -> tuple[float, float, list[int], float | None]:
    from planner.points.siting import PMedian

    start = time.perf_counter()
    result = PMedian.from_cost_matrix(dist, None, p).solve("heuristic", seed=seed)
    elapsed = time.perf_counter() - start
    medians = result.open_sites
    # Re-check the objective from the medians alone.
    check = float(dist[:, medians].min(axis=1).sum())
    if abs(check - result.objective) > 1e-6 * max(1.0, check):
        msg = f"objective {result.objective} does not match the medians' cost {check}"
        raise RuntimeError(msg)
    return check, elapsed, (medians + 1).tolist(), result.bound


def spopt_worker(name: str) -> None:
    """Subprocess entry: solve one instance with spopt + CBC and print one JSON line."""
    import pulp
    from spopt.locate import PMedian as SpoptPMedian

    dist, p = load_instance(bench_dir() / f"{name}.txt")
    start = time.perf_counter()
    model = SpoptPMedian.from_cost_matrix(dist, np.ones(dist.shape[0]), p, name=name)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    elapsed = time.perf_counter() - start
    print(json.dumps({"objective": float(model.problem.objective.value()), "seconds": elapsed}))


def run_spopt(name: str, cap_s: float) -> tuple[float | None, float | None, str]:
    """Run the spopt worker with a wall-clock cap; kill its whole process group if capped."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--spopt-worker", name]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=cap_s + STARTUP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # CBC runs as a child process of the worker
        proc.communicate()
        return None, cap_s, "no result (capped)"
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return (
            None,
            wall,
            f"error: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}",
        )
    data = json.loads(out.strip().splitlines()[-1])
    if data["seconds"] > cap_s:
        return None, cap_s, "no result (capped)"
    return data["objective"], data["seconds"], "ok"


STAFFING_INSTANCES = "pmed1,pmed2,pmed3,pmed4,pmed6,pmed7,pmed11,pmed12"


def staffing_instance(dist: np.ndarray, p: int, seed: int) -> tuple[Any, dict[str, Any]]:
    """A staffed-siting model on an OR-Library graph (see the module docstring)."""
    from planner.points.siting.staffed import StaffedSiting
    from planner.points.staffing import capacity_table

    rng = np.random.default_rng(seed)
    n = dist.shape[0]
    market = int(np.argmin(dist.sum(axis=1)))
    weights = rng.integers(1, 12, n).astype(float)
    # Travel "seconds": graph distance x 20; points within the 25th percentile are in reach.
    cost = dist * 20.0
    max_cost = float(np.quantile(cost[np.isfinite(cost)], 0.25))
    peak = 0.196  # the default morning rush over 8 opening hours
    limits = rng.integers(3, 7, n)  # most staff per room, 3-6
    table = capacity_table(6, 12.0, target_wait_min=15.0, max_on_site=40, peak_share=peak)
    tables = np.tile(table, (n, 1))
    for j, k in enumerate(limits):
        tables[j, k + 1 :] = table[k]
    staff_needed = weights.sum() * peak * 12.0 / 60.0  # Erlangs at the peak
    pool = int(np.ceil(0.8 * staff_needed))  # binding: not everyone can be served at points
    market_capacity = 0.1 * weights.sum()
    model = StaffedSiting.from_cost_matrix(
        cost,
        weights,
        p,
        tables,
        pool=pool,
        market=market,
        market_capacity=market_capacity,
        max_cost=max_cost,
    )
    return model, {"pool": pool, "visits": float(weights.sum()), "max_cost": max_cost}


def staffing_table(names: list[str], milp_cap_s: float, seed: int) -> dict[str, Any]:
    """Heuristic vs exact MILP on staffed-siting instances; prints the table."""
    folder = bench_dir()
    print(f"\nStaffed siting: heuristic (plan's code path) vs exact MILP (cap {milp_cap_s:g} s)")
    print(
        f"{'name':8} {'n':>4} {'p':>4} {'pool':>5} {'milp':>12} {'bound':>12} {'status':>10}"
        f" {'milp_s':>7} {'ours':>12} {'gap%':>7} {'gap_bd%':>7} {'ours_s':>7}"
    )
    rows = []
    for name in names:
        dist, p = load_instance(folder / f"{name}.txt")
        model, info = staffing_instance(dist, p, seed)
        t0 = time.perf_counter()
        exact = model.solve("milp", time_limit_s=milp_cap_s)
        milp_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = model.solve("heuristic", time_limit_s=10.0)
        ours_s = time.perf_counter() - t0
        bound = exact.bound if exact.bound is not None else exact.objective
        gap = 100.0 * (ours.objective - exact.objective) / exact.objective
        gap_bound = 100.0 * (ours.objective - bound) / ours.objective
        for res in (exact, ours):  # both plans keep every promise
            if (res.loads > res.capacity + 1e-6).any() or res.staff.sum() > info["pool"]:
                msg = f"{name}: infeasible staffed plan"
                raise RuntimeError(msg)
        row = {
            "name": name,
            "n": int(dist.shape[0]),
            "p": p,
            **info,
            "milp": exact.objective,
            "milp_bound": bound,
            "milp_status": exact.status,
            "milp_s": milp_s,
            "ours": ours.objective,
            "gap_pct": gap,
            "gap_to_bound_pct": gap_bound,
            "ours_s": ours_s,
            "ours_unserved": float(ours.unserved.sum()),
            "milp_unserved": float(exact.unserved.sum()),
        }
        rows.append(row)
        print(
            f"{name:8} {row['n']:4d} {p:4d} {info['pool']:5d} {exact.objective:12.0f}"
            f" {bound:12.0f} {exact.status:>10} {milp_s:7.1f} {ours.objective:12.0f}"
            f" {gap:7.3f} {gap_bound:7.3f} {ours_s:7.2f}",
            flush=True,
        )
    gaps = np.array([r["gap_pct"] for r in rows])
    ours_total = float(sum(r["ours_s"] for r in rows))
    milp_total = float(sum(r["milp_s"] for r in rows))
    summary = {
        "instances": len(rows),
        "mean_gap_pct": float(gaps.mean()),
        "max_gap_pct": float(gaps.max()),
        "mean_gap_to_bound_pct": float(np.mean([r["gap_to_bound_pct"] for r in rows])),
        "milp_optimal": sum(r["milp_status"] == "optimal" for r in rows),
        "ours_total_s": ours_total,
        "milp_total_s": milp_total,
        "time_ratio_milp_over_ours": milp_total / ours_total if ours_total else None,
    }
    print(
        f"\nstaffed: mean gap {summary['mean_gap_pct']:.3f}%  max gap {summary['max_gap_pct']:.3f}%"
        f"  (to the MILP bound {summary['mean_gap_to_bound_pct']:.3f}%)  MILP optimal "
        f"{summary['milp_optimal']}/{len(rows)}  ours {ours_total:.1f} s vs MILP "
        f"{milp_total:.1f} s ({summary['time_ratio_milp_over_ours']:.1f}x)"
    )
    return {"summary": summary, "instances": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated instance names, e.g. pmed1,pmed2")
    parser.add_argument("--no-spopt", action="store_true", help="skip the spopt baseline")
    parser.add_argument("--spopt-timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bench" / "siting.json")
    parser.add_argument("--spopt-worker", help=argparse.SUPPRESS)
    parser.add_argument("--staffing-only", action="store_true", help="only the staffing table")
    parser.add_argument("--no-staffing", action="store_true", help="skip the staffing table")
    parser.add_argument("--staffing", default=STAFFING_INSTANCES, help="staffing instances")
    parser.add_argument("--milp-timeout", type=float, default=120.0)
    args = parser.parse_args()
    if args.spopt_worker:
        spopt_worker(args.spopt_worker)
        return
    sys.path.insert(0, str(REPO))
    if args.staffing_only:
        staffing = staffing_table(args.staffing.split(","), args.milp_timeout, args.seed)
        out = args.out.with_name("siting_staffing.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(staffing, indent=1))
        print(f"wrote {out}")
        return
    folder = bench_dir()
    optima = read_optima(folder)
    names = args.only.split(",") if args.only else [f"pmed{i}" for i in range(1, 41)]
    rows: list[dict[str, Any]] = []
    header = f"{'name':8} {'n':>4} {'p':>4} {'optimum':>8} {'ours':>8} {'gap%':>7} {'ours_s':>7}"
    header += f" {'spopt':>8} {'spopt_s':>8}"
    print(header)
    for name in names:
        dist, p = load_instance(folder / f"{name}.txt")
        ours, ours_s, medians, bound = run_ours(dist, p, args.seed)
        optimum = optima[name]
        gap = 100.0 * (ours - optimum) / optimum
        spopt_obj, spopt_s, spopt_status = (None, None, "skipped")
        if not args.no_spopt:
            spopt_obj, spopt_s, spopt_status = run_spopt(name, args.spopt_timeout)
        row = {
            "name": name,
            "n": int(dist.shape[0]),
            "p": p,
            "optimum": optimum,
            "ours": ours,
            "gap_pct": gap,
            "ours_s": ours_s,
            "ours_lower_bound": bound,
            "spopt": spopt_obj,
            "spopt_s": spopt_s,
            "spopt_status": spopt_status,
            "medians": medians,
        }
        rows.append(row)
        spopt_txt = f"{spopt_obj:8.0f}" if spopt_obj is not None else f"{'--':>8}"
        spopt_t = f"{spopt_s:8.2f}" if spopt_s is not None else f"{'--':>8}"
        print(
            f"{name:8} {row['n']:4d} {p:4d} {optimum:8d} {ours:8.0f} {gap:7.3f} {ours_s:7.2f}"
            f" {spopt_txt} {spopt_t}  {'' if spopt_status in ('ok', 'skipped') else spopt_status}",
            flush=True,
        )
    gaps = np.array([r["gap_pct"] for r in rows])
    ours_total = float(sum(r["ours_s"] for r in rows))
    spopt_times = [r["spopt_s"] for r in rows if r["spopt_s"] is not None]
    spopt_total = float(sum(spopt_times)) if spopt_times else None
    n_capped = sum(r["spopt_status"] == "no result (capped)" for r in rows)
    summary = {
        "instances": len(rows),
        "mean_gap_pct": float(gaps.mean()),
        "max_gap_pct": float(gaps.max()),
        "n_optimal": int((gaps <= 1e-9).sum()),
        "ours_total_s": ours_total,
        "spopt_total_s": spopt_total,
        "spopt_capped": n_capped,
        "spopt_cap_s": args.spopt_timeout,
        "time_ratio_spopt_over_ours": spopt_total / ours_total if spopt_total else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "targets": {
            "every_gap_le_0.5pct": bool((gaps <= 0.5).all()),
            "mean_gap_le_0.1pct": bool(gaps.mean() <= 0.1),
            "ours_le_tenth_of_spopt": bool(spopt_total and ours_total * 10 <= spopt_total),
        },
    }
    print(
        f"\nmean gap {summary['mean_gap_pct']:.4f}%  max gap {summary['max_gap_pct']:.4f}%  "
        f"optimal {summary['n_optimal']}/{len(rows)}  ours total {ours_total:.1f} s"
    )
    if spopt_total is not None:
        print(
            f"spopt total {spopt_total:.1f} s (capped at {args.spopt_timeout:g} s, counted as"
            f" {args.spopt_timeout:g} s: {n_capped})"
            f"  ratio spopt/ours {spopt_total / ours_total:.1f}x"
        )
    result: dict[str, Any] = {"summary": summary, "instances": rows}
    if not args.no_staffing:
        result["staffing"] = staffing_table(args.staffing.split(","), args.milp_timeout, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
