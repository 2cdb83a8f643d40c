"""Which employers to visit on a given date (and the shape of a booked escort).

No visit history exists yet, so the days since an employer's last visit are derived from a
stable hash of its id and the date (:func:`days_since_visit`): every employer gets its own
visiting cycle (7-42 days) and phase, so the value grows by one each day and wraps to 0 at
the end of the cycle, the same on every machine and run. When a visit log exists, it replaces
this function and nothing else changes.

Selection is a round-robin *claim* among volunteers: each volunteer in turn claims the
unclaimed employer of an industry they know, open during their shift, with the highest
*claim value*, until their quota (tasks per volunteer scaled by shift length) is met. The
claim value is the employer's priority, less one point per ``reach_cost_s`` of travel beyond
``reach_s`` from the volunteer's service point (own mode); nothing beyond ``max_reach_s``.
So reach is a cost, not a wall: a volunteer whose point has little to do claims employers
farther out instead of staying at home, and the day's task list grows with the team's free
capacity. The claims only choose the day's tasks; the solver decides who does what.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.daily.vrp import visit_priority

MIN_CYCLE_DAYS = 7
MAX_CYCLE_DAYS = 42


def _stable_int(text: str) -> int:
    """A 64-bit integer hash of `text` that is the same on every run (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def days_since_visit(employer_id: str, date: dt.date) -> int:
    """Days since the (simulated) last visit of `employer_id` on `date`.

    The employer's cycle length (``MIN_CYCLE_DAYS``..``MAX_CYCLE_DAYS``) and phase come from
    a hash of its id; the result is ``(date - phase) mod cycle``, so it increases by one per
    day and returns to 0 once per cycle.
    """
    h = _stable_int(employer_id)
    cycle = MIN_CYCLE_DAYS + h % (MAX_CYCLE_DAYS - MIN_CYCLE_DAYS + 1)
    phase = (h >> 20) % cycle
    return (date.toordinal() - phase) % cycle


def service_seconds(
    demand: np.ndarray, *, low_min: float = 15.0, high_min: float = 25.0
) -> np.ndarray:
    """Visit duration (s, whole minutes) by employer size, open demand as its proxy.

    ``low_min`` for one vacancy, rising with ``log(1 + demand)`` to ``high_min`` at 200+.
    """
    share = np.clip(np.log1p(np.asarray(demand, dtype=float)) / math.log1p(200.0), 0.0, 1.0)
    return (60 * np.rint(low_min + (high_min - low_min) * share)).astype(np.int64)


def employer_priorities(employers: pd.DataFrame, date: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Priority (see :func:`planner.daily.vrp.visit_priority`) and days since the last visit."""
    days = np.array([days_since_visit(str(i), date) for i in employers["id"]], dtype=np.int64)
    demand = employers["demand"].to_numpy(dtype=np.int64)
    prio = np.array([visit_priority(int(d), int(s)) for d, s in zip(demand, days, strict=True)])
    return prio, days


@dataclass(frozen=True)
class Claimant:
    """A volunteer as seen by the selection: what they know, where and when they work."""

    industries: frozenset[str]
    quota: int
    reach_row: np.ndarray  # travel time (s) from their point to every employer (own mode)
    shift: tuple[int, int]


def claim_visits(
    claimants: list[Claimant],
    *,
    industry: np.ndarray,
    priority: np.ndarray,
    opens_s: np.ndarray,
    closes_s: np.ndarray,
    service_s: np.ndarray,
    reach_s: float,
    reach_cost_s: float = math.inf,
    max_reach_s: float | None = None,
) -> np.ndarray:
    """Employer indices selected for today by round-robin claims (see module docstring).

    With the defaults (``reach_cost_s`` infinite), nothing beyond ``reach_s`` is claimed.
    """
    far = reach_s if max_reach_s is None or math.isinf(reach_cost_s) else max_reach_s
    lists: list[np.ndarray] = []
    for c in claimants:
        knows = np.isin(industry, [str(i) for i in c.industries])
        start, end = c.shift
        # Open long enough inside the shift for one visit.
        fits = (np.minimum(closes_s, end) - np.maximum(opens_s, start)) >= service_s
        ok = knows & fits & (c.reach_row <= far)
        beyond = np.maximum(np.nan_to_num(c.reach_row, posinf=far) - reach_s, 0.0)
        value = priority - (beyond / reach_cost_s if math.isfinite(reach_cost_s) else 0.0)
        order = np.lexsort((np.arange(priority.size), -value))  # value desc, index asc
        lists.append(order[ok[order]])
    taken = np.zeros(priority.size, dtype=bool)
    pos = [0] * len(claimants)
    left = [c.quota for c in claimants]
    chosen: list[int] = []
    while any(left):
        progress = False
        for k, cand in enumerate(lists):
            if not left[k]:
                continue
            while pos[k] < cand.size and taken[cand[pos[k]]]:
                pos[k] += 1
            if pos[k] == cand.size:
                left[k] = 0  # nothing left in reach
                continue
            e = int(cand[pos[k]])
            taken[e] = True
            chosen.append(e)
            left[k] -= 1
            progress = True
        if not progress:
            break
    return np.array(sorted(chosen), dtype=np.int64)


@dataclass(frozen=True)
class EscortDraft:
    """One booked escort before it becomes an :class:`planner.daily.vrp.Escort`."""

    point: int  # index into the service points
    employer: int  # index into the employers
    industry: str
    seekers: int
    interview_s: int
    interview_id: int
