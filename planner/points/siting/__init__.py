"""Service-point siting: p-median, capacitated p-median, maximal coverage, minimum points, and
staffed siting (points and their staff from a pool, peak-hour waits bounded).

Every model is built ``from_cost_matrix(...)`` over a demand x site travel-time matrix
(seconds, ``inf`` = unreachable) and ``solve()`` returns a :class:`SitingResult`. Fixed open
sites (the central talent market) are supported by every model via ``fixed=``.
"""

from planner.points.siting.capacitated import CapacitatedPMedian
from planner.points.siting.coverage import MaxCoverage, MinPointsCoverage
from planner.points.siting.pmedian import PMedian
from planner.points.siting.problem import SitingProblem
from planner.points.siting.result import SitingResult
from planner.points.siting.staffed import StaffedResult, StaffedSiting

__all__ = [
    "CapacitatedPMedian",
    "MaxCoverage",
    "MinPointsCoverage",
    "PMedian",
    "SitingProblem",
    "SitingResult",
    "StaffedResult",
    "StaffedSiting",
]
