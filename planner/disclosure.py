"""Disclosure control for published counts of people (seekers per cell and any breakdown).

Every aggregate of personal data that leaves the planner (``seeker_cells`` in the plan files,
the maps and the API, and any breakdown by industry, mode or cell) goes through
:func:`protect`. The rules, with ``k`` the smallest publishable count (``[privacy]
min_count`` of the scenario, 5 by default):

1. **Small counts.** No published count lies in ``1..k-1``. A row (a cell) whose total is
   below ``k`` is not published at all (*suppressed cell*); a sub-count (``n_<industry>``) in
   ``1..k-1`` is published as null and merged into the row's ``merged`` count.
2. **No recovery by subtraction.** A reader knows every published line sum: a row's total
   (its hidden sub-counts add up to ``merged``), a column's grand total (the city-wide
   count per industry in the summaries, so the hidden entries of a column add up to the
   grand total minus the published entries; grand totals are published through
   :func:`protect_totals`) and the number of people in suppressed cells.
   Every such line that hides anything hides at least two non-zero values adding up to at
   least ``max(k, m + 1)`` (``m`` hidden values; each is known to be >= 1, so ``m`` hidden
   values adding up to ``m`` would all be 1). Where a line breaks this, the smallest
   published value of the line is hidden too (*complementary suppression*), repeated until
   every line holds.

Zeros are published as 0 (a zero discloses nobody); a null means "1 to k-1, or hidden to
protect one that is".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

DEFAULT_K = 5
"""Smallest count that may be published (counts 1..k-1 are suppressed)."""

MERGED = "merged"
"""Column of a protected table: the sum of the row's hidden sub-counts."""


@dataclass(frozen=True)
class Protected:
    """Result of :func:`protect`.

    Attributes
    ----------
    table
        The published rows only: the total column as is, the part columns as nullable
        integers (``<NA>`` where hidden) and :data:`MERGED` (sum of the hidden parts).
    shown
        Per input row, whether it is published.
    suppressed
        People in the rows not published (a published figure: the summaries state it).
    suppressed_rows
        Number of rows not published.
    hidden_parts
        Number of sub-counts hidden in published rows.
    k
        The threshold used.
    """

    table: pd.DataFrame
    shown: np.ndarray
    suppressed: int
    suppressed_rows: int
    hidden_parts: int
    k: int


def line_ok(hidden: np.ndarray, k: int) -> bool:
    """Whether the hidden non-zero values of one line are safe from subtraction.

    ``hidden`` are the hidden values of the line (zeros are published, so not counted).
    Safe: nothing hidden, or at least two values adding up to at least ``max(k, m + 1)``.
    """
    values = hidden[hidden > 0]
    m = int(values.size)
    return m == 0 or (m >= 2 and int(values.sum()) >= max(k, m + 1))


def protect(
    table: pd.DataFrame, *, total: str, parts: Sequence[str] = (), k: int = DEFAULT_K
) -> Protected:
    """Suppress and merge small counts of `table` so that none can be recovered.

    Parameters
    ----------
    table
        One row per published unit (e.g. a hexagon cell); `total` and `parts` columns hold
        non-negative integer counts of people. Other columns are kept as they are.
    total
        Column with each row's count of people (rows below `k` are not published).
    parts
        Breakdown columns (e.g. ``n_<industry>``); a person may count in several (then the
        parts add up to more than the total, which only makes recovery harder).
    k
        Smallest publishable count (>= 1).

    Returns
    -------
    Protected
        The published rows and what was hidden (see the module docstring for the rules).
    """
    if k < 1:
        msg = f"`k` must be at least 1, got {k}"
        raise ValueError(msg)
    missing = [c for c in (total, *parts) if c not in table.columns]
    if missing:
        msg = f"`table` lacks column(s) {missing}"
        raise ValueError(msg)
    counts = table[total].to_numpy(dtype=np.int64)
    values = table[list(parts)].to_numpy(dtype=np.int64).reshape(len(table), len(parts))
    if (counts < 0).any() or (values < 0).any():
        msg = "counts in `table` must be non-negative"
        raise ValueError(msg)
    row_hidden = counts < k
    hide = np.zeros(values.shape, dtype=bool)
    # Column lines exist only for the grand totals the summaries publish.
    grand = protect_totals({str(j): int(values[:, j].sum()) for j in range(len(parts))}, k=k)
    with_total = np.array([grand[str(j)] is not None for j in range(len(parts))], dtype=bool)
    for _ in range(10 * (len(table) + 1) * (len(parts) + 1)):  # each pass hides more
        changed = _protect_rows_hidden(counts, row_hidden, k)
        changed |= _protect_rows(values, hide, row_hidden, k)
        changed |= _protect_columns(values, hide, row_hidden, k, with_total)
        if not changed:
            break
    out = table.loc[~row_hidden].copy()
    shown_values = values[~row_hidden]
    shown_hide = hide[~row_hidden]
    for j, col in enumerate(parts):
        column = pd.array(shown_values[:, j], dtype="Int64")
        column[shown_hide[:, j]] = pd.NA
        out[col] = column
    out[MERGED] = np.where(shown_hide, shown_values, 0).sum(axis=1).astype(np.int64)
    result = Protected(
        table=out.reset_index(drop=True),
        shown=~row_hidden,
        suppressed=int(counts[row_hidden].sum()),
        suppressed_rows=int(row_hidden.sum()),
        hidden_parts=int(shown_hide.sum()),
        k=k,
    )
    logger.info(
        "disclosure control (k=%d): %d of %d rows suppressed (%d people), %d sub-counts hidden",
        k,
        result.suppressed_rows,
        len(table),
        result.suppressed,
        result.hidden_parts,
    )
    return result


