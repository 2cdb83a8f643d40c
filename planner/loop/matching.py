"""The daily matching run: screen every open registration, recommend openings or say why not.

:func:`match_day` takes every open registration that has no open recommendation (new ones
and re-opened ones) registered on or before the date, builds the capacitated assignment of
:mod:`planner.loop.model` on own-mode travel times from the engine (kept in memory per
registration by :class:`~planner.loop.context.LoopCity`, so a later run computes only new
registrations), solves it exactly as a min-cost flow and stores the recommendations. A
registration that gets none gets a reason:

``outside_network``
    its home lies too far from every street: no travel time can be computed;
``no_opening_in_reach``
    no employer of its industries with open positions within the travel limit by its mode;
``all_recommended``
    every such opening was already recommended to it (a re-opened case);
``all_taken``
    such openings exist, but every one already has its share of candidates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from planner.loop.context import LoopCity, Progress
from planner.loop.model import AssignmentModel, MatchResult
from planner.loop.registrations import OPEN
from planner.store import (
    Store,
    demand_reports,
    matching_runs,
    outcomes,
    recommendations,
    registrations,
)

logger = logging.getLogger(__name__)

ACTIVE = ("recommended", "interview")
"""Recommendation statuses that count as an open candidacy at the employer."""

REASONS = {
    "outside_network": "home too far from every street: no travel time can be computed",
    "no_opening_in_reach": "no employer of the person's industries with open positions "
    "within the travel limit by their own mode",
    "all_recommended": "every opening within reach was already recommended to this person",
    "all_taken": "every suitable opening within reach already has its full share of candidates",
}
"""Why a screened registration got no recommendation (code -> explanation)."""


@dataclass(frozen=True)
class MatchDay:
    """What one matching run did."""

    day: dt.date
    screened: int
    with_recommendations: int
    recommendations: int
    reasons: dict[str, int]
    result: MatchResult | None
    run_id: int | None = None
    pairs: int = 0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Openings:
    """Open positions and remaining candidate places per employer (city order)."""

    openings: np.ndarray
    active: np.ndarray
    capacity: np.ndarray


def openings(store: Store, city: LoopCity) -> Openings:
    """Open positions: the employer's demand (its latest report through the API, else the
    layer), minus hires through the loop recorded after that report; capacity:
    ``floor(candidates_per_opening x openings)`` minus open candidacies, at least 0."""
    n = len(city.employers)
    demand = city.employers["demand"].to_numpy(dtype=np.int64).copy()
    idx = city.employer_index
    with store.engine.connect() as conn:
        latest: dict[str, tuple[int, datetime]] = {}
        q = sa.select(
            demand_reports.c.employer_id, demand_reports.c.demand, demand_reports.c.reported_at
        ).order_by(demand_reports.c.report_id)
        for e, d, at in conn.execute(q):
            latest[str(e)] = (int(d), at)
        hires = conn.execute(
            sa.select(recommendations.c.employer_id, outcomes.c.recorded_at)
            .join(outcomes, outcomes.c.recommendation_id == recommendations.c.id)
            .where(outcomes.c.outcome == "hired")
        ).all()
        active = conn.execute(
            sa.select(recommendations.c.employer_id, sa.func.count())
            .where(recommendations.c.status.in_(ACTIVE))
            .group_by(recommendations.c.employer_id)
        ).all()
    for e, (d, _) in latest.items():
        if e in idx:
            demand[idx[e]] = d
    for e, at in hires:
        i = idx.get(str(e))
        if i is None:
            continue
        report = latest.get(str(e))
        if report is None or _aware(at) > _aware(report[1]):
            demand[i] -= 1
    open_pos = np.maximum(demand, 0)
    act = np.zeros(n, dtype=np.int64)
    for e, c in active:
        if str(e) in idx:
            act[idx[str(e)]] = int(c)
    places = np.floor(city.params.candidates_per_opening * open_pos + 1e-9).astype(np.int64)
    return Openings(open_pos, act, np.maximum(places - act, 0))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def to_screen(store: Store, day: dt.date) -> pd.DataFrame:
    """Open registrations (registered on or before `day`) without an open recommendation."""
    has_active = (
        sa.select(recommendations.c.id)
        .where(
            recommendations.c.registration_id == registrations.c.id,
            recommendations.c.status.in_(ACTIVE),
        )
        .exists()
    )
    q = (
        sa.select(
            registrations.c.id,
            registrations.c.lon,
            registrations.c.lat,
            registrations.c.industries,
            registrations.c.mode,
        )
        .where(registrations.c.status == OPEN, registrations.c.registered <= day, ~has_active)
        .order_by(registrations.c.id)
    )
    with store.engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(q).all(), columns=["id", "lon", "lat", "industries", "mode"]
        )


def match_day(
    store: Store, city: LoopCity, day: dt.date, *, progress: Progress | None = None
) -> MatchDay:
    """Screen and match every open registration without an open recommendation on `day`."""
    say = progress or (lambda _m: None)
    say("registrations to screen")
    regs = to_screen(store, day)
    if regs.empty:
        return MatchDay(day, 0, 0, 0, {}, None)
    inds = [str(v).split(";") for v in regs["industries"]]
    homes = city.snap_homes(
        regs["lon"].to_numpy(float), regs["lat"].to_numpy(float), regs["mode"].to_numpy(object)
    )
    op = openings(store, city)
    keys = [
        (int(i), float(x), float(y), str(m), str(v))
        for i, x, y, m, v in zip(
            regs["id"], regs["lon"], regs["lat"], regs["mode"], regs["industries"], strict=True
        )
    ]
    r, e, t = city.employer_pairs(homes, inds, op.openings > 0, keys=keys, progress=say)
    reached = np.bincount(r, minlength=len(regs)) > 0
    keep = _not_recommended_before(store, regs["id"].to_numpy(np.int64), r, e, city)
    r, e, t = r[keep], e[keep], t[keep]
    say(f"assignment of {len(regs):,} registrations over {r.size:,} pairs ({city.params.solver})")
    model = AssignmentModel.from_pairs(
        r,
        e,
        t,
        n_registrations=len(regs),
        capacity=op.capacity,
        per_registration=city.params.per_registration,
        benefit_s=2 * city.params.max_travel_s,
    )
    result = model.solve(method=city.params.solver, pool=city.params.pool)
    chosen = result.chosen
    got = np.bincount(r[chosen], minlength=len(regs)) > 0
    unreached = np.bincount(r, minlength=len(regs)) == 0
    reason = np.full(len(regs), None, dtype=object)
    reason[~got] = "all_taken"
    reason[~got & unreached] = "all_recommended"
    reason[~got & ~reached] = "no_opening_in_reach"
    reason[~got & (homes.mode == "")] = "outside_network"
    run_id = _store(
        store, city, day, regs["id"].to_numpy(np.int64), r, e, t, chosen, reason, result
    )
    counts = Counter(str(x) for x in reason if x is not None)
    logger.info(
        "matching %s: %d screened, %d recommendations, reasons %s",
        day,
        len(regs),
        chosen.size,
        dict(counts),
    )
    return MatchDay(
        day=day,
        screened=len(regs),
        with_recommendations=int(got.sum()),
        recommendations=int(chosen.size),
        reasons=dict(counts),
        result=result,
        run_id=run_id,
        pairs=int(r.size),
    )


def _not_recommended_before(
    store: Store, reg_ids: np.ndarray, r: np.ndarray, e: np.ndarray, city: LoopCity
) -> np.ndarray:
    """Mask of pairs whose employer was never recommended to that registration."""
    q = sa.select(recommendations.c.registration_id, recommendations.c.employer_id).where(
        recommendations.c.registration_id.in_(sa.bindparam("ids", expanding=True))
    )
    seen: set[tuple[int, int]] = set()
    with store.engine.connect() as conn:
        pos = {int(i): k for k, i in enumerate(reg_ids.tolist())}
        for start in range(0, reg_ids.size, 5000):
            chunk = reg_ids[start : start + 5000].tolist()
            for reg_id, emp_id in conn.execute(q, {"ids": chunk}):
                j = city.employer_index.get(str(emp_id))
                if j is not None:
                    seen.add((pos[int(reg_id)], j))
    if not seen:
        return np.ones(r.size, dtype=bool)
    n_e = len(city.employers)
    done = np.array([a * n_e + b for a, b in seen], dtype=np.int64)
    return ~np.isin(r * n_e + e, done)


def _store(
    store: Store,
    city: LoopCity,
    day: dt.date,
    reg_ids: np.ndarray,
    r: np.ndarray,
    e: np.ndarray,
    t: np.ndarray,
    chosen: np.ndarray,
    reason: np.ndarray,
    result: MatchResult,
) -> int:
    emp_ids = city.employers["id"].to_numpy()
    emp_ind = city.employers["industry"].astype(str).to_numpy()
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        res = conn.execute(
            matching_runs.insert().values(
                day=day,
                screened=int(reg_ids.size),
                recommended=int(chosen.size),
                objective=result.objective,
                bound=result.bound,
                runtime_s=round(result.runtime_s, 3),
                ran_at=now,
            )
        )
        run_id = int(res.inserted_primary_key[0])  # type: ignore[index]
        rows = [
            {
                "registration_id": int(reg_ids[r[k]]),
                "employer_id": str(emp_ids[e[k]]),
                "industry": str(emp_ind[e[k]]),
                "travel_time_s": round(float(t[k]), 1),
                "status": "recommended",
                "recommended_on": day,
                "run_id": run_id,
            }
            for k in chosen.tolist()
        ]
        for start in range(0, len(rows), 10000):
            conn.execute(recommendations.insert(), rows[start : start + 10000])
        upd = (
            registrations.update()
            .where(registrations.c.id == sa.bindparam("rid"))
            .values(
                screened_on=sa.func.coalesce(registrations.c.screened_on, day),
                reason=sa.bindparam("why"),
            )
        )
        params = [
            {"rid": int(i), "why": None if w is None else str(w)}
            for i, w in zip(reg_ids.tolist(), reason.tolist(), strict=True)
        ]
        for start in range(0, len(params), 10000):
            conn.execute(upd, params[start : start + 10000])
    return run_id
