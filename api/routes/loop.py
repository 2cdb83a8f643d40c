"""Follow-ups due (staff: their point's cases only) and the loop report (staff and admin)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import PrincipalDep, Role
from api.deps import AUTH_RESPONSES, StateDep, Writer
from api.loop_deps import LoopCityDep, only_query
from api.schemas_loop import FollowUpsPublic, LoopSummaryPublic
from planner.loop import follow_ups, loop_summary
from planner.loop.followups import follow_up_rows

router = APIRouter(tags=["registrations"], dependencies=[only_query("date")])

DateQuery = Annotated[dt.date | None, Query(description="YYYY-MM-DD; default today.")]


@router.get(
    "/follow-ups",
    response_model=FollowUpsPublic,
    summary="Open cases due for a follow-up call (authenticated)",
    description="Every open case whose last contact (registration, recommendations sent, "
    "interview booked, outcome, call) is `follow_up_days` (7) or more days before `date`, "
    "by service point, with the reason and the responsible volunteer. A `staff` key sees "
    "its own service point's cases only.",
    dependencies=[Writer],
    responses=AUTH_RESPONSES,
)
def list_follow_ups(
    state: StateDep, city: LoopCityDep, principal: PrincipalDep, date: DateQuery = None
) -> dict[str, Any]:
    day = date or dt.date.today()
    days = city.params.follow_up_days
    items = follow_up_rows(follow_ups(state.store, day, days=days, city=city))
    if principal.role is Role.STAFF:
        items = [i for i in items if i.get("service_point_id") == principal.service_point]
    return {"date": day, "follow_up_days": days, "count": len(items), "items": items}


@router.get(
    "/loop/summary",
    response_model=LoopSummaryPublic,
    summary="The loop report",
    description="Registrations, screened (within 1 day), with recommendations, answered, "
    "interviews, hires, follow-ups due/done, per service point and industry; median days "
    "to the first recommendation and to an outcome. Aggregates of small counts (per point "
    "and industry), so not published: `staff` and `admin` keys.",
    responses=AUTH_RESPONSES,
)
def summary(state: StateDep, city: LoopCityDep, date: DateQuery = None) -> dict[str, Any]:
    return loop_summary(state.store, date or dt.date.today(), days=city.params.follow_up_days)
