"""Times of day: parse and format, one rounding rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.timeofday import DAY_S, format_hhmm, parse_hhmm


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00", 0),
        ("8:05", 29100),
        ("08:30", 30600),
        (" 13:10 ", 47400),
        ("24:00", DAY_S),
        ("09:15:59", 33359),
    ],
)
def test_parse(text: str, seconds: int) -> None:
    assert parse_hhmm(text) == seconds


@pytest.mark.parametrize("text", ["8h30", "25:00", "12:60", "24:01", "noon", "", "-1:00"])
def test_parse_rejects_and_names_the_argument(text: str) -> None:
    with pytest.raises(ValueError, match="`opens`"):
        parse_hhmm(text, name="opens")


def test_parse_rejects_non_text() -> None:
    with pytest.raises(ValueError, match="not a HH:MM"):
        parse_hhmm(830)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00"),
        (30600, "08:30"),
        (30659.9, "08:30"),
        (np.int64(35999), "09:59"),
        (np.float64(36000.0), "10:00"),
        (DAY_S + 600, "24:10"),
    ],
)
def test_format_rounds_down_like_a_clock(seconds: float, text: str) -> None:
    assert format_hhmm(seconds) == text


@pytest.mark.parametrize("bad", [-1, 2 * DAY_S, float("nan"), True, "08:00"])
def test_format_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="seconds"):
        format_hhmm(bad)  # type: ignore[arg-type]


@given(st.integers(0, 24 * 60))
def test_round_trip(minutes: int) -> None:
    assert parse_hhmm(format_hhmm(60 * minutes)) == 60 * minutes


@given(st.floats(0, DAY_S - 1), st.floats(0, DAY_S - 1))
def test_format_keeps_order(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert format_hhmm(lo) <= format_hhmm(hi)