def protect_totals(totals: Mapping[str, int], *, k: int = DEFAULT_K) -> dict[str, int | None]:
    """Grand totals of a breakdown as published: ``None`` where hidden.

    Totals in ``1..k-1`` are hidden and, as the overall total may be published too, the
    hidden ones must form a safe line (:func:`line_ok`): the smallest others are hidden
    until they do.
    """
    keys = list(totals)
    values = np.array([int(totals[key]) for key in keys], dtype=np.int64)
    hide = (values > 0) & (values < k)
    while not line_ok(values[hide], k):
        visible = np.flatnonzero(~hide & (values > 0))
        if visible.size == 0:
            break
        hide[visible[np.argmin(values[visible])]] = True
    return {key: (None if h else int(v)) for key, v, h in zip(keys, values, hide, strict=True)}


def _protect_rows_hidden(counts: np.ndarray, row_hidden: np.ndarray, k: int) -> bool:
    """Complementary cell suppression: the suppressed rows' total is published (and the
    grand total), so hide the smallest published rows until that line is safe."""
    changed = False
    while not line_ok(counts[row_hidden], k):
        candidates = np.flatnonzero(~row_hidden & (counts > 0))
        if candidates.size == 0:
            break
        row_hidden[candidates[np.argmin(counts[candidates])]] = True
        changed = True
    return changed


def _protect_rows(values: np.ndarray, hide: np.ndarray, row_hidden: np.ndarray, k: int) -> bool:
    """Within each published row: hide small parts, then complements until the row is safe."""
    small = (values > 0) & (values < k) & ~row_hidden[:, None] & ~hide
    changed = bool(small.any())
    hide |= small
    for i in np.flatnonzero(hide.any(axis=1) & ~row_hidden):
        while not line_ok(values[i][hide[i]], k):
            visible = np.flatnonzero(~hide[i] & (values[i] > 0))
            if visible.size == 0:
                # Everything is hidden and still unsafe (a tiny row): drop the row.
                row_hidden[i] = True
                changed = True
                break
            hide[i, visible[np.argmin(values[i, visible])]] = True
            changed = True
    return changed


def _protect_columns(
    values: np.ndarray, hide: np.ndarray, row_hidden: np.ndarray, k: int, with_total: np.ndarray
) -> bool:
    """Per part column: its grand total is published, so its hidden entries in published
    rows must form a safe line. The suppressed rows' share of the column is taken as known
    (it can be, from the other columns and the published number of people in them); it is
    spread over at least two cells of unknown place, so it locates nobody."""
    changed = False
    for j in np.flatnonzero(with_total):
        while not line_ok(values[~row_hidden & hide[:, j], j], k):
            visible = np.flatnonzero(~row_hidden & ~hide[:, j] & (values[:, j] > 0))
            if visible.size:
                hide[visible[np.argmin(values[visible, j])], j] = True
            else:  # nothing left to hide in the column: drop the rows hiding values in it
                row_hidden[~row_hidden & hide[:, j] & (values[:, j] > 0)] = True
            changed = True
    return changed


def check(table: pd.DataFrame, columns: Sequence[str], *, k: int = DEFAULT_K) -> list[str]:
    """Problems of a table about to be published: counts in ``1..k-1`` (nulls are fine)."""
    problems = []
    for col in columns:
        if col not in table.columns:
            continue
        v = pd.to_numeric(table[col], errors="coerce")
        bad = int(((v > 0) & (v < k)).sum())
        if bad:
            problems.append(f"`{col}` has {bad} value(s) between 1 and {k - 1}")
    return problems
