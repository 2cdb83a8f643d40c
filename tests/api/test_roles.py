"""Roles: every route of the app x every role (allowed -> 2xx or a documented 404/422 for a
bad id; denied -> 401/403; never 5xx), scoped resources, keys, audit and rate limits.

Routes are read from the app itself, so a route added later is checked too, and a route
that declares no roles fails `test_every_route_declares_its_roles`.
"""

from __future__ import annotations

import logging

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from api import create_app
from api.auth import Role, api_routes, hash_key, new_key
from planner.store import add_key, get_key, revoke_key

LON0, LAT0 = 115.50, 21.50
INSIDE = {"lon": LON0 + 0.005, "lat": LAT0 + 0.005}
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# Sample values of path parameters: the volunteer v0 belongs to service point sp00.
PATH = {
    "volunteer_id": "v0",
    "task_id": "t0-0",
    "employer_id": "e001",
    "name": "service-points",
    "feature_id": "sp00",
    "point_id": "sp00",
    "service_point_id": "sp00",
    "registration_id": "1",
    "recommendation_id": "1",
}
QUERY = {"/service-points/nearest": INSIDE}
BODY = {
    ("POST", "/service-points/nearest"): {"points": [INSIDE]},
    ("POST", "/employers/{employer_id}/demand"): {"demand": 3},
}


@pytest.fixture(scope="module")
def keys(state):
    made = {}
    for name, role, kwargs in (
        ("admin", Role.ADMIN, {}),
        ("staff", Role.STAFF, {"service_point": "sp00"}),
        ("other_staff", Role.STAFF, {"service_point": "sp01"}),
        ("volunteer", Role.VOLUNTEER, {"volunteer_id": "v0"}),
        ("other_volunteer", Role.VOLUNTEER, {"volunteer_id": "v1"}),
    ):
        token, record = new_key(role, **kwargs)
        add_key(state.store, record)
        made[name] = token
    return made


@pytest.fixture(scope="module")
def app(state, settings):
    roomy = settings.model_copy(update={"rate_burst": 10_000, "reload_poll_s": 0})
    return create_app(state, settings=roomy)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


def _headers(keys, who):
    return {} if who == "public" else {"Authorization": f"Bearer {keys[who]}"}


def _url(path):
    for name, value in PATH.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"add a sample value for the path parameter of {path}"
    return path


def test_every_route_declares_its_roles(app):
    routes = api_routes(app)
    assert len(routes) >= 12
    undeclared = [f"{sorted(r.methods)} {r.path}" for r in routes if r.roles is None]
    assert undeclared == [], "routes without roles (use api.auth.allow)"
    others = {getattr(r, "path", None) for r in app.routes} - {None}
    assert others <= DOCS | {r.path for r in routes}


def test_openapi_states_the_roles(client):
    schema = client.get("/openapi.json").json()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert op.get("x-roles"), f"{method} {path}"
            assert "**Roles:**" in op["description"]
    assert schema["paths"]["/audit"]["get"]["x-roles"] == ["admin"]
    route = schema["paths"]["/volunteers/{volunteer_id}/route"]["get"]
    assert route["x-roles"] == ["admin", "staff", "volunteer"]
    assert route["security"] == [{"apiKey": []}]


@pytest.mark.parametrize("who", ["public", "admin", "staff", "volunteer"])
def test_every_route_for_every_role(app, client, keys, who):
    role = Role(who)
    for r in api_routes(app):
        for method in sorted(r.methods):
            url = _url(r.path)
            r_ = client.request(
                method,
                url,
                params=QUERY.get(r.path),
                json=BODY.get((method, r.path), {}) if method == "POST" else None,
                headers=_headers(keys, who),
            )
            label = f"{who}: {method} {url} -> {r_.status_code} {r_.text[:200]}"
            assert r_.status_code < 500, label
            allowed = role is Role.ADMIN or role in r.roles or Role.PUBLIC in r.roles
            if allowed:
                assert 200 <= r_.status_code < 300 or r_.status_code in (404, 422), label
            else:
                assert r_.status_code == (401 if role is Role.PUBLIC else 403), label


def test_unauthenticated_route_is_401(client):
    r = client.get("/volunteers/v0/route")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_a_volunteer_reads_only_their_own_route(client, keys):
    mine = client.get("/volunteers/v0/route", headers=_headers(keys, "volunteer"))
    assert mine.status_code == 200 and mine.json()["volunteer_id"] == "v0"
    assert (
        client.get("/volunteers/v1/route", headers=_headers(keys, "volunteer")).status_code == 403
    )
    done = client.post("/volunteers/v1/tasks/t1-0/done", headers=_headers(keys, "volunteer"))
    assert done.status_code == 403


