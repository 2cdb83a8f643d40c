"""From an osmnx-style graph (EPSG:4326) to a :class:`StreetNetwork` with per-mode graphs.

Each street is stored once, in its digitised direction; each travel mode gets the directed
edges it may use (one-way rules, speeds per road class, ``maxspeed`` caps) restricted to the
mode's largest strongly connected component.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from ..errors import NetworkError
from ..modes import TravelMode, speed_kph
from .model import ModeGraph, StreetNetwork
from .projection import to_metric
from .tags import ROUTING_TAGS, known_highways, mode_reason, summarise, tag_frame

logger = logging.getLogger(__name__)

Speeds = dict[str, dict[str, float | None]]
"""Overrides of the default speed table, ``{highway: {mode: km/h or None}}``."""

_EDGE_COLUMNS = ["u", "v", "length", "highway", "oneway", "maxspeed", "geometry", "way", "ways"]
_TAG_COLUMNS = [t for t in ROUTING_TAGS if t not in ("highway", "oneway", "maxspeed")]


def network_from_graph(
    graph: nx.MultiDiGraph[int],
    *,
    modes: Iterable[TravelMode | str] = tuple(TravelMode),
    speeds: Speeds | None = None,
    source: str = "",
) -> StreetNetwork:
    """Convert an osmnx-style MultiDiGraph (EPSG:4326) into a :class:`StreetNetwork`.

    Two-way streets are expected as two opposite directed edges, one-way streets as one
    (the osmnx convention). An edge is "one-way" when its ``oneway`` attribute is true.
    Pedestrians may use one-way streets in both directions. Coordinates are projected to
    the UTM zone of the network's median node (metres).
    """
    crs_in = str(graph.graph.get("crs", "EPSG:4326"))
    if pyproj.CRS(crs_in).to_epsg() != 4326:
        msg = f"network graph must be unprojected (EPSG:4326), got crs {crs_in!r}"
        raise NetworkError(msg)

    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    lon, lat = xy[:, 0].copy(), xy[:, 1].copy()
    crs, transformer = to_metric(lon, lat)
    x, y = (np.asarray(a, dtype=float) for a in transformer.transform(lon, lat))

    frame = street_table(graph)
    index = pd.Index(node_ids)
    eu = index.get_indexer(pd.Index(frame["u"]))
    ev = index.get_indexer(pd.Index(frame["v"]))
    if (eu < 0).any() or (ev < 0).any():
        msg = "network graph has edges whose end nodes are missing"
        raise NetworkError(msg)
    length = np.array(frame["length"], dtype=float)  # a writable copy
    missing = ~np.isfinite(length)
    length[missing] = np.hypot(x[ev[missing]] - x[eu[missing]], y[ev[missing]] - y[eu[missing]])

    edge_u, edge_v = eu.astype(np.int32), ev.astype(np.int32)
    mode_graphs, reasons = _mode_graphs(frame, edge_u, edge_v, length, node_ids.size, modes, speeds)
    ingest = summarise(reasons, frame["ways"].to_list(), graph.graph.get("dropped_ways") or {})
    net = StreetNetwork(
        crs=crs,
        node_id=node_ids,
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        edge_u=edge_u,
        edge_v=edge_v,
        edge_length_m=length,
        edge_highway=frame["highway"].to_numpy(dtype=object),
        edge_oneway=frame["oneway"].to_numpy(dtype=bool),
        edge_geometry=project_geometries(frame["geometry"].to_numpy(dtype=object), transformer),
        modes=mode_graphs,
        source=source,
        edge_way=frame["way"].to_numpy(dtype=np.int64),
        ingest=ingest,
    )
    for mode, counts in ingest.items():
        logger.info(
            "%s: %d OSM ways kept, %d dropped %s",
            mode,
            counts["ways_kept"],
            counts["ways_dropped"],
            counts["dropped_by_reason"],
        )
    logger.info(
        "network %s: %d nodes, %d street edges (%s)",
        source,
        net.n_nodes,
        net.n_edges,
        ", ".join(f"{m.value}: {g.in_component.sum()} nodes" for m, g in mode_graphs.items()),
    )
    return net


def _mode_graphs(
    frame: pd.DataFrame,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    length: np.ndarray,
    n_nodes: int,
    modes: Iterable[TravelMode | str],
    speeds: Speeds | None,
) -> tuple[dict[TravelMode, ModeGraph], dict[str, np.ndarray]]:
    """Each mode's graph over the streets of `frame`, and why each street is barred to it."""
    highway = frame["highway"].to_numpy(dtype=object)
    tags, known = tag_frame(frame), known_highways(speeds)
    graphs: dict[TravelMode, ModeGraph] = {}
    reasons: dict[str, np.ndarray] = {}
    for m in map(TravelMode, modes):
        reason = mode_reason(tags, m, kph=mode_speeds(highway, m, speeds), known=known)
        reasons[m.value] = reason
        graphs[m] = build_mode_graph(
            m,
            edge_u=edge_u,
            edge_v=edge_v,
            length_m=length,
            highway=highway,
            oneway=frame["oneway"].to_numpy(dtype=bool),
            maxspeed_kph=frame["maxspeed"].to_numpy(dtype=float),
            n_nodes=n_nodes,
            speeds=speeds,
            allowed=reason == "",
        )
    return graphs, reasons


