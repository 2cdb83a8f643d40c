"""Benchmark: our p-median heuristic vs the OR-Library optima (pmed1-pmed40) and spopt.

For each instance: shortest-path distances (Floyd-Warshall, scipy.sparse.csgraph) from the
instance graph with OR-Library's duplicate-edge rule (a later edge line overwrites an earlier
one), then

* ours:  ``planner.points.siting.PMedian.from_cost_matrix(...).solve("heuristic")``;
* spopt: ``spopt.locate.PMedian.from_cost_matrix(...).solve(PULP_CBC_CMD)`` in a subprocess,
  capped at ``--spopt-timeout`` seconds (recorded as "no result" when capped).

Both timings cover model build + solve from the distance matrix. Writes
``out/bench/siting.json`` and prints a table with totals.

    .venv/bin/python benchmarks/bench_siting.py                      # full run (long: spopt)
    .venv/bin/python benchmarks/bench_siting.py --no-spopt --only pmed1,pmed2
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated instance names, e.g. pmed1,pmed2")
    parser.add_argument("--no-spopt", action="store_true", help="skip the spopt baseline")
    parser.add_argument("--spopt-timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bench" / "siting.json")
    parser.add_argument("--spopt-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.spopt_worker:
        spopt_worker(args.spopt_worker)
        return
    sys.path.insert(0, str(REPO))
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "instances": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
