"""Registrations of job seekers: create, read, recommendations, outcomes, follow-up calls.

Every route here needs the bearer key: cases are personal data (homes are never returned).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from api.deps import AUTH_RESPONSES, StateDep, Writer
from api.loop_deps import CASE_RESPONSES, LoopCityDep, case_errors
from api.schemas_loop import (
    ContactCreate,
    ContactPublic,
    OutcomeCreate,
    OutcomePublic,
    RecommendationsPublic,
    RegistrationCreate,
    RegistrationCreated,
    RegistrationPublic,
)
from planner.loop import (
    REASONS,
    NewRegistration,
    recommendations_of,
    record_contact,
    record_outcome,
    register,
)
from planner.loop.registrations import Registration, get_registration

router = APIRouter(prefix="/registrations", tags=["registrations"], dependencies=[Writer])

RegId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RESPONSES = {**AUTH_RESPONSES, **CASE_RESPONSES}


def registration_public(reg: Registration) -> dict[str, Any]:
    return {
        "id": reg.id,
        "external_id": reg.external_id,
        "industries": list(reg.industries),
        "mode": reg.mode,
        "registered": reg.registered,
        "service_point_id": reg.service_point_id,
        "status": reg.status,
        "outcome": reg.outcome,
        "screened_on": reg.screened_on,
        "reason": reg.reason,
        "reason_text": REASONS.get(reg.reason) if reg.reason else None,
    }


@router.post(
    "",
    response_model=RegistrationCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Register a job seeker (authenticated)",
    description="Stores the form with its responsible service point; the next matching run "
    "screens it. The home point is kept on the server and never returned.",
    responses=RESPONSES,
)
def create_registration(
    state: StateDep, city: LoopCityDep, body: RegistrationCreate
) -> dict[str, Any]:
    with case_errors():
        form = NewRegistration(
            lon=body.lon,
            lat=body.lat,
            industries=tuple(dict.fromkeys(i.value for i in body.industries)),
            mode=body.mode.value,
            registered=body.registered or dt.date.today(),
            name=body.name,
            phone=body.phone,
            external_id=body.external_id,
        )
        (new_id,) = register(state.store, city, [form], reject_outside=True)
        reg = get_registration(state.store, new_id)
    return {"id": reg.id, "service_point_id": reg.service_point_id, "status": reg.status}


@router.get(
    "/{registration_id}",
    response_model=RegistrationPublic,
    summary="A registration's case (authenticated)",
    responses=RESPONSES,
)
def read_registration(state: StateDep, registration_id: RegId) -> dict[str, Any]:
    with case_errors():
        return registration_public(get_registration(state.store, registration_id))


@router.get(
    "/{registration_id}/recommendations",
    response_model=RecommendationsPublic,
    summary="Openings recommended to a registration (authenticated)",
    description="Every recommendation with `employer_id`, `industry`, `travel_time_s` and "
    "`status`; a registration without any names the `reason`.",
    responses=RESPONSES,
)
def list_recommendations(state: StateDep, registration_id: RegId) -> dict[str, Any]:
    with case_errors():
        reg = get_registration(state.store, registration_id)
        recs = recommendations_of(state.store, registration_id)
    return {
        "registration": registration_public(reg),
        "recommendations": [
            {
                "id": r.id,
                "employer_id": r.employer_id,
                "industry": r.industry,
                "travel_time_s": r.travel_time_s,
                "status": r.status,
                "recommended_on": r.recommended_on,
            }
            for r in recs
        ],
    }


@router.post(
    "/{registration_id}/outcome",
    response_model=OutcomePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Record an outcome (authenticated)",
    description="`hired`, `hired_elsewhere`, `withdrawn` close the case; `not_hired`, "
    "`declined`, `no_show` end the recommendation (or all open ones); a case left without an "
    "open recommendation is re-opened and matched again by the next run.",
    responses=RESPONSES,
)
def create_outcome(state: StateDep, registration_id: RegId, body: OutcomeCreate) -> dict[str, Any]:
    with case_errors():
        done = record_outcome(
            state.store,
            registration_id,
            body.outcome,
            day=body.date or dt.date.today(),
            recommendation_id=body.recommendation_id,
            note=body.note,
        )
    return {
        "registration_id": done.registration_id,
        "outcome": done.outcome,
        "status": done.status,
        "reopened": done.reopened,
        "recommendations": done.recommendations,
    }


@router.post(
    "/{registration_id}/contacts",
    response_model=ContactPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Record a follow-up call (authenticated)",
    description="Resets the case's contact clock.",
    responses=RESPONSES,
)
def create_contact(state: StateDep, registration_id: RegId, body: ContactCreate) -> dict[str, Any]:
    day = body.date or dt.date.today()
    with case_errors():
        new_id = record_contact(state.store, registration_id, day=day, by=body.by, note=body.note)
    return {"id": new_id, "registration_id": registration_id, "date": day}
