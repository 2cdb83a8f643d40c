"""Street networks: load from OpenStreetMap sources and prepare per-mode graphs.

Sources (see :func:`load_network`):

* a place name such as ``"Dongguan, Guangdong, China"`` (needs internet, via osmnx);
* an OSM XML file (``.osm``, ``.osm.xml``), via osmnx;
* an OSM PBF extract (``.osm.pbf``), via pyrosm;
* a GraphML file (``.graphml``) as written by osmnx (the Dongcao demo city uses this).

The loaded graph is turned into flat numpy arrays (:class:`StreetNetwork`) in a projected
metric CRS (the UTM zone of the network's centre). For each travel mode a
:class:`ModeGraph` holds the directed edges that mode may use, their travel times and the
largest strongly connected component, so every later computation runs on arrays
(scipy/igraph), never per-pair networkx calls.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from ._errors import NetworkError
from .modes import DEFAULT_HIGHWAY, TravelMode, speed_kph, speed_table

logger = logging.getLogger(__name__)

MIN_EDGE_TIME_S = 1e-3
"""Lower bound on an edge's travel time (s). Sparse matrices treat 0 as "no edge"."""


def utm_crs(lon: float, lat: float) -> str:
    """EPSG code of the UTM zone containing (`lon`, `lat`) in degrees (WGS-84).

    >>> utm_crs(113.75, 23.02)
    'EPSG:32649'
    >>> utm_crs(24.94, 60.17)
    'EPSG:32635'
    """
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        msg = f"`lon`/`lat` ({lon}, {lat}) outside the UTM range"
        raise ValueError(msg)
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


