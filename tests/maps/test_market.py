"""Demand still sent to the market (maps.market): disclosure control and reasons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from maps.market import market_demand, reason_zh
from planner.hexbin import MIN_COUNT


def _cells(rows):
    """rows: (lon, lat, destination, seekers); small square cells around the points."""
    return gpd.GeoDataFrame(
        {
            "service_point": [r[2] for r in rows],
            "seekers": [float(r[3]) for r in rows],
            "visits_per_day": [r[3] * 0.1 for r in rows],
            "mean_time_min": 30.0,
        },
        geometry=[shapely.Point(r[0], r[1]).buffer(0.0005) for r in rows],
        crs="EPSG:4326",
    )


def test_only_market_rows_and_no_small_counts():
    rows = [
        (113.750, 23.000, "TM", 3),
        (113.751, 23.001, "TM", 3),  # same 1.5 km hexagon as the first: 6 shown
        (113.750, 23.000, "C1", 50),  # goes to a service point: not market demand
        (113.900, 23.200, "TM", 4),  # alone far away: held back
    ]
    d = market_demand(_cells(rows), ["TM"], reasons={"x": 1.0})
    assert d.cells["seekers"].tolist() == [6]
    assert d.hidden_seekers == 4 and d.hidden_cells == 1
    assert np.isclose(d.visits, 1.0)
    assert d.cells.crs.to_epsg() == 4326


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(113.70, 113.80),
            st.floats(22.95, 23.05),
            st.sampled_from(["TM", "C1"]),
            st.integers(1, 9),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_every_seeker_is_shown_or_counted_as_held_back(rows):
    d = market_demand(_cells(rows), ["TM"])
    total = sum(r[3] for r in rows if r[2] == "TM")
    assert (d.cells["seekers"] >= MIN_COUNT).all()
    assert np.isclose(d.cells["seekers"].sum() + d.hidden_seekers, total)


def test_reasons_in_chinese():
    assert reason_zh("matching service points within 45 min by bus are full; sent") == (
        "45分钟内（公交）对口服务点已满"
    )
    assert reason_zh("something else") == ""
