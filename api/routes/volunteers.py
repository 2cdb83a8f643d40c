"""Volunteers' daily routes and marking their tasks done."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, status

from api.deps import AUTH_RESPONSES, StateDep, Writer
from api.schemas import TaskDoneCreate, TaskDonePublic, VolunteerRoutePublic
from api.state import ApiState
from planner.daily.record import VolunteerRoute

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
) -> VolunteerRoutePublic:
    day, routes = _day(state, date)
    route = routes.get(volunteer_id)
    if route is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"volunteer {volunteer_id!r} has no route on {day.isoformat()}",
        )
    done = {t.task_id for t in state.store.done_tasks(day, volunteer_id=volunteer_id)}
    return VolunteerRoutePublic.from_record(route, day, done)


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
    tasks = set(route.task_ids)
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


def _day(state: ApiState, day: dt.date | None) -> tuple[dt.date, dict[str, VolunteerRoute]]:
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
