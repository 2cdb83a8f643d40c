"""Tests of the Dongcao demo-city generator (geo.democity)."""

from __future__ import annotations

import re

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.democity import (
    DEFAULT_SEED,
    build_demo_city,
    ensure_demo_city,
    generate_city,
    is_complete,
    mode_component_share,
)
from geo.democity.frame import UTM_CRS
from geo.democity.graphml import write_graphml
from geo.democity.roads import HIGHWAYS
from geo.democity.streets import corridor_paths, delaunay_edges, thin_to_streets
from geo.industries import BELT_INDUSTRIES, INDUSTRY_CODES, parse_industries
from geo.layers import SITE_KINDS, SPECS, LayerName
from geo.modes import MODE_CODES, TravelMode
from geo.network import load_network, network_from_graph

SMALL = 0.06  # about 2,800 street nodes: fast, but every feature of the city is present


@pytest.fixture(scope="module")
def small_city():
    return generate_city(11, scale=SMALL)


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory, small_city):
    from geo.democity import write_city

    return write_city(small_city, tmp_path_factory.mktemp("dongcao"))


def _to_utm(lon, lat):
    t = pyproj.Transformer.from_crs("EPSG:4326", UTM_CRS, always_xy=True)
    return t.transform(np.asarray(lon), np.asarray(lat))


# ---------------------------------------------------------------------------------------------
# Determinism


def _layers_equal(a, b) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(
            a[name].drop(columns="geometry"), b[name].drop(columns="geometry")
        )
        assert (
            shapely.to_wkb(a[name].geometry.values).tolist()
            == shapely.to_wkb(b[name].geometry.values).tolist()
        )


def test_same_seed_gives_identical_city(small_city):
    again = generate_city(11, scale=SMALL)
    _layers_equal(small_city.layers, again.layers)
    assert nx.utils.graphs_equal(small_city.graph, again.graph)
    for attr in ("lon", "lat", "eu", "ev", "length_m", "oneway"):
        np.testing.assert_array_equal(getattr(small_city.roads, attr), getattr(again.roads, attr))


def test_same_seed_gives_byte_identical_graphml(tmp_path, small_city):
    again = generate_city(11, scale=SMALL)
    write_graphml(small_city.roads, tmp_path / "a.graphml")
    write_graphml(again.roads, tmp_path / "b.graphml")
    assert (tmp_path / "a.graphml").read_bytes() == (tmp_path / "b.graphml").read_bytes()


def test_other_seed_gives_other_city(small_city):
    other = generate_city(12, scale=SMALL)
    assert other.roads.n_nodes != small_city.roads.n_nodes or not np.array_equal(
        other.roads.lon, small_city.roads.lon
    )


@pytest.mark.parametrize(
    ("seed", "scale"),
    [(-1, 1.0), (1.5, 1.0), ("7", 1.0), (True, 1.0), (1, 0.0), (1, -2.0), (1, 51.0),
     (1, float("nan")), (1, "big")],
)  # fmt: skip
def test_bad_arguments_rejected(seed, scale):
    with pytest.raises(ValueError, match=r"`(seed|scale)`"):
        generate_city(seed, scale=scale)


# ---------------------------------------------------------------------------------------------
# Street network


def test_edge_lengths_match_projected_distance(small_city):
    net = small_city.roads
    x, y = _to_utm(net.lon, net.lat)
    straight = np.hypot(x[net.eu] - x[net.ev], y[net.eu] - y[net.ev])
    np.testing.assert_allclose(net.length_m, straight, rtol=5e-4)
    assert (net.length_m > 1.0).all()


def test_graph_follows_osmnx_conventions(small_city):
    g = small_city.graph
    assert g.graph["crs"] == "epsg:4326"
    assert all({"x", "y"} <= d.keys() for _, d in g.nodes(data=True))
    n_two = 0
    for u, v, d in g.edges(data=True):
        assert isinstance(d["oneway"], bool)
        assert d["highway"] in HIGHWAYS
        assert d["length"] > 0
        if not d["oneway"]:
            assert g.has_edge(v, u)
            n_two += 1
    net = small_city.roads
    assert g.number_of_edges() == net.n_edges + int((~net.oneway).sum())
    assert n_two == 2 * int((~net.oneway).sum())


