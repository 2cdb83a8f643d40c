"""The app factory loading a scenario from settings, and refusing unplanned scenarios."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api import check_planned, create_app
from api.settings import Settings
from geo import ScenarioError


def _wait_ready(client: TestClient, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get("/readyz").status_code
        if status != 503:
            return status
        time.sleep(0.1)
    return 503


def test_app_loads_the_scenario_in_the_background(settings):
    with TestClient(create_app(settings=settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert _wait_ready(client) == 200
        r = client.get("/service-points/nearest", params={"lon": 115.505, "lat": 21.505})
        assert r.status_code == 200 and len(r.json()["results"]) == 1


def test_unplanned_scenario_is_reported_by_readyz(scenario_files, tmp_path):
    folder, _ = scenario_files
    settings = Settings(scenario=folder, out=tmp_path, modes=("walk",))
    with pytest.raises(ScenarioError, match="dianmian plan"):
        check_planned(folder, tmp_path)
    with TestClient(create_app(settings=settings)) as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = client.get("/readyz")
            if "failed" in str(r.json().get("detail", "")):
                break
            time.sleep(0.1)
        assert r.status_code == 503
        assert "is not planned" in r.json()["detail"]
        nearest = client.get("/service-points/nearest", params={"lon": 115.5, "lat": 21.5})
        assert nearest.status_code == 503


def test_create_app_needs_a_state_or_a_scenario():
    with pytest.raises(ValueError, match="DIANMIAN_SCENARIO"):
        create_app(settings=Settings())


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("DIANMIAN_API_KEY", "k" * 20)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1:5/db")
    monkeypatch.setenv("DIANMIAN_MAX_BATCH_POINTS", "77")
    monkeypatch.setenv("DIANMIAN_MODES", '["walk"]')
    s = Settings()
    assert s.api_key is not None and s.api_key.get_secret_value() == "k" * 20
    assert s.database_url == "postgresql://u@127.0.0.1:5/db"
    assert s.max_batch_points == 77 and [m.value for m in s.modes] == ["walk"]
    assert "k" * 20 not in repr(s)  # the key is never printed
