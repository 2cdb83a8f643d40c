"""Nearest-facility labelling of every node (network Voronoi).

People travel *to* a facility, so labels are times from each node to the facility, found by
searching from the facilities on the reversed graph. Facilities are snapped points (virtual
nodes, see :mod:`geo.engine.base`), so their partial edges and access legs count.

* ``k = 1``: one multi-source Dijkstra pass (scipy ``min_only=True``) labels every node
  with its nearest facility and the time to it.
* ``k > 1``: one search per facility (batched, with the cutoff as search radius), keeping
  the k smallest times per node.

The result answers "nearest facility of node i" in O(1) (:meth:`NearestFacilities.nearest`)
and of any snapped point in O(k) (:meth:`NearestFacilities.for_points`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra

from .base import Arcs, ModeBase
from .candidates import Candidates, SameEdge, top_k_unique, via_edge_ends
from .search import batch_size, many_to_many
from .snap import SnappedPoints, arriving_arcs

logger = logging.getLogger(__name__)

MAX_K = 16
"""Largest number of nearest facilities per node."""


@dataclass(frozen=True, eq=False)
class NearestFacilities:
    """The k nearest facilities of every network node and the travel time (s) to each.

    Attributes
    ----------
    facility
        ``(n_nodes, k)`` indices into :attr:`facility_ids` (the order the facilities were
        given in), nearest first; ``-1`` where none is reachable (within the cutoff).
    time_s
        ``(n_nodes, k)`` travel time from the node to that facility, ``inf`` where none.
    facility_ids
        Identifiers of all facilities given (also those of other groups).
    """

    facility: np.ndarray
    time_s: np.ndarray
    facility_ids: np.ndarray
    base: ModeBase = field(repr=False)
    facilities: SnappedPoints = field(repr=False)
    members: np.ndarray = field(repr=False)
    cutoff_s: float | None = None

    @property
    def k(self) -> int:
        return int(self.facility.shape[1])

    def nearest(self, node: int) -> tuple[int, float]:
        """``(facility index, time s)`` of the nearest facility of `node`; ``(-1, inf)`` if none."""
        return int(self.facility[node, 0]), float(self.time_s[node, 0])

    def for_points(self, points: SnappedPoints) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest facilities of snapped points and the time (s) to each.

        A point leaves its street edge through one of its ends (or reaches a facility on
        the same edge directly), so its labels follow from the ends' labels plus the
        partial edge and access times (see :mod:`geo.engine.candidates`).

        Returns
        -------
        facility, time_s
            Arrays of shape ``(len(points), k)``; ``-1``/``inf`` where none (or the point
            is invalid).
        """
        cand = via_edge_ends(self.base, points, self.facility, self.time_s)
        member = np.zeros(len(self.facilities), dtype=bool)
        member[self.members] = True
        same = SameEdge(self.base, self.facilities).candidates(points, member)
        if same is not None:
            cand = cand.concat(Candidates(same.facility, same.time_s, None))
        if self.cutoff_s is not None:
            cand = Candidates(
                cand.facility, np.where(cand.time_s <= self.cutoff_s, cand.time_s, np.inf), None
            )
        top = top_k_unique(cand, self.k)
        return top.facility, top.time_s