def test_hierarchy_oneways_and_irregular_streets(small_city):
    net = small_city.roads
    classes = set(net.highway.tolist())
    for hw in ("motorway", "motorway_link", "trunk", "primary", "secondary", "tertiary",
               "residential", "unclassified", "service", "track"):  # fmt: skip
        assert hw in classes, hw
    assert net.oneway.sum() > 10
    # Motorways meet other roads only through ramps.
    mw = net.highway == "motorway"
    mw_nodes = np.unique(np.r_[net.eu[mw], net.ev[mw]])
    other = ~mw & (net.highway != "motorway_link")
    assert not np.isin(np.r_[net.eu[other], net.ev[other]], mw_nodes).any()
    # Not a grid: street bearings in the core are spread, mean degree near three.
    deg = np.bincount(np.r_[net.eu, net.ev], minlength=net.n_nodes)
    assert 2.6 < deg.mean() < 3.4
    assert deg.max() <= 9


def test_river_crossed_only_on_bridges(small_city):
    net = small_city.roads
    x, y = _to_utm(net.lon, net.lat)
    river = small_city.river_layer().to_crs(UTM_CRS).geometry.iloc[0]
    lines = shapely.linestrings(
        np.stack([np.column_stack([x[net.eu], y[net.eu]]),
                  np.column_stack([x[net.ev], y[net.ev]])], axis=1)
    )  # fmt: skip
    wet = shapely.intersects(lines, river)
    np.testing.assert_array_equal(wet, net.bridge)
    assert 4 <= int(net.bridge.sum()) <= 10
    # Walkers cross on ordinary bridges too (not only on expressways).
    walk_bridges = net.bridge & ~np.isin(net.highway, ["motorway", "trunk"])
    assert walk_bridges.sum() >= 2


def test_network_mostly_strongly_connected(small_city):
    # Expressway nodes (closed to walkers) shrink less than town streets in a small city, so
    # walkers' share is lower here than at full size (> 95 %, see test_full_size_city).
    street = network_from_graph(small_city.graph)
    for mode, least in ((TravelMode.CAR, 0.95), (TravelMode.WALK, 0.9)):
        share = street.mode(mode).in_component.mean()
        assert share > least, (mode, share)
        assert share == pytest.approx(mode_component_share(small_city.roads, mode))


def test_network_distance_exceeds_straight_line(small_city):
    street = network_from_graph(small_city.graph)
    g = street.mode(TravelMode.WALK)
    rng = np.random.default_rng(0)
    nodes = np.flatnonzero(g.in_component)
    a, b = rng.choice(nodes, 20), rng.choice(nodes, 20)
    from scipy.sparse.csgraph import dijkstra

    dist = dijkstra(g.csr("length"), indices=a)[np.arange(20), b]
    crow = np.hypot(street.x[a] - street.x[b], street.y[a] - street.y[b])
    assert (dist >= crow - 1e-6).all()
    assert np.median(dist[crow > 0] / crow[crow > 0]) > 1.2


# ---------------------------------------------------------------------------------------------
# Layers


_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_kind(series: pd.Series, kind: str, choices: tuple[str, ...] | None = None) -> None:
    values = series.tolist()
    if kind == "id":
        assert series.is_unique and all(isinstance(v, str) and v for v in values)
    elif kind == "text":
        assert all(isinstance(v, str) and v for v in values)
    elif kind == "int":
        assert pd.api.types.is_integer_dtype(series) and (series >= 0).all()
    elif kind == "industry":
        assert set(values) <= set(INDUSTRY_CODES)
    elif kind == "industries":
        for v in values:
            codes = [i.value for i in parse_industries(v)]
            assert len(codes) == len(set(codes))
    elif kind == "mode":
        assert set(values) <= set(MODE_CODES)
    elif kind == "time":
        assert all(_TIME.match(v) for v in values)
    elif kind == "date":
        assert all(_DATE.match(v) for v in values)
        pd.to_datetime(series, format="%Y-%m-%d")
    elif kind == "site_kind":
        assert set(values) <= set(SITE_KINDS)
    elif kind == "site_status":
        assert set(values) <= set(choices or ())
    else:  # pragma: no cover
        raise AssertionError(kind)


@pytest.mark.parametrize("layer", list(LayerName))
def test_layer_columns_match_specs(small_city, layer):
    frame = small_city.layers[layer.value]
    spec = SPECS[layer]
    assert list(frame.columns) == [c.name for c in spec.columns] + ["geometry"]
    assert frame.crs.to_epsg() == 4326
    assert (frame.geometry.geom_type == "Point").all()
    for col in spec.columns:
        _check_kind(frame[col.name], col.kind, col.choices)
        if col.after:
            assert (frame[col.name] > frame[col.after]).all()
        if col.choices:
            assert set(frame[col.name]) <= set(col.choices)


def test_every_point_near_a_road(small_city):
    roads = small_city.roads_layer().to_crs(UTM_CRS)
    tree = shapely.STRtree(roads.geometry.values)
    for name, frame in small_city.layers.items():
        pts = frame.to_crs(UTM_CRS).geometry.values
        _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
        assert dist.max() < 300.0, name


