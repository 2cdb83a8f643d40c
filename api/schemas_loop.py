"""Request (``...Create``) and response (``...Public``) models of the registration loop.

No model carries a seeker's home coordinates: they are accepted on registration and never
returned.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Lat, Lon
from geo import Industry, TravelMode

Outcome = Literal["hired", "hired_elsewhere", "not_hired", "declined", "no_show", "withdrawn"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegistrationCreate(_Strict):
    lon: Lon
    lat: Lat
    industries: list[Industry] = Field(min_length=1, max_length=7)
    mode: TravelMode = Field(description="How the person travels (own mode).")
    registered: dt.date | None = Field(default=None, description="Default: today.")
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    external_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Id in the bureau's files."
    )


class RegistrationCreated(BaseModel):
    id: int
    service_point_id: str | None = Field(
        description="Responsible point: nearest open point serving one of the industries, "
        "by the person's own mode (null if none reachable)."
    )
    status: str


class RegistrationPublic(BaseModel):
    id: int
    external_id: str | None
    industries: list[str]
    mode: str
    registered: dt.date
    service_point_id: str | None
    status: str = Field(description="`open` or `closed`.")
    outcome: str | None
    screened_on: dt.date | None
    reason: str | None = Field(description="Why the last screening found no recommendation.")
    reason_text: str | None


class RecommendationPublic(BaseModel):
    id: int
    employer_id: str
    industry: str
    travel_time_s: float = Field(description="Own-mode trip (s), overhead of the mode included.")
    status: str = Field(
        description="`recommended`, `interview`, an outcome, or `closed` (case closed)."
    )
    recommended_on: dt.date


class RecommendationsPublic(BaseModel):
    registration: RegistrationPublic
    recommendations: list[RecommendationPublic]


class MatchingRunPublic(BaseModel):
    date: dt.date
    screened: int
    with_recommendations: int
    recommendations: int
    reasons: dict[str, int]
    objective: float | None = Field(description="Sum of (benefit - travel time) (s).")
    bound: float | None = Field(description="LP dual bound: no assignment is worth more.")
    gap: float | None
    runtime_s: float | None


class InterviewCreate(_Strict):
    date: dt.date
    time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, local time.")
    escort: bool = Field(default=False, description="A volunteer walks the person there.")
    group_size: int = Field(default=1, ge=1, le=10)
    booked_on: dt.date | None = Field(default=None, description="Default: today.")
    note: str | None = Field(default=None, max_length=1000)


class InterviewPublic(BaseModel):
    id: int
    recommendation_id: int
    registration_id: int
    employer_id: str
    service_point_id: str | None
    date: dt.date
    time: str
    escort: bool
    group_size: int


class OutcomeCreate(_Strict):
    outcome: Outcome
    recommendation_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The recommendation it concerns (default: the open ones).",
    )
    date: dt.date | None = Field(default=None, description="Default: today.")
    note: str | None = Field(default=None, max_length=1000)


class OutcomePublic(BaseModel):
    registration_id: int
    outcome: str
    status: str
    reopened: bool = Field(description="Open with no open recommendation: matched again.")
    recommendations: list[int] = Field(description="Recommendations this outcome ended.")


class ContactCreate(_Strict):
    date: dt.date | None = Field(default=None, description="Default: today.")
    by: str | None = Field(default=None, max_length=200, description="Volunteer or staff id.")
    note: str | None = Field(default=None, max_length=1000)


class ContactPublic(BaseModel):
    id: int
    registration_id: int
    date: dt.date


class FollowUpPublic(BaseModel):
    service_point_id: str | None
    volunteer_id: str | None
    registration_id: int
    external_id: str | None
    industries: str
    last_contact: dt.date
    days_silent: int
    state: str
    reason: str


class FollowUpsPublic(BaseModel):
    date: dt.date
    follow_up_days: int
    count: int
    items: list[FollowUpPublic]


class LoopSummaryPublic(BaseModel):
    date: dt.date
    follow_up_days: int
    totals: dict[str, Any]
    by_service_point: dict[str, dict[str, Any]]
    by_industry: dict[str, dict[str, Any]]
