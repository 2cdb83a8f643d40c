"""Benchmark of the travel-time engine (geo.engine) against osmnx + networkx.

Cases (issue 3), on the Dongcao demo network (if geo.democity can build it) and on a
generated network of >= 200,000 nodes:

* matrix of 20,000 origins x 500 destinations, walk and car, with and without a 45-min cutoff;
* nearest-facility labelling of every node for 500 facilities (walk and car);
* 100,000 point snaps.

Baselines run in the same process: osmnx snapping plus one networkx single-source Dijkstra
per origin (measured on a sample of origins and scaled), networkx multi-source Dijkstra for
labelling, osmnx ``nearest_edges`` for snapping. Accuracy: engine versus networkx on >= 200
pairs (nodes for labelling: all of them). Writes ``out/bench/network.json``.

Usage: ``.venv/bin/python benchmarks/bench_network.py [--quick]``
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import format_table, peak_rss_mb, reset_peak_rss, timed, write_json

from geo.engine import WALK_SPEED_MS, Engine, TravelTimes
from geo.engine.base import street_lines
from geo.engine.synthetic import grid_graph
from geo.network import (
    MIN_EDGE_TIME_S,
    StreetNetwork,
    network_from_graph,
    read_osm_graph,
)

log = logging.getLogger("bench_network")

CUTOFF_S = 45 * 60
BASELINE_SAMPLE = 3  # origins timed with networkx, then scaled
TRUTH_ORIGINS = 2  # x 500 destinations = 1,000 checked pairs per matrix case


def networks(quick: bool) -> list[tuple[str, nx.MultiDiGraph, str]]:
    """(name, osmnx-style graph, note) of the networks to benchmark."""
    out = []
    try:
        from geo.democity import ensure_demo_city  # type: ignore[attr-defined]

        folder = Path(ensure_demo_city())
        out.append(("dongcao", read_osm_graph(folder / "network.graphml"), "demo city"))
    except (ImportError, AttributeError, FileNotFoundError) as exc:
        log.warning("Dongcao demo network unavailable (%s); skipped", exc)
    side = 120 if quick else 450
    try:
        from geo.democity import generate_city  # type: ignore[attr-defined]

        graph = generate_city(1, scale=1 if quick else 5).graph
        out.append(("generated", graph, "geo.democity.generate_city(seed=1, scale=5)"))
    except (ImportError, AttributeError) as exc:
        log.warning("geo.democity.generate_city unavailable (%s); using a grid", exc)
        graph = grid_graph(side, side, seed=1)
        out.append(("generated", graph, f"geo.engine.synthetic.grid_graph({side}, {side})"))
    return out


def sample_points(net: StreetNetwork, n: int, rng: np.random.Generator) -> np.ndarray:
    """Points scattered up to ~100 m around nodes usable by both walk and car."""
    ok = np.flatnonzero(net.mode("walk").in_component & net.mode("car").in_component)
    nodes = rng.choice(ok, n)
    return np.column_stack([net.x[nodes], net.y[nodes]]) + rng.normal(0, 40, (n, 2))


def nx_graph(net: StreetNetwork, mode: str) -> nx.DiGraph:
    g = net.to_networkx(mode)
    g.graph["crs"] = net.crs
    for i, (x, y) in enumerate(zip(net.x.tolist(), net.y.tolist(), strict=True)):
        g.nodes[i]["x"] = x
        g.nodes[i]["y"] = y
    return g


def edge_times(net: StreetNetwork, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Per street edge: time (s) along and against its digitisation, inf if barred."""
    g = net.mode(mode)
    t = np.maximum(g.time_s, MIN_EDGE_TIME_S)
    tf = np.full(net.n_edges, np.inf)
    tb = np.full(net.n_edges, np.inf)
    np.minimum.at(tf, g.edge[~g.reverse], t[~g.reverse])
    np.minimum.at(tb, g.edge[g.reverse], t[g.reverse])
    return tf, tb


