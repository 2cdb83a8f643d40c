"""Writes survive a restart: SQLite file and a throwaway PostgreSQL cluster on loopback.

The PostgreSQL test starts its own server with ``initdb``/``pg_ctl`` (Debian package
``postgresql``; see ``make install-postgres``). Without the binaries it is skipped locally
but fails in CI (``CI=true``), so CI can never silently lose it.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import build_state, create_app
from api.settings import Settings
from api.state import RouteBook
from planner.store import Store, export_feedback, sqlite_url


def _exercise(url: str) -> None:
    store = Store(url)
    first = store.record_demand("e001", 12, note="first")
    store.record_demand("e002", 3)
    store.record_demand("e001", 20)
    _, created = store.mark_done("v1", "t1", dt.date(2025, 3, 3), note="ok")
    assert created and first.report_id >= 1
    _, again = store.mark_done("v1", "t1", dt.date(2025, 3, 3))
    assert not again
    store.close()  # the "restart": a new engine, new connections
    reopened = Store(url)
    assert reopened.latest_demand() == {"e001": 20, "e002": 3}
    assert [r.demand for r in reopened.demand_history("e001")] == [12, 20]
    done = reopened.done_tasks(dt.date(2025, 3, 3))
    assert [(t.volunteer_id, t.task_id, t.note) for t in done] == [("v1", "t1", "ok")]
    assert done[0].done_at.tzinfo is not None
    assert reopened.done_tasks(dt.date(2025, 3, 4)) == []
    reopened.close()


def test_sqlite_writes_survive_a_restart(tmp_path):
    _exercise(sqlite_url(tmp_path / "dianmian.sqlite"))


def test_writes_through_the_api_survive_an_app_restart(tmp_path, network, city):
    layers = city.plan_layers()
    routes_root = tmp_path / "routes" / city.ROUTE_DATE
    routes_root.mkdir(parents=True)
    stop = {"kind": "visit", "node": 1, "task_id": "t1", "lon": 115.5, "lat": 21.5}
    times = {"arrival_s": 32400, "start_s": 32400, "departure_s": 33000}
    stops = [{**stop, **times, "travel_s": 0.0, "travel_m": 0.0}]
    routes_root.joinpath("routes.json").write_text(
        json.dumps([{"volunteer_id": "v1", "name": "V", "mode": "walk", "stops": stops}]),
        encoding="utf-8",
    )
    url = sqlite_url(tmp_path / "dianmian.sqlite")
    settings = Settings(api_key=city.API_KEY, modes=("walk",))
    auth = {"Authorization": f"Bearer {city.API_KEY}"}

    def app() -> TestClient:
        state = build_state(
            network,
            {"service-points": layers["service-points"], "employers": layers["employers"]},
            store=Store(url),
            routes=RouteBook(tmp_path / "routes"),
            modes=("walk",),
        )
        return TestClient(create_app(state, settings=settings))

    with app() as c:
        assert c.post("/employers/e003/demand", json={"demand": 9}, headers=auth).status_code == 201
        assert c.post("/volunteers/v1/tasks/t1/done", headers=auth).status_code == 200
    with app() as c:
        assert c.get("/volunteers/v1/route", headers=auth).json()["stops"][0]["done"] is True
    store = Store(url)
    assert store.latest_demand() == {"e003": 9}
    demand_csv, tasks_csv = export_feedback(store, tmp_path / "feedback")
    with demand_csv.open(encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == [{"employer_id": "e003", "demand": "9"}]
    with tasks_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["volunteer_id"], r["task_id"], r["route_date"]) for r in rows] == [
        ("v1", "t1", city.ROUTE_DATE)
    ]
    store.close()


def test_negative_demand_is_refused(tmp_path):
    store = Store(sqlite_url(tmp_path / "x.sqlite"))
    with pytest.raises(ValueError, match="`demand`"):
        store.record_demand("e1", -1)
    store.close()


# -- PostgreSQL -----------------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).is_file():
            return str(folder / name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Cluster:
    """A PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()
        # initdb refuses to run as root; run the server as the `postgres` user then.
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                pytest.fail("running as root and `runuser` is missing")
            self.prefix = [runuser, "-u", "postgres", "--"]
            shutil.chown(folder, user="postgres")
            folder.chmod(0o700)

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"`{' '.join(args)}` failed: {done.stderr or done.stdout}")

    def init(self) -> None:
        initdb = _pg_bin("initdb")
        assert initdb is not None
        self._run(initdb, "-D", str(self.data), "-U", "dianmian", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -F"
        log = str(self.folder / "log")
        self._run(
            _pg_bin("pg_ctl") or "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            opts,
            "-w",
            "-l",
            log,
            "start",
        )

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://dianmian@127.0.0.1:{self.port}/postgres"


@contextlib.contextmanager
def running_cluster(prefix: str) -> Iterator[_Cluster]:
    """A throw-away PostgreSQL cluster, started; skipped without the binaries (failed on CI)."""
    if _pg_bin("initdb") is None or _pg_bin("pg_ctl") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) missing in CI: make install-postgres")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not installed: make install-postgres")
    # Not under pytest's tmp folder: that is private to the test user, and the server may
    # run as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = _Cluster(folder)
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres() -> Iterator[_Cluster]:
    with running_cluster("dianmian-pg-") as cluster:
        yield cluster


@pytest.mark.slow
def test_postgresql_writes_survive_app_and_server_restarts(postgres):
    _exercise(postgres.url)
    postgres.stop()
    postgres.start()
    store = Store(postgres.url)
    assert store.dialect == "postgresql"
    assert store.latest_demand() == {"e001": 20, "e002": 3}
    assert len(store.done_tasks()) == 1
    store.close()
