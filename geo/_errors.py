"""Deprecated alias of :mod:`geo.errors`, kept so branches written against it still merge.

Import from :mod:`geo.errors` (or :mod:`geo`); this module goes once nothing uses it.
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

__all__ = [
    "CacheError",
    "DianmianError",
    "DisconnectedError",
    "InputError",
    "NetworkError",
    "Problem",
    "ScenarioError",
    "SnapError",
]
