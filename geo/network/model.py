"""The prepared street network: flat arrays per street edge and per travel mode.

:class:`StreetNetwork` holds nodes and street edges in a projected metric CRS;
:class:`ModeGraph` the directed edges one travel mode may use. Everything later (snapping,
matrices, labels, routes) runs on these arrays, never on per-pair networkx calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from ..errors import NetworkError
from ..modes import TravelMode

MIN_EDGE_TIME_S = 1e-3
"""Lower bound on an edge's travel time (s). Sparse matrices treat 0 as "no edge"."""


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
    street_allowed
        Boolean mask over street edges: the mode may use the street by its tags and road
        class, in whichever component (for connectivity diagnostics); ``None`` if unknown.
    """

    mode: TravelMode
    src: np.ndarray
    dst: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray
    edge: np.ndarray
    reverse: np.ndarray
    in_component: np.ndarray
    street_allowed: np.ndarray | None = None
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
    direction; per-mode directed graphs are in :attr:`modes`. :attr:`edge_way` is the OSM
    way id of each street edge (``-1`` where unknown, ``None`` if the source had none);
    :attr:`ingest` counts, per mode, the OSM ways kept and dropped by reason
    (:mod:`geo.network.tags`).
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
    edge_way: np.ndarray | None = None
    ingest: dict[str, Any] = field(default_factory=dict)

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
            "ingest": self.ingest,
        }

    def to_networkx(self, mode: TravelMode | str) -> nx.DiGraph[int]:
        """A networkx DiGraph of one mode (weights ``time_s`` and ``length_m``).

        Meant for checking results in tests and small analyses, not for hot paths.
        """
        g = self.mode(mode)
        graph: nx.DiGraph[int] = nx.DiGraph()
        graph.add_nodes_from(range(self.n_nodes))
        for s, d, t, ln in zip(
            g.src.tolist(), g.dst.tolist(), g.time_s.tolist(), g.length_m.tolist(), strict=True
        ):
            t = max(t, MIN_EDGE_TIME_S)
            if not graph.has_edge(s, d) or graph[s][d]["time_s"] > t:
                graph.add_edge(s, d, time_s=t, length_m=ln)
        return graph
