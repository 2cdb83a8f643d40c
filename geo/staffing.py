"""Staff pool and arrival pattern of a scenario's service points: the ``[staffing]`` section.

```toml
[staffing]
pool = 110                 # bureau staff available for service points (existing ones included)
desk_volunteers = 10       # volunteers who may do desk duty (added to the pool)
market_staff = 30          # the central talent market's own staff
max_staff = 6              # most staff at one point (a site's `max_staff` column overrides)
max_on_site = 40           # safe occupancy of a point, people at once (site column overrides)
market_max_on_site = 400   # safe occupancy of the central market
arrival_profile = [2.0, 1.8, 1.4, 1.0, 1.0, 1.0, 1.0, 1.0]  # relative arrivals per opening hour
appointment_share = 0.0    # share of visits booked into evenly spread appointment slots
tradeoff_points = [10, 20, 30, 40, 50, 60, 70, 80]  # point counts of the trade-off curve
```

Every key is optional; without ``pool`` the pool is ``staff_per_point x n_points`` and without
``market_staff`` ten times ``staff_per_point`` (the ``[planning]`` values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

MORNING_RUSH = (2.0, 1.8, 1.4)
"""Default relative arrivals of the first opening hours (later hours 1.0): the morning rush."""


def _whole(name: str, value: object, low: int, high: int, errors: list[str]) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if not ok:
        errors.append(f"`{name}` must be a whole number between {low} and {high}, got {value!r}")


@dataclass(frozen=True)
class StaffingParams:
    """Staff pool, limits and arrival pattern (see the module docstring for the keys).

    Parameters
    ----------
    pool
        Bureau staff available for service points; ``None``: ``staff_per_point x n_points``.
    desk_volunteers
        Volunteers who may staff a desk; they add to the pool.
    market_staff
        Staff of the central talent market (not from the pool); ``None``: ten times
        ``staff_per_point``.
    max_staff
        Most staff at one service point unless the site's ``max_staff`` column says otherwise.
    max_on_site
        Safe occupancy (people at once, waiting or served) of a service point unless the
        site's ``max_on_site`` column says otherwise.
    market_max_on_site
        Safe occupancy of the central talent market.
    arrival_profile
        Relative arrivals per opening hour (one value per hour from ``opens``); ``None``: the
        morning rush :data:`MORNING_RUSH`, then flat.
    appointment_share
        Share (0-1) of visits booked into evenly spread hourly appointment slots.
    tradeoff_points
        Numbers of new points for the trade-off curve (``tradeoff.json``).
    """

    pool: int | None = None
    desk_volunteers: int = 0
    market_staff: int | None = None
    max_staff: int = 6
    max_on_site: int = 40
    market_max_on_site: int = 400
    arrival_profile: tuple[float, ...] | None = None
    appointment_share: float = 0.0
    tradeoff_points: tuple[int, ...] = (10, 20, 30, 40, 50, 60, 70, 80)

    def __post_init__(self) -> None:
        errors: list[str] = []
        for name, low in (("pool", 0), ("market_staff", 1)):
            if getattr(self, name) is not None:
                _whole(name, getattr(self, name), low, 100_000, errors)
        _whole("desk_volunteers", self.desk_volunteers, 0, 100_000, errors)
        _whole("max_staff", self.max_staff, 1, 1_000, errors)
        _whole("max_on_site", self.max_on_site, 1, 1_000_000, errors)
        _whole("market_max_on_site", self.market_max_on_site, 1, 1_000_000, errors)
        share = self.appointment_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            errors.append(f"`appointment_share` must be a number in [0, 1], got {share!r}")
        errors += _profile_problems(self.arrival_profile)
        counts = self.tradeoff_points
        if not isinstance(counts, tuple | list) or not counts:
            errors.append(f"`tradeoff_points` must be a list of point counts, got {counts!r}")
        else:
            for c in counts:
                _whole("tradeoff_points", c, 1, 100_000, errors)
            object.__setattr__(self, "tradeoff_points", tuple(sorted(set(counts))))
        if self.arrival_profile is not None and not errors:
            object.__setattr__(self, "arrival_profile", tuple(map(float, self.arrival_profile)))
        if errors:
            raise ValueError("; ".join(errors))

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> StaffingParams:
        """Build from a parsed ``[staffing]`` table; unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            msg = f"unknown key(s) {unknown}; allowed: {', '.join(sorted(known))}"
            raise ValueError(msg)
        values = dict(section)
        for key in ("arrival_profile", "tradeoff_points"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        return cls(**values)

    def hourly_shares(self, n_hours: int) -> tuple[float, ...]:
        """Share of the day's arrivals in each of `n_hours` opening hours (sums to 1).

        Appointments (``appointment_share``) are spread evenly; walk-ins follow
        ``arrival_profile``.

        Raises
        ------
        ValueError
            If ``arrival_profile`` has another length than `n_hours`.
        """
        if n_hours < 1:
            msg = f"`n_hours` must be >= 1, got {n_hours}"
            raise ValueError(msg)
        if self.arrival_profile is None:
            shape = [MORNING_RUSH[h] if h < len(MORNING_RUSH) else 1.0 for h in range(n_hours)]
        elif len(self.arrival_profile) != n_hours:
            msg = (
                f"`arrival_profile` has {len(self.arrival_profile)} values but service points "
                f"open for {n_hours} hours"
            )
            raise ValueError(msg)
        else:
            shape = list(self.arrival_profile)
        total = sum(shape)
        a = float(self.appointment_share)
        return tuple(a / n_hours + (1.0 - a) * s / total for s in shape)

    def total_pool(self, *, staff_per_point: int, n_points: int) -> int:
        """Staff available for service points: the pool (or its default) plus desk volunteers."""
        pool = staff_per_point * n_points if self.pool is None else self.pool
        return int(pool + self.desk_volunteers)

    def market_staff_or_default(self, *, staff_per_point: int) -> int:
        return 10 * staff_per_point if self.market_staff is None else int(self.market_staff)


def _profile_problems(profile: object) -> list[str]:
    if profile is None:
        return []
    if not isinstance(profile, tuple | list) or not profile:
        return [f"`arrival_profile` must be a list of numbers, got {profile!r}"]
    bad = [
        v
        for v in profile
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0
    ]
    if bad or sum(profile) <= 0:
        msg = f"`arrival_profile` needs non-negative numbers with a positive sum, got {profile!r}"
        return [msg]
    return []
