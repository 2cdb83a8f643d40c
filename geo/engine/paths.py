"""Fastest route between two snapped points, with a street-following geometry."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyproj
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from ..errors import DisconnectedError
from .base import ModeBase
from .snap import SnappedPoints, arriving_arcs, direct_arcs, leaving_arcs, plain


@dataclass(frozen=True, eq=False)
class Route:
    """A fastest route.

    Attributes
    ----------
    time_s, length_m
        Travel time (s) and distance (m), access legs included.
    nodes
        Network node indices passed, in order.
    edges
        Street edges used in order (partial first/last edges included), indices into the
        network's edge arrays.
    line
        Street-following geometry in :attr:`crs` (metres), from the origin point through its
        projection on the street to the destination point.
    crs
        The network CRS.
    """

    time_s: float
    length_m: float
    nodes: np.ndarray
    edges: np.ndarray
    line: shapely.LineString
    crs: str

    @cached_property
    def line_lonlat(self) -> shapely.LineString:
        """:attr:`line` in longitude/latitude (EPSG:4326)."""
        tr = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        return shapely.transform(
            self.line, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1]))
        )


def route(base: ModeBase, origin: SnappedPoints, destination: SnappedPoints) -> Route:
    """Fastest route from the single point `origin` to the single point `destination`.

    Raises
    ------
    DisconnectedError
        If no route exists on this mode's graph.
    """
    n = base.n_nodes
    o_node, d_node = n, n + 1
    arcs = base.arcs.concat(leaving_arcs(base, origin, o_node))
    arcs = arcs.concat(arriving_arcs(base, destination, d_node))
    direct = direct_arcs(base, origin, o_node, destination, d_node)
    arcs = arcs.concat(direct)
    dist, pred = dijkstra(arcs.csr(n + 2), indices=o_node, return_predecessors=True)
    if not np.isfinite(dist[d_node]):
        a, b = plain(origin.ids[0]), plain(destination.ids[0])
        msg = (
            f"no {base.mode.value} route from {a!r} to {b!r}: "
            "they lie in parts of the network that do not connect"
        )
        raise DisconnectedError(msg)
    chain = [d_node]
    while chain[-1] != o_node:
        chain.append(int(pred[chain[-1]]))
    chain.reverse()
    real = np.asarray(chain[1:-1], dtype=np.int64)
    pieces, edges, length = _street_pieces(base, origin, destination, real)
    length += float(origin.distance_m[0] + destination.distance_m[0])
    coords = _joined(origin, destination, pieces)
    return Route(
        time_s=float(dist[d_node]),
        length_m=length,
        nodes=real,
        edges=np.asarray(edges, dtype=np.int64),
        line=shapely.LineString(coords),
        crs=base.network.crs,
    )


def street_coords(
    base: ModeBase, origin: SnappedPoints, destination: SnappedPoints, real: np.ndarray
) -> np.ndarray:
    """Coordinates (the network's metric CRS) of the way from the single point `origin`
    through the real nodes `real` (in order, as a search found them) to `destination`:
    the access legs, the partial first and last streets and the full ones between, with
    repeated vertices removed (at least two points). :func:`route` draws its line so."""
    pieces, _edges, _length = _street_pieces(base, origin, destination, real)
    return _joined(origin, destination, pieces)


def _joined(
    origin: SnappedPoints, destination: SnappedPoints, pieces: list[np.ndarray]
) -> np.ndarray:
    coords = np.concatenate(
        [
            np.array([[origin.x[0], origin.y[0]]]),
            *pieces,
            np.array([[destination.x[0], destination.y[0]]]),
        ]
    )
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(np.diff(coords, axis=0) != 0, axis=1)
    coords = coords[keep]
    return coords if len(coords) > 1 else np.vstack([coords, coords])


def _street_pieces(
    base: ModeBase, origin: SnappedPoints, destination: SnappedPoints, real: np.ndarray
) -> tuple[list[np.ndarray], list[int], float]:
    """Coordinates, street edges and length (m) of a route through real nodes `real`,
    from the origin's projection on its street to the destination's."""
    net = base.network
    e_o, f_o = int(origin.edge[0]), float(origin.fraction[0])
    e_d, f_d = int(destination.edge[0]), float(destination.fraction[0])
    if real.size == 0:  # along the shared street edge
        return [_part_line(base, e_o, f_o, f_d)], [e_o], abs(f_d - f_o) * net.edge_length_m[e_o]
    f_first = _end_fraction(base, e_o, f_o, int(real[0]), leaving=True)
    pieces = [_part_line(base, e_o, f_o, f_first)]
    edges = [e_o]
    length = abs(f_first - f_o) * float(net.edge_length_m[e_o])
    if real.size > 1:
        pos = base.arcs.lookup(real[:-1], real[1:], base.n_nodes)  # arcs sorted by (src, dst)
        for p in pos.tolist():
            e = int(base.arc_edge[p])
            line = np.asarray(base.lines[e].coords)
            pieces.append(line[::-1] if base.arc_reverse[p] else line)
            edges.append(e)
            length += float(base.arcs.length_m[p])
    f_last = _end_fraction(base, e_d, f_d, int(real[-1]), leaving=False)
    pieces.append(_part_line(base, e_d, f_last, f_d))
    edges.append(e_d)
    length += abs(f_d - f_last) * float(net.edge_length_m[e_d])
    return pieces, edges, length


def _end_fraction(base: ModeBase, e: int, f: float, node: int, *, leaving: bool) -> float:
    """Fraction (0 or 1) of the end of edge `e` through which the route left or entered it.

    Only a self-loop (both ends the same node) is ambiguous: then the cheaper way was taken.
    """
    net = base.network
    if net.edge_u[e] != net.edge_v[e]:
        return 1.0 if node == net.edge_v[e] else 0.0
    via_v = (1 - f) * base.t_fwd[e] if leaving else (1 - f) * base.t_bwd[e]
    via_u = f * base.t_bwd[e] if leaving else f * base.t_fwd[e]
    return 1.0 if via_v <= via_u else 0.0


def _part_line(base: ModeBase, e: int, f_from: float, f_to: float) -> np.ndarray:
    """Coordinates along street edge `e` from fraction `f_from` to `f_to` (either order)."""
    line = base.lines[e]
    total = line.length
    lo, hi = sorted((f_from, f_to))
    if total == 0 or hi == lo:
        pt = line.interpolate(f_from * total)
        return np.array([[pt.x, pt.y]])
    part = substring(line, lo * total, hi * total)
    coords = (
        np.asarray(part.coords) if part.geom_type == "LineString" else np.asarray([part.coords[0]])
    )
    return coords if f_to >= f_from else coords[::-1]
