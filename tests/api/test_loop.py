"""The loop over HTTP: registrations, matching, interviews, outcomes, calls, follow-ups, report;
writes survive restarts on SQLite and PostgreSQL; homes never leave the server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api import build_state, create_app
from api.auth import Role, new_key
from api.settings import Settings
from planner.loop import case_point
from planner.store import Store, add_key, sqlite_url

from .test_store import _Cluster, running_cluster

DAY = dt.date(2026, 3, 2)
HOMES = [(115.5035, 21.5042), (115.5101, 21.5063), (115.5122, 21.5101), (115.5071, 21.5131)]


def _client(network, city, url: str, api_key: str | None) -> TestClient:
    layers = city.plan_layers()
    state = build_state(
        network,
        {"service-points": layers["service-points"], "employers": layers["employers"]},
        store=Store(url),
        modes=("walk", "ebike"),
    )
    return TestClient(
        create_app(state, settings=Settings(api_key=api_key, modes=("walk", "ebike")))
    )


def _exercise_loop(network, city, url: str) -> list[int]:
    auth = {"Authorization": f"Bearer {city.API_KEY}"}
    with _client(network, city, url, city.API_KEY) as c:
        ids = []
        for k, (lon, lat) in enumerate(HOMES):
            body = {
                "lon": lon,
                "lat": lat,
                "industries": ["textile", "toys"],
                "mode": "walk" if k % 2 else "ebike",
                "registered": DAY.isoformat(),
                "phone": "13900000000",
            }
            r = c.post("/registrations", json=body, headers=auth)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        run = c.post(f"/matching/run?date={DAY}", headers=auth)
        assert run.status_code == 200, run.text
        assert run.json()["screened"] == len(HOMES)
        answered = 0
        for rid in ids:
            r = c.get(f"/registrations/{rid}/recommendations", headers=auth)
            assert r.status_code == 200
            data = r.json()
            answered += bool(data["recommendations"]) or data["registration"]["reason"] is not None
            for rec in data["recommendations"]:
                assert set(rec) >= {"employer_id", "industry", "travel_time_s", "status"}
                assert rec["status"] == "recommended"
            text = r.text
            assert "115.50" not in text and "13900000000" not in text  # home, phone never served
        assert answered == len(HOMES)
        recs = c.get(f"/registrations/{ids[0]}/recommendations", headers=auth).json()[
            "recommendations"
        ]
        assert recs, "the first seeker should have a recommendation"
        iv = c.post(
            f"/recommendations/{recs[0]['id']}/interview",
            headers=auth,
            json={
                "date": "2026-03-04",
                "time": "10:30",
                "escort": True,
                "booked_on": DAY.isoformat(),
            },
        )
        assert iv.status_code == 201, iv.text
        assert iv.json()["escort"] is True
        late = c.post(
            f"/recommendations/{recs[-1]['id']}/interview",
            headers=auth,
            json={"date": "2026-03-04", "time": "19:30", "booked_on": DAY.isoformat()},
        )
        assert late.status_code in (409, 422)
        out = c.post(
            f"/registrations/{ids[1]}/outcome",
            headers=auth,
            json={"outcome": "hired_elsewhere", "date": "2026-03-03"},
        )
        assert out.status_code == 201 and out.json()["status"] == "closed"
        again = c.post(
            f"/registrations/{ids[1]}/outcome", headers=auth, json={"outcome": "withdrawn"}
        )
        assert again.status_code == 409
        call = c.post(
            f"/registrations/{ids[2]}/contacts",
            headers=auth,
            json={"date": "2026-03-09", "by": "V1"},
        )
        assert call.status_code == 201
        due = c.get("/follow-ups?date=2026-03-09", headers=auth).json()
        due_ids = {i["registration_id"] for i in due["items"]}
        # ids[0]: interview booked on DAY, no outcome since (7 days); ids[1] closed;
        # ids[2] called on the day; ids[3] silent since its recommendations on DAY.
        assert due_ids == {ids[0], ids[3]}
        assert due["count"] == 2
        assert c.get("/follow-ups?date=2026-03-08", headers=auth).json()["count"] == 0
        assert c.get("/loop/summary?date=2026-03-09").status_code == 401  # not published
        summary = c.get("/loop/summary?date=2026-03-09", headers=auth)
        assert summary.status_code == 200
        assert summary.json()["totals"]["registrations"] == len(HOMES)
    return ids


def test_loop_over_http_and_restart_sqlite(tmp_path, network, city):
    url = sqlite_url(tmp_path / "loop.sqlite")
    ids = _exercise_loop(network, city, url)
    auth = {"Authorization": f"Bearer {city.API_KEY}"}
    with _client(network, city, url, city.API_KEY) as c:  # restart: new app, new engine
        r = c.get(f"/registrations/{ids[1]}", headers=auth).json()
        assert r["status"] == "closed" and r["outcome"] == "hired_elsewhere"
        due = c.get("/follow-ups?date=2026-03-09", headers=auth).json()
        assert {i["registration_id"] for i in due["items"]} == {ids[0], ids[3]}


def test_loop_writes_need_the_key(tmp_path, network, city):
    url = sqlite_url(tmp_path / "auth.sqlite")
    body = {"lon": 115.505, "lat": 21.505, "industries": ["textile"], "mode": "walk"}
    with _client(network, city, url, city.API_KEY) as c:
        assert c.post("/registrations", json=body).status_code == 401
        assert (
            c.post(
                "/registrations",
                json=body,
                headers={"Authorization": "Bearer wrong-key-0123456789"},
            ).status_code
            == 403
        )
        assert c.post("/matching/run").status_code == 401
        assert c.get("/follow-ups").status_code == 401
        assert c.get("/registrations/1/recommendations").status_code == 401
    with _client(network, city, url, None) as c:  # no bootstrap key: an unknown key is refused
        assert (
            c.post("/registrations", json=body, headers={"Authorization": "Bearer x"}).status_code
            == 403
        )


@pytest.mark.parametrize(
    "body",
    [
        {"lon": 200, "lat": 21.5, "industries": ["textile"], "mode": "walk"},
        {"lon": 115.5, "lat": 21.5, "industries": [], "mode": "walk"},
        {"lon": 115.5, "lat": 21.5, "industries": ["steel"], "mode": "walk"},
        {"lon": 115.5, "lat": 21.5, "industries": ["textile"], "mode": "plane"},
        {"lon": 115.5, "lat": 21.5, "industries": ["textile"], "mode": "walk", "x": 1},
    ],
)
def test_bad_registrations_are_422(tmp_path, network, city, body):
    with _client(network, city, sqlite_url(tmp_path / "bad.sqlite"), city.API_KEY) as c:
        r = c.post("/registrations", json=body, headers={"Authorization": f"Bearer {city.API_KEY}"})
        assert r.status_code == 422


def test_unknown_cases_are_404(tmp_path, network, city):
    auth = {"Authorization": f"Bearer {city.API_KEY}"}
    with _client(network, city, sqlite_url(tmp_path / "nf.sqlite"), city.API_KEY) as c:
        assert c.get("/registrations/99/recommendations", headers=auth).status_code == 404
        assert (
            c.post("/registrations/99/outcome", json={"outcome": "hired"}, headers=auth).status_code
            == 404
        )
        assert c.post("/registrations/99/contacts", json={}, headers=auth).status_code == 404
        r = c.post(
            "/recommendations/99/interview",
            json={"date": "2026-03-04", "time": "10:00"},
            headers=auth,
        )
        assert r.status_code == 404


@pytest.fixture(scope="module")
def loop_postgres() -> Iterator[_Cluster]:
    with running_cluster("dianmian-pg-loop-") as cluster:
        yield cluster


@pytest.mark.slow
def test_loop_survives_postgresql_restart(loop_postgres, network, city):
    ids = _exercise_loop(network, city, loop_postgres.url)
    loop_postgres.stop()
    loop_postgres.start()
    auth = {"Authorization": f"Bearer {city.API_KEY}"}
    with _client(network, city, loop_postgres.url, city.API_KEY) as c:
        assert c.get(f"/registrations/{ids[1]}", headers=auth).json()["status"] == "closed"
        due = c.get("/follow-ups?date=2026-03-09", headers=auth).json()
        assert {i["registration_id"] for i in due["items"]} == {ids[0], ids[3]}
        summary = c.get("/loop/summary?date=2026-03-09", headers=auth).json()
        assert summary["totals"]["interviews"] == 1


def test_staff_see_only_their_points_cases(tmp_path, network, city):
    url = sqlite_url(tmp_path / "staff.sqlite")
    ids = _exercise_loop(network, city, url)
    store = Store(url)
    points = {rid: case_point(store, registration_id=rid) for rid in ids}
    own = points[ids[0]]
    assert own is not None
    other = next(p for p in city.plan_layers()["service-points"]["id"] if p != own)
    mine, theirs = (new_key(Role.STAFF, service_point=sp) for sp in (own, other))
    for _, record in (mine, theirs):
        add_key(store, record)
    with _client(network, city, url, city.API_KEY) as c:
        h_mine = {"Authorization": f"Bearer {mine[0]}"}
        h_theirs = {"Authorization": f"Bearer {theirs[0]}"}
        assert c.get(f"/registrations/{ids[0]}", headers=h_mine).status_code == 200
        assert c.get(f"/registrations/{ids[0]}", headers=h_theirs).status_code == 403
        recs = c.get(f"/registrations/{ids[0]}/recommendations", headers=h_mine).json()
        if recs["recommendations"]:
            rec_id = recs["recommendations"][0]["id"]
            booked = c.post(
                f"/recommendations/{rec_id}/interview",
                headers=h_theirs,
                json={"date": "2026-03-10", "time": "10:00"},
            )
            assert booked.status_code == 403
        assert c.post(f"/matching/run?date={DAY}", headers=h_mine).status_code == 403
        due = c.get("/follow-ups?date=2026-03-09", headers=h_mine).json()["items"]
        assert {i["registration_id"] for i in due} == {
            r for r in (ids[0], ids[3]) if points[r] == own
        }
        assert all(i["service_point_id"] == own for i in due)
