"""The plan's before/after crowd figures."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import StateDep
from api.schemas import PlanSummaryPublic

router = APIRouter(tags=["plan"])


@router.get(
    "/plan/summary",
    response_model=PlanSummaryPublic,
    summary="Before/after crowd figures of the plan",
)
async def plan_summary(state: StateDep) -> PlanSummaryPublic:
    return PlanSummaryPublic(scenario=state.name, title=state.title, summary=state.summary)
