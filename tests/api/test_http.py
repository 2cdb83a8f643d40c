"""HTTP behaviour: every endpoint, bad input answered 4xx naming the field, auth."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.settings import Settings

# The synthetic city's constants (conftest.City), needed at collection time for parametrize.
LON0, LAT0 = 115.50, 21.50
API_KEY = "test-key-0123456789abcdef"
ROUTE_DATE = "2025-03-03"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
INSIDE = {"lon": LON0 + 0.005, "lat": LAT0 + 0.005}


@pytest.fixture(scope="module")
def client(state, settings):
    with TestClient(create_app(state, settings=settings)) as c:
        yield c


def _msg(response) -> str:
    return json.dumps(response.json()["detail"])


def test_constants_match_the_city(city):
    assert (LON0, LAT0, API_KEY, ROUTE_DATE) == (
        city.LON0,
        city.LAT0,
        city.API_KEY,
        city.ROUTE_DATE,
    )


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["scenario"] == "testcity"
    assert ready["modes"] == ["walk", "ebike"] and ready["service_points"] == 13


def test_nearest_matches_the_index_and_is_sorted(client, state):
    r = client.get("/service-points/nearest", params={**INSIDE, "k": 3, "mode": "ebike"})
    assert r.status_code == 200
    body = r.json()
    got = state.nearest["ebike"].query(np.array([INSIDE["lon"]]), np.array([INSIDE["lat"]]), k=3)
    ids = [state.service_points.ids[j] for j in got.facility[0]]
    assert [x["service_point"]["id"] for x in body["results"]] == ids
    times = [x["travel_time_s"] for x in body["results"]]
    assert times == sorted(times)
    assert [x["rank"] for x in body["results"]] == [1, 2, 3]
    assert all(x["route"] is None for x in body["results"])


def test_nearest_industry_filter_only_returns_points_serving_it(client):
    r = client.get("/service-points/nearest", params={**INSIDE, "k": 5, "industry": "toys"})
    assert r.status_code == 200
    for x in r.json()["results"]:
        assert "toys" in x["service_point"]["industries"]


def test_nearest_route_geometry_is_geojson_from_the_point(client):
    r = client.get("/service-points/nearest", params={**INSIDE, "k": 2, "geometry": "route"})
    assert r.status_code == 200
    for x in r.json()["results"]:
        line = x["route"]
        assert line["type"] == "LineString" and len(line["coordinates"]) >= 2
        assert line["coordinates"][0] == pytest.approx([INSIDE["lon"], INSIDE["lat"]], abs=1e-6)
        sp = x["service_point"]
        assert line["coordinates"][-1] == pytest.approx([sp["lon"], sp["lat"]], abs=1e-6)


def test_batch_equals_single_queries(client):
    rng = np.random.default_rng(5)
    pts = [
        {"lon": float(LON0 + a), "lat": float(LAT0 + b), "id": f"p{i}"}
        for i, (a, b) in enumerate(rng.uniform(0.001, 0.018, (20, 2)))
    ]
    r = client.post("/service-points/nearest", json={"points": pts, "k": 2, "mode": "walk"})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["id"] for x in results] == [p["id"] for p in pts]
    for p, x in zip(pts[:5], results[:5], strict=True):
        one = client.get(
            "/service-points/nearest", params={"lon": p["lon"], "lat": p["lat"], "k": 2}
        )
        want = [(y["service_point"]["id"], y["travel_time_s"]) for y in one.json()["results"]]
        assert [(y["service_point_id"], y["travel_time_s"]) for y in x["nearest"]] == want


def test_batch_point_outside_the_area_gets_an_error_not_a_failure(client):
    pts = [INSIDE, {"lon": LON0 + 1.0, "lat": LAT0}]
    r = client.post("/service-points/nearest", json={"points": pts})
    assert r.status_code == 200
    a, b = r.json()["results"]
    assert a["error"] is None and len(a["nearest"]) == 1
    assert "outside the network area" in b["error"] and b["nearest"] == []


@pytest.mark.parametrize(
    ("params", "field", "hint"),
    [
        ({"lon": 200, "lat": 21.5}, "lon", "less than or equal to 180"),
        ({"lon": "abc", "lat": 21.5}, "lon", "valid number"),
        ({"lon": "nan", "lat": 21.5}, "lon", "finite"),
        ({"lon": "inf", "lat": 21.5}, "lon", "finite"),
        ({"lon": 115.5, "lat": -91}, "lat", "greater than or equal to -90"),
        ({"lat": 21.5}, "lon", "Field required"),
        ({**INSIDE, "mode": "plane"}, "mode", "'walk', 'ebike', 'bus' or 'car'"),
        ({**INSIDE, "mode": "car"}, "mode", "allowed: walk, ebike"),
        ({**INSIDE, "industry": "mining"}, "industry", "allowed: textile ("),
        ({**INSIDE, "k": 0}, "k", "greater than or equal to 1"),
        ({**INSIDE, "k": 6}, "k", "less than or equal to 5"),
        ({**INSIDE, "geometry": "polygon"}, "geometry", "'none' or 'route'"),
        ({"lon": LON0 - 0.2, "lat": LAT0}, "lon", "outside the network area"),
        ({"lon": 0, "lat": 0}, "lon", "outside the network area"),
    ],
)
def test_nearest_bad_input_is_422_naming_the_field(client, params, field, hint):
    r = client.get("/service-points/nearest", params=params)
    assert r.status_code == 422
    assert field in _msg(r) and hint in _msg(r)


@pytest.mark.parametrize(
    ("body", "field", "hint"),
    [
        ({"points": []}, "points", "at least 1 item"),
        ({"points": [{"lon": 115.5}]}, "lat", "Field required"),
        ({"points": [{"lon": 115.5, "lat": 95}]}, "lat", "less than or equal to 90"),
        ({"points": [INSIDE], "k": 9}, "k", "1..5"),
        ({"points": [INSIDE], "mode": "boat"}, "mode", "'walk'"),
        ({"points": [INSIDE], "industry": "x"}, "industry", "allowed: textile ("),
        ({"points": [INSIDE], "colour": "red"}, "colour", "Extra inputs"),
        ({"points": [INSIDE] * 501}, "points", "at most 500"),
        ({"points": "here"}, "points", "valid list"),
    ],
)
def test_batch_bad_input_is_422_naming_the_field(client, body, field, hint):
    r = client.post("/service-points/nearest", json=body)
    assert r.status_code == 422
    assert field in _msg(r) and hint in _msg(r)


@pytest.mark.parametrize(
    "raw", [b"{", b"not json", b'{"points": [{"lon": NaN, "lat": 21.5}]}', b"", b"[]"]
)
def test_malformed_json_is_422(client, raw):
    r = client.post(
        "/service-points/nearest", content=raw, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422


def test_oversized_body_is_413(client, settings):
    big = b'{"points": [' + b'{"lon": 115.5, "lat": 21.5},' * 10_000 + b"]}"
    assert len(big) > settings.max_body_bytes
    r = client.post(
        "/service-points/nearest", content=big, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert "max_body_bytes" in r.json()["detail"]


def test_collections_listing(client):
    body = client.get("/collections").json()
    names = [c["id"] for c in body["collections"]]
    assert names == [
        "service-points",
        "belts",
        "catchments",
        "employers",
        "candidate-sites",
        "talent-market",
        "seeker-cells",
    ]
    sp = client.get("/collections/service-points").json()
    assert sp["numberOfFeatures"] == 13 and sp["industryFilter"] is True


def test_items_page_bbox_and_industry(client, state):
    r = client.get("/collections/employers/items", params={"limit": 7, "offset": 3})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 40 and body["numberReturned"] == 7
    assert [f["id"] for f in body["features"]] == [f"e{i:03d}" for i in range(3, 10)]
    assert {link["rel"] for link in body["links"]} == {"self", "next", "prev"}
    # Public fields only: the private phone column never leaves the server.
    assert set(body["features"][0]["properties"]) == {
        "id",
        "name",
        "industry",
        "demand",
        "opens",
        "closes",
    }
    bbox = (LON0, LAT0, LON0 + 0.009, LAT0 + 0.009)
    inside = client.get(
        "/collections/employers/items",
        params={"bbox": ",".join(map(str, bbox)), "industry": "textile", "limit": 100},
    ).json()
    for f in inside["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
        assert f["properties"]["industry"] == "textile"
    frame = state.collections["employers"]
    want = sum(
        1
        for feat, inds in zip(frame.features, frame.industries, strict=True)
        if "textile" in inds
        and bbox[0] <= feat["geometry"]["coordinates"][0] <= bbox[2]
        and bbox[1] <= feat["geometry"]["coordinates"][1] <= bbox[3]
    )
    assert inside["numberMatched"] == want > 0


def test_seeker_cells_are_aggregated_only(client):
    body = client.get("/collections/seeker-cells/items").json()
    for f in body["features"]:
        assert f["geometry"]["type"] == "Polygon"
        assert set(f["properties"]) >= {"cell", "count"}
    textile = client.get("/collections/seeker-cells/items", params={"industry": "textile"}).json()
    assert [f["id"] for f in textile["features"]] == ["0,0"]


def test_one_item_and_missing_item(client):
    r = client.get("/collections/service-points/items/market")
    assert r.status_code == 200
    props = r.json()["properties"]
    assert props["is_market"] is True and props["industries"] == []
    belt = client.get("/collections/belts/items/toys-1").json()
    assert belt["properties"]["industry"] == "toys"
    missing = client.get("/collections/belts/items/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/collections/seekers/items", {}, "name"),
        ("/collections/belts/items", {"bbox": "1,2,3"}, "bbox"),
        ("/collections/belts/items", {"bbox": "a,b,c,d"}, "bbox"),
        ("/collections/belts/items", {"bbox": "5,5,1,1"}, "bbox"),
        ("/collections/belts/items", {"bbox": "0,-95,1,1"}, "bbox"),
        ("/collections/belts/items", {"bbox": "nan,0,1,1"}, "bbox"),
        ("/collections/belts/items", {"limit": 0}, "limit"),
        ("/collections/belts/items", {"limit": 10**6}, "limit"),
        ("/collections/belts/items", {"offset": -1}, "offset"),
        ("/collections/belts/items", {"industry": "steel"}, "industry"),
        ("/collections/candidate-sites/items", {"industry": "toys"}, "industry"),
    ],
)
def test_collection_bad_input_is_422(client, path, params, field):
    r = client.get(path, params=params)
    assert r.status_code == 422
    assert field in _msg(r)


def test_volunteer_route(client):
    r = client.get("/volunteers/v1/route", params={"date": ROUTE_DATE}, headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["date"] == ROUTE_DATE and body["geometry"]["type"] == "LineString"
    assert [s["seq"] for s in body["stops"]] == [0, 1, 2]
    assert [s["arrival"] for s in body["stops"]] == ["09:00", "10:00", "11:00"]
    assert body["travel_time_s"] == 1234.5 and body["stops"][0]["arrival_s"] == 9 * 3600
    assert client.get("/volunteers/v1/route", headers=AUTH).json() == body  # default: latest date
    assert client.get("/volunteers/v9/route", headers=AUTH).status_code == 404
    other_day = client.get("/volunteers/v1/route", params={"date": "2025-01-01"}, headers=AUTH)
    assert other_day.status_code == 404 and ROUTE_DATE in other_day.json()["detail"]
    assert (
        client.get("/volunteers/v1/route", params={"date": "tomorrow"}, headers=AUTH).status_code
        == 422
    )


def test_plan_summary_is_served_as_written(client):
    body = client.get("/plan/summary").json()
    assert body["scenario"] == "testcity"
    assert body["summary"] == {
        "before": {"market_visitors": 1800},
        "after": {"market_visitors": 900},
    }


# -- writes and auth ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Bearer wrong-key-wrong-key"}, 403),
        ({"Authorization": f"Bearer {API_KEY}x"}, 403),
    ],
)
def test_writes_need_the_right_key(client, headers, status):
    r = client.post("/employers/e002/demand", json={"demand": 3}, headers=headers)
    assert r.status_code == status
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
    r = client.post("/volunteers/v0/tasks/t0-0/done", headers=headers)
    assert r.status_code == status


def test_without_a_bootstrap_key_it_is_just_a_wrong_key(state):
    # No DIANMIAN_API_KEY: keys come from `dianmian keys create` only.
    settings = Settings(api_key=None, modes=("walk", "ebike"))
    with TestClient(create_app(state, settings=settings)) as c:
        assert c.post("/employers/e002/demand", json={"demand": 3}).status_code == 401
        r = c.post("/employers/e002/demand", json={"demand": 3}, headers=AUTH)
    assert r.status_code == 403


def test_api_key_must_not_be_trivial():
    with pytest.raises(ValueError, match="DIANMIAN_API_KEY"):
        Settings(api_key="short")


def test_demand_report_is_stored(client, state):
    r = client.post("/employers/e005/demand", json={"demand": 17, "note": "rush"}, headers=AUTH)
    assert r.status_code == 201
    assert r.json()["demand"] == 17 and r.json()["employer_id"] == "e005"
    assert state.store.latest_demand()["e005"] == 17
    assert (
        client.post("/employers/nobody/demand", json={"demand": 1}, headers=AUTH).status_code == 404
    )
    for bad in ({"demand": -1}, {"demand": "many"}, {}, {"demand": 1, "extra": True}):
        assert client.post("/employers/e005/demand", json=bad, headers=AUTH).status_code == 422


def test_task_done_is_idempotent_and_shows_on_the_route(client):
    url = "/volunteers/v2/tasks/t2-1/done"
    first = client.post(url, json={"date": ROUTE_DATE, "note": "signed"}, headers=AUTH)
    assert first.status_code == 200 and first.json()["created"] is True
    again = client.post(url, json={"date": ROUTE_DATE}, headers=AUTH)
    assert again.json()["created"] is False and again.json()["note"] == "signed"
    stops = client.get("/volunteers/v2/route", headers=AUTH).json()["stops"]
    assert [s["done"] for s in stops] == [False, True, False]
    assert client.post("/volunteers/v2/tasks/t9-9/done", headers=AUTH).status_code == 404
    assert client.post("/volunteers/v7/tasks/t2-1/done", headers=AUTH).status_code == 404
    late = client.post(url, json={"date": "2030-01-01"}, headers=AUTH)
    assert late.status_code == 404