def street_table(graph: nx.MultiDiGraph[int]) -> pd.DataFrame:
    """One row per street (columns ``u, v, length, highway, oneway, maxspeed, geometry``).

    osmnx stores each two-way street twice; the reversed copy is skipped and twins are
    deduplicated (see :func:`dedupe_twoway`).
    """
    rows = []
    for u, v, data in graph.edges(data=True):
        if data.get("reversed") is True and not truthy(data.get("oneway")):
            continue  # the forward twin carries this street
        rows.append(
            (
                u,
                v,
                float(data.get("length", np.nan)),
                str(first(data.get("highway")) or "").strip().lower(),
                truthy(data.get("oneway")),
                parse_maxspeed(data.get("maxspeed")),
                data.get("geometry"),
                way_id(data.get("osmid")),
                way_ids(data.get("osmid")),
                *(data.get(t) for t in _TAG_COLUMNS),
            )
        )
    return dedupe_twoway(pd.DataFrame(rows, columns=[*_EDGE_COLUMNS, *_TAG_COLUMNS]))


def way_ids(osmid: Any) -> tuple[int, ...]:
    """All OSM way ids merged into an edge (empty if unknown)."""
    values = osmid if isinstance(osmid, list) else [osmid]
    return tuple(i for i in map(way_id, values) if i >= 0)


def way_id(osmid: Any) -> int:
    """The OSM way id of an edge (the first of merged ways), ``-1`` if unknown."""
    value = first(osmid)
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def project_geometries(geoms: np.ndarray, transformer: pyproj.Transformer) -> np.ndarray | None:
    """Edge geometries projected with `transformer`; ``None`` where an edge has none."""
    has = np.array([g is not None and not is_nan(g) for g in geoms], dtype=bool)
    if not has.any():
        return None
    out = np.full(geoms.size, None, dtype=object)
    out[has] = shapely.transform(
        np.asarray(list(geoms[has]), dtype=object),
        lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])),
    )
    return out


def first(value: Any) -> Any:
    """osmnx stores merged tags as lists; take the first element."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def parse_maxspeed(value: Any) -> float:
    """Maxspeed tag in km/h, NaN if absent or unparseable (``"50"``, ``"30 mph"``)."""
    value = first(value)
    if value is None or is_nan(value):
        return np.nan
    text = str(value).strip().lower()
    factor = 1.609344 if text.endswith("mph") else 1.0
    text = text.replace("mph", "").replace("km/h", "").strip()
    try:
        return float(text) * factor
    except ValueError:
        return np.nan


def truthy(value: Any) -> bool:
    """An OSM/osmnx yes-like value (``yes``, ``true``, ``1``, ``-1``, True)."""
    value = first(value)
    if isinstance(value, str):
        return value.strip().lower() in ("yes", "true", "1", "-1")
    return bool(value) if value is not None and not is_nan(value) else False


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and bool(np.isnan(value))


def dedupe_twoway(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per two-way street (osmnx stores both directions).

    A two-way street u-v is kept in its ``u < v`` copy; a ``u > v`` copy is kept only when
    its twin is missing. Self-loops keep every other copy.
    """
    u = frame["u"].to_numpy()
    v = frame["v"].to_numpy()
    two = ~frame["oneway"].to_numpy(dtype=bool)
    forward_pairs = pd.MultiIndex.from_arrays([u[two & (u < v)], v[two & (u < v)]])
    has_twin = pd.MultiIndex.from_arrays([v, u]).isin(forward_pairs)
    loop_rank = frame.groupby(["u", "v"]).cumcount().to_numpy()
    keep = ~two | (u < v) | ((u > v) & ~has_twin) | ((u == v) & (loop_rank % 2 == 0))
    out: pd.DataFrame = frame[keep].reset_index(drop=True)
    return out


