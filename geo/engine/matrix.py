"""Many-to-many travel-time and distance matrices of one mode.

Origins and destinations are snapped points (see :mod:`geo.engine.snap`), added to the
graph as virtual nodes, so times are exact from point to point (access legs at walking
speed, partial edges, one-way streets, points on the same street). Dijkstra runs from the
smaller side: from the origins on the graph, or, when there are more origins than
destinations, from the destinations on the reversed graph. A cutoff limits each search.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..modes import TravelMode
from .base import ModeBase
from .search import SearchResult, many_to_many
from .snap import SnappedPoints, arriving_arcs, direct_arcs, leaving_arcs

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Travel times (s) and optionally distances (m) from origins to destinations.

    Attributes
    ----------
    time_s
        ``(n_origins, n_destinations)``: a dense array with ``inf`` for pairs that are
        unreachable, beyond the cutoff or involve an unsnapped point; or, when sparse, a
        ``scipy.sparse.csr_array`` storing only the finite entries (zeros are stored
        explicitly: a missing entry means "no time", not 0).
    length_m
        Same shape and storage: metres along the time-shortest path (including the access
        legs), or ``None`` if not asked for.
    origin_ids, destination_ids
        Identifiers of the rows and columns.
    mode
        Travel mode.
    cutoff_s
        The cutoff (s) used, ``None`` for none.
    """

    time_s: np.ndarray | sp.csr_array
    length_m: np.ndarray | sp.csr_array | None
    origin_ids: np.ndarray
    destination_ids: np.ndarray
    mode: TravelMode
    cutoff_s: float | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.origin_ids.size), int(self.destination_ids.size))

    @property
    def is_sparse(self) -> bool:
        return bool(sp.issparse(self.time_s))

    def dense_time(self) -> np.ndarray:
        """Times as a dense array, ``inf`` where there is none."""
        return _dense(self.time_s)

    def dense_length(self) -> np.ndarray | None:
        """Distances as a dense array, ``inf`` where there is none."""
        return None if self.length_m is None else _dense(self.length_m)

    def to_frame(self) -> pd.DataFrame:
        """Finite entries in long form: ``origin_id, destination_id, time_s[, length_m]``."""
        t = self.dense_time()
        i, j = np.nonzero(np.isfinite(t))
        frame = pd.DataFrame(
            {
                "origin_id": self.origin_ids[i],
                "destination_id": self.destination_ids[j],
                "time_s": t[i, j],
            }
        )
        if self.length_m is not None:
            frame["length_m"] = _dense(self.length_m)[i, j]
        return frame


def _dense(m: np.ndarray | sp.csr_array) -> np.ndarray:
    if not sp.issparse(m):
        return np.asarray(m)
    out = np.full(m.shape, np.inf)
    coo = sp.coo_array(m)
    out[coo.row, coo.col] = coo.data
    return out


def point_matrix(
    base: ModeBase,
    origins: SnappedPoints,
    destinations: SnappedPoints,
    *,
    cutoff_s: float | None = None,
    lengths: bool = False,
    sparse: bool = False,
    workers: int | None = 1,
) -> TravelMatrix:
    """Point-to-point matrix on the graph extended by origin and destination nodes."""
    limit = _limit(cutoff_s)
    n = base.n_nodes
    first_o, first_d = n, n + len(origins)
    n_total = first_d + len(destinations)
    arcs = base.arcs.concat(leaving_arcs(base, origins, first_o))
    arcs = arcs.concat(arriving_arcs(base, destinations, first_d))
    arcs = arcs.concat(direct_arcs(base, origins, first_o, destinations, first_d))
    order = np.lexsort((arcs.dst, arcs.src))  # lookups need (src, dst) order
    arcs = type(arcs)(arcs.src[order], arcs.dst[order], arcs.time_s[order], arcs.length_m[order])
    o_nodes = first_o + np.arange(len(origins), dtype=np.int64)
    d_nodes = first_d + np.arange(len(destinations), dtype=np.int64)
    reverse = len(origins) > len(destinations)
    csr = arcs.csr(n_total, reverse=reverse)
    logger.debug(
        "%s matrix %d x %d, searching from the %s",
        base.mode,
        len(origins),
        len(destinations),
        "destinations" if reverse else "origins",
    )
    src, dst = (d_nodes, o_nodes) if reverse else (o_nodes, d_nodes)
    res = many_to_many(
        csr,
        arcs,
        src,
        dst,
        limit=limit,
        lengths=lengths,
        reverse=reverse,
        sparse=sparse,
        workers=workers,
    )
    return _result(res, reverse, origins.ids, destinations.ids, base.mode, cutoff_s)


def node_matrix(
    base: ModeBase,
    origin_nodes: np.ndarray,
    destination_nodes: np.ndarray,
    *,
    cutoff_s: float | None = None,
    lengths: bool = False,
    sparse: bool = False,
    workers: int | None = 1,
) -> TravelMatrix:
    """Node-to-node matrix (ids are the node indices)."""
    o = _check_nodes(origin_nodes, base.n_nodes, "origin_nodes")
    d = _check_nodes(destination_nodes, base.n_nodes, "destination_nodes")
    limit = _limit(cutoff_s)
    reverse = o.size > d.size
    csr = base.base_csr(reverse=reverse)
    src, dst = (d, o) if reverse else (o, d)
    res = many_to_many(
        csr,
        base.arcs,
        src,
        dst,
        limit=limit,
        lengths=lengths,
        reverse=reverse,
        sparse=sparse,
        workers=workers,
    )
    return _result(res, reverse, o, d, base.mode, cutoff_s)


def _result(
    res: SearchResult,
    transpose: bool,
    o_ids: np.ndarray,
    d_ids: np.ndarray,
    mode: TravelMode,
    cutoff_s: float | None,
) -> TravelMatrix:
    """The matrix of a search (from the destinations, on the reversed graph, when
    `transpose`): sparse results straight from the finite entries, dense ones C-ordered."""
    if res.sparse:
        t_sp, ln_sp = res.csr(transpose=transpose)
        return TravelMatrix(t_sp, ln_sp, o_ids, d_ids, mode, cutoff_s)
    t, ln = res.dense()
    if transpose:
        t, ln = t.T, (None if ln is None else ln.T)
    t = np.ascontiguousarray(t)
    ln = None if ln is None else np.ascontiguousarray(ln)
    return TravelMatrix(t, ln, o_ids, d_ids, mode, cutoff_s)


def _limit(cutoff_s: float | None) -> float:
    if cutoff_s is None:
        return np.inf
    if not (isinstance(cutoff_s, int | float) and cutoff_s >= 0) or np.isnan(cutoff_s):
        msg = f"`cutoff_s` must be a time >= 0 s or None, got {cutoff_s!r}"
        raise ValueError(msg)
    return float(cutoff_s)


def _check_nodes(nodes: np.ndarray, n: int, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(nodes))
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        msg = f"`{name}` must be a 1-d array of node indices"
        raise ValueError(msg)
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        msg = f"`{name}` has node indices outside 0..{n - 1}: {arr[bad][:10].tolist()}"
        raise ValueError(msg)
    return arr.astype(np.int64)
