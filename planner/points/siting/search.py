"""Vectorised local search for the p-median problem and maximal coverage.

Everything here works on dense numpy matrices; the only Python loops are over iterations of
the search (one swap per iteration), never over demand/site pairs.

p-median: greedy start, then best-improvement vertex substitution (Teitz & Bart 1968) using
the swap-profit decomposition of Whitaker (1983) / Resende & Werneck (2007): with ``d1``,
``d2`` the weighted costs to the nearest and second-nearest open site and ``f1`` the nearest,

    profit(r -> k) = gain(k) - loss(r) + extra(r, k)
    gain(k)        = sum_i max(0, d1_i - c_ik)
    loss(r)        = sum_{i: f1_i = r} (d2_i - d1_i)
    extra(r, k)    = sum_{i: f1_i = r} max(0, d2_i - max(c_ik, d1_i))

so one ``(open x candidates)`` profit matrix costs a few passes over the cost matrix. The local
optimum is then improved by an iterated local search with variable-size random perturbations
(VNS-style shaking), and a Lagrangian relaxation provides a lower bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def two_nearest(
    c: FloatArray, sites: IntArray
) -> tuple[FloatArray, FloatArray, IntArray, IntArray]:
    """Weighted cost to the nearest and second-nearest open site, and their positions.

    Parameters
    ----------
    c
        Weighted cost matrix ``(n_rows, n_sites)`` (weight x s).
    sites
        Indices of the open sites.

    Returns
    -------
    d1, d2, pos1, pos2
        Cost to the nearest and second-nearest open site of each row, and the positions (in
        `sites`) of those two sites. With a single open site, ``d2`` is the row maximum.
    """
    sub = c[:, sites]
    n, q = sub.shape
    rows = np.arange(n)
    if q == 1:
        # With one open site "second nearest" is the row maximum: any swap then simply moves
        # the row to the new site, and the profit formula stays exact without infinities.
        zero = np.zeros(n, dtype=np.intp)
        return sub[:, 0].copy(), c.max(axis=1), zero, zero
    two = np.argpartition(sub, 1, axis=1)[:, :2]
    a, b = sub[rows, two[:, 0]], sub[rows, two[:, 1]]
    first_is_a = a <= b
    pos1 = np.where(first_is_a, two[:, 0], two[:, 1])
    pos2 = np.where(first_is_a, two[:, 1], two[:, 0])
    return np.minimum(a, b), np.maximum(a, b), pos1, pos2


GREEDY_RECOUNT = 32
"""Greedy p-median: steps between full recounts of the incremental gains."""


def pmedian_cost(c: FloatArray, sites: IntArray) -> float:
    """Objective of an open set: sum over rows of the weighted cost to the nearest open site."""
    return float(c[:, sites].min(axis=1).sum())


def greedy_pmedian(c: FloatArray, q: int, fixed: IntArray) -> IntArray:
    """Greedy add: start from ``fixed``, add the site that lowers the cost most, ``q`` in all.

    The gains are kept incrementally: opening a site changes only the rows it is now
    nearest to, so each step re-scores those rows (not all of them); a full recount every
    :data:`GREEDY_RECOUNT` steps keeps rounding from drifting.
    """
    _n, m = c.shape
    sites = list(fixed.tolist())
    if sites:
        d1 = c[:, sites].min(axis=1)
    else:
        first = int(np.argmin(c.sum(axis=0)))
        sites.append(first)
        d1 = c[:, first].copy()
    is_open = np.zeros(m, dtype=bool)
    is_open[sites] = True
    gain = np.maximum(d1[:, None] - c, 0.0).sum(axis=0)
    tol = 1e-12 * max(1.0, float(d1.sum()))
    step = 0
    while len(sites) < q:
        if step and step % GREEDY_RECOUNT == 0:
            gain = np.maximum(d1[:, None] - c, 0.0).sum(axis=0)
        step += 1
        # Gains within rounding of zero are zero (ties then go to the first site, as before).
        k = int(np.argmax(np.where(is_open, -1.0, np.where(gain > tol, gain, 0.0))))
        sites.append(k)
        is_open[k] = True
        rows = np.flatnonzero(c[:, k] < d1)
        if rows.size:
            sub = c[rows]
            old, new = d1[rows], sub[:, k]
            gain -= np.maximum(old[:, None] - sub, 0.0).sum(axis=0)
            gain += np.maximum(new[:, None] - sub, 0.0).sum(axis=0)
            d1[rows] = new
    return np.asarray(sites, dtype=np.intp)


def swap_contributions(
    c_rows: FloatArray, d1: FloatArray, d2: FloatArray, pos1: IntArray, q: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Swap-profit terms ``gain (m,)``, ``loss (q,)``, ``extra (q, m)`` of a set of rows.

    ``profit(r -> k) = gain[k] - loss[r] + extra[r, k]`` is the cost saved by closing the
    open site at position ``r`` and opening site ``k`` (see the module docstring);
    `d1`, `d2`, `pos1` come from :func:`two_nearest` and `q` is the number of open sites.
    """
    a = c_rows.shape[0]
    gain = np.maximum(d1[:, None] - c_rows, 0.0).sum(axis=0)
    loss = np.bincount(pos1, weights=d2 - d1, minlength=q).astype(np.float64)
    extra_rows = np.maximum(d2[:, None] - np.maximum(c_rows, d1[:, None]), 0.0)
    owner = sp.csr_array((np.ones(a), (pos1, np.arange(a))), shape=(q, a))
    extra: FloatArray = np.asarray(owner @ extra_rows)
    return gain, loss, extra


