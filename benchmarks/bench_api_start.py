"""Start-up and memory of API workers sharing the memory-mapped nearest labels.

Starts ``--workers`` processes at once, each loading the API state of a planned scenario
(:func:`api.state.load_state`, as a uvicorn worker of ``dianmian serve --workers N`` does),
then, while all are alive, reads each one's ``/proc/PID/smaps_rollup``: RSS, PSS (shared
pages divided among the processes mapping them) and USS (private pages). Run twice: with
``--cold`` the labels folder is removed first, so one worker builds it (holding the lock)
while the others wait and then map it; without, every worker maps the existing folder.

    python benchmarks/bench_api_start.py data/dongcao --out out --cold
    python benchmarks/bench_api_start.py data/dongcao --out out

Writes ``out/bench/api_start[_<name>].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import write_json

WORKER = textwrap.dedent(
    """
    import json, logging, sys, time
    start = time.perf_counter()
    from api.settings import Settings
    from api.state import load_state
    import numpy as np
    logging.basicConfig(level=logging.WARNING)
    scenario, out = sys.argv[1], sys.argv[2]
    imported = time.perf_counter()
    settings = Settings(scenario=scenario, out=out, database_url="sqlite://")
    state = load_state(scenario, out, settings=settings)
    loaded = time.perf_counter()
    lon0, lat0, lon1, lat1 = state.area()
    got = state.nearest[state.modes[0]].query(
        np.array([(lon0 + lon1) / 2]), np.array([(lat0 + lat1) / 2]), k=1
    )
    peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
    print(json.dumps({
        "import_s": imported - start,
        "load_state_s": loaded - imported,
        "peak_rss_mb": int(peak) / 1024,
        "answer": int(got.facility[0, 0]),
    }), flush=True)
    sys.stdin.read()  # stay alive (and mapped) until the parent has measured
    """
)


def smaps_rollup(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private clean + dirty) of a process, MiB."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) / 1024
    return {
        "rss_mb": fields["Rss"],
        "pss_mb": fields["Pss"],
        "uss_mb": fields["Private_Clean"] + fields["Private_Dirty"],
        "shared_mb": fields["Shared_Clean"] + fields["Shared_Dirty"],
        "file_pss_mb": fields.get("Pss_File", float("nan")),
    }


def run(scenario: Path, out: Path, workers: int) -> list[dict[str, Any]]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(scenario), str(out)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(workers)
    ]
    rows = []
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line:
                msg = f"worker {p.pid} failed"
                raise RuntimeError(msg)
            row = json.loads(line)
            row["ready_after_s"] = time.perf_counter() - t0
            row["pid"] = p.pid
            rows.append(row)
        for row in rows:  # all alive and loaded: shared pages are split between them
            row.update(smaps_rollup(row["pid"]))
    finally:
        for p in procs:
            p.communicate("", timeout=60)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path)
    ap.add_argument("--out", type=Path, default=Path("out"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cold", action="store_true", help="remove the labels folder first")
    ap.add_argument("--name", default="")
    args = ap.parse_args()
    from api.state import LABELS_DIR, planned_scenario

    scenario, folder = planned_scenario(args.scenario, args.out)
    if args.cold:
        shutil.rmtree(folder / LABELS_DIR, ignore_errors=True)
    load = os.getloadavg()
    rows = run(args.scenario.resolve(), args.out.resolve(), args.workers)
    size = sum(f.stat().st_size for f in (folder / LABELS_DIR).rglob("*.npy"))
    result = {
        "scenario": scenario.name,
        "cold": args.cold,
        "workers": rows,
        "labels_mb": size / 2**20,
        "load_average_before": load,
        "load_average_after": os.getloadavg(),
    }
    for i, r in enumerate(rows):
        print(
            f"worker {i}: load_state {r['load_state_s']:.1f} s (+{r['import_s']:.1f} s imports), "
            f"peak RSS {r['peak_rss_mb']:.0f} MB; now RSS {r['rss_mb']:.0f}, "
            f"PSS {r['pss_mb']:.0f}, USS {r['uss_mb']:.0f}, shared {r['shared_mb']:.0f} MB"
        )
    print(f"labels on disk {size / 2**20:.0f} MB; load average {load} -> {os.getloadavg()}")
    suffix = f"_{args.name}" if args.name else ""
    print(f"wrote {write_json(f'api_start{suffix}', result)}")


if __name__ == "__main__":
    main()
