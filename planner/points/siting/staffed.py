"""Staffed siting: which points open and how many staff each gets, waits bounded at the peak.

Demand rows (visits per day) go to an open point within ``max_cost`` seconds, to the central
market (a fixed site with its own staff and a fixed safe capacity, at a penalty of
``max_cost`` per visit so that it is used only when no point has room) or stay unserved (a
much larger penalty). A point ``j`` with ``c`` staff serves at most ``cap[j, c]`` visits a
day - what ``c`` staff serve with the peak-hour mean wait and occupancy within their limits
(:func:`planner.points.staffing.capacity_table`). Staff come from one pool; existing stations
are always open with at least one staff; excluded sites never open; at most ``p`` new points
open. The objective is the total travel time (visit x s) plus the penalties, plus a tiny cost
per staff so that no staff is assigned without need.

MILP (HiGHS) over binaries ``y[j, c]`` (site ``j`` open with ``c`` staff) and continuous
flows; exact for small instances. At city scale a heuristic: a greedy p-median path
(capacities relaxed) gives the candidate points of every count at once; a swap local search
improves the set; then the MILP is solved exactly over that set plus the next best
candidates, each row keeping its nearest reachable points. A Lagrangian p-median bound
(capacities and pool relaxed) bounds the optimum from below, so the gap is reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from planner.errors import InfeasibleError
from planner.points.assign import assign
from planner.points.siting.highs import solve_milp
from planner.points.siting.problem import Method, SitingProblem, use_milp
from planner.points.siting.repair import repair
from planner.points.siting.search import greedy_pmedian, lagrangian_bound, swap_local_search
from planner.points.siting.shortfall import Shortfall, pool_bound, staffed_shortfall

logger = logging.getLogger(__name__)

REFINE_ROUNDS = 3
"""Heuristic: rounds that offer the MILP the sites reaching the visits still left over."""

STAFF_COST = 1.0
"""Objective cost of one staff (visit x s): breaks ties towards fewer staff, never trades off
against a second of anyone's trip."""


@dataclass(frozen=True, eq=False)
class StaffedResult:
    """A staffed plan over the problem's rows and sites.

    Attributes
    ----------
    open_sites
        Sorted indices of open sites (the market included).
    staff
        Staff per site (0 when closed; the market's own staff at the market).
    capacity
        Safe daily capacity per site with that staff (0 when closed).
    flows
        Sparse ``(n_rows, n_sites)`` visits per day from each row to each site (the market
        included).
    unserved
        Visits per day of each row served nowhere.
    objective, bound
        Objective (see the module docstring) and a proven lower bound (``None``: none).
    solver, status
        ``"milp-highs"``/``"heuristic"``; ``"optimal"``, ``"time limit"`` or ``"heuristic"``.
    runtime_s
        Wall-clock solve time (s).
    notes
        Remarks (restricted-problem gap, sizes).
    """

    open_sites: NDArray[np.intp]
    staff: NDArray[np.intp]
    capacity: NDArray[np.float64]
    flows: sp.csr_array
    unserved: NDArray[np.float64]
    objective: float
    bound: float | None
    solver: str
    status: str
    runtime_s: float
    notes: tuple[str, ...] = ()

    @property
    def loads(self) -> NDArray[np.float64]:
        return np.asarray(self.flows.sum(axis=0), dtype=np.float64).ravel()

    @property
    def gap(self) -> float | None:
        if self.bound is None or self.objective <= 0:
            return None
        return max(0.0, (self.objective - self.bound) / self.objective)

    def assignment(self) -> NDArray[np.intp]:
        """Site taking the largest share of each row (``-1``: none)."""
        out = np.full(self.flows.shape[0], -1, dtype=np.intp)
        coo = self.flows.tocoo()
        if coo.nnz:
            order = np.lexsort((-coo.data, coo.row))
            first = np.unique(coo.row[order], return_index=True)[1]
            out[coo.row[order][first]] = coo.col[order][first]
        return out


@dataclass(frozen=True, eq=False)
class _Milp:
    """The built MILP and what is needed to read its solution."""

    cost: NDArray[np.float64]
    a: sp.csc_array
    row_lo: NDArray[np.float64]
    row_hi: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    integer: NDArray[np.bool_]
    mrows: NDArray[np.intp]
    lpos: NDArray[np.intp]
    lstaff: NDArray[np.intp]
    lcap: NDArray[np.float64]


