"""Queueing and crowd arithmetic for service points.

* Erlang C (M/M/c): probability of waiting and mean wait, computed from the Erlang-B value
  ``B = poisson.pmf(c, a) / poisson.cdf(c, a)`` in log space (stable for hundreds of staff);
* the staff needed to keep the mean wait below a target;
* peak on-site occupancy with hourly appointment slots;
* travel-time summaries (weighted p50/p95, share within 15/30/45 min).

Rates are per hour, service and waiting times in minutes, travel times in seconds.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import poisson

from planner.errors import InfeasibleError

logger = logging.getLogger(__name__)


def _check_positive(**values: float) -> None:
    bad = [f"`{k}` must be > 0, got {v}" for k, v in values.items() if not (v > 0)]
    if bad:
        msg = "; ".join(bad)
        raise ValueError(msg)


def erlang_b(staff: int, offered_load: float) -> float:
    """Erlang-B blocking probability for ``staff`` servers and offered load ``a = lam * s``."""
    if staff < 0:
        msg = f"`staff` must be >= 0, got {staff}"
        raise ValueError(msg)
    if offered_load <= 0:
        return 0.0 if staff > 0 else 1.0
    log_b = poisson.logpmf(staff, offered_load) - poisson.logcdf(staff, offered_load)
    return float(np.exp(log_b))


@dataclass(frozen=True)
class ErlangC:
    """M/M/c steady-state figures.

    Parameters
    ----------
    p_wait
        Probability that an arrival has to wait.
    mean_wait_min
        Mean time in the queue (min).
    utilisation
        Share of staff time busy, ``lam * s / c``.
    mean_in_queue
        Mean number of people waiting (Little's law).
    """

    p_wait: float
    mean_wait_min: float
    utilisation: float
    mean_in_queue: float

    def p_wait_longer(
        self, minutes: float, *, staff: int, arrivals_per_hour: float, service_min: float
    ) -> float:
        """Probability that the wait exceeds ``minutes``: ``C * exp(-(c mu - lam) t)``."""
        rate = staff / service_min - arrivals_per_hour / 60.0  # per minute
        return float(self.p_wait * math.exp(-rate * minutes))


def erlang_c(arrivals_per_hour: float, service_min: float, staff: int) -> ErlangC:
    """Erlang-C waiting figures for Poisson arrivals and exponential service.

    Raises
    ------
    InfeasibleError
        If ``staff`` cannot keep up (utilisation >= 1): the queue grows without bound.
    """
    _check_positive(service_min=service_min)
    if arrivals_per_hour < 0 or staff < 1:
        msg = f"`arrivals_per_hour` must be >= 0 and `staff` >= 1, got {arrivals_per_hour}, {staff}"
        raise ValueError(msg)
    load = arrivals_per_hour * service_min / 60.0  # Erlangs
    rho = load / staff
    if rho >= 1.0:
        msg = (
            f"{staff} staff cannot serve {arrivals_per_hour:g} arrivals/h at {service_min:g} min "
            f"each (utilisation {rho:.2f} >= 1); at least {math.floor(load) + 1} are needed"
        )
        raise InfeasibleError(msg)
    if load == 0:
        return ErlangC(0.0, 0.0, 0.0, 0.0)
    b = erlang_b(staff, load)
    c_prob = b / (1.0 - rho * (1.0 - b))
    wait = c_prob * service_min / (staff - load)
    return ErlangC(float(c_prob), float(wait), float(rho), float(arrivals_per_hour / 60 * wait))


def staff_needed(
    arrivals_per_hour: float, service_min: float, target_wait_min: float = 15.0
) -> int:
    """Smallest staff count whose Erlang-C mean wait is at most ``target_wait_min``."""
    _check_positive(service_min=service_min, target_wait_min=target_wait_min)
    if arrivals_per_hour <= 0:
        return 0
    staff = math.floor(arrivals_per_hour * service_min / 60.0) + 1
    # The mean wait falls monotonically in c and drops below any target within a few steps
    # above the load, so a short walk is cheaper than a bisection.
    while erlang_c(arrivals_per_hour, service_min, staff).mean_wait_min > target_wait_min:
        staff += 1
    return staff


@dataclass(frozen=True)
class Occupancy:
    """Hour-by-hour crowd at one service point.

    Parameters
    ----------
    hours
        Start hour of each slot.
    booked
        Appointments booked per slot (after moving overflow to later slots).
    on_site
        Mean number of people on site (waiting + in service) per slot.
    unserved
        Appointments that did not fit before closing.
    """

    hours: NDArray[np.int_]
    booked: NDArray[np.float64]
    on_site: NDArray[np.float64]
    unserved: float

    @property
    def peak(self) -> float:
        return float(self.on_site.max()) if self.on_site.size else 0.0

    @property
    def peak_hour(self) -> int:
        return int(self.hours[int(np.argmax(self.on_site))]) if self.on_site.size else -1


def peak_occupancy(
    daily_load: float,
    *,
    service_min: float,
    open_hours: tuple[int, int] = (9, 17),
    profile: Sequence[float] | None = None,
    staff: int | None = None,
) -> Occupancy:
    """Mean on-site occupancy per hour when visits are booked into hourly appointment slots.

    The daily load is spread over the opening hours by ``profile`` (default uniform). With
    ``staff`` given, a slot holds at most ``staff * 60 / service_min`` appointments; the rest
    are booked into the next slot, and whatever is left at closing is ``unserved``. On-site
    occupancy follows Little's law, ``L = lam * (W_q + s)``, with Erlang-C ``W_q`` (staff
    given) or no queue (staff unlimited).
    """
    _check_positive(service_min=service_min)
    start, end = open_hours
    if not 0 <= start < end <= 24:
        msg = f"`open_hours` must satisfy 0 <= start < end <= 24, got {open_hours}"
        raise ValueError(msg)
    if daily_load < 0:
        msg = f"`daily_load` must be >= 0, got {daily_load}"
        raise ValueError(msg)
    hours = np.arange(start, end)
    shape = np.ones(hours.size) if profile is None else np.asarray(profile, dtype=np.float64)
    if shape.shape != hours.shape or (shape < 0).any() or shape.sum() <= 0:
        msg = f"`profile` needs {hours.size} non-negative values with a positive sum"
        raise ValueError(msg)
    wanted = daily_load * shape / shape.sum()
    if staff is None:
        booked, unserved = wanted, 0.0
        wait = np.zeros(hours.size)
    else:
        slot = staff * 60.0 / service_min
        # Overflow carry-over is sequential by nature (one step per opening hour, not per person).
        booked = np.empty(hours.size)
        carry = 0.0
        for h, want in enumerate(wanted):
            booked[h] = min(want + carry, slot)
            carry = want + carry - booked[h]
        unserved = carry
        # A completely full slot has utilisation 1; cap just below it so Erlang C stays finite
        # (booked appointments are spaced, so real queues stay short).
        rates = np.minimum(booked, 0.98 * slot)
        wait = np.array([erlang_c(r, service_min, staff).mean_wait_min for r in rates])
    on_site = booked / 60.0 * (wait + service_min)
    return Occupancy(hours, booked, on_site, float(unserved))


def weighted_quantile(values: ArrayLike, q: float, weights: ArrayLike | None = None) -> float:
    """Weighted quantile (inverted CDF, like ``numpy.quantile(method="inverted_cdf")``)."""
    v = np.asarray(values, dtype=np.float64)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=np.float64)
    if v.size == 0 or w.sum() <= 0:
        return float("nan")
    order = np.argsort(v)
    cum = np.cumsum(w[order])
    idx = int(np.searchsorted(cum, q * cum[-1] - 1e-12 * cum[-1]))
    return float(v[order][min(idx, v.size - 1)])


def travel_time_summary(
    times_s: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    thresholds_min: Sequence[float] = (15, 30, 45),
) -> dict[str, float]:
    """Weighted travel-time figures: p50/p95 (min), share within each threshold, unreachable.

    ``inf`` travel times count as unreachable: they are in every share's denominator and
    push the quantiles up (a p95 of ``inf`` means more than 5% cannot reach a point).
    """
    t = np.asarray(times_s, dtype=np.float64)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=np.float64)
    if t.shape != w.shape:
        msg = f"`weights` shape {w.shape} differs from `times_s` shape {t.shape}"
        raise ValueError(msg)
    total = float(w.sum())
    out: dict[str, float] = {
        "p50_min": weighted_quantile(t, 0.5, w) / 60.0,
        "p95_min": weighted_quantile(t, 0.95, w) / 60.0,
        "unreachable_share": float(w[~np.isfinite(t)].sum() / total) if total else 0.0,
    }
    for minutes in thresholds_min:
        share = float(w[t <= minutes * 60.0].sum() / total) if total else 0.0
        out[f"within_{minutes:g}_min"] = share
    return out
