"""geo: layers, readers, validation, street networks and travel times.

This package imports nothing else of dianmian; everything else builds on it.
"""

from .errors import (
    CacheError,
    DianmianError,
    DisconnectedError,
    InputError,
    NetworkError,
    Problem,
    ScenarioError,
    SnapError,
)
from .industries import INDUSTRY_CODES, Industry
from .modes import MODE_CODES, TravelMode

__all__ = [
    "INDUSTRY_CODES",
    "MODE_CODES",
    "CacheError",
    "DianmianError",
    "DisconnectedError",
    "Industry",
    "InputError",
    "NetworkError",
    "Problem",
    "ScenarioError",
    "SnapError",
    "TravelMode",
]
