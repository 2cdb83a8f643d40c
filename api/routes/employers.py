"""Demand reports of employers (authenticated writes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status

from api.deps import AUTH_RESPONSES, StateDep, Writer
from api.schemas import DemandCreate, DemandPublic

router = APIRouter(prefix="/employers", tags=["employers"])


@router.post(
    "/{employer_id}/demand",
    response_model=DemandPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Report an employer's current hiring demand (authenticated)",
    description="Stored in the database; the latest report per employer is used by the next "
    "planning run (the next day's routes).",
    dependencies=[Writer],
    responses={**AUTH_RESPONSES, 404: {"description": "No such employer."}},
)
def report_demand(
    state: StateDep,
    employer_id: Annotated[str, Path(min_length=1, max_length=200)],
    body: DemandCreate,
) -> dict[str, Any]:
    employers = state.collections.get("employers")
    if employers is None or employers.get(employer_id) is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no employer with id {employer_id!r}"
        )
    report = state.store.record_demand(employer_id, body.demand, note=body.note)
    return {
        "report_id": report.report_id,
        "employer_id": report.employer_id,
        "demand": report.demand,
        "note": report.note,
        "reported_at": report.reported_at,
    }
