"""The data every siting model shares: a demand x site travel-cost matrix and demand weights.

Costs are travel times in seconds from each demand point (row) to each candidate site
(column); ``inf`` marks a pair that is unreachable (e.g. beyond the mode's time limit or in a
disconnected part of the network). Demand may be aggregated (network nodes, hex cells): a row
then carries the summed weight of everyone it stands for.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo import InputError, Problem

logger = logging.getLogger(__name__)

_SOURCE = "siting model"


@dataclass(frozen=True, eq=False)
class SitingProblem:
    """Validated inputs of a siting model.

    Parameters
    ----------
    cost
        Travel cost (s) from demand point ``i`` (row) to candidate site ``j`` (column);
        ``inf`` = unreachable. Shape ``(n_demand, n_sites)``.
    weights
        Demand weight of each row (people, hires per day...), non-negative.
    fixed
        Indices of sites that are open whatever the model decides (the central talent market).
    capacities
        Safe daily capacity of each site in weight units (``inf`` = unlimited), or ``None``.
    """

    cost: NDArray[np.float64]
    weights: NDArray[np.float64]
    fixed: NDArray[np.intp] = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    capacities: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        n_sites = self.cost.shape[1] if self.cost.ndim == 2 else 0
        problems = [
            *_cost_problems(self.cost, self.weights),
            *_site_problems(self.fixed, self.capacities, n_sites),
        ]
        if problems:
            raise InputError([Problem(_SOURCE, None, p) for p in problems])

    @classmethod
    def build(
        cls,
        cost: ArrayLike,
        weights: ArrayLike | None = None,
        *,
        fixed: Sequence[int] | ArrayLike = (),
        capacities: ArrayLike | None = None,
    ) -> SitingProblem:
        """Convert array-likes and validate; ``weights=None`` means weight 1 per row."""
        cost_arr = np.asarray(cost, dtype=np.float64)
        if weights is None:
            w = np.ones(cost_arr.shape[0] if cost_arr.ndim else 0, dtype=np.float64)
        else:
            w = np.asarray(weights, dtype=np.float64).ravel()
        fixed_arr = np.asarray(fixed, dtype=np.intp).ravel()
        caps = None if capacities is None else np.asarray(capacities, dtype=np.float64).ravel()
        return cls(cost_arr, w, np.sort(fixed_arr), caps)

    @property
    def n_demand(self) -> int:
        return int(self.cost.shape[0])

    @property
    def n_sites(self) -> int:
        return int(self.cost.shape[1])

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())

    def reachable_rows(self) -> NDArray[np.bool_]:
        """Rows that reach at least one candidate site."""
        return np.asarray(np.isfinite(self.cost).any(axis=1), dtype=bool)

    def penalised_cost(self, penalty_factor: float = 100.0) -> tuple[NDArray[np.float64], float]:
        """Cost matrix with ``inf`` replaced by a large finite penalty, and that penalty.

        The heuristics and the MILPs share this so their objectives are the same number: a
        demand row left without a reachable open site costs ``penalty`` per unit weight.
        """
        finite = np.isfinite(self.cost)
        largest = float(self.cost[finite].max()) if finite.any() else 1.0
        penalty = penalty_factor * (largest + 1.0)
        return np.where(finite, self.cost, penalty), penalty


def _cost_problems(cost: NDArray[np.float64], weights: NDArray[np.float64]) -> list[str]:
    """What is wrong with the cost matrix and the weights (empty: nothing)."""
    problems: list[str] = []
    if cost.ndim != 2 or cost.shape[0] == 0 or cost.shape[1] == 0:
        problems.append(f"`cost` must be a non-empty 2-D matrix, got shape {cost.shape}")
    else:
        if np.isnan(cost).any():
            problems.append("`cost` contains NaN; use inf for unreachable pairs")
        if (cost < 0).any():
            problems.append("`cost` contains negative travel times")
        if weights.shape != (cost.shape[0],):
            problems.append(
                f"`weights` must have one entry per demand row ({cost.shape[0]}), "
                f"got shape {weights.shape}"
            )
    if weights.ndim == 1 and weights.size and not np.isfinite(weights).all():
        problems.append("`weights` must be finite")
    elif weights.ndim == 1 and (weights < 0).any():
        problems.append("`weights` must be non-negative")
    return problems


def _site_problems(
    fixed: NDArray[np.intp], caps: NDArray[np.float64] | None, n_sites: int
) -> list[str]:
    """What is wrong with the fixed sites and the capacities (empty: nothing)."""
    problems: list[str] = []
    if fixed.size:
        if fixed.min() < 0 or fixed.max() >= n_sites:
            problems.append(f"`fixed` site indices must lie in [0, {n_sites})")
        if np.unique(fixed).size != fixed.size:
            problems.append("`fixed` lists a site twice")
    if caps is not None:
        if caps.shape != (n_sites,):
            problems.append(
                f"`capacities` must have one entry per site ({n_sites}), got shape {caps.shape}"
            )
        elif np.isnan(caps).any() or (caps < 0).any():
            problems.append("`capacities` must be non-negative numbers (inf = unlimited)")
    return problems


def check_count(p: int, n_sites: int, n_fixed: int, *, name: str = "p") -> None:
    """Raise :class:`InfeasibleError` if ``p`` new sites cannot be opened."""
    from planner.errors import InfeasibleError

    if p < 0:
        msg = f"`{name}` must be >= 0, got {p}"
        raise InputError([Problem(_SOURCE, None, msg)])
    if p + n_fixed > n_sites:
        msg = f"`{name}`={p} new sites plus {n_fixed} fixed exceed the {n_sites} candidate sites"
        raise InfeasibleError(msg)


Method = Literal["auto", "heuristic", "milp"]
"""How a siting model is solved: exact MILP (HiGHS), heuristic, or chosen by size."""

MILP_AUTO_MAX_PAIRS: dict[str, int] = {
    "p-median": 40_000,
    "max coverage": 40_000,
    "min points": 40_000,
    "capacitated p-median": 10_000,
    "staffed siting": 6_000,
}
"""Largest ``n_demand x n_sites`` matrix that ``method="auto"`` solves with the exact MILP,
per model (the model's ``model_name``). The capacitated model has one binary per reachable
pair (single-source assignment) and the staffed model one binary per site and staff level,
so their MILPs grow hard sooner than the p-median's or coverage's."""


def use_milp(method: Method, problem: SitingProblem, model_name: str) -> bool:
    """True if `method` (``"auto"``: by :data:`MILP_AUTO_MAX_PAIRS`) means the exact MILP."""
    if method not in ("auto", "heuristic", "milp"):
        msg = f"`method` must be 'auto', 'heuristic' or 'milp', got {method!r}"
        raise InputError([Problem(_SOURCE, None, msg)])
    if method != "auto":
        return method == "milp"
    return problem.n_demand * problem.n_sites <= MILP_AUTO_MAX_PAIRS[model_name]
