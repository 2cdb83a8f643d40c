"""A case after matching: recommendations, interviews (and their escorts), outcomes, calls.

Outcomes (:data:`OUTCOMES`): ``hired``, ``hired_elsewhere`` and ``withdrawn`` close the
case (its other open recommendations are closed too); ``not_hired``, ``declined`` and
``no_show`` end one recommendation (or, without ``recommendation_id``, every open one); a case
left without an open recommendation is *re-opened*: the next matching run screens it again
and never recommends the same employer twice.

The *contact clock* of a case is the latest of: its registration date, recommendations sent,
an interview booked, an outcome recorded, a follow-up call (:func:`last_contacts`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from planner.errors import CaseNotFoundError, CaseStateError
from planner.loop.context import LoopCity, fmt_clock
from planner.loop.matching import ACTIVE, REASONS
from planner.loop.registrations import CLOSED, OPEN, get_registration
from planner.store import (
    Store,
    contacts,
    interviews,
    outcomes,
    recommendations,
    registrations,
)

logger = logging.getLogger(__name__)

OUTCOMES = ("hired", "hired_elsewhere", "not_hired", "declined", "no_show", "withdrawn")
CLOSING = frozenset({"hired", "hired_elsewhere", "withdrawn"})
INTERVIEW_MIN = 30
"""An interview must start at least this long (min) before the employer closes."""


@dataclass(frozen=True)
class Recommendation:
    id: int
    registration_id: int
    employer_id: str
    industry: str
    travel_time_s: float
    status: str
    recommended_on: dt.date


@dataclass(frozen=True)
class Interview:
    id: int
    recommendation_id: int
    registration_id: int
    employer_id: str
    service_point_id: str | None
    day: dt.date
    time_s: int
    escort: bool
    group_size: int


@dataclass(frozen=True)
class OutcomeRecorded:
    registration_id: int
    outcome: str
    status: str
    reopened: bool
    recommendations: list[int]


def recommendations_of(store: Store, registration_id: int) -> list[Recommendation]:
    """All recommendations of a registration, oldest first (:class:`CaseNotFoundError`)."""
    get_registration(store, registration_id)
    q = (
        sa.select(recommendations)
        .where(recommendations.c.registration_id == registration_id)
        .order_by(recommendations.c.id)
    )
    with store.engine.connect() as conn:
        return [_rec(row) for row in conn.execute(q).mappings()]


def _rec(row: sa.RowMapping) -> Recommendation:
    return Recommendation(
        id=int(row["id"]),
        registration_id=int(row["registration_id"]),
        employer_id=str(row["employer_id"]),
        industry=str(row["industry"]),
        travel_time_s=float(row["travel_time_s"]),
        status=str(row["status"]),
        recommended_on=row["recommended_on"],
    )


def book_interview(
    store: Store,
    city: LoopCity,
    recommendation_id: int,
    day: dt.date,
    time_s: int,
    *,
    escort: bool,
    group_size: int = 1,
    booked_on: dt.date | None = None,
    note: str | None = None,
) -> Interview:
    """Book an interview for an open recommendation, within the employer's hours.

    Raises
    ------
    CaseNotFoundError
        Unknown recommendation.
    CaseStateError
        The recommendation is not open (already booked, ended) or the case is closed.
    ValueError
        The time is outside the employer's hours, the day is before the booking day, or the
        group size is not 1..10.
    """
    booked_on = booked_on or day
    with store.engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(recommendations).where(recommendations.c.id == recommendation_id)
            )
            .mappings()
            .first()
        )
    if row is None:
        msg = f"no recommendation with id {recommendation_id}"
        raise CaseNotFoundError(msg)
    rec = _rec(row)
    reg = get_registration(store, rec.registration_id)
    if reg.status != OPEN:
        msg = f"registration {reg.id} is closed ({reg.outcome})"
        raise CaseStateError(msg)
    if rec.status != "recommended":
        msg = f"recommendation {rec.id} is {rec.status!r}; only an open one can be booked"
        raise CaseStateError(msg)
    i = city.employer_index.get(rec.employer_id)
    problems = []
    if i is not None:
        opens, closes = int(city.opens_s[i]), int(city.closes_s[i])
        if not opens <= time_s <= closes - INTERVIEW_MIN * 60:
            problems.append(
                f"`time` {fmt_clock(time_s)} is outside employer {rec.employer_id}'s hours "
                f"({fmt_clock(opens)}-{fmt_clock(closes)}, last start "
                f"{fmt_clock(closes - INTERVIEW_MIN * 60)})"
            )
    if day < booked_on:
        problems.append(f"`date` {day} is before the booking day {booked_on}")
    if not 1 <= group_size <= 10:
        problems.append(f"`group_size` must be 1..10, got {group_size}")
    if problems:
        raise ValueError("; ".join(problems))
    values = dict(
        recommendation_id=rec.id,
        registration_id=rec.registration_id,
        employer_id=rec.employer_id,
        service_point_id=reg.service_point_id,
        day=day,
        time_s=int(time_s),
        escort=bool(escort),
        group_size=int(group_size),
        booked_on=booked_on,
        note=note,
    )
    with store.engine.begin() as conn:
        changed = conn.execute(
            recommendations.update()
            .where(recommendations.c.id == rec.id, recommendations.c.status == "recommended")
            .values(status="interview")
        ).rowcount
        if changed != 1:  # a concurrent booking won
            msg = f"recommendation {rec.id} was booked meanwhile"
            raise CaseStateError(msg)
        res = conn.execute(interviews.insert().values(**values))
        new_id = int(res.inserted_primary_key[0])  # type: ignore[index]
    return Interview(
        id=new_id,
        recommendation_id=rec.id,
        registration_id=rec.registration_id,
        employer_id=rec.employer_id,
        service_point_id=reg.service_point_id,
        day=day,
        time_s=int(time_s),
        escort=bool(escort),
        group_size=int(group_size),
    )


def record_outcome(
    store: Store,
    registration_id: int,
    outcome: str,
    *,
    day: dt.date,
    recommendation_id: int | None = None,
    note: str | None = None,
) -> OutcomeRecorded:
    """Record an outcome; closes the case or ends recommendations (see module docstring).

    Raises
    ------
    CaseNotFoundError
        Unknown registration or recommendation (or one of another registration).
    CaseStateError
        The case is already closed, or ``hired`` without an identifiable recommendation.
    ValueError
        Unknown outcome.
    """
    if outcome not in OUTCOMES:
        msg = f"`outcome` {outcome!r} must be one of {', '.join(OUTCOMES)}"
        raise ValueError(msg)
    reg = get_registration(store, registration_id)
    if reg.status != OPEN:
        msg = f"registration {registration_id} is already closed ({reg.outcome})"
        raise CaseStateError(msg)
    recs = recommendations_of(store, registration_id)
    active = [r for r in recs if r.status in ACTIVE]
    if recommendation_id is not None:
        target = [r for r in recs if r.id == recommendation_id]
        if not target:
            msg = f"registration {registration_id} has no recommendation {recommendation_id}"
            raise CaseNotFoundError(msg)
    elif outcome == "hired":
        target = [r for r in active if r.status == "interview"] or active
        if len(target) != 1:
            msg = (
                f"`hired` needs `recommendation_id`: registration {registration_id} has "
                f"{len(target)} candidate recommendations"
            )
            raise CaseStateError(msg)
    else:
        target = active
    closes = outcome in CLOSING
    ended = {r.id for r in target} if outcome not in ("hired_elsewhere", "withdrawn") else set()
    to_close = {r.id for r in active} - ended if closes else set()
    with store.engine.begin() as conn:
        if ended:
            conn.execute(
                recommendations.update()
                .where(recommendations.c.id.in_(sorted(ended)))
                .values(status=outcome)
            )
        if to_close:
            conn.execute(
                recommendations.update()
                .where(recommendations.c.id.in_(sorted(to_close)))
                .values(status="closed")
            )
        if closes:
            conn.execute(
                registrations.update()
                .where(registrations.c.id == registration_id)
                .values(status=CLOSED, outcome=outcome)
            )
        conn.execute(
            outcomes.insert().values(
                registration_id=registration_id,
                recommendation_id=target[0].id if len(target) == 1 else None,
                outcome=outcome,
                day=day,
                note=note,
                recorded_at=datetime.now(UTC),
            )
        )
    still_active = {r.id for r in active} - ended - to_close
    reopened = not closes and not still_active
    return OutcomeRecorded(
        registration_id=registration_id,
        outcome=outcome,
        status=CLOSED if closes else OPEN,
        reopened=reopened,
        recommendations=sorted(ended | to_close),
    )


def record_contact(
    store: Store,
    registration_id: int,
    *,
    day: dt.date,
    by: str | None = None,
    note: str | None = None,
    kind: str = "follow_up_call",
) -> int:
    """Record a follow-up call (resets the case's contact clock); returns its id."""
    get_registration(store, registration_id)
    with store.engine.begin() as conn:
        res = conn.execute(
            contacts.insert().values(
                registration_id=registration_id,
                day=day,
                kind=kind,
                by=by,
                note=note,
                recorded_at=datetime.now(UTC),
            )
        )
        return int(res.inserted_primary_key[0])  # type: ignore[index]


# -- the contact clock and follow-ups --------------------------------------------------------


def last_contacts(store: Store, day: dt.date) -> pd.DataFrame:
    """Every registration registered by `day` with its last contact on or before `day`.

    Columns: ``id``, ``external_id``, ``industries``, ``service_point_id``, ``status``,
    ``reason``, ``registered``, ``last_contact``, ``active`` (open recommendations),
    ``interviews`` (booked, not ended).
    """
    r = registrations
    events = [
        sa.select(
            recommendations.c.registration_id.label("rid"),
            recommendations.c.recommended_on.label("d"),
        ),
        sa.select(interviews.c.registration_id, interviews.c.booked_on),
        sa.select(outcomes.c.registration_id, outcomes.c.day),
        sa.select(contacts.c.registration_id, contacts.c.day),
    ]
    union = sa.union_all(*events).subquery()
    last = (
        sa.select(union.c.rid, sa.func.max(union.c.d).label("last"))
        .where(union.c.d <= day)
        .group_by(union.c.rid)
        .subquery()
    )
    active = (
        sa.select(
            recommendations.c.registration_id.label("rid"),
            sa.func.count().label("active"),
            sa.func.sum(sa.case((recommendations.c.status == "interview", 1), else_=0)).label(
                "booked"
            ),
        )
        .where(recommendations.c.status.in_(ACTIVE))
        .group_by(recommendations.c.registration_id)
        .subquery()
    )
    q = (
        sa.select(
            r.c.id,
            r.c.external_id,
            r.c.industries,
            r.c.service_point_id,
            r.c.status,
            r.c.reason,
            r.c.registered,
            last.c.last,
            active.c.active,
            active.c.booked,
        )
        .outerjoin(last, last.c.rid == r.c.id)
        .outerjoin(active, active.c.rid == r.c.id)
        .where(r.c.registered <= day)
        .order_by(r.c.id)
    )
    cols = ["id", "external_id", "industries", "service_point_id", "status", "reason"]
    cols += ["registered", "last", "active", "interviews"]
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(q).all(), columns=cols)
    reg_day = pd.to_datetime(frame["registered"])
    last_day = pd.to_datetime(frame["last"])
    frame["last_contact"] = last_day.where(last_day > reg_day, reg_day).dt.date
    frame["active"] = frame["active"].fillna(0).astype(int)
    frame["interviews"] = frame["interviews"].fillna(0).astype(int)
    return frame.drop(columns=["last"])