class SwapState:
    """Open set plus the incremental swap-profit terms (Resende & Werneck 2007).

    After a swap only the rows whose nearest or second-nearest open site changes are
    re-scored, so a swap costs ``O(affected rows x sites)`` instead of a full pass.
    """

    def __init__(self, c: FloatArray, sites: IntArray, fixed_mask: NDArray[np.bool_]) -> None:
        self.c = c
        self.sites = np.asarray(sites, dtype=np.intp).copy()
        self.fixed_mask = fixed_mask
        self.d1, self.d2, self.pos1, self.pos2 = two_nearest(c, self.sites)
        self.gain, self.loss, self.extra = swap_contributions(
            c, self.d1, self.d2, self.pos1, self.sites.size
        )

    def copy(self) -> SwapState:
        new = object.__new__(SwapState)
        new.c, new.fixed_mask = self.c, self.fixed_mask
        for name in ("sites", "d1", "d2", "pos1", "pos2", "gain", "loss", "extra"):
            setattr(new, name, getattr(self, name).copy())
        return new

    @property
    def cost(self) -> float:
        """Exact objective (``d1`` is recomputed per row, never accumulated)."""
        return float(self.d1.sum())

    def swap(self, r: int, k: int) -> None:
        """Close the site at position ``r`` and open site ``k`` there."""
        c, q = self.c, self.sites.size
        affected = np.flatnonzero((self.pos1 == r) | (self.pos2 == r) | (c[:, k] < self.d2))
        c_aff = c[affected]
        g_old, l_old, e_old = swap_contributions(
            c_aff, self.d1[affected], self.d2[affected], self.pos1[affected], q
        )
        self.sites[r] = k
        a1, a2, p1, p2 = two_nearest(c_aff, self.sites)
        self.d1[affected], self.d2[affected] = a1, a2
        self.pos1[affected], self.pos2[affected] = p1, p2
        g_new, l_new, e_new = swap_contributions(c_aff, a1, a2, p1, q)
        self.gain += g_new - g_old
        self.loss += l_new - l_old
        self.extra += e_new - e_old

    def local_search(self, tol: float) -> None:
        """Best-improvement swaps until none lowers the cost by more than ``tol``."""
        m = self.c.shape[1]
        if self.fixed_mask.all() or self.sites.size == m:
            return
        while True:
            profit = self.extra + self.gain[None, :]
            profit -= self.loss[:, None]
            profit[:, self.sites] = -np.inf
            profit[self.fixed_mask, :] = -np.inf
            r, k = divmod(int(np.argmax(profit)), m)
            if profit[r, k] <= tol:
                return
            self.swap(r, k)


def swap_local_search(
    c: FloatArray, sites: IntArray, fixed_mask: NDArray[np.bool_], *, tol: float
) -> tuple[IntArray, float]:
    """Best-improvement vertex substitution (Teitz & Bart) from ``sites``; returns the cost too.

    ``fixed_mask[pos]`` is True for positions of ``sites`` that may not be swapped out.
    """
    state = SwapState(c, sites, fixed_mask)
    state.local_search(tol)
    return state.sites, state.cost


@dataclass(frozen=True)
class SearchStats:
    """How the p-median search went (for logs and result notes)."""

    rounds: int
    improvements: int
    start_cost: float


