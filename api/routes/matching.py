"""The matching run (authenticated): screen every open registration of a day."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import AUTH_RESPONSES, StateDep, Writer
from api.loop_deps import LoopCityDep, case_errors, only_query
from api.schemas_loop import MatchingRunPublic
from planner.loop import match_day

router = APIRouter(
    prefix="/matching", tags=["registrations"], dependencies=[Writer, only_query("date")]
)


@router.post(
    "/run",
    response_model=MatchingRunPublic,
    summary="Run the matching for a day (authenticated)",
    description="Screens every open registration without an open recommendation: a "
    "capacitated assignment (HiGHS) of up to N openings each, by industry and own-mode "
    "travel time, no employer sent more than its multiple of open positions; registrations "
    "without a recommendation get a reason.",
    responses=AUTH_RESPONSES,
)
def run_matching(
    state: StateDep,
    city: LoopCityDep,
    date: Annotated[dt.date | None, Query(description="YYYY-MM-DD; default today.")] = None,
) -> dict[str, Any]:
    day = date or dt.date.today()
    with case_errors():
        run = match_day(state.store, city, day)
    r = run.result
    return {
        "date": day,
        "screened": run.screened,
        "with_recommendations": run.with_recommendations,
        "recommendations": run.recommendations,
        "reasons": run.reasons,
        "objective": None if r is None else r.objective,
        "bound": None if r is None else r.bound,
        "gap": None if r is None else r.gap,
        "runtime_s": None if r is None else round(r.runtime_s, 3),
    }