def label(
    base: ModeBase,
    facilities: SnappedPoints,
    members: np.ndarray,
    *,
    k: int = 1,
    cutoff_s: float | None = None,
) -> NearestFacilities:
    """Label every node with its `k` nearest facilities among `members` (indices)."""
    if not (isinstance(k, int | np.integer) and 1 <= k <= MAX_K):
        msg = f"`k` must be an integer in 1..{MAX_K}, got {k!r}"
        raise ValueError(msg)
    limit = np.inf if cutoff_s is None else float(cutoff_s)
    n = base.n_nodes
    sub = facilities.take(members)
    arcs = base.arcs.concat(arriving_arcs(base, sub, n))
    n_total = n + len(sub)
    csr = arcs.csr(n_total, reverse=True)
    usable = np.flatnonzero(sub.valid)
    sources = n + usable
    fac = np.full((n, k), -1, dtype=np.int64)
    tim = np.full((n, k), np.inf)
    if usable.size and k == 1:
        d, _, src = dijkstra(
            csr, indices=sources, min_only=True, return_predecessors=True, limit=limit
        )
        d = d[:n]
        src = src[:n]
        got = src >= 0
        fac[got, 0] = members[src[got] - n]
        tim[got, 0] = d[got]
    elif usable.size:
        step = batch_size(n_total)
        for start in range(0, sources.size, step):
            chunk = sources[start : start + step]
            d = dijkstra(csr, indices=chunk, limit=limit)[:, :n].T  # (n, b)
            cand_f = np.concatenate([fac, np.broadcast_to(members[chunk - n], d.shape)], axis=1)
            cand_t = np.concatenate([tim, d], axis=1)
            keep = np.argsort(cand_t, axis=1, kind="stable")[:, :k]
            tim = np.take_along_axis(cand_t, keep, axis=1)
            fac = np.take_along_axis(cand_f, keep, axis=1)
    if np.isfinite(limit):
        fac[tim > limit] = -1
        tim[tim > limit] = np.inf
    fac[~np.isfinite(tim)] = -1
    return NearestFacilities(
        facility=fac,
        time_s=tim,
        facility_ids=facilities.ids,
        base=base,
        facilities=facilities,
        members=np.asarray(members, dtype=np.int64),
        cutoff_s=cutoff_s,
    )


def label_k_with_lengths(
    base: ModeBase,
    facilities: SnappedPoints,
    groups: dict[str, np.ndarray],
    *,
    k: int,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The `k` nearest facilities of every node per group, with times and path lengths.

    One reversed search per facility (batched, predecessor trees for the lengths along the
    fastest paths); the top `k` per group is merged batch by batch, so memory stays at one
    batch of rows plus the labels.

    Parameters
    ----------
    base
        The mode's graph.
    facilities
        Snapped facilities (invalid ones are never labelled).
    groups
        ``{group: facility indices}``.
    k
        Facilities kept per node and group.

    Returns
    -------
    ``{group: (facility (n_nodes, k) int32, -1 = none; time_s (n_nodes, k), inf = none;
    length_m (n_nodes, k))}``
    """
    n = base.n_nodes
    arrive = arriving_arcs(base, facilities, n)
    n_total = n + len(facilities)
    all_arcs = base.arcs.concat(arrive)
    # Tree-length lookups need the arcs sorted by (src, dst).
    order = np.lexsort((all_arcs.dst, all_arcs.src))
    arcs = Arcs(
        all_arcs.src[order], all_arcs.dst[order], all_arcs.time_s[order], all_arcs.length_m[order]
    )
    csr = arcs.csr(n_total, reverse=True)
    usable = np.flatnonzero(facilities.valid)
    top = {
        key: (
            np.full((n, k), -1, dtype=np.int64),
            np.full((n, k), np.inf),
            np.full((n, k), np.inf),
        )
        for key in groups
    }
    member = {key: np.isin(usable, m) for key, m in groups.items()}
    step = max(1, batch_size(n_total, factor=4))
    for start in range(0, usable.size, step):
        chunk = usable[start : start + step]
        t, ln = many_to_many(csr, arcs, n + chunk, np.arange(n), lengths=True, reverse=True).dense()
        if ln is None:  # many_to_many returns lengths when asked; guard the contract
            msg = "many_to_many returned no lengths"
            raise RuntimeError(msg)
        for key, (fac, tim, lng) in top.items():
            sel = member[key][start : start + step]
            if not sel.any():
                continue
            cand_f = np.concatenate([fac, np.broadcast_to(chunk[sel], (n, int(sel.sum())))], axis=1)
            cand_t = np.concatenate([tim, t[sel].T], axis=1)
            cand_l = np.concatenate([lng, ln[sel].T], axis=1)
            keep = np.argsort(cand_t, axis=1, kind="stable")[:, :k]
            top[key] = (
                np.take_along_axis(cand_f, keep, axis=1),
                np.take_along_axis(cand_t, keep, axis=1),
                np.take_along_axis(cand_l, keep, axis=1),
            )
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for key, (fac, tim, lng) in top.items():
        none = ~np.isfinite(tim)
        fac[none] = -1
        lng[none] = np.inf
        out[key] = (fac.astype(np.int32), tim, lng)
    return out