def test_people_follow_the_belts(small_city):
    emp = small_city.layers["employers"]
    belts = small_city.belts_layer()
    assert set(belts.industry) == {i.value for i in BELT_INDUSTRIES}
    in_belt = emp[emp.industry != "other"]
    # Every belt-industry employer lies in (within a few metres of) a belt of its industry.
    utm_b = belts.to_crs(UTM_CRS)
    utm_e = in_belt.to_crs(UTM_CRS)
    for ind, grp in utm_e.groupby("industry"):
        area = shapely.union_all(utm_b[utm_b.industry == ind].geometry.values).buffer(70.0)
        assert shapely.contains(area, grp.geometry.values).all(), ind
    # Chemical plants only in the outlying park.
    districts = small_city.districts_layer()
    park = districts[districts.kind == "industrial_park"].geometry.iloc[0]
    chem = emp[emp.industry == "chemical"]
    assert len(chem) > 0 and shapely.contains(park, chem.geometry.values).all()
    # Demand is heavy-tailed: the median employer is small, the largest are factories.
    assert emp.demand.median() <= 10 and emp.demand.max() >= 100


def test_talent_market_in_core(small_city):
    tm = small_city.layers["talent_market"]
    assert len(tm) == 1 and tm.capacity.iloc[0] == 3000
    districts = small_city.districts_layer()
    core = districts[districts.kind == "core"].geometry.iloc[0]
    assert core.contains(tm.geometry.iloc[0])


# ---------------------------------------------------------------------------------------------
# Folder, loading, ensure


def test_folder_loads_through_osmnx_and_network(small_folder, small_city):
    loaded = ox.load_graphml(small_folder / "network.graphml")
    assert nx.utils.graphs_equal(loaded, small_city.graph)
    for (u, v, k, d), (_, _, _, d2) in zip(
        sorted(loaded.edges(keys=True, data=True)),
        sorted(small_city.graph.edges(keys=True, data=True)),
        strict=True,
    ):
        assert d == d2, (u, v, k)
    net = load_network(small_folder / "network.graphml")
    assert net.n_nodes == small_city.roads.n_nodes
    assert net.crs == UTM_CRS


def test_folder_has_qgis_layers(small_folder):
    import pyogrio

    names = {row[0] for row in pyogrio.list_layers(small_folder / "dongcao.gpkg")}
    assert names == {"employers", "seekers", "volunteers", "candidate_sites", "talent_market",
                     "roads", "districts", "river", "belts_truth"}  # fmt: skip
    roads = gpd.read_file(small_folder / "dongcao.gpkg", layer="roads")
    assert (roads.geom_type == "LineString").all()
    assert len(gpd.read_file(small_folder / "dongcao.gpkg", layer="districts")) == 12


def test_folder_loads_through_scenario_readers(small_folder, small_city):
    from geo.scenario import Scenario, load_layers

    scenario = Scenario.load(small_folder)
    assert scenario.synthetic is True
    assert scenario.name == "dongcao"
    assert "synthetic" in scenario.title
    net = load_network(scenario.network_source)
    layers = load_layers(scenario, network_bounds=net.bounds_lonlat())
    for name, frame in layers.items():
        assert len(frame) == len(small_city.layers[name.value]), name


def test_ensure_builds_once_and_rebuilds_when_stale(tmp_path):
    folder = tmp_path / "city"
    said: list[str] = []
    assert not is_complete(folder, seed=3, scale=SMALL)
    ensure_demo_city(folder, seed=3, scale=SMALL, progress=said.append)
    assert said and is_complete(folder, seed=3, scale=SMALL)
    first = (folder / "network.graphml").stat().st_mtime_ns
    said.clear()
    ensure_demo_city(folder, seed=3, scale=SMALL, progress=said.append)
    assert said == [] and (folder / "network.graphml").stat().st_mtime_ns == first
    assert not is_complete(folder, seed=4, scale=SMALL)
    (folder / "dongcao.gpkg").unlink()  # incomplete folder
    assert not is_complete(folder, seed=3, scale=SMALL)
    ensure_demo_city(folder, seed=3, scale=SMALL, progress=said.append)
    assert said and (folder / "dongcao.gpkg").is_file()
    (folder / ".complete").write_text("not json")
    assert not is_complete(folder, seed=3, scale=SMALL)
    assert build_demo_city(folder, seed=3, scale=SMALL) == folder
    assert is_complete(folder, seed=3, scale=SMALL)


# ---------------------------------------------------------------------------------------------
# The full-size demo city


