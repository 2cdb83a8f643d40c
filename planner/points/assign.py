"""Assign demand groups to open service points: industry match first, then travel time.

A transportation problem solved exactly with HiGHS (through ``scipy.optimize.linprog``):
each group's daily visits go to open points that serve one of its industries and lie within
the travel-time limit, or to the central market (which serves every industry, at a penalty
so that it is used only when no suitable point has room), or stay unassigned (a much larger
penalty, only when even the market is full). Capacities are hard constraints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from planner.errors import InfeasibleError, SolverError

logger = logging.getLogger(__name__)


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
        Total weighted travel time plus penalties (visit x s).
    """

    flows: pd.DataFrame
    unassigned: np.ndarray
    reason: np.ndarray
    loads: np.ndarray
    objective: float


def industry_match(group_industries: pd.Series, point_industries: list[set[str]]) -> np.ndarray:
    """``(n_groups, n_points)`` True where the group shares an industry with the point."""
    codes = sorted({c for s in point_industries for c in s} | {"other"})
    col = {c: i for i, c in enumerate(codes)}
    g = np.zeros((len(group_industries), len(codes)), dtype=bool)
    for row, text in enumerate(group_industries.astype(str)):
        for c in text.split(";"):
            if c in col:
                g[row, col[c]] = True
    p = np.zeros((len(point_industries), len(codes)), dtype=bool)
    for j, inds in enumerate(point_industries):
        for c in inds:
            p[j, col[c]] = True
    return (g.astype(np.int32) @ p.T.astype(np.int32)) > 0


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
    merge_key: np.ndarray | None = None,
) -> Assignment:
    """Solve the capacitated assignment.

    Parameters
    ----------
    time_s
        ``(n_groups, n_facilities)`` travel times (s), ``inf`` = unreachable.
    weights
        Daily visits of each group.
    allowed
        ``(n_groups, n_facilities)`` industry match (the market column is ignored: the
        market serves everyone).
    capacities
        Daily capacity of each facility (closed facilities: 0).
    market
        Column of the central market.
    max_time_s
        Longest acceptable trip to a service point (s).
    modes
        Travel mode of each group (for reasons).
    nearest
        Each group may use only its `nearest` usable points (``None``: all); keeps the LP
        small when capacities bind (a group is rarely best sent past its eighth nearest).
    merge_key
        Optional key per group (e.g. its siting row: cell and mode): groups with the same key
        and the same usable points are solved as one LP row, their travel times averaged by
        weight, and share its flows by weight. ``None``: every group is its own row.
    """
    n_groups, n_fac = time_s.shape
    if weights.shape != (n_groups,) or allowed.shape != time_s.shape:
        msg = "`weights`/`allowed` do not match `time_s`"
        raise ValueError(msg)
    usable = allowed & np.isfinite(time_s) & (time_s <= max_time_s) & (capacities[None, :] > 0)
    usable[:, market] = False
    gi, fj = _nearest_pairs(usable, time_s, nearest)
    mg = np.flatnonzero(np.isfinite(time_s[:, market]))
    cls = _classes(gi, fj, mg, n_groups, merge_key)
    n_cls = int(cls.max()) + 1 if n_groups else 0
    cw = np.bincount(cls, weights=weights, minlength=n_cls)
    size = np.bincount(cls, minlength=n_cls)
    # Weight shares within a class; a class without weight averages its members plainly.
    share = np.where(cw[cls] > 0, weights / np.where(cw[cls] > 0, cw[cls], 1.0), 1.0 / size[cls])
    # A class's time to a facility is its members' weighted mean (exact when unmerged).
    pairs = pd.DataFrame({"c": cls[gi], "f": fj, "t": time_s[gi, fj] * share[gi]})
    cpairs = pairs.groupby(["c", "f"], as_index=False)["t"].sum()
    cm = pd.Series(time_s[mg, market] * share[mg]).groupby(cls[mg]).sum()
    x, objective = _solve_lp(
        (cpairs["c"].to_numpy(), cpairs["f"].to_numpy(), cpairs["t"].to_numpy()),
        (cm.index.to_numpy(), cm.to_numpy()),
        cw,
        capacities,
        market,
        max_time_s,
    )
    k, km = len(cpairs), len(cm)
    # Members share their class's flows in proportion to their weight.
    flow_of = pd.Series(x[:k], index=pd.MultiIndex.from_arrays([cpairs["c"], cpairs["f"]]))
    to_points = flow_of.reindex(pd.MultiIndex.from_arrays([cls[gi], fj])).to_numpy() * share[gi]
    market_of = pd.Series(x[k : k + km], index=cm.index)
    to_market = market_of.reindex(cls[mg]).to_numpy() * share[mg]
    unassigned = x[k + km :][cls] * share
    keep = to_points > 1e-9
    mkeep = to_market > 1e-9
    flows = pd.DataFrame(
        {
            "group": np.concatenate([gi[keep], mg[mkeep]]),
            "facility": np.concatenate([fj[keep], np.full(int(mkeep.sum()), market)]),
            "visits": np.concatenate([to_points[keep], to_market[mkeep]]),
        }
    )
    flows["time_s"] = time_s[flows["group"].to_numpy(), flows["facility"].to_numpy()]
    loads = np.bincount(flows["facility"], weights=flows["visits"], minlength=n_fac)
    reason = _reasons(usable, to_market, mg, unassigned, n_groups, modes, max_time_s)
    return Assignment(
        flows=flows,
        unassigned=np.where(unassigned > 1e-9, unassigned, 0.0),
        reason=reason,
        loads=loads,
        objective=objective,
    )


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


