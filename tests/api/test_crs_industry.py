"""`crs=gcj02`/`bd09` and industry labels at the HTTP boundary (the index speaks WGS-84)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api import create_app
from geo.crs import from_wgs84, to_wgs84, wgs84_to_gcj02

LON0, LAT0 = 115.50, 21.50
INSIDE = (LON0 + 0.005, LAT0 + 0.005)


@pytest.fixture(scope="module")
def client(state, settings):
    with TestClient(create_app(state, settings=settings)) as c:
        yield c


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_nearest_in_china_datums_equals_wgs84_shifted(client, crs: str) -> None:
    wgs = client.get(
        "/service-points/nearest",
        params={"lon": INSIDE[0], "lat": INSIDE[1], "k": 3, "geometry": "route"},
    ).json()
    glon, glat = (
        float(v[0]) for v in from_wgs84(np.array([INSIDE[0]]), np.array([INSIDE[1]]), crs)
    )
    got = client.get(
        "/service-points/nearest",
        params={"lon": glon, "lat": glat, "k": 3, "geometry": "route", "crs": crs},
    ).json()
    assert got["crs"] == crs and wgs["crs"] == "wgs84"
    assert (got["lon"], got["lat"]) == (glon, glat)  # echoed as given
    for a, b in zip(wgs["results"], got["results"], strict=True):
        assert a["service_point"]["id"] == b["service_point"]["id"]
        assert a["travel_time_s"] == pytest.approx(b["travel_time_s"], abs=0.01)
        sp = a["service_point"]
        x, y = from_wgs84(np.array([sp["lon"]]), np.array([sp["lat"]]), crs)
        assert (b["service_point"]["lon"], b["service_point"]["lat"]) == pytest.approx(
            (float(x[0]), float(y[0])), abs=1e-9
        )
        back = np.array(to_wgs84(*np.array(b["route"]["coordinates"]).T, crs)).T
        np.testing.assert_allclose(back, a["route"]["coordinates"], atol=2e-7)


def test_a_point_pasted_from_amap_without_crs_lands_elsewhere(client) -> None:
    glon, glat = (float(v) for v in wgs84_to_gcj02(*INSIDE))
    as_wgs = client.get("/service-points/nearest", params={"lon": glon, "lat": glat}).json()
    as_gcj = client.get(
        "/service-points/nearest", params={"lon": glon, "lat": glat, "crs": "gcj02"}
    ).json()
    assert as_wgs["snap"] != as_gcj["snap"]


def test_batch_in_gcj02(client) -> None:
    glon, glat = (float(v) for v in wgs84_to_gcj02(*INSIDE))
    body = {"points": [{"lon": INSIDE[0], "lat": INSIDE[1]}], "k": 2}
    wgs = client.post("/service-points/nearest", json=body).json()
    body = {"points": [{"lon": glon, "lat": glat}], "k": 2, "crs": "gcj02"}
    gcj = client.post("/service-points/nearest", json=body).json()
    assert gcj["crs"] == "gcj02"
    for a, b in zip(wgs["results"][0]["nearest"], gcj["results"][0]["nearest"], strict=True):
        assert a["service_point_id"] == b["service_point_id"]
        assert a["travel_time_s"] == pytest.approx(b["travel_time_s"], abs=0.01)


@pytest.mark.parametrize("value", ["textile", "纺织服装鞋业", "Textile", "ＴＥＸＴＩＬＥ", "C1810"])
def test_industry_by_code_or_label(client, value: str) -> None:
    params = {"lon": INSIDE[0], "lat": INSIDE[1], "k": 2}
    want = client.get("/service-points/nearest", params={**params, "industry": "textile"})
    got = client.get("/service-points/nearest", params={**params, "industry": value})
    assert got.status_code == 200
    assert got.json()["industry"] == "textile"
    assert got.json()["results"] == want.json()["results"]


def test_collections_answer_in_gcj02(client) -> None:
    wgs = client.get("/collections/service-points/items").json()["features"]
    gcj = client.get("/collections/service-points/items", params={"crs": "gcj02"}).json()
    for a, b in zip(wgs, gcj["features"], strict=True):
        x, y = wgs84_to_gcj02(*a["geometry"]["coordinates"])
        assert b["geometry"]["coordinates"] == pytest.approx([float(x), float(y)], abs=2e-7)
    one = wgs[0]
    item = client.get(
        f"/collections/service-points/items/{one['id']}", params={"crs": "gcj02"}
    ).json()
    assert item["geometry"] == gcj["features"][0]["geometry"]
    # A GCJ-02 bbox around the shifted point finds it.
    x, y = (float(v) for v in wgs84_to_gcj02(*one["geometry"]["coordinates"]))
    bbox = f"{x - 1e-4},{y - 1e-4},{x + 1e-4},{y + 1e-4}"
    hits = client.get(
        "/collections/service-points/items", params={"crs": "gcj02", "bbox": bbox}
    ).json()
    assert one["id"] in [f["id"] for f in hits["features"]]
    furniture = client.get(
        "/collections/employers/items", params={"industry": "家具", "limit": 5}
    ).json()
    assert all(f["properties"]["industry"] == "furniture" for f in furniture["features"])


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_collection_items_in_china_datums(client, crs: str) -> None:
    url = "/collections/service-points/items"
    wgs = client.get(url).json()["features"]
    got = client.get(url, params={"crs": crs}).json()["features"]
    assert wgs and [f["id"] for f in wgs] == [f["id"] for f in got]
    for a, b in zip(wgs, got, strict=True):
        x, y = from_wgs84(*(np.array([v]) for v in a["geometry"]["coordinates"]), crs)
        assert b["geometry"]["coordinates"] == pytest.approx([x[0], y[0]], abs=2e-7)
