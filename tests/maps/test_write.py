"""write_maps: which files, graceful degradation, stale files, safe names."""

from __future__ import annotations

import dataclasses

import pytest

from geo import InputError
from maps.plan import PlanLayers
from maps.write import page_file_name, write_maps


@pytest.fixture
def context(employers, seeker_bins, candidate_sites, talent_market, belts, roads):
    return {
        "employers": employers,
        "seeker_cells": seeker_bins,
        "candidate_sites": candidate_sites,
        "talent_market": talent_market,
        "belts": belts,
        "roads": roads,
        "title": "Dongcao",
        "synthetic": True,
    }


def _names(paths, root):
    return sorted(str(p.relative_to(root)) for p in paths)


def test_overview_only(tmp_path, context):
    paths = write_maps(tmp_path, **context)
    assert _names(paths, tmp_path) == ["overview.html"]


def test_everything_then_degrade(tmp_path, context, service_points, catchments, crowd, routes):
    plan = PlanLayers(service_points, catchments, crowd)
    paths = write_maps(tmp_path, plan=plan, routes=routes, **context)
    assert _names(paths, tmp_path) == [
        "overview.html",
        "plan.html",
        "routes.html",
        "routes/V001.html",
        "routes/V_002.html",
    ]
    assert all(p.stat().st_size > 100_000 for p in paths)  # Leaflet is inlined
    # A later run without plan and routes removes their stale files.
    write_maps(tmp_path, **context)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.html"))
    assert left == ["overview.html"]


def test_plan_as_mapping(tmp_path, context, service_points):
    paths = write_maps(tmp_path, plan={"service_points": service_points}, **context)
    assert "plan.html" in _names(paths, tmp_path)


def test_nothing_written_when_an_input_is_bad(tmp_path, context, routes):
    routes = [routes[0], dataclasses.replace(routes[1], stops=())]
    with pytest.raises(InputError):
        write_maps(tmp_path / "maps", routes=routes, **context)
    assert not (tmp_path / "maps").exists()


def test_page_file_names_are_safe_and_unique():
    taken: set[str] = set()
    names = [page_file_name(v, taken) for v in ["V1", "v1", "../etc/passwd", "李", "a b", "a_b"]]
    assert names == [
        "V1.html",
        "v1_2.html",
        "etc_passwd.html",
        "volunteer.html",
        "a_b.html",
        "a_b_2.html",
    ]


def test_one_page_per_volunteer_of_the_day(tmp_path, context, routes):
    idle = dataclasses.replace(
        routes[0], volunteer_id="V003", stops=routes[0].stops[:1], geometry=(), reason="absent"
    )
    # plan.json records carry no places: the drawable record of routes.json is used.
    bare = dataclasses.replace(routes[0], geometry=())
    day = tmp_path / "routes" / "2025-03-03" / "volunteers"
    day.mkdir(parents=True)
    (day / "OLD.html").write_text("stale")
    paths = write_maps(
        tmp_path / "maps",
        routes=routes,
        routes_date="2025-03-03",
        pages_dir=day,
        day_routes=[bare, idle, routes[1]],
        **context,
    )
    assert sorted(p.name for p in day.glob("*.html")) == ["V001.html", "V003.html", "V_002.html"]
    assert not (tmp_path / "maps" / "routes").exists()
    assert len([p for p in paths if p.parent == day]) == 3
    assert "absent" in (day / "V003.html").read_text(encoding="utf-8")
    assert "dm-rows" in (day / "V001.html").read_text(encoding="utf-8")
    sheet = (tmp_path / "maps" / "routes.html").read_text(encoding="utf-8")
    assert "../routes/2025-03-03/volunteers/V001.html" in sheet
