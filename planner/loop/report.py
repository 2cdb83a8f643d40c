"""The loop report: is every registration answered? (``GET /loop/summary``, the demo).

Figures as of a date (everything recorded on or before it): registrations, screened (and
within one day of registering), with recommendations, without one (by reason), interviews
(escorted), outcomes, open cases, follow-ups due and done; per service point and per
industry (a registration counts under each of its industries); the median days from
registration to the first recommendation and to the first outcome.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from planner.disclosure import DEFAULT_K, protect, protect_totals
from planner.loop.cases import follow_ups
from planner.loop.registrations import OPEN
from planner.store import Store, contacts, interviews, outcomes, recommendations, registrations

FIGURES = (
    "registrations",
    "screened",
    "screened_within_1_day",
    "with_recommendations",
    "answered",
    "interviews",
    "escorted_interviews",
    "hires",
    "open_cases",
    "follow_ups_due",
    "follow_ups_done",
)
"""The counts of :func:`loop_summary`'s totals, per service point and per industry."""


def _frame(store: Store, query: sa.Select[Any], columns: list[str]) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=columns)


def loop_summary(store: Store, day: dt.date | None = None, *, days: int = 7) -> dict[str, Any]:
    """The report as a JSON-ready dict (see the module docstring); `day` default today."""
    day = day or dt.date.today()
    r = registrations
    regs = _frame(
        store,
        sa.select(
            r.c.id,
            r.c.industries,
            r.c.service_point_id,
            r.c.registered,
            r.c.screened_on,
            r.c.status,
            r.c.reason,
        ).where(r.c.registered <= day),
        ["id", "industries", "point", "registered", "screened_on", "status", "reason"],
    )
    recs = _frame(
        store,
        sa.select(recommendations.c.registration_id, sa.func.min(recommendations.c.recommended_on))
        .where(recommendations.c.recommended_on <= day)
        .group_by(recommendations.c.registration_id),
        ["id", "first_rec"],
    )
    ivs = _frame(
        store,
        sa.select(interviews.c.registration_id, interviews.c.escort).where(
            interviews.c.booked_on <= day
        ),
        ["id", "escort"],
    )
    outs = _frame(
        store,
        sa.select(outcomes.c.registration_id, outcomes.c.outcome, outcomes.c.day).where(
            outcomes.c.day <= day
        ),
        ["id", "outcome", "day"],
    )
    calls = _frame(
        store,
        sa.select(contacts.c.registration_id).where(
            contacts.c.day <= day, contacts.c.kind == "follow_up_call"
        ),
        ["id"],
    )
    due = follow_ups(store, day, days=days)
    per = _per_registration(regs, recs, ivs, outs, calls, {f.registration_id for f in due})
    totals = _figures(per)
    totals["median_days_to_first_recommendation"] = _median(per["days_to_rec"])
    totals["median_days_to_outcome"] = _median(per["days_to_outcome"])
    totals["outcomes"] = {k: int(v) for k, v in outs["outcome"].value_counts().items()}
    totals["no_recommendation_reasons"] = {
        str(k): int(v)
        for k, v in per.loc[per["screened"] & ~per["recommended"], "reason"]
        .fillna("pending")
        .value_counts()
        .items()
    }
    by_point = {
        str(k): _figures(g) for k, g in per.fillna({"point": "(none)"}).groupby("point", sort=True)
    }
    exploded = per.assign(industry=per["industries"].str.split(";")).explode("industry")
    by_industry = {str(k): _figures(g) for k, g in exploded.groupby("industry", sort=True)}
    return {
        "date": day.isoformat(),
        "follow_up_days": days,
        "totals": totals,
        "by_service_point": by_point,
        "by_industry": by_industry,
    }


def _per_registration(
    regs: pd.DataFrame,
    recs: pd.DataFrame,
    ivs: pd.DataFrame,
    outs: pd.DataFrame,
    calls: pd.DataFrame,
    due: set[int],
) -> pd.DataFrame:
    per = regs.merge(recs, on="id", how="left")
    first_out = outs.groupby("id")["day"].min().rename("first_outcome")
    per = per.merge(first_out, left_on="id", right_index=True, how="left")
    n_iv = ivs.groupby("id").size().rename("interviews")
    n_esc = ivs[ivs["escort"].astype(bool)].groupby("id").size().rename("escorted")
    hires = outs[outs["outcome"] == "hired"].groupby("id").size().rename("hires")
    n_calls = calls.groupby("id").size().rename("calls")
    for s in (n_iv, n_esc, hires, n_calls):
        per = per.merge(s, left_on="id", right_index=True, how="left")
        per[s.name] = per[s.name].fillna(0).astype(int)
    registered = pd.to_datetime(per["registered"])
    per["screened"] = per["screened_on"].notna()
    per["screened_1d"] = per["screened"] & (
        (pd.to_datetime(per["screened_on"]) - registered).dt.days <= 1
    )
    per["recommended"] = per["first_rec"].notna()
    per["answered"] = per["recommended"] | (per["screened"] & per["reason"].notna())
    per["days_to_rec"] = (pd.to_datetime(per["first_rec"]) - registered).dt.days
    per["days_to_outcome"] = (pd.to_datetime(per["first_outcome"]) - registered).dt.days
    per["open"] = per["status"] == OPEN
    per["due"] = per["id"].isin(due)
    return per


