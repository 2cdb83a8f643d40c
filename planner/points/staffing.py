"""What a point's staff can serve safely at the peak hour.

A point with ``c`` staff, ``s`` minutes per visitor and Poisson arrivals of ``lam`` per hour at
its busiest hour is an M/M/c queue (Erlang C). It is *safe* when, at that hour,

* the mean wait is at most ``target_wait_min``, and
* the number of people on site (waiting or being served) stays within the room's safe
  occupancy ``max_on_site`` with 95 % probability.

Both figures grow with ``lam``, so each staff count has a largest safe peak arrival rate
(found by bisection); divided by the peak hour's share of the day's arrivals it is the daily
*capacity* of the point with ``c`` staff, capped by the room's daily ``capacity``. The
peak hour is treated as a steady state at its own rate (conservative for a rush that starts
from an empty room).

Rates are per hour, service and waits in minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import poisson

from planner.points.crowd import erlang_c

ON_SITE_QUANTILE = 0.95
"""People on site must stay within the safe occupancy with this probability."""


@dataclass(frozen=True)
class QueueFigures:
    """Peak-hour figures of one point (see :func:`queue_figures`)."""

    staff: int
    arrivals_per_hour_peak: float
    service_min: float
    mean_wait_min: float
    p90_wait_min: float
    peak_on_site: float
    p95_on_site: int
    utilisation: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "staff": self.staff,
            "arrivals_per_hour_peak": round(self.arrivals_per_hour_peak, 2),
            "service_min": self.service_min,
            "mean_wait_min": round(self.mean_wait_min, 2),
            "p90_wait_min": round(self.p90_wait_min, 2),
            "peak_on_site": round(self.peak_on_site, 1),
            "p95_on_site": self.p95_on_site,
            "utilisation": round(self.utilisation, 3),
        }


def queue_figures(arrivals_per_hour: float, service_min: float, staff: int) -> QueueFigures:
    """Erlang-C figures of a point at its peak hour.

    ``p90_wait_min`` is the 90th percentile of the wait, ``P(W > t) = C exp(-(c mu - lam) t)``;
    ``peak_on_site`` the mean number of people on site (Little's law) and ``p95_on_site``
    the 95th percentile of that number (M/M/c state distribution).

    Raises
    ------
    planner.InfeasibleError
        If the staff cannot keep up (utilisation >= 1).
    """
    ec = erlang_c(arrivals_per_hour, service_min, staff)
    rate = staff / service_min - arrivals_per_hour / 60.0  # queue drain rate, per minute
    p90 = math.log(ec.p_wait / 0.1) / rate if ec.p_wait > 0.1 else 0.0
    on_site = arrivals_per_hour / 60.0 * (ec.mean_wait_min + service_min)
    return QueueFigures(
        staff=staff,
        arrivals_per_hour_peak=arrivals_per_hour,
        service_min=service_min,
        mean_wait_min=ec.mean_wait_min,
        p90_wait_min=p90,
        peak_on_site=on_site,
        p95_on_site=on_site_quantile(arrivals_per_hour, service_min, staff, ec.p_wait),
        utilisation=ec.utilisation,
    )


def on_site_quantile(
    arrivals_per_hour: float,
    service_min: float,
    staff: int,
    p_wait: float,
    q: float = ON_SITE_QUANTILE,
) -> int:
    """Smallest ``n`` with ``P(people on site <= n) >= q`` in a stable M/M/c queue.

    Below ``c`` people the state probabilities are a truncated Poisson of the offered load
    ``a``; from ``c`` on they fall geometrically with ratio ``rho``: ``P(N >= c + k) =
    C rho^k`` with ``C`` the Erlang-C probability of waiting.
    """
    a = arrivals_per_hour * service_min / 60.0
    if a <= 0:
        return 0
    if 1.0 - p_wait >= q:  # the quantile lies below c: no queue at that probability
        below = poisson.cdf(np.arange(staff), a) / poisson.cdf(staff - 1, a) * (1.0 - p_wait)
        return int(np.searchsorted(below, q - 1e-12))
    rho = a / staff
    # P(N <= c + k) = 1 - C rho^(k+1) >= q  <=>  k >= log((1-q)/C)/log(rho) - 1
    k = math.ceil(math.log((1.0 - q) / p_wait) / math.log(rho) - 1.0 - 1e-12)
    return staff + max(k, 0)


def is_safe(
    arrivals_per_hour: float,
    service_min: float,
    staff: int,
    *,
    target_wait_min: float,
    max_on_site: float,
) -> bool:
    """True if `staff` keep the peak-hour mean wait and occupancy within their limits."""
    if staff < 1:
        return arrivals_per_hour <= 0
    if arrivals_per_hour * service_min / 60.0 >= staff:
        return False
    f = queue_figures(arrivals_per_hour, service_min, staff)
    return f.mean_wait_min <= target_wait_min and f.p95_on_site <= max_on_site


def max_safe_arrivals(
    staff: int, service_min: float, *, target_wait_min: float, max_on_site: float
) -> float:
    """Largest peak arrival rate (per hour) `staff` serve safely (bisection to 1e-6 relative)."""
    if staff < 1:
        return 0.0
    lo, hi = 0.0, staff * 60.0 / service_min  # utilisation 1 is never safe
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        safe = is_safe(
            mid, service_min, staff, target_wait_min=target_wait_min, max_on_site=max_on_site
        )
        lo, hi = (mid, hi) if safe else (lo, mid)
        if hi - lo <= 1e-6 * hi:
            break
    return lo


def capacity_table(
    max_staff: int,
    service_min: float,
    *,
    target_wait_min: float,
    max_on_site: float,
    peak_share: float,
    room_capacity: float = math.inf,
) -> NDArray[np.float64]:
    """Safe daily visits with ``0..max_staff`` staff (index = staff count).

    ``peak_share`` is the peak hour's share of the day's arrivals; the room's daily
    ``capacity`` caps every entry. Entries never decrease with staff.
    """
    if not 0 < peak_share <= 1:
        msg = f"`peak_share` must lie in (0, 1], got {peak_share}"
        raise ValueError(msg)
    out = np.zeros(max_staff + 1)
    for c in range(1, max_staff + 1):
        lam = max_safe_arrivals(
            c, service_min, target_wait_min=target_wait_min, max_on_site=max_on_site
        )
        out[c] = min(room_capacity, lam / peak_share)
    return np.maximum.accumulate(out)


def staff_for(load: float, table: NDArray[np.float64]) -> int:
    """Fewest staff whose safe daily capacity in `table` covers `load` (``-1``: none does)."""
    if load <= 1e-9:
        return 0
    ok = np.flatnonzero(table >= load - 1e-6)
    return int(ok[0]) if ok.size else -1
