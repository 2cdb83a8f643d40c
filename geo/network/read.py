"""Reading OpenStreetMap sources into an osmnx-style graph (unprojected, EPSG:4326).

Sources: a place name (osmnx downloads it), an OSM XML file (``.osm``, ``.osm.xml``, via
osmnx), an OSM PBF extract (``.osm.pbf``, via pyrosm) or a GraphML file written by osmnx.
"""

from __future__ import annotations

import logging
from pathlib import Path

import networkx as nx
import pandas as pd

from ..errors import NetworkError

logger = logging.getLogger(__name__)


def read_osm_graph(source: str | Path) -> nx.MultiDiGraph[int]:
    """Read a street graph as an osmnx-style MultiDiGraph (unprojected, EPSG:4326).

    Raises
    ------
    NetworkError
        If the file is missing or unreadable, or holds no streets.
    """
    import osmnx as ox

    text = str(source)
    lower = text.lower()
    is_file = lower.endswith((".graphml", ".osm", ".xml", ".pbf"))
    if is_file and not Path(text).exists():
        msg = f"network file `{text}` does not exist"
        raise NetworkError(msg)
    try:
        if lower.endswith(".graphml"):
            graph = ox.load_graphml(text)
        elif lower.endswith((".osm", ".osm.xml", ".xml")):
            graph = ox.graph_from_xml(text, simplify=True, retain_all=True)
        elif lower.endswith(".pbf"):
            graph = graph_from_pbf(text)
        else:
            logger.info("geocoding and downloading network for place %r", text)
            graph = ox.graph_from_place(text, network_type="all", retain_all=True)
    except NetworkError:
        raise
    except Exception as exc:  # osmnx/pyrosm raise many types; report them uniformly
        msg = f"cannot read network from `{text}`: {type(exc).__name__}: {exc}"
        raise NetworkError(msg) from exc
    if graph.number_of_nodes() == 0 or graph.number_of_edges() == 0:
        msg = f"network from `{text}` has no streets"
        raise NetworkError(msg)
    return graph


def graph_from_pbf(path: str) -> nx.MultiDiGraph[int]:
    """Read an ``.osm.pbf`` extract with pyrosm into an osmnx-compatible MultiDiGraph.

    All highways are read once (network type ``"all"``) with their ``oneway`` tags; per-mode
    rules are applied later, as for every other source.
    """
    import pyrosm

    osm = pyrosm.OSM(path)
    nodes, edges = osm.get_network(network_type="all", nodes=True)
    if edges is None or nodes is None or len(edges) == 0:
        msg = f"`{path}` contains no streets"
        raise NetworkError(msg)
    # One stored edge per way segment in its digitised direction; add the reverse direction
    # for ways that are not one-way, as osmnx does.
    oneway = edges.get("oneway", pd.Series(index=edges.index, dtype=object))
    is_oneway = oneway.astype(str).str.lower().isin(["yes", "true", "1", "-1"]).to_numpy()
    reverse_tag = oneway.astype(str).eq("-1").to_numpy()
    graph: nx.MultiDiGraph[int] = nx.MultiDiGraph(crs="EPSG:4326")
    graph.add_nodes_from(
        (int(i), {"x": float(x), "y": float(y)})
        for i, x, y in zip(nodes["id"], nodes["lon"], nodes["lat"], strict=True)
    )
    highway = edges["highway"].astype(str).to_numpy()
    maxspeed = edges["maxspeed"].to_numpy() if "maxspeed" in edges else [None] * len(edges)
    for k, (u, v, length, geom) in enumerate(
        zip(edges["u"], edges["v"], edges["length"], edges.geometry, strict=True)
    ):
        u, v = int(u), int(v)
        if reverse_tag[k]:
            u, v = v, u
            geom = geom.reverse() if geom is not None else None
        attrs = {
            "length": float(length),
            "highway": highway[k],
            "oneway": bool(is_oneway[k]),
            "maxspeed": maxspeed[k],
            "geometry": geom,
        }
        graph.add_edge(u, v, **attrs)
        if not is_oneway[k]:
            rev = dict(attrs, geometry=geom.reverse() if geom is not None else None)
            rev["reversed"] = True
            graph.add_edge(v, u, **rev)
    return graph
