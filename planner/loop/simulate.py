"""A simulated stretch of days of the loop (the demo), through the same functions as the API.

Each day: the seekers registered that day are registered; the matching run screens every
open case; some recommendations lead to interviews booked for one to three days later at a
random time within the employer's hours, some escorted (the random escort sampling now only
fills the database); interviews of the day get an outcome; a few open cases report a job
found elsewhere or withdraw; most follow-ups due are called. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import sqlalchemy as sa

from planner.loop.cases import (
    INTERVIEW_MIN,
    book_interview,
    booked_escorts,
    follow_ups,
    interviews_on,
    record_contact,
    record_outcome,
)
from planner.loop.context import LoopCity, Progress
from planner.loop.matching import match_day
from planner.loop.registrations import OPEN, forms_from_seekers, register
from planner.store import (
    Store,
    contacts,
    interviews,
    matching_runs,
    outcomes,
    recommendations,
    registrations,
)

logger = logging.getLogger(__name__)

LOOP_TABLES = (contacts, outcomes, interviews, recommendations, matching_runs, registrations)


@dataclass(frozen=True)
class SimParams:
    """Behaviour of the simulated seekers and staff (shares are probabilities)."""

    days: int = 14
    seed: int = 20261123
    book_share: float = 0.45
    escort_share: float = 0.35
    hired_share: float = 0.30
    no_show_share: float = 0.10
    declined_share: float = 0.10
    elsewhere_daily: float = 0.01
    withdraw_daily: float = 0.003
    call_share: float = 0.85

    def __post_init__(self) -> None:
        if self.days < 1:
            msg = f"`days` must be >= 1, got {self.days}"
            raise ValueError(msg)
        shares = {k: v for k, v in asdict(self).items() if k not in ("days", "seed")}
        bad = [f"`{k}` = {v}" for k, v in shares.items() if not 0 <= v <= 1]
        if self.hired_share + self.no_show_share + self.declined_share > 1:
            bad.append("hired + no_show + declined shares exceed 1")
        if bad:
            msg = "shares must lie in [0, 1]: " + ", ".join(bad)
            raise ValueError(msg)


@dataclass
class DayLog:
    day: dt.date
    registered: int = 0
    screened: int = 0
    recommendations: int = 0
    interviews_booked: int = 0
    escorts_today: int = 0
    outcomes: int = 0
    follow_ups_due: int = 0
    calls: int = 0
    match_s: float = 0.0


@dataclass
class Simulation:
    start: dt.date
    end: dt.date
    days: list[DayLog] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": [{**asdict(d), "day": d.day.isoformat()} for d in self.days],
        }


def clear_loop(store: Store) -> None:
    """Delete every registration, recommendation, interview, outcome, call and run."""
    with store.engine.begin() as conn:
        for table in LOOP_TABLES:
            conn.execute(sa.delete(table))


def default_start(seekers: gpd.GeoDataFrame, days: int) -> dt.date:
    """The first day of the last `days` days of registrations in the seekers layer."""
    last = max(dt.date.fromisoformat(str(v)[:10]) for v in seekers["registered"])
    return last - dt.timedelta(days=days - 1)


def simulate(
    store: Store,
    city: LoopCity,
    seekers: gpd.GeoDataFrame,
    *,
    start: dt.date,
    params: SimParams | None = None,
    progress: Progress | None = None,
) -> Simulation:
    """Run the loop day by day from `start` for ``params.days`` days (see module docstring)."""
    p = params or SimParams()
    say = progress or (lambda _m: None)
    rng = np.random.default_rng(p.seed)
    sim = Simulation(start=start, end=start + dt.timedelta(days=p.days - 1))
    forms = forms_from_seekers(seekers, since=start, until=sim.end)
    by_day: dict[dt.date, list[Any]] = {}
    for f in forms:
        by_day.setdefault(f.registered, []).append(f)
    for k in range(p.days):
        day = start + dt.timedelta(days=k)
        log = DayLog(day)
        say(f"{day}: registrations")
        log.registered = len(register(store, city, by_day.get(day, [])))
        say(f"{day}: matching")
        result = match_day(store, city, day)
        log.screened, log.recommendations = result.screened, result.recommendations
        log.match_s = round(result.result.runtime_s, 2) if result.result else 0.0
        say(f"{day}: interviews and outcomes")
        log.interviews_booked = _book(store, city, day, result.run_id, rng, p)
        log.escorts_today = len(booked_escorts(store, day))
        log.outcomes = _outcomes(store, day, rng, p)
        due = follow_ups(store, day, days=city.params.follow_up_days, city=city)
        log.follow_ups_due = len(due)
        for item in due:
            if rng.random() < p.call_share:
                record_contact(store, item.registration_id, day=day, by=item.volunteer_id)
                log.calls += 1
        sim.days.append(log)
        logger.info("%s", log)
    return sim


def _book(
    store: Store,
    city: LoopCity,
    day: dt.date,
    run_id: int | None,
    rng: np.random.Generator,
    p: SimParams,
) -> int:
    if run_id is None:
        return 0
    q = (
        sa.select(recommendations.c.id, recommendations.c.employer_id)
        .where(recommendations.c.run_id == run_id)
        .order_by(recommendations.c.id)
    )
    with store.engine.connect() as conn:
        recs = conn.execute(q).all()
    booked = 0
    for rec_id, emp_id in recs:
        if rng.random() >= p.book_share:
            continue
        i = city.employer_index[str(emp_id)]
        first, last = int(city.opens_s[i]), int(city.closes_s[i]) - INTERVIEW_MIN * 60
        slots = (last - first) // 900
        if slots < 0:
            continue
        when = first + 900 * int(rng.integers(slots + 1))
        on = day + dt.timedelta(days=int(rng.integers(1, 4)))
        escort = bool(rng.random() < p.escort_share)
        book_interview(store, city, int(rec_id), on, when, escort=escort, booked_on=day)
        booked += 1
    return booked


def _outcomes(store: Store, day: dt.date, rng: np.random.Generator, p: SimParams) -> int:
    n = 0
    for iv in interviews_on(store, day):
        with store.engine.connect() as conn:
            status = conn.execute(
                sa.select(recommendations.c.status).where(
                    recommendations.c.id == iv.recommendation_id
                )
            ).scalar_one()
            reg_status = conn.execute(
                sa.select(registrations.c.status).where(registrations.c.id == iv.registration_id)
            ).scalar_one()
        if status != "interview" or reg_status != OPEN:
            continue
        u = rng.random()
        if u < p.hired_share:
            outcome = "hired"
        elif u < p.hired_share + p.no_show_share:
            outcome = "no_show"
        elif u < p.hired_share + p.no_show_share + p.declined_share:
            outcome = "declined"
        else:
            outcome = "not_hired"
        record_outcome(
            store, iv.registration_id, outcome, day=day, recommendation_id=iv.recommendation_id
        )
        n += 1
    with store.engine.connect() as conn:
        open_ids = [
            int(i)
            for (i,) in conn.execute(
                sa.select(registrations.c.id)
                .where(registrations.c.status == OPEN, registrations.c.registered < day)
                .order_by(registrations.c.id)
            )
        ]
    for reg_id in open_ids:
        u = rng.random()
        if u < p.elsewhere_daily:
            record_outcome(store, reg_id, "hired_elsewhere", day=day)
            n += 1
        elif u < p.elsewhere_daily + p.withdraw_daily:
            record_outcome(store, reg_id, "withdrawn", day=day)
            n += 1
    return n
