"""Safe publishing: a new plan published while clients hammer the server is picked up with
zero failed requests, and /readyz reports the new version."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from api import create_app
from planner.publish import current_version, publishing, version_folder

FILES = ("plan.gpkg", "city.gpkg", "plan_summary.json")


def _publish(target: Path, source: Path, market_visitors: int) -> str:
    with publishing(target) as pub:
        for name in FILES[:2]:
            shutil.copy(source / name, pub.folder / name)
        summary = {"after": {"market_visitors": market_visitors}}
        (pub.folder / "plan_summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return pub.version


def test_publishing_is_all_or_nothing(tmp_path):
    target = tmp_path / "out" / "city"
    with publishing(target) as pub:
        (pub.folder / "plan.gpkg").write_bytes(b"one")
    first = current_version(target)
    assert first == pub.version and (target / "plan.gpkg").read_bytes() == b"one"
    with pytest.raises(RuntimeError), publishing(target) as pub2:
        (pub2.folder / "plan.gpkg").write_bytes(b"half")
        raise RuntimeError("crash while writing")
    assert current_version(target) == first  # the crash published nothing
    assert (target / "plan.gpkg").read_bytes() == b"one"
    assert not list(target.glob(".staging-*"))
    for k in range(4):
        with publishing(target, keep=2) as pub3:
            (pub3.folder / "plan.gpkg").write_bytes(f"v{k}".encode())
    folder, version = version_folder(target)
    assert version == pub3.version and (folder / "plan.gpkg").read_bytes() == b"v3"
    assert len(list((target / "versions").iterdir())) == 2
    pointer = json.loads((target / "CURRENT").read_text())
    assert pointer["files"]["plan.gpkg"]["bytes"] == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_new_plan_under_load_zero_errors(tmp_path, city, settings):
    folder, out_root = city.write_scenario(tmp_path, name="loadcity")
    target = out_root / "loadcity"
    source = tmp_path / "source"
    shutil.copytree(target, source)
    first = _publish(target, source, 1000)
    roomy = settings.model_copy(update={"scenario": folder, "out": out_root, "reload_poll_s": 0.2})
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings=roomy), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    assert httpx.get(base + "/readyz").json()["version"] == first

    stop = threading.Event()
    results: list[tuple[int, int | None]] = []  # (status, market_visitors)

    def hammer() -> None:
        with httpx.Client(base_url=base, timeout=10) as c:
            while not stop.is_set():
                for path in ("/plan/summary", "/collections/service-points/items", "/readyz"):
                    try:
                        r = c.get(path)
                    except httpx.HTTPError:
                        results.append((-1, None))
                        continue
                    seen = None
                    if path == "/plan/summary" and r.status_code == 200:
                        seen = r.json()["summary"]["after"]["market_visitors"]
                    results.append((r.status_code, seen))

    clients = [threading.Thread(target=hammer) for _ in range(4)]
    for t in clients:
        t.start()
    time.sleep(0.5)
    second = _publish(target, source, 2000)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if httpx.get(base + "/readyz").json()["version"] == second:
            break
        time.sleep(0.1)
    assert httpx.get(base + "/readyz").json()["version"] == second
    time.sleep(0.5)
    stop.set()
    for t in clients:
        t.join()
    server.should_exit = True
    thread.join(timeout=10)
    errors = [s for s, _ in results if s != 200]
    seen = {v for _, v in results if v is not None}
    assert len(results) > 100
    assert errors == []
    assert seen == {1000, 2000}  # the old plan, then the new one, never anything else
