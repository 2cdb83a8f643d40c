"""``/service-points/nearest``: the k nearest open service points by network travel time."""

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import Field, create_model

from api.deps import StateDep, resolve_industry, unprocessable
from api.schemas import (
    Crs,
    NearestAnswer,
    NearestBatchAnswer,
    NearestBatchCreate,
    NearestQueryBase,
    RouteGeometry,
)
from api.settings import Settings
from api.state import ApiState
from geo import DisconnectedError, TravelMode
from geo.crs import from_wgs84, to_wgs84
from geo.engine import NearestIndex, NearestResult

BAD_INPUT: dict[int | str, dict[str, Any]] = {
    422: {"description": "Invalid parameter; the message names it and the allowed values."}
}


def make_router(settings: Settings) -> APIRouter:
    """The router; `settings` fixes the documented limits (largest k, batch size)."""
    router = APIRouter(prefix="/service-points", tags=["nearest"])
    k_max, batch_max = settings.max_k, settings.max_batch_points
    # Built here so the documented bound on `k` is the configured one (hence no postponed
    # annotations in this module: FastAPI must see this local model). One model validates
    # all query parameters at once, several times faster than one field at a time.
    nearest_query = create_model(
        "NearestQuery",
        __base__=NearestQueryBase,
        k=(int, Field(default=1, ge=1, le=k_max, description=f"How many (1..{k_max}).")),
    )

    @router.get(
        "/nearest",
        response_model=NearestAnswer,
        summary="Nearest open service points of one point",
        description=(
            "The `k` nearest open service points by network travel time for `mode`, "
            "optionally only those serving `industry`. Times include the walk from the point "
            "to the nearest street and from the street to the door (4.8 km/h). "
            "`geometry=route` adds the street-following route of each."
        ),
        responses=BAD_INPUT,
    )
    async def nearest(
        state: StateDep,
        query: Annotated[nearest_query, Query()],  # type: ignore[valid-type]
    ) -> JSONResponse:
        q: NearestQueryBase = query
        lon, lat, mode, k = q.lon, q.lat, q.mode, q.k  # type: ignore[attr-defined]
        geometry = q.geometry
        industry = resolve_industry(state, q.industry, ("query", "industry"))
        # Runs on the event loop: a query is a snap and a lookup (~0.1 ms), cheaper than a
        # thread hop. Only route drawing (a Dijkstra) goes to the thread pool.
        index = _index(state, mode)
        k = _check_k(state, k)
        # GCJ-02 is converted here, at the HTTP boundary: the index speaks WGS-84 only.
        wlon, wlat = _to_wgs84(np.array([lon]), np.array([lat]), q.crs)
        got = index.query(wlon, wlat, k=k, group=industry)
        if not got.valid[0]:
            raise unprocessable(("query", "lon"), _outside(state, mode, lon, lat))
        sp = state.service_points
        sp_lon, sp_lat = _from_wgs84(sp.lon, sp.lat, q.crs)
        results = []
        for r in range(k):
            j = int(got.facility[0, r])
            if j < 0:
                break
            item: dict[str, Any] = {
                "rank": r + 1,
                "service_point": {
                    "id": sp.ids[j],
                    "name": sp.names[j],
                    "kind": sp.kinds[j],
                    "industries": sp.industries[j],
                    "is_market": bool(sp.is_market[j]),
                    "lon": float(sp_lon[j]),
                    "lat": float(sp_lat[j]),
                },
                "travel_time_s": round(float(got.time_s[0, r]), 3),
                "distance_m": round(float(got.length_m[0, r]), 2),
                "route": None,
            }
            if geometry is RouteGeometry.ROUTE:
                item["route"] = await run_in_threadpool(
                    _route, index, float(wlon[0]), float(wlat[0]), j, q.crs
                )
            results.append(item)
        # Built to the documented model (checked by the schema tests); returning a response
        # skips FastAPI's re-validation of our own output on the hot path.
        return JSONResponse(
            {
                "lon": lon,
                "lat": lat,
                "mode": mode.value,
                "industry": industry,
                "k": k,
                "crs": q.crs.value,
                "snap": {"distance_m": round(float(got.snap_m[0]), 2)},
                "results": results,
            }
        )

    @router.post(
        "/nearest",
        response_model=NearestBatchAnswer,
        summary=f"Nearest open service points of up to {batch_max} points",
        description=(
            f"Same as the GET query for a batch of points (at most {batch_max}, setting "
            "`max_batch_points`). A point outside the network area gets an `error` and no "
            "answers; the other points are answered."
        ),
        responses={**BAD_INPUT, 413: {"description": "Request body too large."}},
    )
    async def nearest_batch(state: StateDep, body: NearestBatchCreate) -> JSONResponse:
        if len(body.points) > batch_max:
            raise unprocessable(
                ("body", "points"),
                f"`points` has {len(body.points)} points; at most {batch_max} per request "
                "(setting `max_batch_points`)",
            )
        if body.k > k_max:
            raise unprocessable(("body", "k"), f"`k` must be in 1..{k_max}, got {body.k}")
        index = _index(state, body.mode)
        k = _check_k(state, body.k)
        industry = resolve_industry(state, body.industry, ("body", "industry"))
        lon = np.fromiter((p.lon for p in body.points), float, len(body.points))
        lat = np.fromiter((p.lat for p in body.points), float, len(body.points))
        lon, lat = _to_wgs84(lon, lat, body.crs)
        got = await run_in_threadpool(index.query, lon, lat, k=k, group=industry)
        results = batch_results(state, got, [p.id for p in body.points], limit=index.max_snap_m)
        return JSONResponse(
            {
                "mode": body.mode.value,
                "industry": industry,
                "k": k,
                "crs": body.crs.value,
                "results": results,
            }
        )

    return router