@dataclass(frozen=True)
class FollowUp:
    """An open case silent for at least ``follow_up_days``."""

    registration_id: int
    external_id: str | None
    service_point_id: str | None
    volunteer_id: str | None
    industries: tuple[str, ...]
    last_contact: dt.date
    days_silent: int
    state: str
    reason: str


def follow_ups(
    store: Store, day: dt.date, *, days: int = 7, city: LoopCity | None = None
) -> list[FollowUp]:
    """Open cases whose last contact is `days` or more days before `day`, by point and id.

    With `city`, each names a volunteer of its service point who knows one of its
    industries (spread over them by registration id), else any volunteer of the point.
    """
    frame = last_contacts(store, day)
    frame["silent"] = (pd.Timestamp(day) - pd.to_datetime(frame["last_contact"])).dt.days
    due = frame[(frame["status"] == OPEN) & (frame["silent"] >= days)]
    vols = city.volunteer_points() if city is not None else {}
    out = []
    ordered = due.sort_values(["service_point_id", "id"], na_position="last")
    for row in ordered.to_dict("records"):
        inds = tuple(str(row["industries"]).split(";"))
        rid, point = int(row["id"]), row["service_point_id"]
        why = None if pd.isna(row["reason"]) else str(row["reason"])
        state, reason = _state(int(row["active"]), int(row["interviews"]), why, int(row["silent"]))
        out.append(
            FollowUp(
                registration_id=rid,
                external_id=None if pd.isna(row["external_id"]) else str(row["external_id"]),
                service_point_id=None if pd.isna(point) else str(point),
                volunteer_id=_volunteer(vols.get(str(point), []), inds, rid),
                industries=inds,
                last_contact=row["last_contact"],
                days_silent=int(row["silent"]),
                state=state,
                reason=reason,
            )
        )
    return out