@dataclass(frozen=True)
class _Sub:
    """The MILP over a subset of sites: the sites, pairs kept and the built matrices."""

    sites: NDArray[np.intp]
    ii: NDArray[np.intp]
    jj: NDArray[np.intp]
    rank: NDArray[np.int64]


def _has_room(room: list[float], sites: NDArray[np.intp]) -> NDArray[np.bool_]:
    """True for pairs whose site starts with room (the others never take a visit)."""
    return np.asarray(room)[sites] > 0


class StaffedSiting:
    """Open at most ``p`` new points and staff them from a pool (see the module docstring).

    Parameters
    ----------
    problem
        Rows x sites travel times (s) and visits per day; ``problem.fixed`` is ignored (the
        market and existing stations are given here).
    p
        Most new points to open (existing stations not counted).
    cap_tables
        ``(n_sites, max_staff + 1)`` safe daily visits of each site by staff count (the
        market's row is ignored).
    pool
        Staff available for the points (existing stations included; not the market's own).
    market
        Column of the central market.
    market_capacity
        Safe daily visits at the market with its own staff.
    max_cost
        Longest acceptable trip to a point (s); the market is reachable at any time.
    existing, excluded
        Sites always open (with at least one staff) / never open.
    """

    model_name = "staffed siting"

    def __init__(
        self,
        problem: SitingProblem,
        p: int,
        cap_tables: NDArray[np.float64],
        *,
        pool: int,
        market: int,
        market_capacity: float,
        max_cost: float,
        existing: NDArray[np.intp],
        excluded: NDArray[np.intp],
    ) -> None:
        n_sites = problem.n_sites
        if cap_tables.ndim != 2 or cap_tables.shape[0] != n_sites:
            msg = f"`cap_tables` needs one row per site ({n_sites}), got {cap_tables.shape}"
            raise ValueError(msg)
        if existing.size > pool:
            msg = (
                f"{existing.size} existing stations need at least one staff each but the pool "
                f"has {pool}; raise `[staffing] pool`"
            )
            raise InfeasibleError(msg)
        self.problem, self.p, self.caps = problem, int(p), cap_tables
        self.pool, self.market = int(pool), int(market)
        self.market_capacity, self.max_cost = float(market_capacity), float(max_cost)
        self.existing = np.unique(existing).astype(np.intp)
        openable = np.ones(n_sites, dtype=bool)
        openable[excluded] = False
        openable[market] = False
        self.openable = np.flatnonzero(openable)
        market_cost = problem.cost[:, market]
        self.market_penalty = self.max_cost
        finite = np.isfinite(market_cost)
        self.unserved_penalty = 20.0 * self.max_cost + float(
            market_cost[finite].max() if finite.any() else 0.0
        )
        self.fallback = np.where(finite, market_cost + self.market_penalty, self.unserved_penalty)
        reach = np.isfinite(problem.cost) & (problem.cost <= self.max_cost)
        self.reach = reach

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: ArrayLike,
        weights: ArrayLike | None,
        p_facilities: int,
        cap_tables: ArrayLike,
        *,
        pool: int,
        market: int,
        market_capacity: float,
        max_cost: float,
        existing: Sequence[int] | ArrayLike = (),
        excluded: Sequence[int] | ArrayLike = (),
    ) -> StaffedSiting:
        """Build from a travel-time matrix (s), visits, ``p``, capacity tables and the pool."""
        prob = SitingProblem.build(cost_matrix, weights)
        return cls(
            prob,
            p_facilities,
            np.asarray(cap_tables, dtype=np.float64),
            pool=pool,
            market=market,
            market_capacity=market_capacity,
            max_cost=max_cost,
            existing=np.asarray(existing, dtype=np.intp).ravel(),
            excluded=np.asarray(excluded, dtype=np.intp).ravel(),
        )

    # --- public ----------------------------------------------------------------------------

    def solve(
        self,
        method: Method = "auto",
        *,
        time_limit_s: float = 20.0,
        extra_candidates: int = 15,
        pairs_per_row: int = 6,
        bound_s: float = 2.0,
        repair_s: float | None = None,
    ) -> StaffedResult:
        """Solve exactly (MILP over every site and pair) or by the heuristic (``"auto"``: size).

        Parameters
        ----------
        time_limit_s
            Time limit of the MILP (s).
        extra_candidates, pairs_per_row
            Heuristic: candidates beyond the chosen set offered to the MILP, and the nearest
            reachable points kept per row.
        bound_s
            Heuristic: time for the Lagrangian lower bound (0: no bound).
        repair_s
            Heuristic: time for the capacity repair (:mod:`.repair`; default `time_limit_s`,
            0: none).
        """
        repair_s = time_limit_s if repair_s is None else repair_s
        short = self.shortfall()
        if short is not None:
            logger.warning("%s: %s", self.model_name, short.message)
        if use_milp(method, self.problem, self.model_name):
            order = self.greedy_order(self.openable.size - self.existing.size)
            sub = self._subproblem(self.openable, order, pairs_per_row=None)
            result = self._solve_sub(sub, self.p, time_limit_s, exact=True)
        else:
            order = self.greedy_order(self.p + extra_candidates)
            result = self.solve_count(
                self.p,
                order,
                time_limit_s=max(1.0, time_limit_s - bound_s),
                extra_candidates=extra_candidates,
                pairs_per_row=pairs_per_row,
                bound_s=bound_s,
            )
            if repair_s > 0:
                started = time.perf_counter()
                fixed, stats = repair(self, result, deadline=started + repair_s)
                result = StaffedResult(
                    **{
                        **fixed.__dict__,
                        "bound": result.bound,
                        "runtime_s": result.runtime_s + time.perf_counter() - started,
                        "notes": (*result.notes, stats.note()),
                    }
                )
        bound = result.bound
        if bound is not None and result.solver == "heuristic":  # not a MILP's own bound
            if short is not None:
                bound = max(bound, bound + self._unserved_lift(short))
            bound = max(bound, self.capacity_bound())
        notes = result.notes if short is None else (short.message, *result.notes)
        return StaffedResult(**{**result.__dict__, "bound": bound, "notes": notes})

    def capacity_bound(self) -> float:
        """A lower bound that sees capacity: each row's visits go to its nearest reachable
        site at best, all points together hold at most what the pool and the point count
        allow (the shortfall's bound), the market at most its capacity, the rest costs the
        unserved penalty; the exact min-cost flow of that relaxation (minus its rounding)
        plus one staff per existing station."""
        prob = self.problem
        sites = np.union1d(self.openable, self.existing).astype(np.intp)
        sites = sites[sites != self.market]
        full = self.caps.max(axis=1)
        new = np.setdiff1d(sites, self.existing)
        most = min(
            float(full[self.existing].sum() + np.sort(full[new])[::-1][: self.p].sum()),
            pool_bound(self.caps, sites, self.pool),
        )
        near = np.where(self.reach[:, sites], prob.cost[:, sites], np.inf)
        near = near.min(axis=1, initial=np.inf)
        relaxed = assign(
            np.column_stack([near, prob.cost[:, self.market]]),
            prob.weights,
            np.ones((prob.n_demand, 2), dtype=bool),
            np.array([most, self.market_capacity]),
            market=1,
            max_time_s=self.max_cost,
            modes=np.full(prob.n_demand, "any", dtype=object),
        )
        return relaxed.bound + STAFF_COST * self.existing.size

    def _unserved_lift(self, short: Shortfall) -> float:
        """What a proven shortfall adds to a bound that sends every visit to a point or its
        fallback (the heuristic's Lagrangian bound): every plan leaves at least
        ``need - most`` visits unserved, each costing the unserved penalty instead of at
        most its row's fallback cost."""
        w = self.problem.weights
        slack = self.unserved_penalty - self.fallback[w > 0]
        least = float(slack.min()) if slack.size else 0.0
        return max(0.0, short.need - short.most) * max(0.0, least)

    def shortfall(self, p: int | None = None) -> Shortfall | None:
        """Proven before solving: the visits no plan with `p` new points (default the model's)
        and the pool can serve safely, with what would at least be needed; None if none."""
        prob = self.problem
        rows = self.reach.any(axis=1) | np.isfinite(prob.cost[:, self.market])
        openable = np.union1d(self.openable, self.existing).astype(np.intp)
        openable = openable[openable != self.market]
        return staffed_shortfall(
            float(prob.weights[rows].sum()),
            self.caps,
            p=self.p if p is None else int(p),
            pool=self.pool,
            existing=self.existing,
            openable=openable,
            market_capacity=self.market_capacity,
        )

    def greedy_order(self, count: int) -> NDArray[np.intp]:
        """Openable sites in greedy p-median order (existing stations first), `count` new."""
        d, cols = self._dense()
        fixed = np.concatenate([np.searchsorted(cols, self.existing), [d.shape[1] - 1]])
        q = min(fixed.size + count, d.shape[1])
        chosen = greedy_pmedian(d, q, fixed.astype(np.intp))
        return np.asarray(cols[chosen[fixed.size :]], dtype=np.intp)

    def solve_count(
        self,
        p: int,
        order: NDArray[np.intp],
        *,
        time_limit_s: float,
        extra_candidates: int = 15,
        pairs_per_row: int = 6,
        bound_s: float = 0.0,
        previous: StaffedResult | None = None,
    ) -> StaffedResult:
        """Heuristic for ``p`` new points given a greedy `order` (see :meth:`greedy_order`);
        `previous` (a plan with at most ``p`` new points) is offered as a start."""
        start = time.perf_counter()
        d, cols = self._dense()
        pos = np.searchsorted(cols, np.concatenate([self.existing, order[:p]]))
        fixed_mask = np.zeros(pos.size + 1, dtype=bool)
        fixed_mask[: self.existing.size] = True
        fixed_mask[-1] = True
        sites, upper = swap_local_search(
            d, np.append(pos, d.shape[1] - 1), fixed_mask, tol=1e-9 * max(1.0, d.sum())
        )
        chosen = set(cols[sites[:-1]].tolist()) - set(self.existing.tolist())
        ranked = [int(s) for s in order if s in chosen]
        ranked += sorted(chosen - set(ranked))  # swapped in from beyond the greedy order
        more = [int(s) for s in order if s not in chosen][:extra_candidates]
        if previous is not None:
            more += [int(s) for s in np.flatnonzero(previous.staff) if s not in set(ranked + more)]
        priority = np.asarray(ranked + more, dtype=np.intp)
        keep = None if previous is None else previous.flows
        sub = self._subproblem(priority, priority, pairs_per_row=pairs_per_row, keep=keep)
        deadline = start + time_limit_s
        result = self._solve_sub(sub, p, 0.6 * time_limit_s, exact=False, previous=previous)
        for _ in range(REFINE_ROUNDS):
            # Offer the sites that reach the visits left at the market or unserved.
            left = result.unserved + result.flows[:, [self.market]].toarray().ravel()
            score = (self.reach[:, self.openable] * left[:, None]).sum(axis=0)
            score[np.isin(self.openable, sub.sites)] = 0.0
            new = self.openable[np.argsort(-score)[:extra_candidates]]
            new = new[score[np.searchsorted(self.openable, new)] > 1e-9]
            remaining = deadline - time.perf_counter()
            if new.size == 0 or remaining < 0.5:
                break
            priority = np.concatenate([priority, new])
            sub = self._subproblem(
                priority, priority, pairs_per_row=pairs_per_row, keep=result.flows
            )
            trial = self._solve_sub(sub, p, remaining / 2, exact=False, previous=result)
            if trial.objective >= result.objective - 1e-9 * max(1.0, result.objective):
                break
            result = trial
        bound = None
        if bound_s > 0:
            q = self.existing.size + 1 + p
            fixed = np.append(np.searchsorted(cols, self.existing), d.shape[1] - 1)
            lb = lagrangian_bound(
                d,
                min(q, d.shape[1]),
                fixed.astype(np.intp),
                upper,
                deadline=time.perf_counter() + bound_s,
            )
            bound = float(lb) if np.isfinite(lb) else None
        return StaffedResult(
            **{
                **result.__dict__,
                "bound": bound,
                "solver": "heuristic",
                "status": "heuristic",
                "runtime_s": time.perf_counter() - start,
            }
        )

    # --- building blocks -------------------------------------------------------------------

    def _dense(self) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """Weighted costs to the openable sites (unreachable: the fallback) plus a fallback
        column (market or unserved) last; and the openable site of each column but the last."""
        if not hasattr(self, "_dense_cache"):
            prob = self.problem
            cost = prob.cost[:, self.openable]
            ok = self.reach[:, self.openable]
            fb = self.fallback[:, None]
            d = prob.weights[:, None] * np.hstack([np.where(ok, np.minimum(cost, fb), fb), fb])
            self._dense_cache = (d, self.openable)
        return self._dense_cache

    def _subproblem(
        self,
        sites: NDArray[np.intp],
        order: NDArray[np.intp],
        *,
        pairs_per_row: int | None,
        keep: sp.csr_array | None = None,
    ) -> _Sub:
        """The MILP's sites (`sites` and the existing ones) and pairs; `order` ranks the
        new sites for the greedy start (unranked sites come last); pairs with a flow in
        `keep` stay (so a previous plan remains a feasible start)."""
        sites = np.union1d(np.asarray(sites, dtype=np.intp), self.existing)
        rank = np.full(sites.size, np.iinfo(np.int64).max // 2, dtype=np.int64)
        pos = {int(s): r for r, s in enumerate(order.tolist())}
        for t, s in enumerate(sites.tolist()):
            rank[t] = pos.get(s, rank[t])
        reach = self.reach[:, sites]
        if pairs_per_row is not None and sites.size > pairs_per_row:
            cost = np.where(reach, self.problem.cost[:, sites], np.inf)
            kth = np.partition(cost, pairs_per_row - 1, axis=1)[:, pairs_per_row - 1]
            reach &= cost <= kth[:, None]
        if keep is not None:
            reach |= (keep[:, sites].toarray() > 0) & self.reach[:, sites]
        ii, jj = np.nonzero(reach & (self.problem.weights[:, None] > 0))
        return _Sub(sites, ii.astype(np.intp), jj.astype(np.intp), rank)

    def _levels(
        self, sites: NDArray[np.intp]
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """(site position, staff count, capacity) of every useful staffing level of `sites`."""
        pos, staff, cap = [], [], []
        for s_pos, j in enumerate(sites.tolist()):
            table = self.caps[j]
            prev = 0.0
            for c in range(1, table.size):
                if table[c] > prev + 1e-9:  # a level that adds no capacity is never needed
                    pos.append(s_pos)
                    staff.append(c)
                    cap.append(table[c])
                    prev = table[c]
        return (
            np.asarray(pos, dtype=np.intp),
            np.asarray(staff, dtype=np.intp),
            np.asarray(cap, dtype=np.float64),
        )

    def _solve_sub(
        self,
        sub: _Sub,
        p: int,
        time_limit_s: float,
        *,
        exact: bool,
        previous: StaffedResult | None = None,
    ) -> StaffedResult:
        lp = self._build(sub, p, exact=exact)
        initial = self._greedy_start(sub, lp, p)
        if previous is not None:
            again = self._as_start(previous, sub, lp)
            if float(lp.cost @ again) < float(lp.cost @ initial):
                initial = again
        out = solve_milp(
            lp.cost,
            lp.a,
            lp.row_lo,
            lp.row_hi,
            np.zeros(lp.cost.size),
            lp.col_hi,
            lp.integer,
            time_limit_s=time_limit_s,
            mip_rel_gap=1e-6 if exact else 1e-3,  # exact: as the other siting MILPs
            what=self.model_name,
            initial=initial,
        )
        return self._unpack(sub, lp, out.x, out.objective, out.bound, out.optimal, exact=exact)

    def _build(self, sub: _Sub, p: int, *, exact: bool) -> _Milp:
        """Columns: x (pairs), market flows, unserved, y (levels); rows: demand, capacity,
        one level per site, pool, count, market capacity (+ linking in the exact model)."""
        prob = self.problem
        n, w = prob.n_demand, prob.weights
        sites, ii, jj = sub.sites, sub.ii, sub.jj
        ms = len(sites)
        lpos, lstaff, lcap = self._levels(sites)
        nl, k = lpos.size, ii.size
        mrows = np.flatnonzero(np.isfinite(prob.cost[:, self.market]) & (w > 0))
        nm = mrows.size
        om, ou, oy = k, k + nm, k + nm + n
        cost = np.concatenate(
            [
                prob.cost[ii, sites[jj]],
                prob.cost[mrows, self.market] + self.market_penalty,
                np.full(n, self.unserved_penalty),
                STAFF_COST * lstaff,
            ]
        )
        is_existing = np.isin(sites, self.existing)
        r_cap, r_one, r_pool = n, n + ms, n + 2 * ms
        r_count, r_market, r_link = r_pool + 1, r_pool + 2, r_pool + 3
        new = ~is_existing[lpos]
        ent_r = [ii, mrows, np.arange(n), r_cap + jj, r_cap + lpos, r_one + lpos]
        ent_r += [np.full(nl, r_pool), np.full(int(new.sum()), r_count), np.full(nm, r_market)]
        ent_c = [np.arange(k), om + np.arange(nm), ou + np.arange(n), np.arange(k)]
        ent_c += [oy + np.arange(nl), oy + np.arange(nl), oy + np.arange(nl)]
        ent_c += [oy + np.flatnonzero(new), om + np.arange(nm)]
        ent_v = [np.ones(k), np.ones(nm), np.ones(n), np.ones(k), -lcap, np.ones(nl)]
        ent_v += [lstaff.astype(float), np.ones(int(new.sum())), np.ones(nm)]
        row_lo = [w, np.full(ms, -np.inf), is_existing.astype(float), np.full(3, -np.inf)]
        row_hi = [w, np.zeros(ms), np.ones(ms), np.array([self.pool, p, self.market_capacity])]
        if exact:
            # x_k <= w_i * sum_c y_jc: one row per pair, tightens the relaxation.
            lv_of_site = sp.csr_array((np.ones(nl), (lpos, np.arange(nl))), shape=(ms, nl))
            link = lv_of_site[jj].tocoo()
            ent_r += [r_link + np.arange(k), r_link + link.row]
            ent_c += [np.arange(k), oy + link.col]
            ent_v += [np.ones(k), -w[ii][link.row]]
            row_lo.append(np.full(k, -np.inf))
            row_hi.append(np.zeros(k))
        n_rows = r_link + (k if exact else 0)
        a = sp.csc_array(
            (np.concatenate(ent_v), (np.concatenate(ent_r), np.concatenate(ent_c))),
            shape=(n_rows, oy + nl),
        )
        integer = np.zeros(oy + nl, dtype=bool)
        integer[oy:] = True
        return _Milp(
            cost=cost,
            a=a,
            row_lo=np.concatenate(row_lo),
            row_hi=np.concatenate(row_hi),
            col_hi=np.concatenate([w[ii], w[mrows], w, np.ones(nl)]),
            integer=integer,
            mrows=mrows,
            lpos=lpos,
            lstaff=lstaff,
            lcap=lcap,
        )

    def _as_start(self, result: StaffedResult, sub: _Sub, lp: _Milp) -> NDArray[np.float64]:
        """`result` as a solution vector of the MILP `lp` over `sub` (a superset of its sites
        and pairs)."""
        flows = result.flows.tocsr()
        x = np.asarray(flows[sub.ii, sub.sites[sub.jj]]).ravel()
        m = np.asarray(flows[lp.mrows, np.full(lp.mrows.size, self.market)]).ravel()
        y = (result.staff[sub.sites[lp.lpos]] == lp.lstaff).astype(float)
        return np.concatenate([x, m, result.unserved, y])

    def _greedy_start(self, sub: _Sub, lp: _Milp, p: int) -> NDArray[np.float64]:
        """A feasible start: the best of a few greedy staffings (see :meth:`_greedy_fill`)
        that may use the first 100, 85, 70, 55 or 40 % of the ``p`` new sites in ``sub.rank``
        order (with a tight pool, fewer well-staffed points often serve more)."""
        best, best_cost = None, np.inf
        for share in (1.0, 0.85, 0.7, 0.55, 0.4):
            count = int(np.ceil(share * p))
            allowed = np.isin(sub.sites, self.existing) | (sub.rank < count)
            x = self._greedy_fill(sub, lp, count, allowed)
            cost = float(lp.cost @ x)
            if cost < best_cost:
                best, best_cost = x, cost
        assert best is not None
        return best

    def _greedy_fill(
        self, sub: _Sub, lp: _Milp, p: int, allowed: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """Staff the `allowed` sites with the most nearby demand first (existing ones
        always), each with the fewest staff covering its nearest rows, until the pool or the
        point count runs out; rows then fill their nearest staffed sites, the market, or stay
        unserved."""
        prob = self.problem
        w = prob.weights
        sites, ii, jj = sub.sites, sub.ii, sub.jj
        ok = allowed[jj]
        pair_cost = np.where(ok, prob.cost[ii, sites[jj]], np.inf)
        order = np.lexsort((pair_cost, ii))
        first = order[np.unique(ii[order], return_index=True)[1]]
        first = first[ok[first]]
        near_load = np.bincount(jj[first], weights=w[ii[first]], minlength=sites.size)
        is_existing = np.isin(sites, self.existing)
        level_of = np.full(sites.size, -1)
        left, new_left = self.pool, p
        for s in np.lexsort((-near_load, ~is_existing)):
            lv = np.flatnonzero(lp.lpos == s)
            skip = not is_existing[s] and (new_left <= 0 or near_load[s] <= 0 or not allowed[s])
            if skip or lv.size == 0 or left <= 0:
                continue
            covers = lv[lp.lcap[lv] >= near_load[s] - 1e-9]
            pick = covers[0] if covers.size else lv[-1]
            while pick >= lv[0] and lp.lstaff[pick] > left:  # pool nearly used up
                pick -= 1
            if pick < lv[0]:
                continue
            level_of[s] = pick
            left -= int(lp.lstaff[pick])
            new_left -= 0 if is_existing[s] else 1
        room = np.where(level_of >= 0, lp.lcap[np.maximum(level_of, 0)], 0.0).tolist()
        x = np.zeros(ii.size)
        rest = w.tolist()
        # Python lists: this sequential fill runs over every pair, numpy scalars are slow.
        ks = order[np.isfinite(pair_cost[order])]
        ks = ks[_has_room(room, jj[ks])]
        for k, i, j in zip(ks.tolist(), ii[ks].tolist(), jj[ks].tolist(), strict=True):
            take = min(rest[i], room[j])  # rows by their nearest sites first
            if take > 0:
                x[k], rest[i], room[j] = take, rest[i] - take, room[j] - take
        m = np.zeros(lp.mrows.size)
        market_room = self.market_capacity
        by_cost = np.argsort(prob.cost[lp.mrows, self.market])
        for t, i in zip(by_cost.tolist(), lp.mrows[by_cost].tolist(), strict=True):
            take = min(rest[i], market_room)  # the market takes the rows nearest to it first
            m[t], rest[i], market_room = take, rest[i] - take, market_room - take
        y = np.zeros(lp.lpos.size)
        y[level_of[level_of >= 0]] = 1.0
        return np.concatenate([x, m, np.asarray(rest), y])

    def _unpack(
        self,
        sub: _Sub,
        lp: _Milp,
        values: NDArray[np.float64],
        objective: float,
        bound: float,
        optimal: bool,
        *,
        exact: bool,
    ) -> StaffedResult:
        prob = self.problem
        n, k, nm = prob.n_demand, sub.ii.size, lp.mrows.size
        x = np.clip(values, 0.0, None)
        y = values[k + nm + n :] > 0.5
        sites = sub.sites
        staff = np.zeros(prob.n_sites, dtype=np.intp)
        capacity = np.zeros(prob.n_sites)
        staff[sites[lp.lpos[y]]] = lp.lstaff[y]
        capacity[sites[lp.lpos[y]]] = lp.lcap[y]
        capacity[self.market] = self.market_capacity
        flows = sp.coo_array(
            (
                x[: k + nm],
                (
                    np.concatenate([sub.ii, lp.mrows]),
                    np.concatenate([sites[sub.jj], np.full(nm, self.market)]),
                ),
            ),
            shape=(n, prob.n_sites),
        ).tocsr()
        flows.data[flows.data < 1e-9] = 0.0
        flows.eliminate_zeros()
        open_sites = np.union1d(np.flatnonzero(staff > 0), [self.market]).astype(np.intp)
        note = (
            f"MILP over {sites.size} sites, {k:,} pairs, {lp.lpos.size} staffing levels: "
            f"{'optimal' if optimal else 'time limit'}, bound {bound:.6g}"
        )
        unserved = x[k + nm : k + nm + n]
        return StaffedResult(
            open_sites=open_sites,
            staff=staff,
            capacity=capacity,
            flows=flows,
            unserved=np.where(unserved > 1e-9, unserved, 0.0),
            objective=objective,
            bound=bound if exact else None,
            solver="milp-highs",
            status="optimal" if optimal else "time limit",
            runtime_s=0.0,
            notes=(note,),
        )
