"""The [staffing] section: defaults, peak shares, and clear errors for bad values."""

from __future__ import annotations

import pytest

from geo import ScenarioError
from geo.scenario import Scenario
from geo.staffing import MORNING_RUSH, StaffingParams


def test_default_profile_is_a_morning_rush():
    shares = StaffingParams().hourly_shares(8)
    assert sum(shares) == pytest.approx(1.0)
    assert shares[0] == max(shares) == pytest.approx(MORNING_RUSH[0] / (sum(MORNING_RUSH) + 5))


def test_appointments_flatten_the_peak():
    rush = StaffingParams().hourly_shares(8)
    booked = StaffingParams(appointment_share=1.0).hourly_shares(8)
    half = StaffingParams(appointment_share=0.5).hourly_shares(8)
    assert booked == pytest.approx([1 / 8] * 8)
    assert max(booked) < max(half) < max(rush)


def test_pool_defaults_follow_planning():
    s = StaffingParams(desk_volunteers=4)
    assert s.total_pool(staff_per_point=3, n_points=40) == 124
    assert StaffingParams(pool=10).total_pool(staff_per_point=3, n_points=40) == 10
    assert s.market_staff_or_default(staff_per_point=3) == 30


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"pool": -1}, "`pool`"),
        ({"pool": 2.5}, "`pool`"),
        ({"max_staff": 0}, "`max_staff`"),
        ({"appointment_share": 1.5}, "`appointment_share`"),
        ({"arrival_profile": [1, -1]}, "`arrival_profile`"),
        ({"arrival_profile": [0, 0]}, "`arrival_profile`"),
        ({"tradeoff_points": []}, "`tradeoff_points`"),
        ({"tradeoff_points": [10, 0]}, "`tradeoff_points`"),
        ({"staff": 3}, "unknown key"),
    ],
)
def test_bad_values_are_named(values, match):
    with pytest.raises(ValueError, match=match):
        StaffingParams.from_section(values)


def test_profile_length_must_match_opening_hours():
    with pytest.raises(ValueError, match="8 hours"):
        StaffingParams(arrival_profile=(1.0, 2.0)).hourly_shares(8)


def _scenario(tmp_path, staffing: str) -> Scenario:
    (tmp_path / "net.graphml").write_text("<graphml/>")
    names = ("employers", "seekers", "volunteers", "candidate_sites", "talent_market")
    for name in names:
        (tmp_path / f"{name}.csv").write_text("id\n")
    layers = "".join(f'{name} = "{name}.csv"\n' for name in names)
    (tmp_path / "scenario.toml").write_text(
        '[scenario]\nname = "t"\n[network]\nsource = "net.graphml"\n[layers]\n' + layers + staffing
    )
    return Scenario.load(tmp_path)


def test_scenario_reads_the_section(tmp_path):
    sc = _scenario(tmp_path, "[staffing]\npool = 12\narrival_profile = [1, 1, 2]\n")
    assert sc.staffing.pool == 12
    assert sc.staffing.arrival_profile == (1.0, 1.0, 2.0)


def test_scenario_names_the_bad_key(tmp_path):
    with pytest.raises(ScenarioError, match=r"\[staffing\].*`pool`"):
        _scenario(tmp_path, "[staffing]\npool = -3\n")