def _state(active: int, booked: int, why: str | None, silent: int) -> tuple[str, str]:
    if booked:
        return "interview", f"interview booked, no outcome recorded; silent {silent} days"
    if active:
        return "recommended", f"recommendations sent, no interview booked; silent {silent} days"
    if why:
        return "no_recommendation", f"no recommendation: {REASONS.get(why, why)}"
    return "waiting", f"not yet matched; silent {silent} days"


def _volunteer(vols: list[tuple[str, set[str]]], inds: tuple[str, ...], key: int) -> str | None:
    if not vols:
        return None
    knows = [v for v, known in vols if known & set(inds)] or [v for v, _ in vols]
    return sorted(knows)[key % len(knows)]


# -- escorts for the day's routes -----------------------------------------------------------


@dataclass(frozen=True)
class BookedEscort:
    """An escort the day's routes must serve: pick the seeker up at their service point and
    deliver them to the employer before the interview.

    Attributes
    ----------
    interview_id
        The booked interview this escort serves.
    registration_id
        Its case.
    service_point_id
        Pickup: the registration's responsible service point (``None`` if it has none).
    employer_id
        Delivery.
    industry
        The employer's industry (the escorting volunteer should know it).
    interview_s
        Interview start, seconds since midnight (delivery before it).
    group_size
        Seekers walking together (seats).
    """

    interview_id: int
    registration_id: int
    service_point_id: str | None
    employer_id: str
    industry: str
    interview_s: int
    group_size: int