def mode_speeds(highway: np.ndarray, mode: TravelMode, speeds: Speeds | None = None) -> np.ndarray:
    """Speed (km/h) of `mode` on each edge by road class; NaN where the mode is barred."""
    lookup: dict[str, float] = {}
    for hw in pd.unique(highway):
        kph = speed_kph(str(hw), mode)
        if speeds and hw in speeds and mode.value in speeds[hw]:
            kph = speeds[hw][mode.value]
        lookup[str(hw)] = np.nan if kph is None else float(kph)
    return pd.Series(highway).map(lookup).to_numpy(dtype=float)


def build_mode_graph(
    mode: TravelMode,
    *,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    length_m: np.ndarray,
    highway: np.ndarray,
    oneway: np.ndarray,
    maxspeed_kph: np.ndarray | None = None,
    n_nodes: int,
    speeds: Speeds | None = None,
    allowed: np.ndarray | None = None,
) -> ModeGraph:
    """Directed graph of `mode` over street edges (see :class:`ModeGraph`).

    Speeds come from :func:`geo.modes.speed_kph`, overridden by `speeds`; a car never goes
    faster than an edge's ``maxspeed`` tag, and a bus never faster than 60 % of it.
    `allowed` (default all) masks the edges the mode's tag rules let it use
    (:func:`geo.network.tags.mode_reason`).
    """
    kph_arr = mode_speeds(highway, mode, speeds)
    if maxspeed_kph is not None and mode in (TravelMode.CAR, TravelMode.BUS):
        cap = maxspeed_kph * (1.0 if mode is TravelMode.CAR else 0.6)
        kph_arr = np.where(np.isfinite(cap), np.fmin(kph_arr, cap), kph_arr)
    usable = np.isfinite(kph_arr) & (kph_arr > 0)
    if allowed is not None:
        usable &= allowed
    idx = np.flatnonzero(usable)
    t = length_m[idx] / (kph_arr[idx] / 3.6)

    # Forward direction always; backward for two-way streets, and for walkers everywhere.
    back = idx if not mode.respects_oneway else idx[~oneway[idx]]
    tb = t if not mode.respects_oneway else t[~oneway[idx]]
    src = np.concatenate([edge_u[idx], edge_v[back]]).astype(np.int32)
    dst = np.concatenate([edge_v[idx], edge_u[back]]).astype(np.int32)
    time_s = np.concatenate([t, tb])
    length = np.concatenate([length_m[idx], length_m[back]])
    edge = np.concatenate([idx, back]).astype(np.int64)
    reverse = np.concatenate([np.zeros(idx.size, bool), np.ones(back.size, bool)])

    in_component = largest_strong_component(src, dst, n_nodes)
    keep = in_component[src] & in_component[dst]
    return ModeGraph(
        mode=mode,
        src=src[keep],
        dst=dst[keep],
        time_s=time_s[keep],
        length_m=length[keep],
        edge=edge[keep],
        reverse=reverse[keep],
        in_component=in_component,
        street_allowed=usable,
    )


def largest_strong_component(src: np.ndarray, dst: np.ndarray, n_nodes: int) -> np.ndarray:
    """Boolean node mask of the largest strongly connected component of a directed graph.

    Nodes without any edge are excluded, so an empty graph gives an all-False mask.
    """
    labels, touched = strong_components(src, dst, n_nodes)
    if not touched.any():
        return touched
    counts = np.bincount(labels[touched], minlength=int(labels.max()) + 1)
    mask: np.ndarray = (labels == int(np.argmax(counts))) & touched
    return mask


def strong_components(
    src: np.ndarray, dst: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Strong component label of every node, and which nodes have an edge at all."""
    touched = np.zeros(n_nodes, dtype=bool)
    if src.size == 0:
        return np.zeros(n_nodes, dtype=np.int64), touched
    adj = sp.csr_array((np.ones(src.size), (src, dst)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(adj, directed=True, connection="strong")
    touched[src] = True
    touched[dst] = True
    return np.asarray(labels, dtype=np.int64), touched