def iterated_swap_search(
    c: FloatArray,
    q: int,
    fixed: IntArray,
    *,
    rng: np.random.Generator,
    max_rounds: int,
    patience: int,
    target: float = -np.inf,
    start: IntArray | None = None,
    deadline: float = np.inf,
) -> tuple[IntArray, float, SearchStats]:
    """Greedy + vertex substitution, then iterated local search with VNS-style shaking.

    Parameters
    ----------
    c
        Weighted cost matrix (rows with zero weight removed beforehand).
    q
        Total number of open sites, fixed ones included.
    fixed
        Sites that must stay open.
    rng
        Random generator for the perturbations (reproducible runs).
    max_rounds
        Upper bound on perturbation rounds.
    patience
        Stop after this many consecutive rounds without improvement.
    target
        Stop as soon as the cost is at most this (e.g. a proven lower bound).
    start
        Optional start set of ``q`` sites (containing ``fixed``) instead of greedy.
    deadline
        ``time.perf_counter()`` value after which no new perturbation round starts.
    """
    _n, m = c.shape
    scale = float(np.abs(c).max()) if c.size else 1.0
    tol = 1e-9 * max(scale, 1.0)
    sites = greedy_pmedian(c, q, fixed) if start is None else np.asarray(start, dtype=np.intp)
    start_cost = pmedian_cost(c, sites)
    fixed_set = set(fixed.tolist())

    def fixed_mask(s: IntArray) -> NDArray[np.bool_]:
        return np.fromiter((x in fixed_set for x in s.tolist()), dtype=bool, count=s.size)

    best = SwapState(c, sites, fixed_mask(sites))
    best.local_search(tol)
    n_movable = q - len(fixed_set)
    n_closed = m - q
    if n_movable == 0 or n_closed == 0:
        return np.sort(best.sites), best.cost, SearchStats(0, 0, start_cost)
    k_max = max(1, min(n_movable, n_closed, max(3, q // 5)))
    movable_pos = np.flatnonzero(~best.fixed_mask)
    k = 1
    rounds = improvements = stale = 0
    while (
        rounds < max_rounds
        and stale < patience
        and best.cost > target + tol
        and time.perf_counter() < deadline
    ):
        rounds += 1
        if rounds % 50 == 0:
            best = SwapState(c, best.sites, best.fixed_mask)  # drop float drift of the sums
        cand = best.copy()
        out_pos = rng.choice(movable_pos, size=k, replace=False)
        closed = np.setdiff1d(np.arange(m), cand.sites)
        for r, new_site in zip(out_pos, rng.choice(closed, size=k, replace=False), strict=True):
            cand.swap(int(r), int(new_site))
        cand.local_search(tol)
        if cand.cost < best.cost - tol:
            best = cand
            improvements += 1
            stale = 0
            k = 1
        else:
            stale += 1
            k = k + 1 if k < k_max else 1
    final = np.sort(best.sites)
    return final, pmedian_cost(c, final), SearchStats(rounds, improvements, start_cost)


def lagrangian_bound(
    c: FloatArray,
    q: int,
    fixed: IntArray,
    upper: float,
    *,
    iterations: int = 300,
    deadline: float = np.inf,
) -> float:
    """Lower bound on the p-median optimum by subgradient optimisation.

    Relaxing "each row is assigned once" with multipliers ``lam`` gives

        L(lam) = sum(lam) + sum of the q smallest rho_j (fixed sites forced in),
        rho_j  = sum_i min(0, c_ij - lam_i),

    a valid lower bound for every ``lam`` (Beasley 1985/1993). Step sizes follow Held-Karp
    with the incumbent ``upper`` as target.
    """
    _n, m = c.shape
    lam = c.min(axis=1) + 0.0
    # Start between nearest and second-nearest costs: a common warm start.
    lam = np.partition(c, min(1, m - 1), axis=1)[:, min(1, m - 1)]
    best = -np.inf
    theta = 2.0
    stale = 0
    free = np.ones(m, dtype=bool)
    free[fixed] = False
    n_free = q - fixed.size
    for _ in range(iterations):
        if time.perf_counter() > deadline:
            break
        reduced = np.minimum(c - lam[:, None], 0.0)
        rho = reduced.sum(axis=0)
        chosen = fixed.tolist()
        if n_free > 0:
            free_idx = np.flatnonzero(free)
            part = np.argpartition(rho[free_idx], n_free - 1)[:n_free]
            chosen += free_idx[part].tolist()
        value = float(lam.sum() + rho[chosen].sum())
        if value > best + 1e-12 * max(1.0, abs(value)):
            best = value
            stale = 0
        else:
            stale += 1
            if stale >= 20:
                theta /= 2.0
                stale = 0
        if best >= upper - 1e-9 * max(1.0, abs(upper)) or theta < 1e-4:
            break
        sub = 1.0 - (reduced[:, chosen] < 0.0).sum(axis=1)
        norm = float(sub @ sub)
        if norm == 0.0:
            break  # the relaxed solution is feasible, hence optimal
        lam = lam + theta * (upper - value) / norm * sub
    return best
