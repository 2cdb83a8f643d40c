"""Connectivity diagnostics: how much of a mode's network its largest component keeps, and
which points (sites, employers, ...) are cut off from it.

Each mode keeps only its largest strongly connected component (every node reachable from
every other). On a clipped extract (a city cut out of a larger map) that component may keep
a small part of the streets, and a point near a street of a dropped part is then snapped to
the kept component far away, or not at all. :func:`check_components` reports the share kept
per mode; :func:`diagnose_points` tells, per point, its distance to the nearest street the
mode may use (any component) and to the kept component, so a message can say "cut off"
rather than "far from streets".
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from ..modes import TravelMode
from .build import strong_components
from .model import StreetNetwork

logger = logging.getLogger(__name__)

MIN_COMPONENT_SHARE = 0.8
"""Smallest share of a mode's usable street nodes its largest component should keep."""

CUT_OFF_GAP_M = 250.0
"""A point is *cut off* when the kept component is this much (m) farther than a usable street."""


@dataclass(frozen=True)
class ComponentCheck:
    """How much of one mode's usable network its largest strongly connected component keeps.

    Attributes
    ----------
    mode
        The travel mode.
    usable_nodes
        Nodes touched by a street the mode may use (any component).
    kept_nodes
        Nodes of the largest strongly connected component (the network the mode routes on).
    sizes
        Node counts of the largest components, descending (at most ten).
    min_share
        The share below which :attr:`ok` is false.
    """

    mode: TravelMode
    usable_nodes: int
    kept_nodes: int
    sizes: tuple[int, ...]
    min_share: float

    @property
    def share(self) -> float:
        return self.kept_nodes / self.usable_nodes if self.usable_nodes else 0.0

    @property
    def ok(self) -> bool:
        return self.share >= self.min_share

    @property
    def message(self) -> str:
        sizes = ", ".join(f"{s:,}" for s in self.sizes)
        return (
            f"{self.mode.value}: the largest connected part of the network keeps "
            f"{self.kept_nodes:,} of {self.usable_nodes:,} street nodes ({self.share:.0%}, "
            f"below {self.min_share:.0%}); component sizes {sizes}. Streets outside it are "
            "not used by this mode: is the extract clipped, or are one-way/access tags wrong?"
        )


def check_components(
    net: StreetNetwork, *, min_share: float = MIN_COMPONENT_SHARE, log: bool = True
) -> dict[TravelMode, ComponentCheck]:
    """Share of each mode's usable street nodes kept by its largest component.

    Parameters
    ----------
    net
        The network.
    min_share
        Share (0..1) below which a mode gets a warning.
    log
        Log a warning for each mode below `min_share`.
    """
    if not 0.0 <= min_share <= 1.0:
        msg = f"`min_share` must be in 0..1, got {min_share!r}"
        raise ValueError(msg)
    out: dict[TravelMode, ComponentCheck] = {}
    for mode, g in net.modes.items():
        allowed = _allowed(net, mode)
        idx = np.flatnonzero(allowed)
        back = idx if not mode.respects_oneway else idx[~net.edge_oneway[idx]]
        src = np.concatenate([net.edge_u[idx], net.edge_v[back]])
        dst = np.concatenate([net.edge_v[idx], net.edge_u[back]])
        labels, touched = strong_components(src, dst, net.n_nodes)
        sizes = np.sort(np.bincount(labels[touched]))[::-1] if touched.any() else np.zeros(0)
        check = ComponentCheck(
            mode=mode,
            usable_nodes=int(touched.sum()),
            kept_nodes=int(g.in_component.sum()),
            sizes=tuple(int(s) for s in sizes[:10] if s > 0),
            min_share=float(min_share),
        )
        if log and not check.ok:
            logger.warning(check.message)
        out[mode] = check
    return out


def _allowed(net: StreetNetwork, mode: TravelMode) -> np.ndarray:
    g = net.mode(mode)
    if g.street_allowed is not None:
        return np.asarray(g.street_allowed, dtype=bool)
    allowed = np.zeros(net.n_edges, dtype=bool)  # older networks: the kept streets only
    allowed[g.edge] = True
    return allowed


