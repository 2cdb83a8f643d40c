"""Per-mode arrays the engine works on, and graphs extended by virtual point nodes.

A snapped point becomes a *virtual node* appended after the real nodes. A point that is a
source gets edges to the ends of its street edge that it may travel to; a point that is a
target gets edges from the ends it may be reached from. Each such edge costs the partial
edge time plus the off-network access leg. Shortest paths then run unchanged on the
extended graph (scipy.sparse.csgraph), which gives exact point-to-point times, including
one-way streets and two points on the same street edge (an extra direct edge).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import scipy.sparse as sp
import shapely

from ..modes import TravelMode
from ..network import MIN_EDGE_TIME_S, ModeGraph, StreetNetwork


@dataclass(frozen=True, eq=False)
class Arcs:
    """Directed arcs with time (s) and length (m); one arc per node pair (the fastest)."""

    src: np.ndarray
    dst: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray

    @classmethod
    def fastest(
        cls, src: np.ndarray, dst: np.ndarray, time_s: np.ndarray, length_m: np.ndarray
    ) -> tuple[Arcs, np.ndarray]:
        """Keep the fastest arc of each (src, dst) pair, sorted by (src, dst).

        Returns the arcs and, for each kept arc, its position in the input arrays.
        """
        order = np.lexsort((time_s, dst, src))
        s, d = src[order], dst[order]
        keep = np.ones(s.size, dtype=bool)
        keep[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
        pos = order[keep]
        arcs = cls(
            src=src[pos].astype(np.int64),
            dst=dst[pos].astype(np.int64),
            time_s=time_s[pos].astype(float),
            length_m=length_m[pos].astype(float),
        )
        return arcs, pos

    @property
    def size(self) -> int:
        return int(self.src.size)

    def concat(self, other: Arcs) -> Arcs:
        return Arcs(
            src=np.concatenate([self.src, other.src]),
            dst=np.concatenate([self.dst, other.dst]),
            time_s=np.concatenate([self.time_s, other.time_s]),
            length_m=np.concatenate([self.length_m, other.length_m]),
        )

    def csr(self, n: int, *, reverse: bool = False, weight: str = "time") -> sp.csr_array:
        """Sparse adjacency (explicit zeros are edges for csgraph), optionally transposed."""
        w = self.time_s if weight == "time" else self.length_m
        rows, cols = (self.dst, self.src) if reverse else (self.src, self.dst)
        mat = sp.csr_array((w, (rows, cols)), shape=(n, n))
        mat.sort_indices()
        return mat

    def lookup(self, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        """Position of arc ``a -> b`` for each pair (arcs must be sorted by (src, dst))."""
        keys = self.src * n + self.dst
        want = np.asarray(a, dtype=np.int64) * n + np.asarray(b, dtype=np.int64)
        pos = np.searchsorted(keys, want)
        pos = np.minimum(pos, max(keys.size - 1, 0))
        if keys.size == 0 or not np.array_equal(keys[pos], want):
            msg = "internal: asked for an arc that is not in the graph"
            raise AssertionError(msg)
        return pos


@dataclass(frozen=True, eq=False)
class ModeBase:
    """Everything per mode that does not depend on the query points.

    Attributes
    ----------
    arcs
        Fastest directed arc per node pair of the mode graph, sorted by (src, dst).
    arc_edge, arc_reverse
        Street edge of each arc and whether it runs against the edge's digitisation.
    t_fwd, t_bwd
        Per street edge: travel time (s) along / against its digitised direction for this
        mode, ``inf`` where the mode may not travel that way.
    lines
        Street edge geometries in the network CRS (straight segments where none is stored).
    usable
        Street edges this mode may use in at least one direction (snapping targets).
    """

    network: StreetNetwork
    mode: TravelMode
    graph: ModeGraph
    arcs: Arcs
    arc_edge: np.ndarray
    arc_reverse: np.ndarray
    t_fwd: np.ndarray
    t_bwd: np.ndarray
    lines: np.ndarray
    usable: np.ndarray
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls, network: StreetNetwork, mode: TravelMode | str, *, lines: np.ndarray | None = None
    ) -> ModeBase:
        """The arrays of `mode`; `lines` (:func:`street_lines` of `network`) may be shared by
        several modes, saving their time and memory."""
        graph = network.mode(mode)
        time_s = np.maximum(graph.time_s, MIN_EDGE_TIME_S)  # as ModeGraph.csr and networkx
        arcs, pos = Arcs.fastest(graph.src, graph.dst, time_s, graph.length_m)
        n_streets = network.n_edges
        t_fwd = np.full(n_streets, np.inf)
        t_bwd = np.full(n_streets, np.inf)
        rev = graph.reverse.astype(bool)
        np.minimum.at(t_fwd, graph.edge[~rev], time_s[~rev])
        np.minimum.at(t_bwd, graph.edge[rev], time_s[rev])
        return cls(
            network=network,
            mode=TravelMode(mode),
            graph=graph,
            arcs=arcs,
            arc_edge=graph.edge[pos],
            arc_reverse=rev[pos],
            t_fwd=t_fwd,
            t_bwd=t_bwd,
            lines=street_lines(network) if lines is None else lines,
            usable=np.isfinite(t_fwd) | np.isfinite(t_bwd),
        )

    @property
    def n_nodes(self) -> int:
        return self.network.n_nodes

    def base_csr(self, *, reverse: bool = False) -> sp.csr_array:
        """Adjacency of the mode graph weighted by time (s), built once per direction."""
        csr = self.memo(f"csr_{reverse}", lambda: self.arcs.csr(self.n_nodes, reverse=reverse))
        return cast(sp.csr_array, csr)

    def memo(self, key: str, build: Callable[[], object]) -> object:
        """The value cached under `key`, built by `build` on first use (spatial index, CSR)."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]


def street_lines(network: StreetNetwork) -> np.ndarray:
    """All street edge geometries in the network CRS, vectorised (no per-edge Python)."""
    u, v = network.edge_u, network.edge_v
    coords = np.stack(
        [
            np.column_stack([network.x[u], network.y[u]]),
            np.column_stack([network.x[v], network.y[v]]),
        ],
        axis=1,
    )
    lines = np.asarray(shapely.linestrings(coords), dtype=object)
    if network.edge_geometry is not None:
        has = np.array([g is not None for g in network.edge_geometry], dtype=bool)
        lines[has] = network.edge_geometry[has]
    return lines