def _classes(
    gi: np.ndarray, fj: np.ndarray, mg: np.ndarray, n_groups: int, merge_key: np.ndarray | None
) -> np.ndarray:
    """Class of each group: groups with the same `merge_key` and the same usable facilities
    (and market access) are one LP row (their times are averaged by weight)."""
    if merge_key is None:
        return np.arange(n_groups)
    pattern = pd.Series(fj.astype(str)).groupby(gi).agg(",".join)
    text = np.full(n_groups, "", dtype=object)
    text[pattern.index.to_numpy()] = pattern.to_numpy()
    market_ok = np.zeros(n_groups, dtype=bool)
    market_ok[mg] = True
    keys = pd.DataFrame({"k": np.asarray(merge_key), "p": text, "m": market_ok})
    codes, _ = pd.MultiIndex.from_frame(keys).factorize()
    return np.asarray(codes, dtype=np.intp)


def _solve_lp(
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    market_rows: tuple[np.ndarray, np.ndarray],
    weights: np.ndarray,
    capacities: np.ndarray,
    market: int,
    max_time_s: float,
) -> tuple[np.ndarray, float]:
    """Solve the transportation LP over rows (groups or classes of them).

    `pairs` is (row, facility, time s) of every usable row->point pair, `market_rows`
    (row, time s) of the rows that reach the market. Columns: the pairs, the market rows,
    one unassigned slack per row.
    """
    gi, fj, pair_t = pairs
    mg, market_t = market_rows
    n_rows, n_fac = weights.size, capacities.size
    # Penalties in seconds per visit: the market only when no matching point has room; leaving
    # a visit unassigned only when the market is full as well.
    unassigned_penalty = 20.0 * max_time_s + float(market_t.max() if market_t.size else 0.0)
    cost = np.concatenate([pair_t, market_t + max_time_s, np.full(n_rows, unassigned_penalty)])
    n_vars = cost.size
    rows = np.concatenate([gi, mg, np.arange(n_rows)])
    a_eq = sp.csr_array((np.ones(n_vars), (rows, np.arange(n_vars))), shape=(n_rows, n_vars))
    cap_rows = np.concatenate([fj, np.full(mg.size, market)])
    a_ub = sp.csr_array(
        (np.ones(cap_rows.size), (cap_rows, np.arange(cap_rows.size))), shape=(n_fac, n_vars)
    )
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=capacities.astype(np.float64),
        A_eq=a_eq,
        b_eq=weights.astype(np.float64),
        bounds=(0, None),
        method="highs",
    )
    if res.status == 2:  # cannot happen with the unassigned slack, but never hide it
        msg = f"assignment LP is infeasible: {res.message}"
        raise InfeasibleError(msg)
    if res.status != 0:  # iteration/time limit or numerical trouble: no proof of anything
        msg = f"assignment LP stopped without a solution (status {res.status}): {res.message}"
        raise SolverError(msg)
    return np.asarray(res.x), float(res.fun)


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
