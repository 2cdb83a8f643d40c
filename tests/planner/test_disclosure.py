"""Disclosure control: no published count in 1..k-1, and an attacker who knows every
published line sum (cell totals, the merged count, city-wide totals per industry, people in
suppressed cells) cannot recover a hidden small value by subtraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.disclosure import MERGED, check, line_ok, protect, protect_totals

PARTS = ["n_a", "n_b", "n_c", "n_d"]


def _table(rows: list[list[int]]) -> pd.DataFrame:
    """Single-valued people (parts add up to the count): the attacker's best case."""
    values = np.array(rows, dtype=np.int64).reshape(len(rows), len(PARTS))
    frame = pd.DataFrame(values, columns=PARTS)
    frame.insert(0, "count", values.sum(axis=1))
    frame.insert(0, "cell", [f"c{i}" for i in range(len(rows))])
    return frame


def _attack(raw: pd.DataFrame, k: int) -> list[tuple[str, str, int]]:
    """Hidden small values an attacker recovers by subtraction from published figures.

    Unknowns: every hidden part of a published cell (>= 1: zeros are published), and the
    count and parts of every suppressed cell. Lines (sums the attacker knows): each
    published cell's hidden parts add up to its `merged`; each suppressed cell's parts add
    up to its count; each column's grand total (as published by `protect_totals`); the
    people in suppressed cells (the number of people minus the published cells). Repeatedly:
    a line with one unknown left gives it; a line whose unknowns (each >= 1) add up to
    their number gives them all as 1. Returns what was recovered in 1..k-1.
    """
    got = protect(raw, total="count", parts=PARTS, k=k)
    pub = got.table.set_index("cell")
    truth = raw.set_index("cell")
    hidden_rows = [c for c in truth.index if c not in pub.index]
    at_least_one = {(c, p) for c, row in pub.iterrows() for p in PARTS if pd.isna(row[p])}
    lines: list[tuple[dict[tuple[str, str], int], int]] = []
    for cell, row in pub.iterrows():
        terms = {(cell, p): 1 for p in PARTS if pd.isna(row[p])}
        if terms:
            lines.append((terms, int(row[MERGED])))
    for cell in hidden_rows:
        lines.append(({**{(cell, p): 1 for p in PARTS}, (cell, "count"): -1}, 0))
    grand = protect_totals({p: int(truth[p].sum()) for p in PARTS}, k=k)
    for p in PARTS:
        if grand[p] is not None:
            terms = {u: 1 for u in at_least_one if u[1] == p}
            terms.update({(c, p): 1 for c in hidden_rows})
            lines.append((terms, int(grand[p]) - int(pub[p].fillna(0).sum())))
    if int(truth["count"].sum()) >= k:
        lines.append(({(c, "count"): 1 for c in hidden_rows}, got.suppressed))
    known: dict[tuple[str, str], int] = {}
    progress = True
    while progress:
        progress = False
        for terms, total in lines:
            left = {u: a for u, a in terms.items() if u not in known}
            rest = total - sum(a * known[u] for u, a in terms.items() if u in known)
            if len(left) == 1:
                ((u, a),) = left.items()
                known[u] = rest // a
                progress = True
            elif left and set(left) <= at_least_one and rest == len(left):
                known.update(dict.fromkeys(left, 1))
                progress = True
    return [(c, p, v) for (c, p), v in known.items() if 0 < v < k]


def test_the_issue_example_small_breakdown_is_hidden_and_merged():
    # A cell of 5 with one food seeker (the bug report) and a larger cell.
    raw = _table([[4, 0, 0, 1], [10, 7, 0, 6], [12, 9, 5, 8], [6, 9, 11, 5]])
    got = protect(raw, total="count", parts=PARTS, k=5)
    first = got.table.iloc[0]
    assert pd.isna(first["n_d"]) and pd.isna(first["n_a"])  # 1 hidden, 4 its complement
    assert first[MERGED] == 5
    assert check(got.table, ["count", *PARTS, MERGED], k=5) == []
    assert _attack(raw, 5) == []


def test_a_single_suppressed_cell_gets_a_complement():
    raw = _table([[1, 1, 0, 0], [6, 6, 6, 6], [20, 0, 0, 0], [30, 6, 0, 0]])
    got = protect(raw, total="count", parts=PARTS, k=5)
    assert got.suppressed_rows == 2  # the cell of 2, plus the smallest published one
    assert got.suppressed == 2 + 20
    assert list(got.table["cell"]) == ["c1", "c3"]
    assert _attack(raw, 5) == []


def test_column_with_one_hidden_value_gets_a_complement():
    # n_c is small in one cell only; the city-wide n_c total would reveal it.
    raw = _table([[10, 10, 2, 10], [10, 10, 10, 10], [10, 10, 10, 10]])
    got = protect(raw, total="count", parts=PARTS, k=5)
    assert int(got.table["n_c"].isna().sum()) >= 2
    assert _attack(raw, 5) == []


@pytest.mark.parametrize(
    ("hidden", "ok"),
    [([], True), ([0, 0], True), ([3], False), ([1, 1], False), ([1, 4], True), ([1, 1, 1], False)],
)
def test_line_rule(hidden, ok):
    assert line_ok(np.array(hidden, dtype=np.int64), 5) is ok


def test_grand_totals_get_a_complement():
    got = protect_totals({"a": 0, "b": 3, "c": 5, "d": 40}, k=5)
    assert got == {"a": 0, "b": None, "c": None, "d": 40}
    assert protect_totals({"a": 7, "b": 9}, k=5) == {"a": 7, "b": 9}


def test_bad_input():
    raw = _table([[1, 2, 3, 4]])
    with pytest.raises(ValueError, match="`k` must be at least 1"):
        protect(raw, total="count", parts=PARTS, k=0)
    with pytest.raises(ValueError, match="lacks column"):
        protect(raw, total="count", parts=["n_z"], k=5)
    raw.loc[0, "n_a"] = -1
    with pytest.raises(ValueError, match="non-negative"):
        protect(raw, total="count", parts=PARTS, k=5)


cells = st.lists(
    st.lists(st.integers(0, 12), min_size=len(PARTS), max_size=len(PARTS)).filter(any),
    min_size=1,
    max_size=12,
)


@given(rows=cells, k=st.integers(2, 6))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_small_count_published_and_none_recoverable(rows, k):
    raw = _table(rows)
    got = protect(raw, total="count", parts=PARTS, k=k)
    assert check(got.table, ["count", *PARTS, MERGED], k=k) == []
    assert int(got.table["count"].sum()) + got.suppressed == int(raw["count"].sum())
    assert _attack(raw, k) == [], (rows, k)


def test_the_attacker_recovers_values_without_complementary_suppression(monkeypatch):
    # The attack is real: with small values hidden one at a time (no complements), it
    # recovers them by subtraction.
    import planner.disclosure as disclosure

    monkeypatch.setattr(disclosure, "_protect_columns", lambda *a: False)
    monkeypatch.setattr(disclosure, "_protect_rows_hidden", lambda *a: False)
    monkeypatch.setattr(disclosure, "line_ok", lambda hidden, k: True)
    raw = _table([[10, 10, 2, 10], [10, 10, 10, 10], [3, 0, 0, 0], [9, 8, 7, 6]])
    assert ("c0", "n_c", 2) in _attack(raw, 5)
    assert ("c2", "count", 3) in _attack(raw, 5)
