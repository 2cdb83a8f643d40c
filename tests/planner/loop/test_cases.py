"""The loop on a tiny city: every registration answered, limits, outcomes, clock, escorts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from geo.modes import TRIP_OVERHEAD_S, TravelMode
from planner.errors import CaseNotFoundError, CaseStateError
from planner.loop import (
    LoopParams,
    NewRegistration,
    book_interview,
    booked_escorts,
    follow_ups,
    loop_summary,
    match_day,
    recommendations_of,
    record_contact,
    record_outcome,
    register,
)
from planner.loop.matching import openings
from planner.loop.registrations import get_registration
from planner.store import recommendations

from .conftest import make_city, points_near

DAY0 = dt.date(2026, 3, 2)


def forms(n: int, seed: int = 3, *, industries=("textile",), mode="walk", day=DAY0):
    rng = np.random.default_rng(seed)
    lon, lat = points_near(rng, n)
    return [
        NewRegistration(
            float(x), float(y), tuple(industries), mode, day, external_id=f"S{seed}-{i}"
        )
        for i, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]


def test_every_registration_is_answered_and_no_employer_over_its_share(store, loop_city):
    ids = register(
        store,
        loop_city,
        forms(20)
        + forms(5, 4, industries=("chemical",))
        + forms(6, 5, industries=("food", "toys"), mode="ebike"),
    )
    run = match_day(store, loop_city, DAY0)
    assert run.screened == len(ids) == 31
    for i in ids:
        reg = get_registration(store, i)
        recs = recommendations_of(store, i)
        assert reg.screened_on == DAY0
        assert (len(recs) > 0) != (reg.reason is not None)  # recommendations xor a reason
        assert len(recs) <= loop_city.params.per_registration
        for r in recs:
            assert r.industry in reg.industries
    # No chemical employer exists: stated reason.
    chem = [i for i in ids if get_registration(store, i).industries == ("chemical",)]
    assert {get_registration(store, i).reason for i in chem} == {"no_opening_in_reach"}
    # Capacity: at most `candidates_per_opening` x open positions per employer.
    demand = loop_city.employers.set_index("id")["demand"]
    with store.engine.connect() as conn:
        per_emp = pd.Series(
            dict(
                conn.execute(
                    sa.select(recommendations.c.employer_id, sa.func.count()).group_by(
                        recommendations.c.employer_id
                    )
                ).all()
            )
        )
    limit = np.floor(loop_city.params.candidates_per_opening * demand[per_emp.index])
    assert (per_emp <= limit).all()
    assert run.reasons.get("all_taken", 0) > 0  # 20 textile seekers, few textile places


def test_recommended_travel_times_are_own_mode_times(store, loop_city):
    (rid,) = register(store, loop_city, forms(1, 9, mode="ebike"))
    match_day(store, loop_city, DAY0)
    recs = recommendations_of(store, rid)
    assert recs
    reg_row = forms(1, 9, mode="ebike")[0]
    emp = loop_city.employers.set_index("id").loc[[r.employer_id for r in recs]]
    m = (
        loop_city.engine["ebike"]
        .matrix([(reg_row.lon, reg_row.lat)], emp, crs="EPSG:4326")
        .dense_time()[0]
    )
    expected = m + TRIP_OVERHEAD_S[TravelMode.EBIKE]
    assert [r.travel_time_s for r in recs] == pytest.approx(expected.tolist(), abs=0.1)
    assert recs == sorted(recs, key=lambda r: r.travel_time_s) or len(recs) > 0


def test_far_limit_gives_no_opening_reason(store, loop_network):
    city = make_city(
        loop_network, params=LoopParams(max_travel_min=0.5, per_registration=1, pool=1)
    )
    (rid,) = register(store, city, forms(1))
    match_day(store, city, DAY0)
    assert get_registration(store, rid).reason == "no_opening_in_reach"


def test_outcomes_close_or_reopen_and_reopened_cases_are_matched_again(store, loop_city):
    a, b = register(store, loop_city, forms(2, 11, industries=("food",)))
    match_day(store, loop_city, DAY0)
    first = recommendations_of(store, a)
    assert first
    out = record_outcome(store, a, "declined", day=DAY0 + dt.timedelta(days=1))
    assert out.status == "open" and out.reopened
    match_day(store, loop_city, DAY0 + dt.timedelta(days=2))
    again = recommendations_of(store, a)
    new = [r for r in again if r.recommended_on == DAY0 + dt.timedelta(days=2)]
    assert {r.employer_id for r in new}.isdisjoint({r.employer_id for r in first})
    # hired closes the case and every other open recommendation.
    recs_b = recommendations_of(store, b)
    book_interview(
        store,
        loop_city,
        recs_b[0].id,
        DAY0 + dt.timedelta(days=1),
        10 * 3600,
        escort=False,
        booked_on=DAY0,
    )
    done = record_outcome(store, b, "hired", day=DAY0 + dt.timedelta(days=1))
    assert done.status == "closed" and not done.reopened
    assert {r.status for r in recommendations_of(store, b)} <= {"hired", "closed"}
    with pytest.raises(CaseStateError, match="closed"):
        record_outcome(store, b, "withdrawn", day=DAY0)
    with pytest.raises(ValueError, match="outcome"):
        record_outcome(store, a, "promoted", day=DAY0)
    with pytest.raises(CaseNotFoundError):
        record_outcome(store, 999, "withdrawn", day=DAY0)


def test_hires_reduce_openings(store, loop_city):
    (rid,) = register(store, loop_city, forms(1, 12, industries=("toys",)))
    match_day(store, loop_city, DAY0)
    rec = recommendations_of(store, rid)[0]
    i = loop_city.employer_index[rec.employer_id]
    before = openings(store, loop_city).openings[i]
    record_outcome(store, rid, "hired", day=DAY0, recommendation_id=rec.id)
    assert openings(store, loop_city).openings[i] == before - 1


def test_interview_time_must_be_within_the_employers_hours(store, loop_city):
    (rid,) = register(store, loop_city, forms(1, 13))
    match_day(store, loop_city, DAY0)
    rec = recommendations_of(store, rid)[0]
    with pytest.raises(ValueError, match="outside employer"):
        book_interview(store, loop_city, rec.id, DAY0, 7 * 3600, escort=True)
    with pytest.raises(ValueError, match="outside employer"):
        book_interview(store, loop_city, rec.id, DAY0, 16 * 3600 + 45 * 60, escort=True)
    book_interview(store, loop_city, rec.id, DAY0, 16 * 3600 + 30 * 60, escort=True)
    with pytest.raises(CaseStateError, match="only an open one"):
        book_interview(store, loop_city, rec.id, DAY0, 9 * 3600, escort=True)
    with pytest.raises(CaseNotFoundError):
        book_interview(store, loop_city, 12345, DAY0, 9 * 3600, escort=True)


def test_follow_up_clock(store, loop_city):
    ids = register(store, loop_city, forms(6, 21, industries=("food",)))
    match_day(store, loop_city, DAY0)  # recommendations sent on DAY0 count as contact
    day = DAY0 + dt.timedelta(days=6)
    assert follow_ups(store, day) == []  # 6 days silent: not yet
    day7 = DAY0 + dt.timedelta(days=7)
    due = {f.registration_id for f in follow_ups(store, day7)}
    assert due == set(ids)  # every open case silent exactly 7 days
    record_contact(store, ids[0], day=day7, by="V2")  # a call resets the clock
    record_outcome(store, ids[1], "withdrawn", day=DAY0 + dt.timedelta(days=2))  # closed
    record_outcome(
        store, ids[2], "declined", day=DAY0 + dt.timedelta(days=3)
    )  # open, contact on day 3
    due7 = {f.registration_id for f in follow_ups(store, day7)}
    assert due7 == {ids[3], ids[4], ids[5]}
    # Independent check over a fortnight: due <=> open and (day - last contact) >= 7.
    last = {i: DAY0 for i in ids}
    last[ids[0]] = day7
    last[ids[2]] = DAY0 + dt.timedelta(days=3)
    for k in range(15):
        d = DAY0 + dt.timedelta(days=k)
        expected = {i for i in ids if i != ids[1] and last[i] <= d and (d - last[i]).days >= 7}
        assert {f.registration_id for f in follow_ups(store, d)} == expected, d
    items = follow_ups(store, DAY0 + dt.timedelta(days=10), city=loop_city)
    assert all(f.service_point_id is not None for f in items)
    assert all(f.reason for f in items)


def test_booked_escorts_trace_back_to_booked_interviews(store, loop_city):
    ids = register(store, loop_city, forms(6, 31, industries=("toys", "food")))
    match_day(store, loop_city, DAY0)
    interview_day = DAY0 + dt.timedelta(days=2)
    booked = {}
    for k, rid in enumerate(ids):
        rec = recommendations_of(store, rid)[0]
        iv = book_interview(
            store,
            loop_city,
            rec.id,
            interview_day,
            9 * 3600 + 900 * k,
            escort=k % 2 == 0,
            booked_on=DAY0,
        )
        booked[iv.id] = (iv, rid, rec)
    escorts = booked_escorts(store, interview_day)
    assert {e.interview_id for e in escorts} == {i for i, (iv, _, _) in booked.items() if iv.escort}
    for e in escorts:
        iv, rid, rec = booked[e.interview_id]
        assert e.registration_id == rid
        assert e.employer_id == rec.employer_id and e.industry == rec.industry
        assert e.service_point_id == get_registration(store, rid).service_point_id
        assert e.interview_s == iv.time_s and e.group_size == 1
    assert booked_escorts(store, interview_day + dt.timedelta(days=1)) == []
    # An outcome ends the interview: its escort is no longer due.
    first = escorts[0]
    record_outcome(store, first.registration_id, "withdrawn", day=DAY0 + dt.timedelta(days=1))
    assert first.interview_id not in {e.interview_id for e in booked_escorts(store, interview_day)}


def test_responsible_point_is_the_nearest_serving_one(store, loop_city):
    (rid,) = register(store, loop_city, forms(1, 41, industries=("food",), mode="walk"))
    reg = get_registration(store, rid)
    f = forms(1, 41, industries=("food",))[0]
    pts = loop_city.points
    serving = pts[pts["industries"].str.contains("food") | pts["is_market"]]
    t = loop_city.engine["walk"].matrix([(f.lon, f.lat)], serving, crs="EPSG:4326").dense_time()[0]
    assert reg.service_point_id == serving["id"].iloc[int(np.argmin(t))]


def test_import_is_idempotent_and_summary_counts(store, loop_city):
    batch = forms(5, 51)
    first = register(store, loop_city, batch)
    assert register(store, loop_city, batch) == first
    match_day(store, loop_city, DAY0)
    s = loop_summary(store, DAY0)
    assert s["totals"]["registrations"] == 5
    assert s["totals"]["screened"] == s["totals"]["screened_within_1_day"] == 5
    assert s["totals"]["answered_share"] == 1.0
    assert sum(v["registrations"] for v in s["by_service_point"].values()) == 5
    assert "lon" not in str(s) and "lat" not in str(s)
