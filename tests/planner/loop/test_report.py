"""The published loop report: the loop report's numbers, through disclosure control."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from planner.disclosure import line_ok, protect_totals
from planner.loop import (
    NewRegistration,
    loop_summary,
    match_day,
    recommendations_of,
    record_contact,
    record_outcome,
    register,
)
from planner.loop.report import FIGURES, last_day, published_summary

from .conftest import points_near

DAY0 = dt.date(2026, 3, 2)
MIXES = (("textile",), ("toys",), ("food",), ("textile", "food"))


def fill_loop(store, city, *, n: int = 60, days: int = 3, seed: int = 7) -> dt.date:
    """Registrations over `days` days (mixed industries), matched daily; some outcomes and
    follow-up calls. Returns the last day."""
    rng = np.random.default_rng(seed)
    for d in range(days):
        day = DAY0 + dt.timedelta(days=d)
        lon, lat = points_near(rng, n // days)
        forms = [
            NewRegistration(
                float(x), float(y), MIXES[i % len(MIXES)], "walk", day, external_id=f"R{d}-{i}"
            )
            for i, (x, y) in enumerate(zip(lon, lat, strict=True))
        ]
        ids = register(store, city, forms)
        match_day(store, city, day)
        for j, rid in enumerate(ids):
            recs = recommendations_of(store, rid)
            if j % 4 == 0 and recs:
                record_outcome(store, rid, "hired", day=day, recommendation_id=recs[0].id)
            elif j % 7 == 0:
                record_contact(store, rid, day=day)
    return DAY0 + dt.timedelta(days=days - 1)


@pytest.fixture
def filled(store, loop_city):
    day = fill_loop(store, loop_city)
    return store, day


def _published_counts(pub):
    yield from ((f, v) for f, v in pub["totals"].items() if f in FIGURES)
    for part in ("by_service_point", "by_industry"):
        for row in pub[part]["rows"].values():
            yield from row.items()
    for part in ("outcomes", "no_recommendation_reasons"):
        yield from pub[part].items()


def test_last_day_is_the_newest_record(filled, store):
    _store, day = filled
    assert last_day(store) == day
    record_contact(store, 1, day=day + dt.timedelta(days=3))
    assert last_day(store) == day + dt.timedelta(days=3)


def test_last_day_of_an_empty_loop_is_none(store):
    assert last_day(store) is None


def test_with_k_1_everything_is_published_unchanged(filled):
    store, day = filled
    s = loop_summary(store, day)
    pub = published_summary(s, k=1)
    assert {f: pub["totals"][f] for f in FIGURES} == {f: s["totals"][f] for f in FIGURES}
    for part in ("by_service_point", "by_industry"):
        assert pub[part]["rows"] == {
            key: {f: fig[f] for f in FIGURES} for key, fig in s[part].items()
        }
        assert pub[part]["suppressed_rows"] == 0
    for key in ("median_days_to_first_recommendation", "median_days_to_outcome"):
        assert pub["totals"][key] == s["totals"][key]


@pytest.mark.parametrize("k", [3, 5, 12])
def test_published_numbers_are_the_reports_and_never_small(filled, k):
    store, day = filled
    s = loop_summary(store, day)
    pub = published_summary(s, k=k)
    for _f, v in _published_counts(pub):
        assert v is None or v == 0 or v >= k
    for f in FIGURES:
        assert pub["totals"][f] in (None, s["totals"][f])
    for part in ("by_service_point", "by_industry"):
        rows, report = pub[part]["rows"], s[part]
        for key, fig in rows.items():
            assert fig["registrations"] == report[key]["registrations"] >= k
            for f in FIGURES:
                assert fig[f] in (None, report[key][f])
        left_out = [key for key in report if key not in rows]
        # Rows below k are left out, and more if needed so their sum reveals no one.
        assert all(report[key]["registrations"] in range(k, 10**6) for key in rows)
        assert all(key in left_out for key in report if report[key]["registrations"] < k)
        assert line_ok(np.array([report[key]["registrations"] for key in left_out]), k)
        assert pub[part]["suppressed"] == sum(report[key]["registrations"] for key in left_out)
        assert pub[part]["suppressed_rows"] == len(left_out)
        # No hidden count of a published row can be recovered from its column's total
        # (where that total is published: protect_totals of the column).
        grand = protect_totals(
            {f: sum(fig[f] for fig in report.values()) for f in FIGURES[1:]}, k=k
        )
        for f in FIGURES[1:]:
            if grand[f] is None:
                continue
            hidden = np.array([report[key][f] for key, fig in rows.items() if fig[f] is None])
            assert line_ok(hidden, k), (part, f)


def test_small_totals_and_medians_are_hidden():
    fig = dict.fromkeys(FIGURES, 0) | {"registrations": 3, "screened": 3, "with_recommendations": 2}
    totals = fig | {
        "answered_share": 1.0,
        "median_days_to_first_recommendation": 0.0,
        "median_days_to_outcome": 2.0,
        "outcomes": {"hired": 1},
        "no_recommendation_reasons": {"no_opening_in_reach": 1},
    }
    s = {
        "date": "2026-03-02",
        "follow_up_days": 7,
        "totals": totals,
        "by_service_point": {"P1": fig},
        "by_industry": {"textile": fig},
    }
    pub = published_summary(s, k=5)
    assert set(pub["totals"].values()) == {None}
    assert pub["outcomes"] == {"hired": None}
    assert pub["no_recommendation_reasons"] == {"no_opening_in_reach": None}
    assert pub["by_service_point"] == {
        "rows": {},
        "suppressed_rows": 1,
        "suppressed": 3,
        "hidden_parts": 0,
    }


def test_no_home_coordinates_in_the_published_report(filled):
    store, day = filled
    text = str(published_summary(loop_summary(store, day), k=5))
    assert "lon" not in text and "lat" not in text