def booked_escorts(store: Store, day: dt.date) -> list[BookedEscort]:
    """Escorted interviews booked for `day` whose case and recommendation are still open."""
    q = (
        sa.select(
            interviews.c.id,
            interviews.c.registration_id,
            interviews.c.service_point_id,
            interviews.c.employer_id,
            recommendations.c.industry,
            interviews.c.time_s,
            interviews.c.group_size,
        )
        .join(recommendations, recommendations.c.id == interviews.c.recommendation_id)
        .join(registrations, registrations.c.id == interviews.c.registration_id)
        .where(
            interviews.c.day == day,
            interviews.c.escort.is_(True),
            recommendations.c.status == "interview",
            registrations.c.status == OPEN,
        )
        .order_by(interviews.c.time_s, interviews.c.id)
    )
    with store.engine.connect() as conn:
        return [
            BookedEscort(int(i), int(r), sp, str(e), str(ind), int(t), int(g))
            for i, r, sp, e, ind, t, g in conn.execute(q)
        ]


def interviews_on(store: Store, day: dt.date) -> list[Interview]:
    """Every interview booked for `day` (escorted or not)."""
    q = sa.select(interviews).where(interviews.c.day == day).order_by(interviews.c.id)
    with store.engine.connect() as conn:
        return [
            Interview(
                id=int(row["id"]),
                recommendation_id=int(row["recommendation_id"]),
                registration_id=int(row["registration_id"]),
                employer_id=str(row["employer_id"]),
                service_point_id=row["service_point_id"],
                day=row["day"],
                time_s=int(row["time_s"]),
                escort=bool(row["escort"]),
                group_size=int(row["group_size"]),
            )
            for row in conn.execute(q).mappings()
        ]
