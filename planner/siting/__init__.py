"""Service-point siting: p-median, capacitated p-median, maximal coverage, minimum points.

Every model is built ``from_cost_matrix(...)`` over a demand x site travel-time matrix
(seconds, ``inf`` = unreachable) and ``solve()`` returns a :class:`SitingResult`. Fixed open
sites (the central talent market) are supported by every model via ``fixed=``.
"""

from .capacitated import CapacitatedPMedian
from .coverage import MaxCoverage, MinPointsCoverage
from .pmedian import PMedian
from .problem import SitingProblem
from .result import SitingResult

__all__ = [
    "CapacitatedPMedian",
    "MaxCoverage",
    "MinPointsCoverage",
    "PMedian",
    "SitingProblem",
    "SitingResult",
]
