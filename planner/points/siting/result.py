"""The result object every siting model's ``solve()`` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class SitingResult:
    """A solved siting plan.

    Parameters
    ----------
    model
        Model name (``"p-median"``, ``"capacitated p-median"``, ``"max coverage"``,
        ``"min points"``).
    solver
        ``"milp-highs"`` or ``"heuristic"``.
    status
        ``"optimal"``, ``"time limit"`` (MILP stopped with a feasible plan) or
        ``"heuristic"`` (no optimality proof).
    sense
        ``"min"`` or ``"max"``: the direction of ``objective``.
    objective
        Value of the model's objective: weighted travel time (weight x s) for the p-median
        models, covered weight for maximal coverage, number of open new sites for min points.
        Demand rows left without any reachable open site add ``penalty`` per weight unit in
        the p-median models (see ``unassigned``).
    bound
        Proven bound on the optimum (lower for ``"min"``, upper for ``"max"``) or ``None``.
    runtime_s
        Wall-clock solve time (s).
    open_sites
        Sorted indices of all open sites, fixed ones included.
    fixed_sites
        Sorted indices of the fixed open sites.
    assignment
        Site index serving each demand row, ``-1`` when no open site is reachable. For
        splittable capacitated plans, the site taking the largest share.
    cost
        Travel time (s) of each row to its assigned site (``inf`` when unassigned).
    loads
        Weight served by each site (length ``n_sites``; 0 at closed sites).
    covered_weight
        Weight within the coverage limit (coverage models) or ``None``.
    total_weight
        Total demand weight.
    allocation
        Splittable capacitated plans: sparse ``(n_demand, n_sites)`` matrix with the share of
        each row's weight sent to each site (rows sum to 1). ``None`` otherwise.
    notes
        Human-readable remarks (aggregation, relaxations, reasons for unassigned demand).
    """

    model: str
    solver: str
    status: str
    sense: Literal["min", "max"]
    objective: float
    bound: float | None
    runtime_s: float
    open_sites: NDArray[np.intp]
    fixed_sites: NDArray[np.intp]
    assignment: NDArray[np.intp]
    cost: NDArray[np.float64]
    loads: NDArray[np.float64]
    total_weight: float
    covered_weight: float | None = None
    allocation: sp.csr_array | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def new_sites(self) -> NDArray[np.intp]:
        """Open sites that were chosen (not fixed)."""
        return np.setdiff1d(self.open_sites, self.fixed_sites)

    @property
    def unassigned(self) -> NDArray[np.intp]:
        """Demand rows without a reachable open site."""
        return np.flatnonzero(self.assignment < 0)

    @property
    def gap(self) -> float | None:
        """Relative optimality gap ``|objective - bound| / max(|objective|, 1e-9)``, or ``None``."""
        if self.bound is None:
            return None
        diff = self.objective - self.bound if self.sense == "min" else self.bound - self.objective
        return max(0.0, float(diff)) / max(abs(self.objective), 1e-9)

    def summary(self) -> dict[str, object]:
        """JSON-ready summary (no per-row data)."""
        return {
            "model": self.model,
            "solver": self.solver,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "runtime_s": self.runtime_s,
            "open_sites": self.open_sites.tolist(),
            "fixed_sites": self.fixed_sites.tolist(),
            "n_unassigned": int(self.unassigned.size),
            "covered_weight": self.covered_weight,
            "total_weight": self.total_weight,
            "notes": list(self.notes),
        }