def _figures(per: pd.DataFrame) -> dict[str, Any]:
    n = len(per)
    return {
        "registrations": n,
        "screened": int(per["screened"].sum()),
        "screened_within_1_day": int(per["screened_1d"].sum()),
        "with_recommendations": int(per["recommended"].sum()),
        "answered": int(per["answered"].sum()),
        "answered_share": round(float(per["answered"].mean()), 4) if n else 1.0,
        "interviews": int(per["interviews"].sum()),
        "escorted_interviews": int(per["escorted"].sum()),
        "hires": int(per["hires"].sum()),
        "open_cases": int(per["open"].sum()),
        "follow_ups_due": int(per["due"].sum()),
        "follow_ups_done": int(per["calls"].sum()),
    }


def _median(values: pd.Series) -> float | None:
    v = values.dropna().to_numpy(dtype=float)
    return None if v.size == 0 else float(np.median(v))


def last_day(store: Store) -> dt.date | None:
    """The newest day anything was recorded in the loop (a registration, a recommendation,
    a booking, an outcome or a contact), or ``None`` when the loop is empty."""
    columns = (
        registrations.c.registered,
        recommendations.c.recommended_on,
        interviews.c.booked_on,
        outcomes.c.day,
        contacts.c.day,
    )
    days = []
    with store.engine.connect() as conn:
        for column in columns:
            value = conn.execute(sa.select(sa.func.max(column))).scalar()
            if value is not None:
                days.append(value if isinstance(value, dt.date) else dt.date.fromisoformat(value))
    return max(days) if days else None


def published_summary(summary: dict[str, Any], *, k: int = DEFAULT_K) -> dict[str, Any]:
    """The loop report as it may be published (the plan map): every count of people
    through disclosure control (:mod:`planner.disclosure`, `k` the smallest count).

    Per service point and per industry the rows are protected with
    :func:`~planner.disclosure.protect` (total: registrations; parts: the other figures of
    :data:`FIGURES`): a row with fewer than `k` registrations is left out (the rows and
    people left out are stated), a figure in ``1..k-1`` and its complements are ``None``.
    The totals and the breakdowns by outcome and by reason go through
    :func:`~planner.disclosure.protect_totals`. A median is published only when at least
    `k` registrations count in it. Published numbers are those of `summary`, unchanged.
    """
    totals = summary["totals"]
    published: dict[str, Any] = {"registrations": _at_least(totals["registrations"], k)}
    published |= protect_totals({f: int(totals[f]) for f in FIGURES[1:]}, k=k)
    n_rec, n_out = int(totals["with_recommendations"]), sum(totals["outcomes"].values())
    if published["registrations"] is None:  # too few people for any figure
        published = dict.fromkeys(published)
    published["answered_share"] = (
        totals["answered_share"] if published["answered"] is not None else None
    )
    published["median_days_to_first_recommendation"] = (
        totals["median_days_to_first_recommendation"] if n_rec >= k else None
    )
    published["median_days_to_outcome"] = totals["median_days_to_outcome"] if n_out >= k else None
    return {
        "date": summary["date"],
        "follow_up_days": summary["follow_up_days"],
        "k": k,
        "totals": published,
        "outcomes": protect_totals(totals["outcomes"], k=k),
        "no_recommendation_reasons": protect_totals(totals["no_recommendation_reasons"], k=k),
        "by_service_point": _protected_rows(summary["by_service_point"], k),
        "by_industry": _protected_rows(summary["by_industry"], k),
    }


def _at_least(value: int, k: int) -> int | None:
    return int(value) if value == 0 or value >= k else None


def _protected_rows(rows: dict[str, dict[str, Any]], k: int) -> dict[str, Any]:
    """``{"rows": {key: {figure: int | None}}, "suppressed_rows", "suppressed"}``."""
    table = pd.DataFrame(
        [[key, *(int(fig[f]) for f in FIGURES)] for key, fig in rows.items()],
        columns=["key", *FIGURES],
    )
    result = protect(table, total="registrations", parts=FIGURES[1:], k=k)
    shown = {
        str(row["key"]): {f: None if pd.isna(row[f]) else int(row[f]) for f in FIGURES}
        for _, row in result.table.iterrows()
    }
    return {
        "rows": shown,
        "suppressed_rows": result.suppressed_rows,
        "suppressed": result.suppressed,
        "hidden_parts": result.hidden_parts,
    }
