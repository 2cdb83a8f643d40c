"""The capacitated recommendation model: registrations x openings, an exact min-cost flow.

Model (one LP, integral because its matrix is a bipartite incidence matrix):

.. math::

    \\max \\sum_{(r,j) \\in A} (B - t_{rj})\\, x_{rj}
    \\quad \\text{s.t.} \\quad
    \\sum_j x_{rj} \\le N \\;\\forall r, \\qquad
    \\sum_r x_{rj} \\le c_j \\;\\forall j, \\qquad 0 \\le x_{rj} \\le 1

* ``A``: eligible pairs: the employer's industry is one of the registration's, it has open
  positions, it is within the registration's own-mode travel limit, and it was not
  recommended to that registration before;
* ``t_rj``: the registration's travel time (s) to the employer by its own mode (trip
  overhead of the mode included);
* ``N``: recommendations per registration; ``c_j``: the employer's remaining candidate
  places (a multiple of its open positions, minus candidates already sent);
* ``B`` (the *benefit* of one recommendation, s): twice the travel limit, so every
  recommendation is worth more than any travel time: the model makes as many
  recommendations as capacities allow and, where employers are over-subscribed, gives the
  places to the candidates for whom they are nearest relative to their alternatives.

Solving (default, :meth:`AssignmentModel.solve` with ``method="flow"``): the model *is* a
min-cost flow: source -> registration (capacity ``N``) -> employer (one arc per eligible
pair, capacity 1, cost ``t - B`` < 0) -> sink (capacity ``c_j``), plus a bypass arc source
-> sink of cost 0 for the supply nobody can use. OR-Tools' network-flow solver
(``SimpleMinCostFlow``, cost scaling) finds its exact integral optimum, which is the LP
optimum (total unimodularity). Costs must be integers: they are whole seconds by default
(``resolution_s``; travel times are whole seconds to a planner, and finer costs made the
solver ~15 % slower on Dongcao), and :attr:`MatchResult.bound` adds the rounding's largest
possible effect (at most half the resolution per recommendation) to the flow's optimum, so
it bounds the optimum of the model in exact, unrounded seconds: on Dongcao's 42,000
registrations the bound is within 0.02 % of the objective.

``method="highs"``, the first implementation, kept as a cross-check and benchmark baseline:
HiGHS on the LP by column generation. The LP starts with each registration's ``pool``
fastest eligible pairs; after each HiGHS solve, every pair of the full set ``A`` is priced
with the row duals (vectorised) and each registration's ``enter`` pairs of highest positive
reduced profit are added; HiGHS re-optimises from its basis. When no pair prices out, the
solution is optimal for the full model. The Lagrangian bound with the employers' duals as
prices, evaluated over all of ``A`` (:meth:`AssignmentModel.dual_bound`), is the bound: no
feasible assignment can be worth more; the loop also stops once it proves the result within
``gap_tol``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import highspy
import numpy as np
from ortools.graph.python import min_cost_flow

from planner.errors import SolverError

logger = logging.getLogger(__name__)

_TOL = 1e-7
METHODS = ("flow", "highs")
_USABLE = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kTimeLimit,
    highspy.HighsModelStatus.kModelEmpty,
)


@dataclass(frozen=True, eq=False)
class MatchResult:
    """A solved recommendation model.

    Attributes
    ----------
    chosen
        Indices into the model's pairs that are recommended.
    objective
        :math:`\\sum (B - t) x` of the chosen pairs (s).
    bound
        No assignment is worth more (s). ``flow``: the exact flow optimum plus the largest
        possible effect of rounding costs to ``resolution_s``; ``highs``: the LP dual
        (Lagrangian) bound over all pairs.
    matches
        Number of recommendations.
    travel_time_s
        Their total travel time (s).
    rounds
        Column-generation rounds (HiGHS solves); 1 for the flow.
    columns
        Pairs that entered the LP (of :attr:`n_pairs`); all of them for the flow.
    n_pairs
        All eligible pairs of the model.
    runtime_s
        Wall time of :meth:`AssignmentModel.solve`.
    method
        ``"flow"`` (exact min-cost flow, OR-Tools) or ``"highs"`` (LP column generation).
    setup_s
        Of :attr:`runtime_s`, the time spent building the solver's input (the flow's arc
        arrays); the rest is the solver.
    """

    chosen: np.ndarray
    objective: float
    bound: float
    matches: int
    travel_time_s: float
    rounds: int
    columns: int
    n_pairs: int
    runtime_s: float
    method: str = "highs"
    setup_s: float = 0.0

    @property
    def how(self) -> str:
        """How the result was found, for run summaries."""
        if self.method == "flow":
            return f"exact min-cost flow (OR-Tools) over {self.n_pairs:,} pairs"
        return (
            f"{self.rounds} HiGHS round(s), {self.columns:,} of {self.n_pairs:,} pairs "
            "(column generation)"
        )

    @property
    def gap(self) -> float:
        """Relative gap between the bound and the objective (0 = proven optimal)."""
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.objective) / self.bound)


@dataclass(frozen=True, eq=False)
class AssignmentModel:
    """Registrations, employers and their eligible pairs (build with :meth:`from_pairs`).

    Attributes
    ----------
    reg, emp
        Registration and employer index of every pair.
    time_s
        Travel time (s) of every pair.
    n_registrations
        Number of registrations (rows ``0..n-1``).
    capacity
        Candidate places per employer (``>= 0``).
    per_registration
        Most recommendations per registration (``N``).
    benefit_s
        Value of one recommendation (``B``, s); must exceed every travel time.
    """

    reg: np.ndarray
    emp: np.ndarray
    time_s: np.ndarray
    n_registrations: int
    capacity: np.ndarray
    per_registration: int
    benefit_s: float

    @classmethod
    def from_pairs(
        cls,
        reg: np.ndarray,
        emp: np.ndarray,
        time_s: np.ndarray,
        *,
        n_registrations: int,
        capacity: np.ndarray,
        per_registration: int,
        benefit_s: float,
    ) -> AssignmentModel:
        """Validate and build the model from pair arrays (one entry per eligible pair)."""
        reg = np.asarray(reg, dtype=np.int64)
        emp = np.asarray(emp, dtype=np.int64)
        t = np.asarray(time_s, dtype=np.float64)
        cap = np.asarray(capacity, dtype=np.int64)
        problems = []
        if not (reg.shape == emp.shape == t.shape):
            problems.append("`reg`, `emp` and `time_s` must have the same length")
        elif reg.size:
            if reg.min() < 0 or reg.max() >= n_registrations:
                problems.append(f"`reg` must index 0..{n_registrations - 1}")
            if emp.min() < 0 or emp.max() >= cap.size:
                problems.append(f"`emp` must index the {cap.size} capacities")
            if not np.isfinite(t).all() or t.min() < 0:
                problems.append("`time_s` must be finite and >= 0")
            elif t.max() >= benefit_s:
                problems.append(f"`benefit_s` ({benefit_s}) must exceed every travel time")
        if (cap < 0).any():
            problems.append("`capacity` must be >= 0")
        if per_registration < 1:
            problems.append(f"`per_registration` must be >= 1, got {per_registration}")
        if problems:
            raise ValueError("; ".join(problems))
        if reg.size:
            # sort + diff: numpy 2's hash-based np.unique is ~15x slower on 9 M keys
            key = np.sort(reg * cap.size + emp)
            if (key[1:] == key[:-1]).any():
                msg = "a (registration, employer) pair is given twice"
                raise ValueError(msg)
        return cls(reg, emp, t, int(n_registrations), cap, int(per_registration), benefit_s)

    @property
    def n_pairs(self) -> int:
        return int(self.reg.size)

    def value(self, chosen: np.ndarray) -> float:
        """Objective of a set of chosen pairs (s)."""
        return float(np.sum(self.benefit_s - self.time_s[chosen]))

    def dual_bound(self, y_emp: np.ndarray) -> float:
        """Lagrangian (LP dual) bound: no assignment is worth more (s).

        Relaxing the employer limits with prices :math:`\\pi_j \\ge 0` leaves one
        independent problem per registration (take its ``N`` best pairs of positive
        :math:`B - t_{rj} - \\pi_j`), so

        .. math:: L(\\pi) = \\sum_j c_j \\pi_j + \\sum_r \\text{top}_N^+ (B - t_{rj} - \\pi_j)

        bounds every feasible assignment, whatever prices are used (weak duality). It is
        evaluated over *all* eligible pairs, so it certifies results of a restricted LP.
        """
        profit = self.benefit_s - self.time_s - y_emp[self.emp]
        pos = np.flatnonzero(profit > 0)
        order = pos[np.lexsort((-profit[pos], self.reg[pos]))]
        regs = self.reg[order]
        start = np.r_[0, np.flatnonzero(np.diff(regs)) + 1]
        rank = np.arange(order.size) - np.repeat(start, np.diff(np.r_[start, order.size]))
        best = profit[order[rank < self.per_registration]].sum()
        return float(self.capacity @ y_emp + best)

    def initial_pool(self, pool: int) -> np.ndarray:
        """Indices of each registration's `pool` fastest pairs with an employer with places."""
        usable = np.flatnonzero(self.capacity[self.emp] > 0)
        order = usable[np.lexsort((self.time_s[usable], self.reg[usable]))]
        regs = self.reg[order]
        start = np.r_[0, np.flatnonzero(np.diff(regs)) + 1]
        rank = np.arange(order.size) - np.repeat(start, np.diff(np.r_[start, order.size]))
        return np.sort(order[rank < pool])

    def solve(
        self,
        *,
        method: str = "flow",
        resolution_s: float = 1.0,
        pool: int | None = None,
        enter: int | None = None,
        gap_tol: float = 1e-4,
        max_rounds: int = 200,
        time_limit_s: float = 600.0,
    ) -> MatchResult:
        """Solve the model (see the module docstring).

        Parameters
        ----------
        method
            ``"flow"``: the exact min-cost flow (OR-Tools); the other parameters do not
            apply. ``"highs"``: column generation on the LP with HiGHS.
        resolution_s
            ``flow``: costs are whole multiples of this (s); the bound accounts for it.
        pool
            ``highs``: pairs per registration in the first LP (default
            ``4 * per_registration``).
        enter
            ``highs``: most pairs per registration entering per round, those of highest
            reduced profit (default ``per_registration``); keeps each LP small.
        gap_tol
            ``highs``: stop once the dual bound proves the objective within this relative
            gap of the optimum (``0``: until no pair prices out, i.e. proven optimal).
        max_rounds
            ``highs``: most HiGHS solves; the bound says how far from optimal an early
            stop is.
        time_limit_s
            ``highs``: wall-clock budget, checked between rounds (each HiGHS solve runs to
            its optimum, so the solution stays integral).

        Raises
        ------
        SolverError
            If the solver fails (it never should: the all-zero assignment is feasible).
        """
        if method not in METHODS:
            msg = f"`method` must be one of {METHODS}, got {method!r}"
            raise ValueError(msg)
        if method == "flow":
            return self.solve_flow(resolution_s=resolution_s)
        return self._solve_highs(
            pool=pool,
            enter=enter,
            gap_tol=gap_tol,
            max_rounds=max_rounds,
            time_limit_s=time_limit_s,
        )

    def solve_flow(self, *, resolution_s: float = 1.0) -> MatchResult:
        """The exact optimum as a min-cost flow (OR-Tools ``SimpleMinCostFlow``).

        Nodes: registrations ``0..n-1``, employers ``n..n+m-1``, source, sink. Arcs, built
        as arrays: source -> registration (capacity ``N``, cost ``-round(B / res)``),
        one per pair (capacity 1, cost ``round(t / res)``), employer -> sink (capacity
        ``c_j``, cost 0), source -> sink (the unused supply, cost 0), with ``res`` =
        `resolution_s`. A unit through a pair costs ``-(B - t)`` (rounded); the benefit
        sits on the registrations' arcs rather than on every pair's, which OR-Tools solved
        5-8 % faster on Dongcao. The source supplies ``N n``, so the bypass makes every
        flow value feasible and the minimum cost is minus the maximum of
        :math:`\\sum (B - t) x` in units of `resolution_s`.
        """
        if not (np.isfinite(resolution_s) and resolution_s > 0):
            msg = f"`resolution_s` must be a time > 0 s, got {resolution_s!r}"
            raise ValueError(msg)
        started = time.perf_counter()
        n_r, n_e = self.n_registrations, self.capacity.size
        if self.n_pairs == 0:
            empty = np.zeros(0, dtype=np.int64)
            return MatchResult(empty, 0.0, 0.0, 0, 0.0, 1, 0, 0, 0.0, method="flow")
        source, sink = n_r + n_e, n_r + n_e + 1
        supply = self.per_registration * n_r
        benefit = int(np.rint(self.benefit_s / resolution_s))
        cost = np.rint(self.time_s / resolution_s).astype(np.int64)
        # Largest gap between a pair's profit in seconds and its rounded flow cost.
        rounding = float(
            np.abs((self.benefit_s - self.time_s) - (benefit - cost) * resolution_s).max()
        )
        tails = np.concatenate(
            [np.full(n_r, source), self.reg, n_r + np.arange(n_e), [source]]
        ).astype(np.int32)
        heads = np.concatenate([np.arange(n_r), n_r + self.emp, np.full(n_e, sink), [sink]]).astype(
            np.int32
        )
        caps = np.concatenate(
            [
                np.full(n_r, self.per_registration),
                np.ones(self.n_pairs, dtype=np.int64),
                self.capacity,
                [supply],
            ]
        ).astype(np.int64)
        costs = np.concatenate(
            [np.full(n_r, -benefit, np.int64), cost, np.zeros(n_e + 1, np.int64)]
        )
        flow = min_cost_flow.SimpleMinCostFlow()
        arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        nodes = np.array([source, sink], dtype=np.int32)
        flow.set_nodes_supplies(nodes, np.array([supply, -supply], dtype=np.int64))
        setup_s = time.perf_counter() - started
        status = flow.solve()
        if status != flow.OPTIMAL:
            msg = f"the min-cost flow solver stopped with status {status!r}"
            raise SolverError(msg)
        x = np.asarray(flow.flows(arcs[n_r : n_r + self.n_pairs]))
        chosen = np.flatnonzero(x > 0)
        flow_value = -flow.optimal_cost() * resolution_s
        # Any assignment of k pairs is worth at most `rounding` x k more in seconds than
        # in rounded costs, and k <= the places: a bound on the optimum in seconds.
        most = min(supply, int(self.capacity.sum()))
        return MatchResult(
            chosen=chosen,
            objective=self.value(chosen),
            bound=flow_value + rounding * most,
            matches=int(chosen.size),
            travel_time_s=float(self.time_s[chosen].sum()),
            rounds=1,
            columns=self.n_pairs,
            n_pairs=self.n_pairs,
            runtime_s=time.perf_counter() - started,
            method="flow",
            setup_s=setup_s,
        )

    def _solve_highs(
        self,
        *,
        pool: int | None,
        enter: int | None,
        gap_tol: float,
        max_rounds: int,
        time_limit_s: float,
    ) -> MatchResult:
        """Column generation with HiGHS (see the module docstring)."""
        started = time.perf_counter()
        n_r, n_e = self.n_registrations, self.capacity.size
        empty = np.zeros(0, dtype=np.int64)
        if self.n_pairs == 0:
            return MatchResult(empty, 0.0, 0.0, 0, 0.0, 0, 0, 0, 0.0)
        cols = self.initial_pool(pool or 4 * self.per_registration)
        h = self._highs()
        in_lp = np.zeros(self.n_pairs, dtype=bool)
        added: list[np.ndarray] = []  # HiGHS column order
        rounds = 0
        y_reg, y_emp = np.zeros(n_r), np.zeros(n_e)
        bound = np.inf
        while True:
            self._add_columns(h, cols, n_r)
            added.append(cols)
            in_lp[cols] = True
            rounds += 1
            status = h.run()
            model_status = h.getModelStatus()
            if status == highspy.HighsStatus.kError or model_status not in _USABLE:
                msg = f"HiGHS stopped with status {h.modelStatusToString(model_status)}"
                raise SolverError(msg)
            duals = np.zeros(n_r + n_e)
            if model_status != highspy.HighsModelStatus.kModelEmpty:
                duals = np.asarray(h.getSolution().row_dual)
            y_reg, y_emp = np.maximum(duals[:n_r], 0.0), np.maximum(duals[n_r:], 0.0)
            slack = self.benefit_s - self.time_s - y_reg[self.reg] - y_emp[self.emp]
            entering = np.flatnonzero((slack > _TOL) & ~in_lp)
            elapsed = time.perf_counter() - started
            value = float(h.getInfo().objective_function_value) if in_lp.any() else 0.0
            bound = self.dual_bound(y_emp)
            gap = (bound - value) / bound if bound > 0 else 0.0
            logger.debug(
                "round %d: %d columns, %d price out, gap %.3g, %.1f s",
                rounds,
                in_lp.sum(),
                entering.size,
                gap,
                elapsed,
            )
            if entering.size == 0 or gap <= gap_tol:
                break
            if rounds >= max_rounds or elapsed > time_limit_s:
                logger.warning("column generation stopped at gap %.3g after %d rounds", gap, rounds)
                break
            cols = self._best_per_registration(entering, slack, enter or self.per_registration)
        lp_cols = np.concatenate(added)
        x = np.asarray(h.getSolution().col_value) if lp_cols.size else np.zeros(0)
        chosen = np.sort(lp_cols[x > 0.5])
        frac = np.abs(x - np.round(x)).max(initial=0.0)
        if frac > 1e-6:
            logger.warning("LP solution not integral (max fraction %.2g); rounded", frac)
        chosen = self._repair(chosen)
        return MatchResult(
            chosen=chosen,
            objective=self.value(chosen),
            bound=bound,
            matches=int(chosen.size),
            travel_time_s=float(self.time_s[chosen].sum()),
            rounds=rounds,
            columns=int(in_lp.sum()),
            n_pairs=self.n_pairs,
            runtime_s=time.perf_counter() - started,
            method="highs",
        )

    def _highs(self) -> highspy.Highs:
        """A HiGHS model with the registration and employer rows and no column yet."""
        n_r, n_e = self.n_registrations, self.capacity.size
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        # HiGHS keeps one global thread scheduler per process; the siting solver runs it
        # with one thread, and a run asking for another count would fail there.
        h.setOptionValue("threads", 1)
        inf = highspy.kHighsInf
        h.addRows(
            n_r + n_e,
            np.full(n_r + n_e, -inf),
            np.r_[np.full(n_r, float(self.per_registration)), self.capacity.astype(float)],
            0,
            np.zeros(1, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0),
        )
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        return h

    def _best_per_registration(self, cand: np.ndarray, slack: np.ndarray, k: int) -> np.ndarray:
        """The `k` candidates of highest reduced profit per registration."""
        order = cand[np.lexsort((-slack[cand], self.reg[cand]))]
        regs = self.reg[order]
        start = np.r_[0, np.flatnonzero(np.diff(regs)) + 1]
        rank = np.arange(order.size) - np.repeat(start, np.diff(np.r_[start, order.size]))
        return np.sort(order[rank < k])

    def _add_columns(self, h: highspy.Highs, cols: np.ndarray, n_r: int) -> None:
        k = cols.size
        index = np.empty(2 * k, dtype=np.int32)
        index[0::2] = self.reg[cols]
        index[1::2] = n_r + self.emp[cols]
        h.addCols(
            k,
            self.benefit_s - self.time_s[cols],
            np.zeros(k),
            np.ones(k),
            2 * k,
            np.arange(0, 2 * k, 2, dtype=np.int32),
            index,
            np.ones(2 * k),
        )

    def _repair(self, chosen: np.ndarray) -> np.ndarray:
        """Drop pairs breaking a limit (only after a non-integral or time-limited solve)."""
        keep = np.ones(chosen.size, dtype=bool)
        for idx, limit in ((self.reg, None), (self.emp, self.capacity)):
            rows = idx[chosen]
            order = np.lexsort((self.time_s[chosen], rows))
            sorted_rows = rows[order]
            start = np.r_[0, np.flatnonzero(np.diff(sorted_rows)) + 1]
            rank = np.arange(order.size) - np.repeat(start, np.diff(np.r_[start, order.size]))
            cap = self.per_registration if limit is None else limit[sorted_rows]
            keep[order[rank >= cap]] = False
        if not keep.all():
            logger.warning("%d recommendation(s) dropped to respect the limits", (~keep).sum())
        return chosen[keep]
