"""Proven capacity limits of a staffed plan, computed before solving.

An upper bound on what ``p`` new points plus the existing stations can serve safely a day
with a pool of staff is the smaller of two relaxations:

* **sites**: every existing station and the ``p`` largest new sites, each fully staffed;
* **pool**: the staff spent where each adds the most capacity, on any number of sites (the
  LP bound of the multiple-choice knapsack: greedy over the upper concave hull of each
  site's capacity-by-staff table).

When demand exceeds the bound plus the market's safe capacity, no plan serves everyone, and
the message says how many points or staff would at least be needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Shortfall:
    """Demand against the most a plan can serve (visits per day)."""

    need: float
    sites_bound: float
    pool_bound: float
    market: float
    min_points: int | None
    min_pool: int | None
    message: str

    @property
    def most(self) -> float:
        return min(self.sites_bound, self.pool_bound) + self.market


def _hull_steps(table: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Slopes (visits per staff) and widths (staff) of the upper concave hull of
    ``(c, table[c])`` from ``c = 0``, best slope first."""
    x0, y0 = 0, 0.0
    slopes, widths = [], []
    n = table.size
    while x0 < n - 1:
        gain = (table[x0 + 1 :] - y0) / np.arange(1, n - x0)
        k = int(np.argmax(gain[::-1]))  # ties: the farthest point
        k = gain.size - 1 - k
        if gain[k] <= 0:
            break
        slopes.append(float(gain[k]))
        widths.append(float(k + 1))
        x0, y0 = x0 + k + 1, float(table[x0 + k + 1])
    return np.asarray(slopes), np.asarray(widths)


def pool_bound(caps: NDArray[np.float64], sites: NDArray[np.intp], pool: float) -> float:
    """Most visits/day `pool` staff can serve over `sites` (any number of them open)."""
    parts = [_hull_steps(np.maximum.accumulate(caps[j])) for j in sites]
    if not parts:
        return 0.0
    slopes = np.concatenate([s for s, _ in parts])
    widths = np.concatenate([w for _, w in parts])
    order = np.argsort(-slopes, kind="stable")
    used = np.minimum(np.cumsum(widths[order]), pool)
    take = np.diff(np.concatenate([[0.0], used]))
    return float((take * slopes[order]).sum())


def staffed_shortfall(
    need: float,
    caps: NDArray[np.float64],
    *,
    p: int,
    pool: int,
    existing: NDArray[np.intp],
    openable: NDArray[np.intp],
    market_capacity: float,
) -> Shortfall | None:
    """The shortfall when `need` visits/day exceed what any plan can serve, else None.

    Parameters
    ----------
    need
        Visits per day of the rows that reach a point or the market.
    caps
        ``(n_sites, max_staff + 1)`` safe daily visits by staff count.
    p, pool
        Most new points; staff for the points (existing stations included).
    existing, openable
        Always-open stations; sites that may open (the existing ones included).
    market_capacity
        The market's safe daily visits with its own staff.
    """
    full = caps.max(axis=1)
    new = np.setdiff1d(openable, existing)
    best_new = np.sort(full[new])[::-1]
    fixed = float(full[existing].sum())
    sites = fixed + float(best_new[:p].sum())
    by_pool = pool_bound(caps, openable, pool)
    if min(sites, by_pool) + market_capacity >= need - 1e-6:
        return None
    reach = fixed + np.concatenate([[0.0], np.cumsum(best_new)]) + market_capacity
    enough = np.flatnonzero(reach >= need)
    min_points = int(enough[0]) if enough.size else None
    min_pool = _min_pool(caps, openable, need - market_capacity, pool)
    head = (
        f"{need:,.0f} visits/day, but {p} new points"
        + (f" and {existing.size} existing stations" if existing.size else "")
        + f" with a pool of {pool} staff can serve at most {min(sites, by_pool):,.0f}"
        + f" + market {market_capacity:,.0f} = {min(sites, by_pool) + market_capacity:,.0f}"
        + f" ({sites:,.0f} if every point were fully staffed, {by_pool:,.0f} with the pool"
        + " spent where it serves most)"
    )
    needs = []
    if sites < by_pool or sites + market_capacity < need:
        needs.append(
            f"open at least {min_points} new points"
            if min_points is not None
            else f"even all {new.size} candidate sites cannot hold it"
        )
    if by_pool + market_capacity < need:
        needs.append(
            f"raise the pool to at least {min_pool} staff"
            if min_pool is not None
            else "no pool size is enough at these sites"
        )
    tail = " and ".join(needs) or "open more points or raise the pool"
    msg = f"{head}: {need - min(sites, by_pool) - market_capacity:,.0f} visits/day cannot "
    msg += f"be served safely; {tail}"
    return Shortfall(need, sites, by_pool, market_capacity, min_points, min_pool, msg)


def _min_pool(
    caps: NDArray[np.float64], sites: NDArray[np.intp], need: float, pool: int
) -> int | None:
    """Fewest staff whose pool bound reaches `need` (None: not even staffing every site)."""
    most = int(sites.size * (caps.shape[1] - 1))
    if pool_bound(caps, sites, most) < need:
        return None
    lo, hi = pool, most
    while lo < hi:
        mid = (lo + hi) // 2
        if pool_bound(caps, sites, mid) >= need:
            hi = mid
        else:
            lo = mid + 1
    return lo
