"""Street networks: read OpenStreetMap sources and prepare per-mode graphs as arrays.

Sources (see :func:`load_network`): a place name (osmnx downloads it), an OSM XML file
(``.osm``, ``.osm.xml``), an OSM PBF extract (``.osm.pbf``, pyrosm) or a GraphML file written
by osmnx (the Dongcao demo city uses this).

Modules, by job:

* :mod:`.read`: source -> osmnx-style graph (EPSG:4326);
* :mod:`.build`: graph -> :class:`StreetNetwork` (street arrays, per-mode directed graphs,
  one-way rules, speeds, largest strongly connected component);
* :mod:`.projection`: the UTM zone the network is prepared in;
* :mod:`.model`: :class:`StreetNetwork` and :class:`ModeGraph`;
* :mod:`.tags`: which OSM ways each mode may use (one rule table for every format);
* :mod:`.connectivity`: share kept by each mode's largest component, points cut off from it;
* :mod:`.cache`: the prepared-network cache (plain arrays, validated on load);
* :mod:`.load`: :func:`load_network` and :func:`load_network_cached`.
"""

from .build import (
    Speeds,
    build_mode_graph,
    largest_strong_component,
    network_from_graph,
    strong_components,
)
from .cache import CACHE_VERSION, default_cache_dir, read_network, save_network
from .connectivity import (
    MIN_COMPONENT_SHARE,
    ComponentCheck,
    check_components,
    diagnose_points,
)
from .load import load_network, load_network_cached
from .model import MIN_EDGE_TIME_S, ModeGraph, StreetNetwork
from .projection import utm_crs
from .read import graph_from_pbf, read_osm_graph

__all__ = [
    "CACHE_VERSION",
    "MIN_COMPONENT_SHARE",
    "MIN_EDGE_TIME_S",
    "ComponentCheck",
    "ModeGraph",
    "Speeds",
    "StreetNetwork",
    "build_mode_graph",
    "check_components",
    "default_cache_dir",
    "diagnose_points",
    "graph_from_pbf",
    "largest_strong_component",
    "load_network",
    "load_network_cached",
    "network_from_graph",
    "read_network",
    "read_osm_graph",
    "save_network",
    "strong_components",
    "utm_crs",
]
