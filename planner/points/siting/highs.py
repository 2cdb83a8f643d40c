"""Thin wrapper around HiGHS (highspy) for the exact siting MILPs."""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.errors import InfeasibleError, SolverError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MilpOutcome:
    """Solution of one MILP: column values, objective, proven bound, status and time (s)."""

    x: NDArray[np.float64]
    objective: float
    bound: float
    optimal: bool
    runtime_s: float


def solve_milp(
    cost: NDArray[np.float64],
    a: sp.csc_array,
    row_lower: NDArray[np.float64],
    row_upper: NDArray[np.float64],
    col_lower: NDArray[np.float64],
    col_upper: NDArray[np.float64],
    integer: NDArray[np.bool_],
    *,
    maximize: bool = False,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-6,
    what: str = "siting model",
    initial: NDArray[np.float64] | None = None,
) -> MilpOutcome:
    """Solve ``min/max cost @ x`` s.t. ``row_lower <= a @ x <= row_upper`` with HiGHS.

    ``initial`` is an optional feasible solution HiGHS starts from (its incumbent).

    Raises
    ------
    InfeasibleError
        HiGHS proves the model infeasible.
    SolverError
        HiGHS stops (time limit, error) without a feasible solution.
    """
    lp = _highs_lp(cost, a, row_lower, row_upper, col_lower, col_upper, integer, maximize)
    h = _new_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("threads", 1)
    start = time.perf_counter()
    h.passModel(lp)
    if initial is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(initial, dtype=np.float64).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    runtime = time.perf_counter() - start
    status = h.getModelStatus()
    info = h.getInfo()
    label = h.modelStatusToString(status)
    if status == highspy.HighsModelStatus.kInfeasible:
        msg = f"{what}: the MILP is infeasible (HiGHS: {label})"
        raise InfeasibleError(msg)
    if info.primal_solution_status != 2:  # 2 = kSolutionStatusFeasible
        msg = f"{what}: HiGHS stopped without a feasible solution ({label}) after {runtime:.1f} s"
        raise SolverError(msg)
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    optimal = status == highspy.HighsModelStatus.kOptimal
    objective = float(info.objective_function_value)
    if initial is not None and not _objective_matches(cost, x, objective):
        # HiGHS 1.16 can return the start unchanged with another solution's objective and
        # bound (and "optimal"): seen on a 6-row staffed instance. Trust neither; solve again
        # without the start.
        logger.warning(
            "%s: HiGHS returned an objective (%.9g) that is not its solution's (%.9g); "
            "solving again without the start",
            what,
            objective,
            float(np.dot(cost, x)),
        )
        left = max(1.0, float(time_limit_s) - runtime)
        return solve_milp(
            cost, a, row_lower, row_upper, col_lower, col_upper, integer,
            maximize=maximize, time_limit_s=left, mip_rel_gap=mip_rel_gap, what=what,
        )  # fmt: skip
    bound = float(info.mip_dual_bound) if integer.any() else objective
    if not np.isfinite(bound):
        bound = objective if optimal else float("nan")
    logger.debug(
        "%s: HiGHS %s, objective %.6g, bound %.6g, %.2f s", what, label, objective, bound, runtime
    )
    return MilpOutcome(x, objective, bound, optimal, runtime)


def _highs_lp(
    cost: NDArray[np.float64],
    a: sp.csc_array,
    row_lower: NDArray[np.float64],
    row_upper: NDArray[np.float64],
    col_lower: NDArray[np.float64],
    col_upper: NDArray[np.float64],
    integer: NDArray[np.bool_],
    maximize: bool,
) -> highspy.HighsLp:
    """The model as a HiGHS LP (column-wise matrix)."""
    a = sp.csc_array(a)
    n_rows, n_cols = a.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    if integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in integer.tolist()
        ]
    if maximize:
        lp.sense_ = highspy.ObjSense.kMaximize
    return lp


def _objective_matches(cost: NDArray[np.float64], x: NDArray[np.float64], reported: float) -> bool:
    """True if HiGHS's reported objective is ``cost @ x`` (to 1e-7 relative)."""
    mine = float(np.dot(cost, x))
    return abs(mine - reported) <= 1e-7 * max(1.0, abs(mine), abs(reported))


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance.

    HiGHS writes its banner to the process's standard output while it is constructed, before
    ``output_flag`` can be set (HiGHS issue #2749), which would clutter the command line's
    output; the file descriptor is pointed at /dev/null for that moment only.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h
