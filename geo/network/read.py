"""Reading OpenStreetMap sources into an osmnx-style graph (unprojected, EPSG:4326).

Sources: a place name (osmnx downloads it), an OSM XML file (``.osm``, ``.osm.xml``, via
osmnx), an OSM PBF extract (``.osm.pbf``, via pyrosm) or a GraphML file written by osmnx.
Every reader keeps the routing tags (:data:`geo.network.tags.ROUTING_TAGS`) and the OSM way
id (``osmid``) on each edge and leaves out, with the same rules, ways that are no street for
any mode (no ``highway`` tag, a class without a speed, ``area=yes``;
:func:`geo.network.tags.street_reason`); the graph's ``dropped_ways`` attribute counts them
by reason. Raw OSM files are read unsimplified, pruned, then simplified with osmnx (nodes
where the routing tags change are kept), so a building outline touching a street never
merges into it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from ..errors import NetworkError
from .tags import ROUTING_TAGS, known_highways, oneway, street_reason, tag_frame

logger = logging.getLogger(__name__)


def read_osm_graph(
    source: str | Path, *, speeds: Mapping[str, Mapping[str, float | None]] | None = None
) -> nx.MultiDiGraph[int]:
    """Read a street graph as an osmnx-style MultiDiGraph (unprojected, EPSG:4326).

    Parameters
    ----------
    source
        File or place name (see the module docstring).
    speeds
        The scenario's speed overrides: their road classes count as streets too.

    Raises
    ------
    NetworkError
        If the file is missing or unreadable, or holds no streets.
    """
    text = str(source)
    lower = text.lower()
    is_file = lower.endswith((".graphml", ".osm", ".xml", ".pbf"))
    if is_file and not Path(text).exists():
        msg = f"network file `{text}` does not exist"
        raise NetworkError(msg)
    known = known_highways(speeds)
    try:
        graph = _read(text, lower, known)
    except NetworkError:
        raise
    except Exception as exc:  # osmnx/pyrosm raise many types; report them uniformly
        msg = f"cannot read network from `{text}`: {type(exc).__name__}: {exc}"
        raise NetworkError(msg) from exc
    if graph.number_of_nodes() == 0 or graph.number_of_edges() == 0:
        dropped = graph.graph.get("dropped_ways") or {}
        why = f" (ways left out: {dropped})" if dropped else ""
        msg = f"network from `{text}` has no streets{why}"
        raise NetworkError(msg)
    return graph


def _read(text: str, lower: str, known: set[str]) -> nx.MultiDiGraph[int]:
    import osmnx as ox

    if lower.endswith(".graphml"):
        return prune_non_streets(ox.load_graphml(text), known)
    if lower.endswith(".pbf"):
        return prune_non_streets(graph_from_pbf(text), known)
    with _routing_tags_kept():
        if lower.endswith((".osm", ".osm.xml", ".xml")):
            raw = ox.graph_from_xml(text, simplify=False, retain_all=True)
        else:
            logger.info("geocoding and downloading network for place %r", text)
            raw = ox.graph_from_place(text, network_type="all", simplify=False, retain_all=True)
    graph = prune_non_streets(raw, known)
    if graph.number_of_edges() == 0:
        return graph
    dropped = graph.graph.get("dropped_ways", {})
    simple: nx.MultiDiGraph[int] = ox.simplify_graph(graph, edge_attrs_differ=list(ROUTING_TAGS))
    simple.graph["dropped_ways"] = dropped
    return simple


@contextmanager
def _routing_tags_kept() -> Iterator[None]:
    """osmnx keeps only ``settings.useful_tags_way`` on edges; add the routing tags."""
    import osmnx as ox

    before = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(before) | set(ROUTING_TAGS))
    try:
        yield
    finally:
        ox.settings.useful_tags_way = before


def prune_non_streets(graph: nx.MultiDiGraph[int], known: set[str]) -> nx.MultiDiGraph[int]:
    """Remove edges no mode may use as a street (and nodes left without edges), in place.

    The graph's ``dropped_ways`` attribute gets the number of OSM ways left out per reason.
    """
    edges = list(graph.edges(keys=True, data=True))
    tags = tag_frame(pd.DataFrame([d for _, _, _, d in edges], columns=list(ROUTING_TAGS)))
    reason: list[str] = street_reason(tags, known).tolist() if edges else []
    bad = [(u, v, k) for (u, v, k, _), r in zip(edges, reason, strict=True) if r]
    ways: dict[str, set[Any]] = {}
    for (u, v, k, d), r in zip(edges, reason, strict=True):
        if r:
            ways.setdefault(r, set()).add(_way_key(d.get("osmid"), (u, v, k)))
    graph.remove_edges_from(bad)
    graph.remove_nodes_from([n for n, deg in list(graph.degree()) if deg == 0])
    counts = {r: len(w) for r, w in sorted(ways.items(), key=lambda kv: -len(kv[1]))}
    graph.graph["dropped_ways"] = counts
    if counts:
        logger.info("left out %d OSM ways that are no street: %s", sum(counts.values()), counts)
    return graph


def _way_key(osmid: Any, edge: tuple[Any, ...]) -> Any:
    if isinstance(osmid, list):
        return tuple(osmid)
    return edge if osmid is None else osmid


def graph_from_pbf(path: str) -> nx.MultiDiGraph[int]:
    """Read an ``.osm.pbf`` extract with pyrosm into an osmnx-compatible MultiDiGraph.

    All highways are read once (network type ``"all"``) with their routing tags and way id;
    one-way is decided by :func:`geo.network.tags.oneway`, per-mode rules later, as for every
    other source.
    """
    import pyrosm

    osm = pyrosm.OSM(path)
    nodes, edges = osm.get_network(network_type="all", nodes=True)
    if edges is None or nodes is None or len(edges) == 0:
        msg = f"`{path}` contains no streets"
        raise NetworkError(msg)
    tags = tag_frame(edges)
    is_oneway, reverse_tag = oneway(tags)
    graph: nx.MultiDiGraph[int] = nx.MultiDiGraph(crs="EPSG:4326")
    graph.add_nodes_from(
        (int(i), {"x": float(x), "y": float(y)})
        for i, x, y in zip(nodes["id"], nodes["lon"], nodes["lat"], strict=True)
    )
    keep = [t for t in ROUTING_TAGS if t != "oneway"]
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in tags[keep].replace("", None).to_dict("records")
    ]
    way_ids = edges["id"].to_numpy()
    for k, (u, v, length, geom) in enumerate(
        zip(edges["u"], edges["v"], edges["length"], edges.geometry, strict=True)
    ):
        u, v = int(u), int(v)
        if reverse_tag[k]:
            u, v = v, u
            geom = geom.reverse() if geom is not None else None
        attrs = {
            **records[k],
            "osmid": int(way_ids[k]),
            "length": float(length),
            "oneway": bool(is_oneway[k]),
            "geometry": geom,
        }
        graph.add_edge(u, v, **attrs)
        if not is_oneway[k]:
            rev = dict(attrs, geometry=geom.reverse() if geom is not None else None)
            rev["reversed"] = True
            graph.add_edge(v, u, **rev)
    return graph