@dataclass(frozen=True, eq=False)
class ModeGraph:
    """The directed graph one travel mode may use.

    Attributes
    ----------
    mode
        The travel mode.
    src, dst
        Node indices (into :class:`StreetNetwork` node arrays) of each directed edge.
    time_s
        Travel time of each directed edge in seconds.
    length_m
        Length of each directed edge in metres.
    edge
        Index of the underlying street edge (into the network's edge arrays).
    reverse
        True where the directed edge runs against the stored street geometry
        (walking the wrong way along a one-way street).
    in_component
        Boolean mask over all nodes: True for nodes in the mode's largest strongly
        connected component. Only such nodes are used for snapping and routing.
    """

    mode: TravelMode
    src: np.ndarray
    dst: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray
    edge: np.ndarray
    reverse: np.ndarray
    in_component: np.ndarray
    _csr_cache: dict[str, sp.csr_array] = field(default_factory=dict, repr=False)

    @property
    def n_edges(self) -> int:
        return int(self.src.size)

    def csr(self, weight: str = "time", *, n_nodes: int | None = None) -> sp.csr_array:
        """Adjacency matrix weighted by ``"time"`` (s) or ``"length"`` (m).

        Parallel edges keep their minimum weight; weights are at least
        :data:`MIN_EDGE_TIME_S` so that no edge vanishes from the sparse structure.
        """
        if weight not in ("time", "length"):
            msg = f"`weight` must be 'time' or 'length', got {weight!r}"
            raise ValueError(msg)
        if weight in self._csr_cache:
            return self._csr_cache[weight]
        n = int(self.in_component.size if n_nodes is None else n_nodes)
        w = self.time_s if weight == "time" else self.length_m
        w = np.maximum(w, MIN_EDGE_TIME_S)
        # Keep the cheapest of parallel edges: sort by weight, drop later duplicates.
        order = np.lexsort((w, self.dst, self.src))
        s, d, w = self.src[order], self.dst[order], w[order]
        keep = np.ones(s.size, dtype=bool)
        keep[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
        mat = sp.csr_array((w[keep], (s[keep], d[keep])), shape=(n, n))
        mat.sort_indices()
        self._csr_cache[weight] = mat
        return mat


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """A street network as flat arrays in a projected metric CRS.

    Node coordinates ``x``/``y`` are metres in :attr:`crs`; ``lon``/``lat`` are degrees
    (EPSG:4326). Edge arrays describe each stored street edge once, in its digitised
    direction; per-mode directed graphs are in :attr:`modes`.
    """

    crs: str
    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_highway: np.ndarray
    edge_oneway: np.ndarray
    edge_geometry: np.ndarray | None
    modes: dict[TravelMode, ModeGraph]
    source: str = ""

    @property
    def n_nodes(self) -> int:
        return int(self.node_id.size)

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.size)

    def mode(self, mode: TravelMode | str) -> ModeGraph:
        """The :class:`ModeGraph` of `mode`; raises :class:`NetworkError` if not prepared."""
        try:
            return self.modes[TravelMode(mode)]
        except (KeyError, ValueError):
            allowed = ", ".join(m.value for m in self.modes)
            msg = f"`mode` {mode!r} is not available on this network; available: {allowed}"
            raise NetworkError(msg) from None

    def edge_line(self, i: int) -> shapely.LineString:
        """Geometry of street edge `i` in :attr:`crs` (straight if none was stored)."""
        if self.edge_geometry is not None and self.edge_geometry[i] is not None:
            return self.edge_geometry[i]
        u, v = self.edge_u[i], self.edge_v[i]
        return shapely.LineString([(self.x[u], self.y[u]), (self.x[v], self.y[v])])

    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` of all nodes (EPSG:4326)."""
        return (
            float(self.lon.min()),
            float(self.lat.min()),
            float(self.lon.max()),
            float(self.lat.max()),
        )

    def summary(self) -> dict[str, Any]:
        """Counts per network and mode, for reports."""
        hw = pd.Series(self.edge_highway).value_counts()
        return {
            "source": self.source,
            "crs": self.crs,
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "oneway_edges": int(self.edge_oneway.sum()),
            "length_km": round(float(self.edge_length_m.sum()) / 1000.0, 1),
            "highway": {str(k): int(v) for k, v in hw.items()},
            "modes": {
                m.value: {
                    "directed_edges": g.n_edges,
                    "nodes_in_component": int(g.in_component.sum()),
                }
                for m, g in self.modes.items()
            },
        }

    def to_networkx(self, mode: TravelMode | str) -> nx.DiGraph:
        """A networkx DiGraph of one mode (weights ``time_s`` and ``length_m``).

        Meant for checking results in tests and small analyses, not for hot paths.
        """
        g = self.mode(mode)
        graph: nx.DiGraph = nx.DiGraph()
        graph.add_nodes_from(range(self.n_nodes))
        for s, d, t, ln in zip(
            g.src.tolist(), g.dst.tolist(), g.time_s.tolist(), g.length_m.tolist(), strict=True
        ):
            t = max(t, MIN_EDGE_TIME_S)
            if not graph.has_edge(s, d) or graph[s][d]["time_s"] > t:
                graph.add_edge(s, d, time_s=t, length_m=ln)
        return graph


# ---------------------------------------------------------------------------------------------
# Loading


def load_network(
    source: str | Path,
    *,
    modes: Iterable[TravelMode | str] = tuple(TravelMode),
    speeds: dict[str, dict[str, float | None]] | None = None,
) -> StreetNetwork:
    """Load a street network and prepare per-mode graphs.

    Parameters
    ----------
    source
        A ``.graphml``, ``.osm``/``.osm.xml`` or ``.osm.pbf`` file, or a place name for
        osmnx to geocode and download (needs internet).
    modes
        Travel modes to prepare.
    speeds
        Overrides of the default speed table, ``{highway: {mode: km/h or None}}``.

    Raises
    ------
    NetworkError
        If the file is missing or unreadable, or the network is empty.
    """
    graph = read_osm_graph(source)
    return network_from_graph(graph, modes=modes, speeds=speeds, source=str(source))


def read_osm_graph(source: str | Path) -> nx.MultiDiGraph:
    """Read a street graph as an osmnx-style MultiDiGraph (unprojected, EPSG:4326)."""
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
            graph = _graph_from_pbf(text)
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


def _graph_from_pbf(path: str) -> nx.MultiDiGraph:
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
    graph: nx.MultiDiGraph = nx.MultiDiGraph(crs="EPSG:4326")
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


def _first(value: Any) -> Any:
    """osmnx stores merged tags as lists; take the first element."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _parse_maxspeed(value: Any) -> float:
    """Maxspeed tag in km/h, NaN if absent or unparseable (``"50"``, ``"30 mph"``)."""
    value = _first(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    text = str(value).strip().lower()
    factor = 1.609344 if text.endswith("mph") else 1.0
    text = text.replace("mph", "").replace("km/h", "").strip()
    try:
        return float(text) * factor
    except ValueError:
        return np.nan


def network_from_graph(
    graph: nx.MultiDiGraph,
    *,
    modes: Iterable[TravelMode | str] = tuple(TravelMode),
    speeds: dict[str, dict[str, float | None]] | None = None,
    source: str = "",
) -> StreetNetwork:
    """Convert an osmnx-style MultiDiGraph (EPSG:4326) into a :class:`StreetNetwork`.

    Two-way streets are expected as two opposite directed edges, one-way streets as one
    (the osmnx convention). An edge is "one-way" when its ``oneway`` attribute is true.
    Pedestrians may use one-way streets in both directions.
    """
    crs_in = str(graph.graph.get("crs", "EPSG:4326"))
    if pyproj.CRS(crs_in).to_epsg() != 4326:
        msg = f"network graph must be unprojected (EPSG:4326), got crs {crs_in!r}"
        raise NetworkError(msg)

    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    index = pd.Index(node_ids)
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    lon, lat = xy[:, 0], xy[:, 1]
    crs = utm_crs(float(np.median(lon)), float(np.median(lat)))
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_metric.transform(lon, lat)

    # Stored street edges: each two-way street appears twice; keep one copy per pair and
    # remember that it is two-way, so edge arrays describe streets, not directions.
    rows = []
    for u, v, data in graph.edges(data=True):
        if data.get("reversed") is True and not _truthy(data.get("oneway")):
            continue  # the forward twin carries this street
        rows.append(
            (
                u,
                v,
                float(data.get("length", np.nan)),
                str(_first(data.get("highway")) or DEFAULT_HIGHWAY),
                _truthy(data.get("oneway")),
                _parse_maxspeed(data.get("maxspeed")),
                data.get("geometry"),
            )
        )
    frame = pd.DataFrame(
        rows, columns=["u", "v", "length", "highway", "oneway", "maxspeed", "geometry"]
    )
    frame = _dedupe_twoway(frame)
    eu = index.get_indexer(pd.Index(frame["u"]))
    ev = index.get_indexer(pd.Index(frame["v"]))
    if (eu < 0).any() or (ev < 0).any():
        msg = "network graph has edges whose end nodes are missing"
        raise NetworkError(msg)

    geoms = frame["geometry"].to_numpy(dtype=object)
    has_geom = np.array([g is not None and not _isnan(g) for g in geoms])
    edge_geometry: np.ndarray | None = None
    if has_geom.any():
        edge_geometry = np.full(len(frame), None, dtype=object)
        projected = shapely.transform(
            np.asarray(list(geoms[has_geom]), dtype=object),
            lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1])),
        )
        edge_geometry[has_geom] = projected

    length = frame["length"].to_numpy(dtype=float)
    missing_len = ~np.isfinite(length)
    if missing_len.any():
        length[missing_len] = np.hypot(
            x[ev[missing_len]] - x[eu[missing_len]], y[ev[missing_len]] - y[eu[missing_len]]
        )

    edge_u = eu.astype(np.int32)
    edge_v = ev.astype(np.int32)
    highway = frame["highway"].to_numpy(dtype=object)
    oneway = frame["oneway"].to_numpy(dtype=bool)
    maxspeed = frame["maxspeed"].to_numpy(dtype=float)
    mode_graphs = {
        TravelMode(m): build_mode_graph(
            TravelMode(m),
            edge_u=edge_u,
            edge_v=edge_v,
            length_m=length,
            highway=highway,
            oneway=oneway,
            maxspeed_kph=maxspeed,
            n_nodes=node_ids.size,
            speeds=speeds,
        )
        for m in modes
    }
    net = StreetNetwork(
        crs=crs,
        node_id=node_ids,
        x=np.asarray(x, dtype=float),
        y=np.asarray(y, dtype=float),
        lon=lon.copy(),
        lat=lat.copy(),
        edge_u=edge_u,
        edge_v=edge_v,
        edge_length_m=length,
        edge_highway=highway,
        edge_oneway=oneway,
        edge_geometry=edge_geometry,
        modes=mode_graphs,
        source=source,
    )
    logger.info(
        "network %s: %d nodes, %d street edges (%s)",
        source,
        net.n_nodes,
        net.n_edges,
        ", ".join(f"{m.value}: {g.in_component.sum()} nodes" for m, g in mode_graphs.items()),
    )
    return net


def _truthy(value: Any) -> bool:
    value = _first(value)
    if isinstance(value, str):
        return value.strip().lower() in ("yes", "true", "1", "-1")
    return bool(value) if value is not None and not _isnan(value) else False


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and np.isnan(value)


def _dedupe_twoway(frame: pd.DataFrame) -> pd.DataFrame:
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
    return frame[keep].reset_index(drop=True)


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
    speeds: dict[str, dict[str, float | None]] | None = None,
) -> ModeGraph:
    """Directed graph of `mode` over street edges (see :class:`ModeGraph`).

    Speeds come from :func:`geo.modes.speed_kph`, overridden by `speeds`; a car never goes
    faster than an edge's ``maxspeed`` tag, and a bus never faster than 60 % of it.
    """
    classes = pd.unique(highway)
    lookup: dict[str, float] = {}
    for hw in classes:
        kph = speed_kph(str(hw), mode)
        if speeds and hw in speeds and mode.value in speeds[hw]:
            kph = speeds[hw][mode.value]
        lookup[str(hw)] = np.nan if kph is None else float(kph)
    kph_arr = pd.Series(highway).map(lookup).to_numpy(dtype=float)
    if maxspeed_kph is not None and mode in (TravelMode.CAR, TravelMode.BUS):
        cap = maxspeed_kph * (1.0 if mode is TravelMode.CAR else 0.6)
        kph_arr = np.where(np.isfinite(cap), np.fmin(kph_arr, cap), kph_arr)
    usable = np.isfinite(kph_arr) & (kph_arr > 0)
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
    )


def largest_strong_component(src: np.ndarray, dst: np.ndarray, n_nodes: int) -> np.ndarray:
    """Boolean node mask of the largest strongly connected component of a directed graph.

    Nodes without any edge are excluded, so an empty graph gives an all-False mask.
    """
    mask = np.zeros(n_nodes, dtype=bool)
    if src.size == 0:
        return mask
    adj = sp.csr_array((np.ones(src.size), (src, dst)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(adj, directed=True, connection="strong")
    touched = np.zeros(n_nodes, dtype=bool)
    touched[src] = True
    touched[dst] = True
    counts = np.bincount(labels[touched], minlength=labels.max() + 1)
    mask = (labels == int(np.argmax(counts))) & touched
    return mask


# ---------------------------------------------------------------------------------------------
# Cache: parsing a large GraphML with osmnx takes tens of seconds; the prepared arrays load in
# well under a second. The cache key covers the file's bytes, the modes and speed overrides.

CACHE_VERSION = 1
_ARRAYS = ("node_id", "x", "y", "lon", "lat", "edge_u", "edge_v", "edge_length_m", "edge_oneway")


def default_cache_dir() -> Path:
    """``$DIANMIAN_CACHE`` or ``~/.cache/dianmian``."""
    return Path(os.environ.get("DIANMIAN_CACHE", Path.home() / ".cache" / "dianmian"))


def _cache_key(source: Path, modes: tuple[TravelMode, ...], speeds: dict[str, Any] | None) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    meta = {
        "v": CACHE_VERSION,
        "modes": [m.value for m in modes],
        "speeds": speeds,
        "defaults": speed_table(),  # a changed default speed table invalidates the cache
    }
    digest.update(json.dumps(meta, sort_keys=True).encode())
    return digest.hexdigest()[:24]


def save_network(net: StreetNetwork, path: Path) -> None:
    """Write the prepared arrays of `net` to an ``.npz`` file (atomically)."""
    payload: dict[str, Any] = {name: getattr(net, name) for name in _ARRAYS}
    payload["edge_highway"] = net.edge_highway.astype(str)
    payload["meta"] = np.array(
        json.dumps({"crs": net.crs, "source": net.source, "modes": [m.value for m in net.modes]})
    )
    if net.edge_geometry is not None:
        has = np.array([g is not None for g in net.edge_geometry])
        payload["geom_index"] = np.flatnonzero(has)
        payload["geom_wkb"] = np.array(shapely.to_wkb(net.edge_geometry[has]), dtype=object)
    for mode, g in net.modes.items():
        for name in ("src", "dst", "time_s", "length_m", "edge", "reverse", "in_component"):
            payload[f"{mode.value}__{name}"] = getattr(g, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, allow_pickle=True, **payload)
    tmp.replace(path)


def read_network(path: Path) -> StreetNetwork:
    """Read a network written by :func:`save_network`."""
    with np.load(path, allow_pickle=True) as data:
        meta = json.loads(str(data["meta"]))
        arrays = {name: data[name] for name in _ARRAYS}
        geometry = None
        if "geom_index" in data:
            geometry = np.full(arrays["edge_u"].size, None, dtype=object)
            geometry[data["geom_index"]] = shapely.from_wkb(data["geom_wkb"])
        modes = {
            TravelMode(m): ModeGraph(
                mode=TravelMode(m),
                **{
                    name: data[f"{m}__{name}"]
                    for name in ("src", "dst", "time_s", "length_m", "edge", "reverse")
                },
                in_component=data[f"{m}__in_component"],
            )
            for m in meta["modes"]
        }
        return StreetNetwork(
            crs=meta["crs"],
            edge_highway=data["edge_highway"].astype(object),
            edge_geometry=geometry,
            modes=modes,
            source=meta["source"],
            **arrays,
        )


def load_network_cached(
    source: str | Path,
    *,
    modes: Iterable[TravelMode | str] = tuple(TravelMode),
    speeds: dict[str, dict[str, float | None]] | None = None,
    cache_dir: Path | None = None,
) -> StreetNetwork:
    """:func:`load_network`, reusing prepared arrays for an unchanged network file.

    Place names (downloads) are not cached here; osmnx keeps its own HTTP cache.
    """
    wanted = tuple(TravelMode(m) for m in modes)
    path = Path(str(source))
    if not path.is_file():
        return load_network(source, modes=wanted, speeds=speeds)
    cache = (cache_dir or default_cache_dir()) / f"network-{_cache_key(path, wanted, speeds)}.npz"
    if cache.is_file():
        try:
            net = read_network(cache)
            logger.info("network %s loaded from cache %s", source, cache)
            return net
        except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError, BadZipFile) as exc:
            # a stale or torn cache is rebuilt
            logger.warning("ignoring unreadable network cache %s: %s", cache, exc)
    net = load_network(source, modes=wanted, speeds=speeds)
    try:
        save_network(net, cache)
    except OSError as exc:  # a read-only home must not stop planning
        logger.warning("cannot write network cache %s: %s", cache, exc)
    return net
