"""Interviews booked for a recommendation (authenticated)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from api.deps import AUTH_RESPONSES, StateDep, Writer
from api.loop_deps import CASE_RESPONSES, LoopCityDep, case_errors
from api.schemas_loop import InterviewCreate, InterviewPublic
from planner.loop import book_interview
from planner.loop.context import clock_s, fmt_clock

router = APIRouter(prefix="/recommendations", tags=["registrations"], dependencies=[Writer])


@router.post(
    "/{recommendation_id}/interview",
    response_model=InterviewPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Book an interview (authenticated)",
    description="The time must lie within the employer's hours (starting at least 30 min "
    "before closing). With `escort: true` the interview becomes an escort task of that day's "
    "routes: pickup at the person's service point, delivery before the interview.",
    responses={**AUTH_RESPONSES, **CASE_RESPONSES},
)
def create_interview(
    state: StateDep,
    city: LoopCityDep,
    recommendation_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: InterviewCreate,
) -> dict[str, Any]:
    with case_errors():
        iv = book_interview(
            state.store,
            city,
            recommendation_id,
            body.date,
            clock_s(body.time),
            escort=body.escort,
            group_size=body.group_size,
            booked_on=body.booked_on or min(dt.date.today(), body.date),
            note=body.note,
        )
    return {
        "id": iv.id,
        "recommendation_id": iv.recommendation_id,
        "registration_id": iv.registration_id,
        "employer_id": iv.employer_id,
        "service_point_id": iv.service_point_id,
        "date": iv.day,
        "time": fmt_clock(iv.time_s),
        "escort": iv.escort,
        "group_size": iv.group_size,
    }
