"""Errors of the map face (subclasses of :class:`geo.DianmianError`)."""

from __future__ import annotations

from geo import DianmianError


class OfflineAssetError(DianmianError):
    """A map would link a script or stylesheet that is not vendored (needs the internet)."""
