"""Plan map: sizes, colours, crowd panel, per-industry layers, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2.utils import htmlsafe_json_dumps

from geo import InputError
from maps._base import render_html
from maps.plan import (
    MAX_RADIUS_PX,
    MIN_RADIUS_PX,
    QUEUE_COLOURS,
    UTILISATION_COLOURS,
    crowd_panel_html,
    plan_map,
    points_layer_name,
    queue_colour,
    radius_px,
    utilisation_colour,
)

GREEN, AMBER, RED = (c for _u, c, _l in UTILISATION_COLOURS)


@given(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1, max_size=50))
def test_radius_grows_with_load_and_stays_in_range(loads):
    load = np.array(loads)
    r = radius_px(load)
    assert np.all((r >= MIN_RADIUS_PX - 1e-9) & (r <= MAX_RADIUS_PX + 1e-9))
    order = np.argsort(load, kind="stable")
    assert np.all(np.diff(r[order]) >= -1e-9)
    if load.max() > 0:
        assert r[np.argmax(load)] == pytest.approx(MAX_RADIUS_PX)


@pytest.mark.parametrize(
    ("load", "capacity", "colour"),
    [
        (0, 100, GREEN),
        (79.9, 100, GREEN),
        (80, 100, AMBER),
        (99.9, 100, AMBER),
        (100, 100, RED),
        (250, 100, RED),
        (0, 0, GREEN),
        (5, 0, RED),
    ],
)
def test_utilisation_colour_thresholds(load, capacity, colour):
    assert utilisation_colour(load, capacity) == colour


def test_crowd_panel_shows_before_after_and_every_point(crowd, service_points):
    html = crowd_panel_html(crowd, service_points, 800.0)
    assert "1,240" in html and "610" in html and "800" in html
    assert "-51 %" in html  # (610 - 1240) / 1240
    rows = html.split("dm-points")[1]
    # Points sorted by load: 260 (Park Office), 120, 40.
    assert (
        rows.index("Park Office") < rows.index("North Community Centre") < rows.index("Town Hall")
    )
    assert "dm-bar over" in rows  # Park Office: 260 > 200


def test_plan_page_content(service_points, catchments, crowd, talent_market, seeker_bins, belts):
    html = render_html(
        plan_map(
            service_points=service_points,
            catchments=catchments,
            crowd=crowd,
            talent_market=talent_market,
            seeker_cells=seeker_bins,
            belts=belts,
            title="Plan",
            synthetic=True,
        )
    )
    for code in ("textile", "toys", "food"):
        assert htmlsafe_json_dumps(points_layer_name(code))[1:-1] in html
    assert (
        htmlsafe_json_dumps(points_layer_name("chemical"))[1:-1] not in html
    )  # no point serves it
    assert "Crowding" in html


def test_plan_without_optional_layers(service_points):
    html = render_html(plan_map(service_points=service_points, title="Plan", synthetic=True))
    assert "Crowding" not in html and "Catchment" not in html


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"points": lambda f: f.drop(columns="load")}, "`load`"),
        ({"points": lambda f: f.assign(industries="steel")}, "`industries`"),
        ({"points": lambda f: f.assign(industries="")}, "`industries`"),
        ({"points": lambda f: f.assign(capacity=-5)}, "`capacity` must be a number >= 0"),
        ({"points": lambda f: f.assign(id="same")}, "duplicate `id`"),
        ({"catchments": lambda f: f.assign(point_id="nowhere")}, "not service points"),
        ({"crowd": lambda c: {"market_before": 10}}, "`market_after`"),
        ({"crowd": lambda c: {**c, "market_before": -1}}, "`market_before`"),
        ({"crowd": lambda c: {**c, "market_capacity": 0}}, "`market_capacity`"),
        ({"crowd": lambda c: [1, 2]}, "must be a mapping"),
    ],
)
def test_bad_plan_inputs(service_points, catchments, crowd, change, match):
    args = {"points": service_points, "catchments": catchments, "crowd": crowd}
    for key, fn in change.items():
        args[key] = fn(args[key])
    with pytest.raises(InputError, match=match):
        plan_map(
            service_points=args["points"],
            catchments=args["catchments"],
            crowd=args["crowd"],
            title="t",
            synthetic=True,
        )


QG, QA, QR = (c for c, _l in QUEUE_COLOURS)


@pytest.mark.parametrize(
    ("load", "capacity", "wait", "colour"),
    [
        (10, 100, 1.0, QG),
        (10, 100, 6.0, QA),  # a queue at the peak is never green, however low the load
        (90, 100, 1.0, QA),
        (100, 100, 15.0, QA),
        (100, 100, 15.5, QR),  # above target
        (110, 100, 3.0, QR),  # over staffed capacity
        (10, 100, None, QR),  # unbounded queue
        (10, 100, float("inf"), QR),
    ],
)
def test_queue_colour_tells_the_truth(load, capacity, wait, colour):
    assert queue_colour(load, capacity, wait, 15.0) == colour


def test_staffed_points_show_staff_wait_and_people_on_site(service_points, crowd):
    sp = service_points.assign(
        staff=[3, 1, 6],
        mean_wait_min=[12.0, 0.4, None],
        p90_wait_min=[30.0, 0.0, None],
        target_wait_min=15.0,
        peak_on_site=[8.2, 0.4, None],
        p95_on_site=[19, 2, None],
        max_on_site=[40, 30, 40],
    )
    curve = {
        "pool": 10,
        "points": [
            {
                "new_points": n,
                "within_15_min": s / 2,
                "within_30_min": s,
                "within_45_min": 1.0,
                "staff_used": 10,
                "worst_mean_wait_min": 15.0,
                "market_load": 100.0,
                "unserved_visits": 0.0,
            }
            for n, s in ((1, 0.4), (2, 0.7), (3, 0.8))
        ],
    }
    html = render_html(
        plan_map(
            service_points=sp, crowd={**crowd, "tradeoff": curve}, title="Plan", synthetic=True
        )
    )
    assert "Peak-hour wait" in html and "People on site" in html and "Staff" in html
    assert "unbounded queue" in html  # the third point's queue grows all day
    assert "8 on average, 19 at most (95 %) / safe 40" in html
    assert "Trade-off" in html and "polyline" in html
    assert QG not in _fills(html, sp)[:1]  # first point (12 min wait) is not green


def _fills(html, sp):
    import re

    return re.findall(r'"fill": "(#[0-9a-f]{6})"', html)