def test_staff_read_only_their_points_volunteers(client, keys):
    staff = _headers(keys, "staff")  # sp00: volunteers v0 and v1
    assert client.get("/volunteers/v0/route", headers=staff).status_code == 200
    assert client.get("/volunteers/v1/route", headers=staff).status_code == 200
    assert client.get("/volunteers/v2/route", headers=staff).status_code == 403
    other = _headers(keys, "other_staff")  # sp01: volunteer v2
    assert client.get("/volunteers/v0/route", headers=other).status_code == 403
    assert client.get("/volunteers/v2/route", headers=other).status_code == 200


def test_keys_are_hashed_and_revocable(client, state, keys, caplog):
    token, record = new_key(Role.VOLUNTEER, volunteer_id="v2")
    assert token not in repr(record) and record.secret_sha256 == hash_key(token)
    add_key(state.store, record)
    assert get_key(state.store, record.key_id).secret_sha256 != token
    headers = {"Authorization": f"Bearer {token}"}
    with caplog.at_level(logging.DEBUG):
        assert client.get("/volunteers/v2/route", headers=headers).status_code == 200
        assert revoke_key(state.store, record.key_id)
        assert client.get("/volunteers/v2/route", headers=headers).status_code == 403
    assert token not in caplog.text
    wrong = {"Authorization": f"Bearer {token[:-4]}abcd"}
    assert client.get("/volunteers/v2/route", headers=wrong).status_code == 403


@pytest.mark.parametrize(
    ("role", "kwargs", "match"),
    [
        (Role.STAFF, {}, "service_point"),
        (Role.VOLUNTEER, {}, "volunteer_id"),
        (Role.ADMIN, {"service_point": "sp00"}, "admin key takes no"),
        (Role.PUBLIC, {}, "public needs no key"),
    ],
)
def test_bad_keys_are_refused(role, kwargs, match):
    with pytest.raises(ValueError, match=match):
        new_key(role, **kwargs)


def test_writes_are_audited_for_admin(client, keys):
    body = {"demand": 11, "note": "audit me"}
    r = client.post("/employers/e003/demand", json=body, headers=_headers(keys, "volunteer"))
    assert r.status_code == 201
    log = client.get("/audit", params={"limit": 50}, headers=_headers(keys, "admin"))
    assert log.status_code == 200
    entry = next(e for e in log.json()["entries"] if e["path"] == "/employers/e003/demand")
    assert entry["role"] == "volunteer" and entry["status"] == 201 and entry["method"] == "POST"
    assert entry["key_id"] == keys["volunteer"].split("_")[1]
    assert "audit me" in entry["detail"] and keys["volunteer"] not in str(log.json())
    admin = _headers(keys, "admin")
    assert client.get("/audit", params={"since": "2000-01-01"}, headers=admin).json()["entries"]
    assert not client.get("/audit", params={"since": "2999-01-01T00:00Z"}, headers=admin).json()[
        "entries"
    ]
    for bad in ("1810", "2026-13-01"):
        assert client.get("/audit", params={"since": bad}, headers=admin).status_code == 422
    assert client.get("/audit", headers=_headers(keys, "staff")).status_code == 403
    assert client.get("/audit").status_code == 401


def test_writes_and_batches_are_rate_limited(state, settings, keys):
    tight = settings.model_copy(update={"rate_burst": 3, "rate_per_address": 60.0})
    with TestClient(create_app(state, settings=tight)) as c:
        codes = [
            c.post("/service-points/nearest", json={"points": [INSIDE]}).status_code
            for _ in range(5)
        ]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        r = c.post("/service-points/nearest", json={"points": [INSIDE]})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert c.get("/service-points/nearest", params=INSIDE).status_code == 200  # reads


def test_a_route_without_roles_is_admin_only(state, settings, keys):
    app = create_app(state, settings=settings)
    extra = APIRouter()

    @extra.get("/forgotten")
    async def forgotten() -> dict[str, str]:
        return {"ok": "yes"}

    app.include_router(extra)
    assert [r.path for r in api_routes(app) if r.roles is None] == ["/forgotten"]
    with TestClient(app) as c:
        assert c.get("/forgotten").status_code == 401
        assert c.get("/forgotten", headers=_headers(keys, "staff")).status_code == 403
        assert c.get("/forgotten", headers=_headers(keys, "admin")).status_code == 200