def diagnose_points(
    net: StreetNetwork,
    points: Any,
    mode: TravelMode | str,
    *,
    ids: Sequence[Hashable] | np.ndarray | None = None,
    crs: Any = "EPSG:4326",
    max_snap_m: float = 2000.0,
    gap_m: float = CUT_OFF_GAP_M,
) -> pd.DataFrame:
    """Per point: distance to the nearest street `mode` may use and to its kept component.

    Parameters
    ----------
    net
        The network.
    points
        ``(n, 2)`` coordinates in `crs`, or a GeoDataFrame/GeoSeries (its own CRS and ``id``
        column are used).
    mode
        Travel mode.
    ids
        Point identifiers (default the ``id`` column, else ``0..n-1``).
    crs
        CRS of plain coordinates (default longitude/latitude, EPSG:4326).
    max_snap_m
        Farthest (m) a point may lie from the street it is snapped to.
    gap_m
        How much (m) farther the kept component may be than a usable street before the point
        counts as cut off.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``id``, ``street_m`` (nearest street the mode may use, any
        component), ``component_m`` (nearest street of the kept component), ``status``
        (``"ok"``, ``"cut_off"``: a usable street is near but the kept component is
        farther by more than `gap_m`; ``"far"``: no usable street within `max_snap_m`) and
        ``message`` (empty when ok).
    """
    mode = TravelMode(mode)
    x, y, pid = _coords(points, net.crs, crs, ids)
    g = net.mode(mode)
    kept = np.zeros(net.n_edges, dtype=bool)
    kept[g.edge] = True
    street_m = _nearest_distance(net, _allowed(net, mode), x, y)
    component_m = _nearest_distance(net, kept, x, y)
    cut = (component_m - street_m > gap_m) & (street_m <= max_snap_m)
    far = street_m > max_snap_m
    status = np.where(far, "far", np.where(cut, "cut_off", "ok"))
    kept_nodes, all_nodes = int(g.in_component.sum()), int(_touched(net, mode).sum())
    messages = []
    for i in range(x.size):
        if status[i] == "cut_off":
            messages.append(
                f"{pid[i]!s}: {street_m[i]:,.0f} m from the nearest {mode.value} street but "
                f"{component_m[i]:,.0f} m from the {mode.value} network's largest connected "
                f"part ({kept_nodes:,} of {all_nodes:,} nodes): cut off, unreachable by "
                f"{mode.value} from most of the network"
            )
        elif status[i] == "far":
            messages.append(
                f"{pid[i]!s}: {street_m[i]:,.0f} m from the nearest {mode.value} street "
                f"(limit {max_snap_m:g} m): outside the network area"
            )
        else:
            messages.append("")
    return pd.DataFrame(
        {
            "id": pid,
            "street_m": street_m,
            "component_m": component_m,
            "status": status,
            "message": messages,
        }
    )


def _touched(net: StreetNetwork, mode: TravelMode) -> np.ndarray:
    allowed = np.flatnonzero(_allowed(net, mode))
    touched = np.zeros(net.n_nodes, dtype=bool)
    touched[net.edge_u[allowed]] = True
    touched[net.edge_v[allowed]] = True
    return touched


def _coords(
    points: Any, network_crs: str, crs: Any, ids: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import geopandas as gpd

    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        geom = points.geometry.to_crs(network_crs)
        default = points["id"] if isinstance(points, gpd.GeoDataFrame) and "id" in points else None
        pid = np.asarray(default if default is not None else points.index)
        x, y = geom.x.to_numpy(dtype=float), geom.y.to_numpy(dtype=float)
    else:
        xy = np.atleast_2d(np.asarray(points, dtype=float))
        if xy.ndim != 2 or xy.shape[1] != 2:
            msg = f"`points` must have shape (n, 2), got {xy.shape}"
            raise ValueError(msg)
        tr = pyproj.Transformer.from_crs(crs, network_crs, always_xy=True)
        x, y = (np.asarray(a, dtype=float) for a in tr.transform(xy[:, 0], xy[:, 1]))
        pid = np.arange(x.size)
    if ids is not None:
        pid = np.asarray(ids)
        if pid.shape != (x.size,):
            msg = f"`ids` must have one entry per point ({x.size}), got shape {pid.shape}"
            raise ValueError(msg)
    return x, y, pid


def _nearest_distance(
    net: StreetNetwork, edges: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Distance (m) from each point to the nearest of the street edges in mask `edges`."""
    out = np.full(x.size, np.inf)
    idx = np.flatnonzero(edges)
    finite = np.isfinite(x) & np.isfinite(y)
    if idx.size == 0 or not finite.any():
        return out
    tree = shapely.STRtree(edge_lines(net, idx))
    pts = shapely.points(x[finite], y[finite])
    (pi, _), d = tree.query_nearest(pts, return_distance=True, all_matches=False)
    out[np.flatnonzero(finite)[pi]] = d
    return out


def edge_lines(net: StreetNetwork, idx: np.ndarray) -> np.ndarray:
    """Geometries of edges `idx` (as :meth:`StreetNetwork.edge_line`), built vectorised:
    a Python call per edge took most of the travel-time step on a 250,000-node city."""
    u, v = net.edge_u[idx], net.edge_v[idx]
    coords = np.stack(
        [np.column_stack([net.x[u], net.y[u]]), np.column_stack([net.x[v], net.y[v]])], axis=1
    )
    lines = np.asarray(shapely.linestrings(coords), dtype=object)
    if net.edge_geometry is not None:
        stored = np.asarray(net.edge_geometry, dtype=object)[idx]
        has = ~pd.isna(stored)
        lines[has] = stored[has]
    return lines
