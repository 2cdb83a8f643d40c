"""Domain exceptions of the planner (all :class:`geo.DianmianError`, hence ``ValueError``)."""

from __future__ import annotations

from geo import DianmianError


class PlannerError(DianmianError):
    """Base class of the planner's errors."""


class InfeasibleError(PlannerError):
    """A planning model has no feasible solution for the given settings.

    Examples: more facilities than candidate sites, total capacity below total demand, or a
    coverage target that no set of sites can reach within the travel-time limit.
    """


class SolverError(PlannerError):
    """The solver stopped without any feasible solution (time limit, numerical trouble)."""


class CaseNotFoundError(PlannerError):
    """A registration, recommendation or interview of the loop does not exist."""


class CaseStateError(PlannerError):
    """A loop action does not fit the case's state (e.g. an outcome for a closed case)."""