def batch_results(
    state: ApiState, got: NearestResult, ids: list[str | None], *, limit: float
) -> list[dict[str, Any]]:
    """Per point: its snap distance and nearest service points (ids, time s, distance m)."""
    sp_ids = state.service_points.ids
    fac = got.facility.tolist()
    tim = np.round(got.time_s, 3).tolist()
    lng = np.round(got.length_m, 2).tolist()
    snap = np.round(got.snap_m, 2).tolist()
    valid = got.valid.tolist()
    out: list[dict[str, Any]] = []
    for i in range(len(ids)):
        if not valid[i]:
            out.append(
                {
                    "index": i,
                    "id": ids[i],
                    "snap_distance_m": None,
                    "error": f"outside the network area (no street within {limit:g} m)",
                    "nearest": [],
                }
            )
            continue
        out.append(
            {
                "index": i,
                "id": ids[i],
                "snap_distance_m": snap[i],
                "error": None,
                "nearest": [
                    {"service_point_id": sp_ids[j], "travel_time_s": t, "distance_m": m}
                    for j, t, m in zip(fac[i], tim[i], lng[i], strict=True)
                    if j >= 0
                ],
            }
        )
    return out


def _to_wgs84(lon: np.ndarray, lat: np.ndarray, crs: Crs) -> tuple[np.ndarray, np.ndarray]:
    return (lon, lat) if crs is Crs.WGS84 else to_wgs84(lon, lat, crs.value)


def _from_wgs84(lon: np.ndarray, lat: np.ndarray, crs: Crs) -> tuple[np.ndarray, np.ndarray]:
    return (lon, lat) if crs is Crs.WGS84 else from_wgs84(lon, lat, crs.value)


def _index(state: ApiState, mode: TravelMode) -> NearestIndex:
    index = state.nearest.get(mode)
    if index is None:
        allowed = ", ".join(m.value for m in state.nearest)
        raise unprocessable(
            ("mode",), f"`mode` {mode.value!r} is not prepared on this server; allowed: {allowed}"
        )
    return index


def _check_k(state: ApiState, k: int) -> int:
    if not 1 <= k <= state.k_max:
        raise unprocessable(("k",), f"`k` must be in 1..{state.k_max}, got {k}")
    return k


def _outside(state: ApiState, mode: TravelMode, lon: float, lat: float) -> str:
    w, s, e, n = state.area()
    return (
        f"`lon`/`lat` ({lon}, {lat}) is outside the network area: no {mode.value} street "
        f"within {state.max_snap_m:g} m (network bounds lon {w:.4f}..{e:.4f}, "
        f"lat {s:.4f}..{n:.4f})"
    )


def _route(
    index: NearestIndex, lon: float, lat: float, facility: int, crs: Crs = Crs.WGS84
) -> dict[str, Any] | None:
    try:
        route = index.route(lon, lat, facility)
    except DisconnectedError:  # ranked answers are reachable; kept for safety
        return None
    xy = np.asarray(route.line_lonlat.coords)
    x, y = _from_wgs84(xy[:, 0], xy[:, 1], crs)
    coords = np.round(np.column_stack([x, y]), 7).tolist()
    return {"type": "LineString", "coordinates": coords}
