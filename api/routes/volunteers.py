"""Volunteers' daily routes and marking their tasks done."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, status

from api.deps import AUTH_RESPONSES, StateDep, Writer
from api.schemas import TaskDoneCreate, TaskDonePublic, VolunteerRoutePublic
from api.state import ApiState

router = APIRouter(prefix="/volunteers", tags=["volunteers"])

VolunteerId = Annotated[str, Path(min_length=1, max_length=200)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No routes for that date, or no such volunteer or task."}
}


@router.get(
    "/{volunteer_id}/route",
    response_model=VolunteerRoutePublic,
    summary="A volunteer's route of one day",
    description="Stops with arrival/departure times and the street-following geometry. "
    "`date` defaults to the latest planned date.",
    responses=NOT_FOUND,
)
def volunteer_route(
    state: StateDep,
    volunteer_id: VolunteerId,
    date: Annotated[dt.date | None, Query(description="YYYY-MM-DD")] = None,
) -> dict[str, Any]:
    day, routes = _day(state, date)
    route = routes.get(volunteer_id)
    if route is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"volunteer {volunteer_id!r} has no route on {day.isoformat()}",
        )
    done = {t.task_id for t in state.store.done_tasks(day, volunteer_id=volunteer_id)}
    stops = []
    for s in route.get("stops", []):
        task = s.get("task_id")
        stops.append(
            {
                "seq": int(s["seq"]),
                "kind": str(s.get("kind", "")),
                "task_id": None if task is None else str(task),
                "name": s.get("name"),
                "lon": float(s["lon"]),
                "lat": float(s["lat"]),
                "arrival": s.get("arrival"),
                "departure": s.get("departure"),
                "done": task is not None and str(task) in done,
            }
        )
    return {
        "volunteer_id": volunteer_id,
        "name": route.get("name"),
        "date": day,
        "travel_time_s": route.get("travel_time_s"),
        "distance_m": route.get("distance_m"),
        "stops": stops,
        "geometry": route.get("geometry"),
    }


@router.post(
    "/{volunteer_id}/tasks/{task_id}/done",
    response_model=TaskDonePublic,
    summary="Mark a task of a volunteer's route done (authenticated)",
    description="Idempotent: marking a task twice keeps the first record (`created` false).",
    dependencies=[Writer],
    responses={**AUTH_RESPONSES, **NOT_FOUND},
)
def task_done(
    state: StateDep,
    volunteer_id: VolunteerId,
    task_id: Annotated[str, Path(min_length=1, max_length=200)],
    body: Annotated[TaskDoneCreate | None, Body()] = None,
) -> dict[str, Any]:
    body = body or TaskDoneCreate()
    day, routes = _day(state, body.date)
    route = routes.get(volunteer_id)
    if route is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"volunteer {volunteer_id!r} has no route on {day.isoformat()}",
        )
    tasks = {str(s.get("task_id")) for s in route.get("stops", []) if s.get("task_id") is not None}
    if task_id not in tasks:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"task {task_id!r} is not on the route of volunteer {volunteer_id!r} "
            f"on {day.isoformat()}; tasks: {', '.join(sorted(tasks)) or 'none'}",
        )
    record, created = state.store.mark_done(volunteer_id, task_id, day, note=body.note)
    return {
        "volunteer_id": record.volunteer_id,
        "task_id": record.task_id,
        "date": record.route_date,
        "note": record.note,
        "done_at": record.done_at,
        "created": created,
    }


def _day(state: ApiState, day: dt.date | None) -> tuple[dt.date, dict[str, dict[str, Any]]]:
    dates = state.routes.dates()
    if not dates:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no routes have been planned")
    day = day or dates[-1]
    routes = state.routes.day(day)
    if routes is None:
        shown = ", ".join(d.isoformat() for d in dates[-10:])
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"no routes planned for `date` {day.isoformat()}; planned: {shown}",
        )
    return day, routes
