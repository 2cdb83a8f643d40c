"""Exports of a day plan: GeoJSON, GPX, JSON and the offline HTML page."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geo import Industry, InputError, TravelMode
from geo.timeofday import parse_hhmm
from planner.daily.export import write_exports
from planner.daily.record import load_plan, load_routes
from planner.daily.vrp import (
    CostMatrices,
    DayPlan,
    DayProblem,
    Escort,
    SolveOptions,
    TimeWindow,
    Visit,
    Volunteer,
    solve_day,
)

DAY = TimeWindow(parse_hhmm("08:00"), parse_hhmm("18:00"))


@pytest.fixture(scope="module")
def planned() -> tuple[DayProblem, DayPlan]:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 3000, (8, 2))
    dist = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    coords = np.c_[113.7 + xy[:, 0] / 1e5, 23.0 + xy[:, 1] / 1e5]
    mats = CostMatrices({TravelMode.WALK: np.rint(dist / 1.3)}, {TravelMode.WALK: dist}, coords)
    tasks = [
        Visit(f"t{j}", j + 1, None, 600, (DAY,), priority=10, label=f"厂{j} <Co>") for j in range(4)
    ]
    tasks.append(
        Escort(
            "e",
            0,
            6,
            Industry.TOYS,
            2,
            parse_hhmm("09:00"),
            parse_hhmm("11:00"),
            label="面试 interview",
        )
    )
    tasks.append(Visit("far", 7, Industry.CHEMICAL, 600, (DAY,)))
    v = Volunteer("v1", 0, 0, DAY, TravelMode.WALK, frozenset({Industry.TOYS}), name="李明")
    problem = DayProblem(tasks, [v], mats)
    return problem, solve_day(problem, options=SolveOptions(iterations=200))


def test_exports_are_written_and_parse(planned: tuple[DayProblem, DayPlan], tmp_path: Path) -> None:
    _, plan = planned
    files = write_exports(plan, tmp_path / "routes")
    gj = json.loads(files["geojson"].read_text(encoding="utf-8"))
    lines = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == 1 and lines[0]["properties"]["volunteer_id"] == "v1"
    points = [f for f in gj["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) == len(plan.route("v1").stops)
    assert all(113.6 < f["geometry"]["coordinates"][0] < 113.8 for f in points)

    gpx = ET.parse(files["gpx"]).getroot()
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    assert len(gpx.findall("g:wpt", ns)) == len(plan.route("v1").stops)
    assert len(gpx.findall("g:trk/g:trkseg/g:trkpt", ns)) == len(plan.route("v1").geometry)

    data = json.loads(files["json"].read_text(encoding="utf-8"))
    assert data["routes"][0]["stops"][0]["kind"] == "start"
    assert [d["task_id"] for d in data["dropped"]] == ["far"]


def test_records_round_trip_through_the_files(
    planned: tuple[DayProblem, DayPlan], tmp_path: Path
) -> None:
    _, plan = planned
    files = write_exports(plan, tmp_path / "routes")
    loaded = load_plan(files["json"])
    assert (loaded.routes, loaded.dropped, loaded.objective) == (
        plan.routes,
        plan.dropped,
        plan.objective,
    )
    assert load_routes(files["records"]) == tuple(r for r in plan.routes if not r.is_empty)
    assert not list((tmp_path / "routes").glob("*.html"))  # data only: pages are maps' job


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d["routes"][0].update(volunteer_id=""), "volunteer_id"),
        (lambda d: d["routes"][0]["stops"][1].update(lat=123.0), "lat"),
        (lambda d: d["routes"][0]["stops"][1].update(kind="party"), "kind"),
        (lambda d: d["routes"][0]["stops"][1].update(arrival_s="9 o'clock"), "arrival_s"),
        (lambda d: d["routes"][0].update(geometry={"type": "Point"}), "LineString"),
        (lambda d: d.update(routes=[d["routes"][0], d["routes"][0]]), "duplicate"),
    ],
)
def test_malformed_files_name_the_file_route_and_field(
    planned: tuple[DayProblem, DayPlan], tmp_path: Path, change: Any, match: str
) -> None:
    _, plan = planned
    data = plan.to_dict()
    change(data)
    path = tmp_path / "routes.json"
    path.write_text(json.dumps(data["routes"]), encoding="utf-8")
    with pytest.raises(InputError, match=match) as err:
        load_routes(path)
    assert str(path) in str(err.value)
    assert err.value.problems[0].row in (None, 1, 2)


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read"):
        load_plan(tmp_path / "plan.json")
