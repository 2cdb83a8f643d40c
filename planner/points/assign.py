"""Assign demand groups to open service points: industry match first, then travel time.

A transportation problem solved exactly as a min-cost flow (OR-Tools ``SimpleMinCostFlow``):
each group's daily visits go to open points that serve one of its industries and lie within
the travel-time limit, or to the central market (which serves every industry, at a penalty
so that it is used only when no suitable point has room), or stay unassigned (a much larger
penalty, only when even the market is full). Capacities are hard constraints.

Visits per day are fractional; the flow is integral. Each group's visits are counted in
units of ``1 / S`` visit rounded *up* and each capacity in units rounded *down*
(:func:`units_per_visit` picks ``S``, 10^6 unless the totals would overflow 64-bit costs);
times are rounded to :data:`COST_RESOLUTION_S`. A group's flows are then scaled back to its
true visits (by a factor <= 1), so every group is fully accounted for and no load exceeds
its capacity. The flow is exact for the rounded data, which differ from the true data by at
most ``1 / S`` visit per group and facility and ``COST_RESOLUTION_S / 2`` per visit; each
such visit is worth at most the unassigned penalty, which gives the proven lower bound
:attr:`Assignment.bound` (on the plans it is within 0.01 % of the objective).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from planner.errors import SolverError

logger = logging.getLogger(__name__)

COST_RESOLUTION_S = 0.1
"""Travel times and penalties enter the flow in units of this many seconds."""

MAX_UNITS_PER_VISIT = 1_000_000
"""Finest flow unit: a millionth of a visit."""

_COST_HEADROOM = 2.0**62 / 64
"""Largest total cost (flow units x cost units) allowed: 64 times below the 64-bit limit
(OR-Tools sums costs in 64-bit integers)."""


@dataclass(frozen=True, eq=False)
class Assignment:
    """Flows of daily visits from demand groups to facilities.

    Attributes
    ----------
    flows
        One row per (group, facility) with positive flow: ``group``, ``facility`` (column
        index into the facilities; the market is one of them), ``visits`` (per day),
        ``time_s`` (the group's mean travel time to it).
    unassigned
        Visits per day of each group left unassigned (only when the market is full too).
    reason
        Per group: ``""`` when fully served by matching points, else why some of its visits go
        to the market or stay unassigned.
    loads
        Visits per day at each facility.
    objective
        Total weighted travel time plus penalties (visit x s) of these flows.
    bound
        Proven lower bound on the objective of any assignment (visit x s; see the module
        docstring); ``objective - bound`` is the rounding's whole possible cost.
    runtime_s
        Wall-clock time of the flow (build and solve, s).
    """

    flows: pd.DataFrame
    unassigned: np.ndarray
    reason: np.ndarray
    loads: np.ndarray
    objective: float
    bound: float = float("nan")
    runtime_s: float = 0.0

    @property
    def gap(self) -> float:
        """``(objective - bound) / objective`` (0 when the objective is 0)."""
        if self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.bound) / self.objective)


def industry_match(group_industries: pd.Series, point_industries: list[set[str]]) -> np.ndarray:
    """``(n_groups, n_points)`` True where the group shares an industry with the point."""
    codes = sorted({c for s in point_industries for c in s} | {"other"})
    col = {c: i for i, c in enumerate(codes)}
    # Few distinct industry texts: match each once, then look the groups up.
    text_of, texts = pd.factorize(group_industries.astype(str))
    g = np.zeros((len(texts), len(codes)), dtype=bool)
    for row, text in enumerate(texts):
        for c in str(text).split(";"):
            if c in col:
                g[row, col[c]] = True
    p = np.zeros((len(point_industries), len(codes)), dtype=bool)
    for j, inds in enumerate(point_industries):
        for c in inds:
            p[j, col[c]] = True
    return ((g.astype(np.int32) @ p.T.astype(np.int32)) > 0)[text_of]


def assign(
    time_s: np.ndarray,
    weights: np.ndarray,
    allowed: np.ndarray,
    capacities: np.ndarray,
    *,
    market: int,
    max_time_s: float,
    modes: np.ndarray,
    nearest: int | None = None,
) -> Assignment:
    """Solve the capacitated assignment (exact min-cost flow, see the module docstring).

    Parameters
    ----------
    time_s
        ``(n_groups, n_facilities)`` travel times (s), ``inf`` = unreachable.
    weights
        Daily visits of each group (finite, >= 0).
    allowed
        ``(n_groups, n_facilities)`` industry match (the market column is ignored: the
        market serves everyone).
    capacities
        Daily capacity of each facility (finite, >= 0; closed facilities: 0).
    market
        Column of the central market.
    max_time_s
        Longest acceptable trip to a service point (s).
    modes
        Travel mode of each group (for reasons).
    nearest
        Each group may use only its `nearest` usable points (``None``: all); keeps the flow
        small when capacities bind (a group is rarely best sent past its sixth nearest).

    Raises
    ------
    ValueError
        If the arrays do not match or hold negative or non-finite visits or capacities.
    SolverError
        If the flow solver fails (it cannot be infeasible: the unassigned slack takes any
        visit).
    """
    started = time.perf_counter()
    n_groups, n_fac = _check(time_s, weights, allowed, capacities, market, max_time_s)
    usable = allowed & np.isfinite(time_s) & (time_s <= max_time_s) & (capacities[None, :] > 0)
    usable[:, market] = False
    gi, fj = _nearest_pairs(usable, time_s, nearest)
    mg = np.flatnonzero(np.isfinite(time_s[:, market]))
    market_t = time_s[mg, market]
    penalty = 20.0 * max_time_s + float(market_t.max() if market_t.size else 0.0)
    arcs = _Arcs(
        groups=np.concatenate([gi, mg]),
        facilities=np.concatenate([fj, np.full(mg.size, market)]),
        cost_s=np.concatenate([time_s[gi, fj], market_t + max_time_s]),
    )
    x, unassigned, bound = _solve_flow(arcs, weights, capacities, penalty)
    keep = x > 1e-9
    flows = pd.DataFrame(
        {
            "group": arcs.groups[keep],
            "facility": arcs.facilities[keep],
            "visits": x[keep],
        }
    )
    flows["time_s"] = time_s[flows["group"].to_numpy(), flows["facility"].to_numpy()]
    loads = np.bincount(flows["facility"], weights=flows["visits"], minlength=n_fac)
    to_market = x[gi.size :]
    unassigned = np.where(unassigned > 1e-9, unassigned, 0.0)
    objective = float(arcs.cost_s @ x + penalty * unassigned.sum())
    reason = _reasons(usable, to_market, mg, unassigned, n_groups, modes, max_time_s)
    runtime = time.perf_counter() - started
    logger.debug(
        "assignment: %d groups, %d arcs, objective %.6g, bound %.6g, %.2f s",
        n_groups,
        arcs.groups.size,
        objective,
        bound,
        runtime,
    )
    return Assignment(
        flows=flows,
        unassigned=unassigned,
        reason=reason,
        loads=loads,
        objective=objective,
        bound=min(bound, objective),
        runtime_s=runtime,
    )


def _check(
    time_s: np.ndarray,
    weights: np.ndarray,
    allowed: np.ndarray,
    capacities: np.ndarray,
    market: int,
    max_time_s: float,
) -> tuple[int, int]:
    """Shapes and values of :func:`assign`'s input; ``(n_groups, n_facilities)``."""
    if time_s.ndim != 2:
        msg = f"`time_s` must be a 2-d matrix, got shape {time_s.shape}"
        raise ValueError(msg)
    n_groups, n_fac = time_s.shape
    if weights.shape != (n_groups,) or allowed.shape != time_s.shape:
        msg = "`weights`/`allowed` do not match `time_s`"
        raise ValueError(msg)
    if capacities.shape != (n_fac,):
        msg = f"`capacities` needs one value per facility ({n_fac}), got {capacities.shape}"
        raise ValueError(msg)
    if not 0 <= market < n_fac:
        msg = f"`market` = {market} is not a facility column (0..{n_fac - 1})"
        raise ValueError(msg)
    problems = []
    for name, values in (("weights", weights), ("capacities", capacities)):
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if bad.size:
            problems.append(f"`{name}` must be finite and >= 0, got {values[bad[0]]!r} at {bad[0]}")
    if not (np.isfinite(max_time_s) and max_time_s > 0):
        problems.append(f"`max_time_s` must be a time > 0 s, got {max_time_s!r}")
    if problems:
        msg = "; ".join(problems)
        raise ValueError(msg)
    return n_groups, n_fac


@dataclass(frozen=True)
class _Arcs:
    """Group -> facility arcs of the flow (the market's among them) and their costs (s)."""

    groups: np.ndarray
    facilities: np.ndarray
    cost_s: np.ndarray


def units_per_visit(total_visits: float, max_cost_s: float) -> int:
    """Flow units per visit: 10^6 unless ``total x max cost`` would leave too little
    headroom in 64-bit costs; then the largest power of ten that fits (at least 1)."""
    cost_units = max(1.0, max_cost_s / COST_RESOLUTION_S)
    room = _COST_HEADROOM / max(1.0, total_visits * cost_units)
    if room >= MAX_UNITS_PER_VISIT:
        return MAX_UNITS_PER_VISIT
    return int(10 ** max(0, int(np.floor(np.log10(max(room, 1.0))))))


def _solve_flow(
    arcs: _Arcs, weights: np.ndarray, capacities: np.ndarray, penalty: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Min-cost flow: visits on each arc, unassigned visits per group and a lower bound.

    Nodes: groups ``0..n-1``, facilities ``n..n+m-1``, sink ``n+m``. Arcs: the given ones
    (capacity: the group's units), group -> sink (unassigned, the penalty), facility ->
    sink (its capacity in units, cost 0).
    """
    n, m = weights.size, capacities.size
    scale = units_per_visit(float(weights.sum()), penalty)
    units = np.ceil(weights * scale - 1e-6).clip(min=0).astype(np.int64)
    cap_units = np.floor(capacities * scale + 1e-6).astype(np.int64)
    sink = n + m
    pair_cost = np.rint(arcs.cost_s / COST_RESOLUTION_S).astype(np.int64)
    slack_cost = int(np.rint(penalty / COST_RESOLUTION_S))
    tails = np.concatenate([arcs.groups, np.arange(n), n + np.arange(m)]).astype(np.int32)
    heads = np.concatenate([n + arcs.facilities, np.full(n + m, sink)]).astype(np.int32)
    caps = np.concatenate([units[arcs.groups], units, cap_units])
    costs = np.concatenate([pair_cost, np.full(n, slack_cost, np.int64), np.zeros(m, np.int64)])
    solver = min_cost_flow.SimpleMinCostFlow()
    handles = solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    total = int(units.sum())
    solver.set_nodes_supplies(
        np.concatenate([np.arange(n), [sink]]).astype(np.int32),
        np.concatenate([units, [-total]]).astype(np.int64),
    )
    status = solver.solve()
    if status != solver.OPTIMAL:
        msg = f"assignment: the min-cost flow solver stopped with status {status!r}"
        raise SolverError(msg)
    flow = np.asarray(solver.flows(handles), dtype=np.float64)
    # Back to visits: each group's flows scaled to its true visits (factor <= 1).
    per_unit = np.divide(weights, units, out=np.zeros(n), where=units > 0)
    k = arcs.groups.size
    x = flow[:k] * per_unit[arcs.groups]
    unassigned = flow[k : k + n] * per_unit
    # Rounding: the flow's data differ from the true ones by `extra` visits (demand up,
    # capacities down), each worth at most the penalty, and by half a cost unit per visit.
    # A capacity the flow leaves slack has a zero dual in every optimum: its rounding is free.
    full = np.asarray(solver.flows(handles[k + n :])) >= cap_units
    extra = float(units.sum() / scale - weights.sum()) + float(
        (capacities - cap_units / scale)[full].sum()
    )
    worst = max(penalty, slack_cost * COST_RESOLUTION_S) + COST_RESOLUTION_S
    bound = (
        solver.optimal_cost() * COST_RESOLUTION_S / scale
        - worst * max(0.0, extra)
        - 0.5 * COST_RESOLUTION_S * total / scale
    )
    return x, unassigned, float(bound)


def _nearest_pairs(
    usable: np.ndarray, time_s: np.ndarray, nearest: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """(group, facility) pairs of each group's `nearest` usable facilities."""
    if nearest is not None and usable.shape[1] > nearest:
        t = np.where(usable, time_s, np.inf)
        kth = np.partition(t, nearest - 1, axis=1)[:, nearest - 1]
        usable = usable & (t <= kth[:, None])
    gi, fj = np.nonzero(usable)
    return gi, fj


def _reasons(
    usable: np.ndarray,
    to_market: np.ndarray,
    market_groups: np.ndarray,
    unassigned: np.ndarray,
    n_groups: int,
    modes: np.ndarray,
    max_time_s: float,
) -> np.ndarray:
    reason = np.full(n_groups, "", dtype=object)
    at_market = np.zeros(n_groups)
    at_market[market_groups] = to_market
    minutes = f"{max_time_s / 60:g} min"
    none_near = ~np.asarray(usable.any(axis=1), dtype=bool)
    for g in np.flatnonzero((at_market > 1e-9) | (unassigned > 1e-9)):
        if none_near[g]:
            why = f"no open service point for its industries within {minutes} by {modes[g]}"
        else:
            why = f"matching service points within {minutes} by {modes[g]} are full"
        if unassigned[g] > 1e-9:
            why += "; the central market is full as well"
        else:
            why += "; sent to the central market"
        reason[g] = why
    return reason
