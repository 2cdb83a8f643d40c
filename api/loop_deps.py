"""Dependencies of the loop's routers: the loop context of the served city, error mapping.

The context (:class:`planner.loop.LoopCity`) is built on first use and kept on the app: from
the scenario's plan files when the server was started for a scenario (every travel mode,
volunteers), else from the loaded state (its network's modes, employers collection and
service points).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import geopandas as gpd
from fastapi import Depends, HTTPException, Request, status

from api.auth import Principal, Role, own_resources
from api.deps import SettingsDep, StateDep, unprocessable
from api.schemas import ErrorPublic
from api.state import ApiState, plan_folder
from geo.engine import Engine
from geo.scenario import Scenario
from planner.errors import CaseNotFoundError, CaseStateError
from planner.loop import LoopCity, case_point

_lock = threading.Lock()


def _from_state(state: ApiState) -> LoopCity:
    employers = state.collections.get("employers")
    if employers is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="the employers layer is not loaded"
        )
    emp = gpd.GeoDataFrame.from_features(employers.features, crs="EPSG:4326")
    emp["id"] = [f["id"] for f in employers.features]
    sp = state.service_points
    points = gpd.GeoDataFrame(
        {
            "id": sp.ids,
            "industries": [";".join(i) for i in sp.industries],
            "is_market": sp.is_market,
        },
        geometry=gpd.points_from_xy(sp.lon, sp.lat),
        crs="EPSG:4326",
    )
    # One process: a server worker runs requests on threads, and forking a threaded
    # process (the engine's search workers) can deadlock the child on a lock another
    # thread held. Server workers are the API's parallelism.
    engine = Engine(state.network, max_snap_m=state.max_snap_m, workers=1)
    return LoopCity(engine=engine, employers=emp, points=points)


async def get_loop_city(request: Request, state: StateDep, settings: SettingsDep) -> LoopCity:
    city: LoopCity | None = getattr(request.app.state, "loop_city", None)
    if city is not None:
        return city
    with _lock:
        city = getattr(request.app.state, "loop_city", None)
        if city is None:
            if settings.scenario is not None:
                scenario = Scenario.load(settings.scenario)
                city = LoopCity.from_folder(settings.scenario, plan_folder(scenario, settings.out))
            else:
                city = _from_state(state)
            request.app.state.loop_city = city
    return city


LoopCityDep = Annotated[LoopCity, Depends(get_loop_city)]

CASE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "No such registration or recommendation."},
    409: {"model": ErrorPublic, "description": "The action does not fit the case's state."},
}


@contextmanager
def case_errors() -> Iterator[None]:
    """404 for unknown cases, 409 for state conflicts, 422 for bad values."""
    try:
        yield
    except CaseNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except CaseStateError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except ValueError as exc:
        raise unprocessable(("body",), str(exc)) from exc


def only_query(*allowed: str) -> Any:
    """A dependency refusing (422) query parameters other than `allowed` (typos must not be
    silently ignored, e.g. ``?day=`` for ``?date=``)."""

    async def check(request: Request) -> None:
        extra = sorted(set(request.query_params) - set(allowed))
        if extra:
            raise unprocessable(
                ("query", extra[0]),
                f"unknown query parameter(s) {extra}; allowed: {', '.join(allowed) or 'none'}",
            )

    return Depends(check)


async def case_scope(principal: Principal, request: Request) -> str | None:
    """Resource check of the loop's case routes: a ``staff`` key touches only the cases of
    its own service point (by the ``registration_id`` or ``recommendation_id`` in the path).

    An unknown id passes here and is answered 404 by the route.
    """
    reason = await own_resources(principal, request)
    if reason is not None or principal.role is not Role.STAFF:
        return reason
    state: ApiState | None = request.app.state.api_state
    params = request.path_params
    if state is None:
        return None
    if "registration_id" in params:
        point = case_point(state.store, registration_id=_int(params["registration_id"]))
    elif "recommendation_id" in params:
        point = case_point(state.store, recommendation_id=_int(params["recommendation_id"]))
    else:
        return None
    if point is None or point == principal.service_point:
        return None
    return f"this case belongs to service point {point!r}, not {principal.service_point!r}"


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1  # not an id: the route answers 422
