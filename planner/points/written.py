"""The service points of a plan already written by ``dianmian plan`` (``plan.gpkg``).

A day's routes need only the open points (where volunteers belong and escorts start), and
a bureau plans its days against the points it has set up, not against a new siting run
each morning. :func:`read_written_plan` reads them from the current publication of a
scenario's output folder; :class:`WrittenPlan` offers the same ``service_points()`` as
:class:`planner.points.plan.Plan`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import InputError, Problem
from planner.publish import version_folder

logger = logging.getLogger(__name__)

COLUMNS = ("id", "name", "kind", "industries")


@dataclass(frozen=True, eq=False)
class WrittenPlan:
    """Open service points (and the market) read from a written ``plan.gpkg``.

    Attributes
    ----------
    points
        ``id``, ``name``, ``kind``, ``industries`` (``;``-separated codes) and the per-point
        figures of the plan, geometry in EPSG:4326.
    source
        The file they were read from.
    version
        The publication they belong to (``None`` for an unversioned folder).
    """

    points: gpd.GeoDataFrame
    source: Path
    version: str | None = None

    def service_points(self) -> gpd.GeoDataFrame:
        """The open points and the market, as :meth:`planner.points.plan.Plan.service_points`."""
        return self.points.copy()


def read_written_plan(target: str | Path) -> WrittenPlan | None:
    """The service points of the current plan in `target` (``out/<scenario>``), or ``None``
    if no plan was written there yet.

    Raises
    ------
    geo.InputError
        If ``plan.gpkg`` exists but its ``service_points`` layer cannot be read or lacks
        columns (naming the file); run ``dianmian plan`` again.
    """
    folder, version = version_folder(target)
    path = folder / "plan.gpkg"
    if not path.is_file():
        return None
    try:
        points = gpd.read_file(path, layer="service_points")
    except Exception as exc:  # pyogrio raises several types for a broken file or layer
        msg = f"cannot read layer `service_points` ({exc}); run `dianmian plan` again"
        raise InputError([Problem(str(path), None, msg)]) from None
    missing = [c for c in COLUMNS if c not in points.columns]
    if missing:
        msg = f"layer `service_points` lacks column(s) {missing}; run `dianmian plan` again"
        raise InputError([Problem(str(path), None, msg)])
    if points.crs is not None and points.crs.to_epsg() != 4326:
        points = points.to_crs("EPSG:4326")
    points["id"] = points["id"].astype(str)
    points["industries"] = points["industries"].where(pd.notna(points["industries"]), "")
    logger.info("%d service points from %s", len(points), path)
    return WrittenPlan(points.reset_index(drop=True), path, version)