@pytest.mark.slow
def test_full_size_city():
    city = generate_city(DEFAULT_SEED)
    net = city.roads
    assert net.n_nodes >= 40_000
    assert int(net.oneway.sum()) >= 300
    for mode in (TravelMode.CAR, TravelMode.WALK):
        assert mode_component_share(net, mode) > 0.95
    emp = city.layers["employers"]
    assert len(emp) >= 3000
    counts = emp.industry.value_counts()
    assert all(counts.get(i.value, 0) >= 100 for i in BELT_INDUSTRIES)
    assert len(city.layers["seekers"]) >= 40_000
    assert len(city.layers["volunteers"]) == 100
    assert len(city.layers["candidate_sites"]) >= 200
    assert set(city.layers["candidate_sites"].kind) >= {
        "community_centre", "town_hall", "industrial_park_office", "transit_hub", "school",
        "library",
    }  # fmt: skip
    assert len(city.layers["talent_market"]) == 1
    modes = city.layers["seekers"]["mode"].value_counts(normalize=True)
    assert modes["ebike"] + modes["bus"] > 0.6 and modes["car"] < 0.2
    # Clearly synthetic place: open sea around lon 115.5, lat 21.5.
    assert net.lon.min() > 115.0 and net.lon.max() < 116.0
    assert net.lat.min() > 21.0 and net.lat.max() < 22.0


# ---------------------------------------------------------------------------------------------
# Building blocks


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=5, max_value=120),
    seed=st.integers(min_value=0, max_value=10_000),
    degree=st.floats(min_value=2.0, max_value=4.0),
)
def test_thin_to_streets_is_connected_with_target_degree(n, seed, degree):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, (n, 2))
    edges = delaunay_edges(xy)
    kept = thin_to_streets(rng, xy, edges, spacing=100.0, mean_degree=degree)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges[kept].tolist())
    assert nx.is_connected(g)
    target = max(n - 1, min(len(edges), round(degree * n / 2)))
    assert g.number_of_edges() == target


@settings(max_examples=25, deadline=None)
@given(n=st.integers(min_value=6, max_value=80), seed=st.integers(min_value=0, max_value=10_000))
def test_corridor_paths_are_optimal_paths(n, seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, (n, 2))
    edges = delaunay_edges(xy)
    eu, ev = edges[:, 0], edges[:, 1]
    s, t = (int(v) for v in rng.choice(n, 2, replace=False))
    ((idx, against),) = corridor_paths(xy, eu, ev, [(s, t)], width=150.0)
    # The path is a chain of edges from s to t.
    walk = [s]
    for e, back in zip(idx.tolist(), against.tolist(), strict=True):
        frm, to = (ev[e], eu[e]) if back else (eu[e], ev[e])
        assert frm == walk[-1]
        walk.append(int(to))
    assert walk[-1] == t
    # And it is a cheapest path under the corridor weights (networkx as the reference).
    a, b = xy[s], xy[t]
    g = nx.Graph()
    for u, v in edges.tolist():
        mid = (xy[u] + xy[v]) / 2
        f = np.clip((mid - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
        d = np.hypot(*(mid - (a + f * (b - a))))
        g.add_edge(u, v, w=np.hypot(*(xy[u] - xy[v])) * (1 + (d / 150.0) ** 2))
    best = nx.dijkstra_path_length(g, s, t, weight="w")
    got = sum(g[walk[i]][walk[i + 1]]["w"] for i in range(len(walk) - 1))
    assert got == pytest.approx(best, rel=1e-9)


def test_scaled_city_has_its_own_name_folder_and_staffing():
    import tomllib

    from geo.democity import folder_for_scale, scenario_toml

    one = tomllib.loads(scenario_toml(seed=1))
    five = tomllib.loads(scenario_toml(seed=1, scale=5))
    assert one["scenario"]["name"] == "dongcao"
    assert "n_points" not in one["planning"]  # Dongcao keeps the default 40
    assert (one["staffing"]["pool"], one["staffing"]["desk_volunteers"]) == (150, 20)
    assert five["scenario"]["name"] == "dongcao-x5"
    assert five["planning"]["n_points"] == 200
    assert (five["staffing"]["pool"], five["staffing"]["desk_volunteers"]) == (750, 100)
    assert five["staffing"]["market_staff"] == one["staffing"]["market_staff"]  # one market
    assert str(folder_for_scale(1)) == "data/dongcao"
    assert str(folder_for_scale(5)) == "data/dongcao-x5"
    assert str(folder_for_scale(0.5)) == "data/dongcao-x0.5"


def test_small_towns_keep_dongcaos_settings():
    import tomllib

    from geo.democity import scenario_toml

    small = tomllib.loads(scenario_toml(seed=1, scale=0.06))
    assert small["scenario"]["name"] == "dongcao"  # test towns: as before
    assert "n_points" not in small["planning"]
    assert (small["staffing"]["pool"], small["staffing"]["desk_volunteers"]) == (150, 20)
