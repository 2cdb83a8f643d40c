"""Registration x employer pairs: own-mode times against the engine's dense matrix, and the
per-registration memory (a later run computes only new registrations, same answers)."""

from __future__ import annotations

import numpy as np
import pytest

from geo.modes import TRIP_OVERHEAD_S, TravelMode
from planner.loop import LoopParams

from .conftest import INDUSTRIES, make_city, points_near

MODES = ["walk", "ebike", "car"]


def registrations(n: int, seed: int):
    rng = np.random.default_rng(seed)
    lon, lat = points_near(rng, n)
    modes = np.array([MODES[i % 3] for i in range(n)], dtype=object)
    inds = [
        [INDUSTRIES[i % 3]] if i % 4 else [INDUSTRIES[i % 3], INDUSTRIES[(i + 1) % 3]]
        for i in range(n)
    ]
    return lon, lat, modes, inds


def brute_force(city, lon, lat, modes, inds, mask):
    """Every pair from one dense engine matrix per registration (no radius, no split)."""
    out = set()
    for i in range(lon.size):
        mode = str(modes[i])
        t = (
            city.engine[mode]
            .matrix([(lon[i], lat[i])], city.employers, crs="EPSG:4326")
            .dense_time()[0]
            + TRIP_OVERHEAD_S[TravelMode(mode)]
        )
        for j in range(len(city.employers)):
            ok = mask[j] and city.employers["industry"].iloc[j] in inds[i]
            if ok and t[j] <= city.params.max_travel_s:
                out.add((i, j, round(float(t[j]), 6)))
    return out


def as_set(r, e, t):
    return {(int(a), int(b), round(float(c), 6)) for a, b, c in zip(r, e, t, strict=True)}


@pytest.mark.parametrize("limit_min", [45.0, 6.0])
def test_pairs_are_the_own_mode_times_within_the_limit(loop_network, limit_min):
    city = make_city(loop_network, params=LoopParams(max_travel_min=limit_min))
    lon, lat, modes, inds = registrations(18, seed=7)
    mask = np.arange(len(city.employers)) % 5 != 0  # some employers without openings
    homes = city.snap_homes(lon, lat, modes)
    expected = brute_force(city, lon, lat, modes, inds, mask)
    assert expected  # the case is not vacuous
    got = as_set(*city.employer_pairs(homes, inds, mask))
    assert got == expected
    keys = [("reg", i) for i in range(lon.size)]
    assert as_set(*city.employer_pairs(homes, inds, mask, keys=keys)) == expected


def test_memory_computes_only_new_registrations(loop_network):
    city = make_city(loop_network)
    lon, lat, modes, inds = registrations(24, seed=11)
    mask = np.ones(len(city.employers), dtype=bool)
    keys = [("reg", i) for i in range(lon.size)]
    first = slice(0, 15)
    said: list[str] = []
    city.employer_pairs(
        city.snap_homes(lon[first], lat[first], modes[first]),
        inds[first],
        mask,
        keys=keys[first],
        progress=said.append,
    )
    assert said[-1] == "travel times of 0 registration(s) from memory"
    # The next run: 9 new registrations and 15 seen ones, one employer fewer open.
    said.clear()
    mask[3] = False
    homes = city.snap_homes(lon, lat, modes)
    got = as_set(*city.employer_pairs(homes, inds, mask, keys=keys, progress=said.append))
    assert said[-1] == "travel times of 15 registration(s) from memory"
    searched = sum(int(m.split()[3]) for m in said if m.endswith(tuple(MODES)))
    assert searched == 9  # only the new ones
    assert got == brute_force(city, lon, lat, modes, inds, mask)
    fresh = make_city(loop_network)
    assert got == as_set(*fresh.employer_pairs(homes, inds, mask))


def test_keys_must_match_the_registrations(loop_city):
    lon, lat, modes, inds = registrations(3, seed=1)
    homes = loop_city.snap_homes(lon, lat, modes)
    with pytest.raises(ValueError, match="`keys`"):
        loop_city.employer_pairs(homes, inds, np.ones(12, bool), keys=[1, 2])


def test_unknown_solver_is_refused():
    with pytest.raises(ValueError, match="solver"):
        LoopParams(solver="greedy")