def _part(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(p == 0, 0.0, p * t)


def truth_times(net, mode, graph, o, d) -> np.ndarray:
    """Point-to-point times with networkx Dijkstra from both ends of each origin's edge."""
    tf, tb = edge_times(net, mode)
    n = net.n_nodes
    du, dv = net.edge_u[d.edge], net.edge_v[d.edge]
    ca = _part(d.fraction, tf[d.edge])
    cb = _part(1 - d.fraction, tb[d.edge])
    out = np.full((len(o), len(d)), np.inf)
    for i in range(len(o)):
        e, f = int(o.edge[i]), float(o.fraction[i])
        best = np.full(len(d), np.inf)
        for node, c in ((net.edge_v[e], _part(1 - f, tf[e])), (net.edge_u[e], _part(f, tb[e]))):
            if not np.isfinite(c):
                continue
            dist = np.full(n, np.inf)
            got = nx.single_source_dijkstra_path_length(graph, int(node), weight="time_s")
            dist[list(got)] = list(got.values())
            best = np.fmin(best, c + np.fmin(dist[du] + ca, dist[dv] + cb))
        same = d.edge == e
        delta = d.fraction - f
        direct = _part(np.abs(delta), np.where(delta >= 0, tf[e], tb[e]))
        best = np.where(same, np.fmin(best, direct), best)
        out[i] = best + (o.distance_m[i] + d.distance_m) / WALK_SPEED_MS
    return out


def max_err(a: np.ndarray, b: np.ndarray) -> float:
    fa, fb = np.isfinite(a), np.isfinite(b)
    if (fa != fb).any():
        return float("inf")
    return float(np.abs(a[fa] - b[fb]).max()) if fa.any() else 0.0


def bench_network(name: str, graph: nx.MultiDiGraph, note: str, quick: bool) -> list[dict]:
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    net = network_from_graph(graph, source=name)
    load_s = time.perf_counter() - t0
    log.info("%s: %d nodes, %d edges (prepared in %.1f s)", name, net.n_nodes, net.n_edges, load_s)
    rng = np.random.default_rng(0)
    n_o, n_d = (2000, 100) if quick else (20_000, 500)
    origins, dests = sample_points(net, n_o, rng), sample_points(net, n_d, rng)
    engine = Engine(net)
    common = {"nodes": net.n_nodes, "edges": net.n_edges, "network": note}

    for mode in ("walk", "car"):
        tt = engine[mode]  # prepared once: arcs, STRtree (timed inside the first call below)
        graph_nx = nx_graph(net, mode)
        o_snap = tt.snap(origins, on_error="mask")
        d_snap = tt.snap(dests, on_error="mask")
        pick = np.flatnonzero(o_snap.valid)[:TRUTH_ORIGINS]
        truth = truth_times(net, mode, graph_nx, o_snap.take(pick), d_snap)
        for cutoff in (None, CUTOFF_S):
            gc.collect()
            reset_peak_rss()
            m, engine_s = timed(
                lambda: tt.matrix(origins, dests, cutoff_s=cutoff, on_error="mask")  # noqa: B023
            )
            peak = peak_rss_mb()
            expect = truth if cutoff is None else np.where(truth <= cutoff, truth, np.inf)
            err = max_err(m.time_s[pick], expect)
            base_s, per_sssp = baseline_matrix(graph_nx, origins, dests, cutoff, rng)
            rows.append(
                {
                    "case": f"{name}/matrix-{mode}-{n_o}x{n_d}"
                    + ("" if cutoff is None else f"-cutoff{cutoff // 60}min"),
                    **common,
                    "engine_s": engine_s,
                    "baseline_s": base_s,
                    "baseline_note": (
                        "osmnx nearest_nodes for all points + networkx "
                        "single_source_dijkstra_path_length per origin"
                        + ("" if cutoff is None else f" (cutoff={cutoff} s)")
                        + f", timed on {BASELINE_SAMPLE} origins and scaled to {n_o}; "
                        f"networkx from the {n_d} destinations on the reversed graph would "
                        f"take ~{per_sssp * n_d:.1f} s (ratio "
                        f"{per_sssp * n_d / engine_s:.1f}x)"
                    ),
                    "ratio": base_s / engine_s,
                    "peak_rss_mb": peak,
                    "max_abs_err_s": err,
                    "checked_pairs": int(expect.size),
                    "reachable_share": float(np.isfinite(m.time_s).mean()),
                }
            )
            log.info("%s", rows[-1])
        rows.append(bench_labels(name, net, tt, graph_nx, rng, common, quick))
        del graph_nx
        gc.collect()
    rows.append(bench_snaps(name, net, engine["walk"], graph, rng, common, quick))
    return rows


def baseline_matrix(graph, origins, dests, cutoff, rng) -> tuple[float, float]:
    """Scaled time (s) of osmnx snapping + one networkx Dijkstra per origin; per-search time."""
    xy = np.vstack([origins, dests])
    start = time.perf_counter()
    nodes = ox.distance.nearest_nodes(graph, xy[:, 0], xy[:, 1])
    snap_s = time.perf_counter() - start
    o_nodes, d_nodes = nodes[: len(origins)], nodes[len(origins) :]
    sample = rng.choice(len(origins), BASELINE_SAMPLE, replace=False)
    start = time.perf_counter()
    for i in sample:
        dist = nx.single_source_dijkstra_path_length(
            graph, int(o_nodes[i]), cutoff=cutoff, weight="time_s"
        )
        _ = [dist.get(int(j), np.inf) for j in d_nodes]
    per = (time.perf_counter() - start) / BASELINE_SAMPLE
    return snap_s + per * len(origins), per


def bench_labels(name, net, tt: TravelTimes, graph_nx, rng, common, quick) -> dict[str, Any]:
    n_fac = 100 if quick else 500
    nodes = rng.choice(np.flatnonzero(net.mode(tt.mode).in_component), n_fac, replace=False)
    fac = np.column_stack([net.x[nodes], net.y[nodes]])  # at nodes: same meaning as networkx
    tt.nearest_facilities(fac[:2])  # warm-up: STRtree and reversed arcs are built once
    gc.collect()
    reset_peak_rss()
    labels, engine_s = timed(lambda: tt.nearest_facilities(fac), repeat=3)
    peak = peak_rss_mb()
    rev = graph_nx.reverse(copy=False)
    got, base_s = timed(
        lambda: nx.multi_source_dijkstra_path_length(rev, set(nodes.tolist()), weight="time_s")
    )
    truth = np.full(net.n_nodes, np.inf)
    truth[list(got)] = list(got.values())
    return {
        "case": f"{name}/label-{tt.mode.value}-{n_fac}-facilities",
        **common,
        "engine_s": engine_s,
        "baseline_s": base_s,
        "baseline_note": "networkx multi_source_dijkstra_path_length on the reversed graph "
        "(one pass, facilities at nodes); engine time includes snapping the facilities "
        "(best of 3)",
        "ratio": base_s / engine_s,
        "peak_rss_mb": peak,
        "max_abs_err_s": max_err(labels.time_s[:, 0], truth),
        "checked_pairs": int(net.n_nodes),
    }


def bench_snaps(name, net, tt: TravelTimes, graph, rng, common, quick) -> dict[str, Any]:
    n = 10_000 if quick else 100_000
    pts = sample_points(net, n, rng)
    tt.snap(pts[:10])  # warm-up: STRtree is built once per mode
    gc.collect()
    reset_peak_rss()
    snapped, engine_s = timed(lambda: tt.snap(pts, on_error="mask"))
    peak = peak_rss_mb()
    projected = ox.project_graph(graph, to_crs=net.crs)
    _, base_s = timed(lambda: ox.distance.nearest_edges(projected, pts[:, 0], pts[:, 1]))
    # Accuracy: brute force over every walkable edge near each of 200 points.
    lines = street_lines(net)[np.unique(net.mode("walk").edge)]
    bounds = shapely.bounds(lines)
    errs = []
    for i in rng.choice(n, 200, replace=False):
        r = snapped.distance_m[i] + 1.0
        x, y = pts[i]
        near = (
            (bounds[:, 0] <= x + r)
            & (bounds[:, 2] >= x - r)
            & (bounds[:, 1] <= y + r)
            & (bounds[:, 3] >= y - r)
        )
        best = shapely.distance(shapely.Point(x, y), lines[near]).min()
        errs.append(abs(best - snapped.distance_m[i]) / WALK_SPEED_MS)
    return {
        "case": f"{name}/snap-walk-{n}-points",
        **common,
        "engine_s": engine_s,
        "baseline_s": base_s,
        "baseline_note": "osmnx.distance.nearest_edges on the projected graph (same meaning: "
        "nearest street edge; includes osmnx building edge geometries); error = access time "
        "of the engine's snap distance vs brute force over all edges, 200 points",
        "ratio": base_s / engine_s,
        "peak_rss_mb": peak,
        "max_abs_err_s": float(max(errs)),
        "checked_pairs": 200,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rows: list[dict[str, Any]] = []
    for name, graph, note in networks(args.quick):
        rows.extend(bench_network(name, graph, note, args.quick))
        del graph
        gc.collect()
    targets = {
        "matrix_ratio_min": 30.0,
        "label_200k_s_max": 1.0,
        "peak_rss_mb_max": 4096.0,
        "max_abs_err_s_max": 0.01,
    }
    path = write_json("network", {"quick": args.quick, "targets": targets, "cases": rows})
    cols = ["case", "nodes", "engine_s", "baseline_s", "ratio", "peak_rss_mb", "max_abs_err_s"]
    print(format_table(rows, cols))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
