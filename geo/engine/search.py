"""Batched shortest-path searches with scipy.sparse.csgraph.dijkstra.

scipy's Dijkstra (Cython, binary heap) was measured against python-igraph 1.0 on a
200,000-node grid: 39 ms versus 65 ms per source, and only scipy offers a search radius
(``limit=``) and a one-pass multi-source search (``min_only=True``) that reports the
nearest source of every node. So scipy it is.

Distances along the time-shortest paths come from the predecessor trees: the tree of each
source is turned into a forest graph weighted by arc length, and one multi-source Dijkstra
run on that forest (``min_only=True``, every tree its own component) sums the lengths along
each tree path. This gives the length of exactly the path whose time is reported, unlike a
"time + epsilon * length" weight, which may trade time for length.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .base import Arcs

logger = logging.getLogger(__name__)

BATCH_BYTES = 256 * 2**20
"""Memory budget of one batch of dense Dijkstra results (rows x nodes x 8 bytes)."""


def batch_size(n_nodes: int, *, factor: int = 1) -> int:
    return max(1, BATCH_BYTES // max(1, n_nodes * 8 * factor))


def many_to_many(
    csr: sp.csr_array,
    arcs: Arcs,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    limit: float = np.inf,
    lengths: bool = False,
    reverse: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Times (and lengths) from each source to each target of `csr`.

    Parameters
    ----------
    csr
        Graph to search, weighted by time (s); the transpose of `arcs` when `reverse`.
    arcs
        The arcs of the forward graph (lengths in m), sorted by (src, dst).
    sources, targets
        Node indices into `csr`.
    limit
        Stop searching beyond this time (s); farther targets get ``inf``.
    lengths
        Also return the length (m) of each time-shortest path.
    reverse
        `csr` is the reversed graph (lengths of tree arcs are looked up the other way).

    Returns
    -------
    times, lengths
        Arrays of shape ``(len(sources), len(targets))``; ``inf`` where unreachable.
    """
    n = csr.shape[0]
    times = np.full((sources.size, targets.size), np.inf)
    dists = np.full((sources.size, targets.size), np.inf) if lengths else None
    step = batch_size(n, factor=4 if lengths else 1)
    for start in range(0, sources.size, step):
        chunk = sources[start : start + step]
        if lengths:
            d, pred = dijkstra(csr, indices=chunk, limit=limit, return_predecessors=True)
            assert dists is not None
            dists[start : start + chunk.size] = tree_lengths(pred, chunk, arcs, reverse=reverse)[
                :, targets
            ]
        else:
            d = dijkstra(csr, indices=chunk, limit=limit)
        times[start : start + chunk.size] = d[:, targets]
    if np.isfinite(limit):
        over = times > limit
        times[over] = np.inf
        if dists is not None:
            dists[over] = np.inf
    return times, dists


def tree_lengths(pred: np.ndarray, roots: np.ndarray, arcs: Arcs, *, reverse: bool) -> np.ndarray:
    """Length (m) from each root along its predecessor tree to every node.

    `pred` is scipy's predecessor matrix (``-9999`` for no predecessor), one row per root.
    Nodes outside a tree get ``inf``.
    """
    b, n = pred.shape
    rows, nodes = np.nonzero(pred >= 0)
    parents = pred[rows, nodes].astype(np.int64)
    # In a reversed search, tree arc parent -> node is the forward arc node -> parent.
    a, c = (nodes, parents) if reverse else (parents, nodes)
    w = arcs.length_m[arcs.lookup(a, c, n)]
    offset = rows.astype(np.int64) * n
    forest = sp.csr_array((w, (offset + parents, offset + nodes)), shape=(b * n, b * n))
    dist = dijkstra(forest, indices=np.arange(b, dtype=np.int64) * n + roots, min_only=True)
    return np.asarray(dist, dtype=float).reshape(b, n)
