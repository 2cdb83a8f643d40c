"""The street network of Dongcao: towns, arterials, expressways, villages, river bridges.

Built in the local metric frame (see :mod:`geo.democity.frame`) as flat arrays; only the
last step (:func:`to_graph`) makes an osmnx-style networkx graph. Road classes:

* ``motorway``: a ring around the core and four radials, grade-separated (no junctions
  where they pass over other roads), reached only via ``motorway_link`` ramps (one-way
  on- and off-ramps) where arterials cross the ring and at points along the radials;
* ``trunk``/``primary``: arterials between town centres (in town, along the street
  network to the town centre);
* ``secondary``/``tertiary``: main streets of each town (shortest paths from the centre to
  the edge of town and between random places);
* ``residential`` (``unclassified`` inside industry belts and the chemical park): the
  irregular local streets of :mod:`geo.democity.streets`;
* ``service`` lanes in villages and ``track``/``unclassified`` roads to them.

The river is crossed only where a road is allowed to (two streets in the core, two
arterials, the expressway ring); every other candidate edge across it is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.industries import Industry
from geo.modes import TravelMode
from geo.network import largest_strong_component

from . import names as nm
from .frame import geodesic_m, to_lonlat
from .river import River, make_river
from .streets import (
    Blob,
    blob_points,
    corridor_paths,
    delaunay_edges,
    make_blob,
    thin_to_streets,
)
from .towns import (
    ARTERIALS,
    RADIAL_ANGLES_DEG,
    REGION_HALF_KM,
    RING_RADIUS_KM,
    TOWNS,
    TownSpec,
)

logger = logging.getLogger(__name__)

HIGHWAYS = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "service",
    "track",
    "motorway_link",
)
"""Road classes used, most important first (index = rank; upgrades lower the rank)."""
RANK = {h: i for i, h in enumerate(HIGHWAYS)}
MAXSPEED = {"motorway": "100", "motorway_link": "40", "trunk": "80", "primary": "60"}

# Node areas (besides town indices >= 0 and villages >= VILLAGE_AREA).
AREA_CHAIN = -1
AREA_MOTORWAY = -2
AREA_LINK = -3
AREA_TRACK = -4
VILLAGE_AREA = 1000

RIVER_CLEARANCE_M = 150.0
"""No street node lies closer than this to the river's centreline (the water is 180 m wide)."""


@dataclass(frozen=True)
class Belt:
    """An industry belt: an ellipse (local frame, metres) where factories of one industry sit."""

    id: str
    industry: Industry
    town: int
    cx: float
    cy: float
    a: float
    b: float
    angle: float

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        dx, dy = np.asarray(x) - self.cx, np.asarray(y) - self.cy
        c, s = np.cos(self.angle), np.sin(self.angle)
        u, v = dx * c + dy * s, -dx * s + dy * c
        return np.asarray((u / self.a) ** 2 + (v / self.b) ** 2 <= 1.0, dtype=bool)

    def polygon(self) -> shapely.Polygon:
        t = np.linspace(0.0, 2 * np.pi, 48, endpoint=False)
        u, v = self.a * np.cos(t), self.b * np.sin(t)
        c, s = np.cos(self.angle), np.sin(self.angle)
        return shapely.Polygon(np.column_stack([self.cx + u * c - v * s, self.cy + u * s + v * c]))


@dataclass(frozen=True)
class Town:
    """A generated town: its spec, built-up area and centre node (after pruning)."""

    index: int
    spec: TownSpec
    blob: Blob
    centre_node: int


@dataclass(frozen=True)
class Village:
    name: str
    cx: float
    cy: float


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """The generated streets as arrays; see the module docstring for classes.

    ``x``/``y`` are metres in the local frame, ``lon``/``lat`` degrees (EPSG:4326).
    ``area`` tells where a node lies (town index, village ``VILLAGE_AREA + i``, or one of
    the negative ``AREA_*`` codes); ``belt`` the index of the belt containing it or -1.
    Edges are streets, each stored once; a one-way street runs from ``eu`` to ``ev``.
    """

    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    area: np.ndarray
    belt: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    highway: np.ndarray
    oneway: np.ndarray
    name: np.ndarray
    bridge: np.ndarray
    length_m: np.ndarray
    towns: list[Town]
    villages: list[Village]
    belts: list[Belt]
    river: River
    stretch: float

    @property
    def n_nodes(self) -> int:
        return int(self.x.size)

    @property
    def n_edges(self) -> int:
        return int(self.eu.size)


@dataclass
class _Builder:
    """Accumulates nodes and street edges (local frame)."""

    xs: list[np.ndarray] = field(default_factory=list)
    ys: list[np.ndarray] = field(default_factory=list)
    areas: list[np.ndarray] = field(default_factory=list)
    n: int = 0
    eu: list[np.ndarray] = field(default_factory=list)
    ev: list[np.ndarray] = field(default_factory=list)
    hw: list[np.ndarray] = field(default_factory=list)
    oneway: list[np.ndarray] = field(default_factory=list)
    name: list[np.ndarray] = field(default_factory=list)
    bridge: list[np.ndarray] = field(default_factory=list)

    def add_nodes(self, x: np.ndarray, y: np.ndarray, area: int) -> np.ndarray:
        x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
        self.xs.append(x)
        self.ys.append(y)
        self.areas.append(np.full(x.size, area, dtype=np.int32))
        idx = np.arange(self.n, self.n + x.size, dtype=np.int64)
        self.n += x.size
        return idx

    def add_edges(
        self,
        u: np.ndarray,
        v: np.ndarray,
        highway: str,
        *,
        name: str = "",
        oneway: bool = False,
        bridge: np.ndarray | None = None,
    ) -> None:
        u, v = np.asarray(u, dtype=np.int64).ravel(), np.asarray(v, dtype=np.int64).ravel()
        self.eu.append(u)
        self.ev.append(v)
        self.hw.append(np.full(u.size, RANK[highway], dtype=np.int8))
        self.oneway.append(np.full(u.size, oneway))
        self.name.append(np.full(u.size, name, dtype=object))
        self.bridge.append(np.zeros(u.size, bool) if bridge is None else np.asarray(bridge, bool))

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything so far as arrays; edits to them (in place) are kept by the builder."""
        out = {}
        for key, parts in (
            ("x", self.xs), ("y", self.ys), ("area", self.areas), ("eu", self.eu),
            ("ev", self.ev), ("hw", self.hw), ("oneway", self.oneway), ("name", self.name),
            ("bridge", self.bridge),
        ):  # fmt: skip
            merged = np.concatenate(parts)
            parts[:] = [merged]
            out[key] = merged
        return out

    def xy(self, i: int) -> np.ndarray:
        """Coordinates of node `i`."""
        for xs, ys in zip(self.xs, self.ys, strict=True):
            if i < xs.size:
                return np.array([xs[i], ys[i]])
            i -= xs.size
        msg = f"`i` {i} out of range"
        raise IndexError(msg)


@dataclass(frozen=True)
class _Local:
    """Global node index to a town's local index (a town's nodes are contiguous)."""

    offset: int

    def __getitem__(self, node: int) -> int:
        return int(node) - self.offset


@dataclass
class _TownWork:
    """Per-town working state while the network is assembled."""

    index: int
    spec: TownSpec
    blob: Blob
    nodes: np.ndarray  # global node indices
    grid_angle: np.ndarray
    edges: np.ndarray  # global edge-list positions (into the concatenated arrays)
    centre: int = -1
    gates: list[tuple[int, str, str]] = field(default_factory=list)  # (node, highway, name)


def build_roads(rng: np.random.Generator, *, scale: float = 1.0) -> RoadNetwork:
    """Generate the whole street network (see module docstring); `scale` multiplies areas."""
    stretch = float(np.sqrt(scale))
    river = make_river(rng, stretch=stretch)
    b = _Builder()
    work = [_local_streets(rng, b, i, spec, river, stretch) for i, spec in enumerate(TOWNS)]
    arrays = b.arrays()
    chains = _arterials(rng, b, work, arrays, river)
    arrays = b.arrays()
    belts = _main_streets_and_belts(rng, work, arrays, river, stretch)
    anchors = np.flatnonzero((arrays["area"] >= 0) | (arrays["area"] == AREA_CHAIN))
    villages = _villages(rng, b, work, arrays, anchors, river, stretch, scale)
    arrays = b.arrays()
    _motorways(rng, b, arrays, anchors, chains, river, stretch)
    arrays = b.arrays()
    _couplets(rng, work, arrays, river)
    return _finish(arrays, work, villages, belts, river, stretch)


# ---------------------------------------------------------------------------------------------
# Towns


def _local_streets(
    rng: np.random.Generator,
    b: _Builder,
    index: int,
    spec: TownSpec,
    river: River,
    stretch: float,
) -> _TownWork:
    blob = make_blob(rng, spec.x_km * 1000 * stretch, spec.y_km * 1000 * stretch,
                     spec.radius_km * 1000 * stretch)  # fmt: skip
    park = spec.kind == "industrial_park"
    quarters = 4 if spec.kind == "core" else int(rng.integers(2, 4))
    xy, ang = blob_points(
        rng, blob, spec.spacing_m, quarters=quarters,
        jitter=0.12 if park else float(rng.uniform(0.16, 0.26)),
    )  # fmt: skip
    keep = river.gap(xy[:, 0], xy[:, 1]) > RIVER_CLEARANCE_M
    xy, ang = xy[keep], ang[keep]
    cand = delaunay_edges(xy)
    p, q = xy[cand[:, 0]], xy[cand[:, 1]]
    length = np.hypot(*(p - q).T)
    crossing = river.crosses(p[:, 0], p[:, 1], q[:, 0], q[:, 1])
    ok = (length <= 2.6 * spec.spacing_m) & ~crossing
    forced = np.zeros(len(cand), dtype=bool)
    if spec.kind == "core":
        # Two street bridges, near a third of the way across the core from either side.
        mid_x = (p[:, 0] + q[:, 0]) / 2
        for frac in (-0.45, 0.4):
            target = blob.cx + frac * blob.radius
            score = np.where(crossing, np.abs(mid_x - target) + 3.0 * length, np.inf)
            j = int(np.argmin(score))
            ok[j] = forced[j] = True
    cand, forced = cand[ok], forced[ok]
    mean_degree = 2.8 if park else float(rng.uniform(3.05, 3.3))
    kept = thin_to_streets(
        rng, xy, cand, spacing=spec.spacing_m, mean_degree=mean_degree, forced=forced
    )
    nodes = b.add_nodes(xy[:, 0], xy[:, 1], area=index)
    start = sum(e.size for e in b.eu)
    e = cand[kept]
    is_bridge = forced[kept]
    base = "unclassified" if park else "residential"
    b.add_edges(nodes[e[~is_bridge, 0]], nodes[e[~is_bridge, 1]], base)
    n_bridge = int(is_bridge.sum())
    if n_bridge:
        b.add_edges(nodes[e[is_bridge, 0]], nodes[e[is_bridge, 1]], "secondary",
                    name=f"{spec.zh[:2]}大桥", bridge=np.ones(n_bridge, bool))  # fmt: skip
    edges = np.arange(start, start + len(e), dtype=np.int64)
    logger.debug("town %s: %d nodes, %d streets", spec.key, len(xy), len(e))
    return _TownWork(index, spec, blob, nodes, ang, edges)


def _nearest(xy_nodes: np.ndarray, nodes: np.ndarray, point: tuple[float, float]) -> int:
    d = np.hypot(xy_nodes[:, 0] - point[0], xy_nodes[:, 1] - point[1])
    return int(nodes[int(np.argmin(d))])


def _arterials(
    rng: np.random.Generator,
    b: _Builder,
    work: list[_TownWork],
    arrays: dict[str, np.ndarray],
    river: River,
) -> list[np.ndarray]:
    """Roads between towns; returns each arterial's node chain (for interchanges)."""
    x, y = arrays["x"], arrays["y"]
    chains: list[np.ndarray] = []
    for art in ARTERIALS:
        ta, tb = work[art.a], work[art.b]
        theta = float(np.arctan2(tb.blob.cy - ta.blob.cy, tb.blob.cx - ta.blob.cx))
        xa = np.column_stack([x[ta.nodes], y[ta.nodes]])
        xb = np.column_stack([x[tb.nodes], y[tb.nodes]])
        ga = _nearest(xa, ta.nodes, ta.blob.edge_point(theta, inset=ta.spec.spacing_m))
        gb = _nearest(xb, tb.nodes, tb.blob.edge_point(theta + np.pi, inset=tb.spec.spacing_m))
        p, q = np.array([x[ga], y[ga]]), np.array([x[gb], y[gb]])
        dist = float(np.hypot(*(q - p)))
        n_mid = max(1, int(dist / 350.0))
        t = np.linspace(0.0, 1.0, n_mid + 2)[1:-1]
        normal = np.array([-(q - p)[1], (q - p)[0]]) / dist
        bend = (rng.uniform(-0.06, 0.06) * np.sin(np.pi * t)
                + rng.uniform(-0.02, 0.02) * np.sin(2 * np.pi * t)) * dist  # fmt: skip
        pts = p + t[:, None] * (q - p) + bend[:, None] * normal + rng.normal(0, 12, (t.size, 2))
        pts = pts[river.gap(pts[:, 0], pts[:, 1]) > RIVER_CLEARANCE_M]
        allx = np.r_[p[0], pts[:, 0], q[0]]
        ally = np.r_[p[1], pts[:, 1], q[1]]
        north = river.north(allx, ally)
        if (north != north[0]).any() and not art.bridge:
            logger.debug("arterial %s-%s would cross the river: left out", ta.spec.key, tb.spec.key)
            continue
        mids = b.add_nodes(pts[:, 0], pts[:, 1], area=AREA_CHAIN)
        chain = np.r_[ga, mids, gb]
        name = f"{ta.spec.zh[:2]}{tb.spec.zh[:2]}公路"
        b.add_edges(chain[:-1], chain[1:], art.highway, name=name,
                    bridge=north[:-1] != north[1:])  # fmt: skip
        ta.gates.append((ga, art.highway, name))
        tb.gates.append((gb, art.highway, name))
        chains.append(chain)
    return chains


def _main_streets_and_belts(
    rng: np.random.Generator,
    work: list[_TownWork],
    arrays: dict[str, np.ndarray],
    river: River,
    stretch: float,
) -> list[Belt]:
    """Upgrade shortest paths to arterial/secondary/tertiary; mark industry belts."""
    x, y, hw, names = arrays["x"], arrays["y"], arrays["hw"], arrays["name"]
    belts: list[Belt] = []
    for tw in work:
        spec, blob = tw.spec, tw.blob
        loc = _Local(int(tw.nodes[0]))
        xy = np.column_stack([x[tw.nodes], y[tw.nodes]])
        centre = _nearest(xy, tw.nodes, (blob.cx, blob.cy))
        tw.centre = centre
        eu, ev = arrays["eu"][tw.edges] - tw.nodes[0], arrays["ev"][tw.edges] - tw.nodes[0]
        n_sec = 10 if spec.kind == "core" else 6
        angles = rng.uniform(0, 2 * np.pi) + np.arange(n_sec) * 2 * np.pi / n_sec
        edge_pts = [blob.edge_point(a, inset=spec.spacing_m) for a in angles]
        sec = [loc[_nearest(xy, tw.nodes, pt)] for pt in edge_pts]
        c = loc[centre]
        short = spec.zh[:2]
        plans: list[tuple[int, str, tuple[int, int]]] = []  # (rank, name, (from, to))
        for g, _, name in tw.gates:
            # In town an arterial is an urban main road open to all (trunk only outside).
            plans.append((RANK["primary"], name, (c, loc[g])))
        for k, s in enumerate(sec):
            plans.append((RANK["secondary"], f"{short}{nm.ORDINALS[k]}路", (c, s)))
        n_ter = 14 if spec.kind == "core" else 6
        ends = rng.choice(len(xy), size=(n_ter, 2), replace=False)
        for s, t in ends.tolist():
            word = nm.STREET_WORDS[int(rng.integers(len(nm.STREET_WORDS)))]
            plans.append((RANK["tertiary"], f"{word}街", (s, t)))
        plans.sort(key=lambda p: p[0])
        paths = corridor_paths(xy, eu, ev, [p[2] for p in plans], width=1.2 * spec.spacing_m)
        for (rank, label, _), (idx, _) in zip(plans, paths, strict=True):
            gidx = tw.edges[idx]
            up = hw[gidx] > rank
            hw[gidx[up]] = rank
            names[gidx[up]] = label
        belts.extend(_town_belts(rng, tw, river, stretch, start=len(belts)))
        for belt in belts:
            if belt.town != tw.index:
                continue
            u_in = belt.contains(x[arrays["eu"][tw.edges]], y[arrays["eu"][tw.edges]])
            v_in = belt.contains(x[arrays["ev"][tw.edges]], y[arrays["ev"][tw.edges]])
            gidx = tw.edges[u_in & v_in & (hw[tw.edges] == RANK["residential"])]
            hw[gidx] = RANK["unclassified"]
    return belts


def _town_belts(
    rng: np.random.Generator, tw: _TownWork, river: River, stretch: float, *, start: int
) -> list[Belt]:
    """Industry belts of one town: ellipses inside its built-up area, apart from each other."""
    spec, blob = tw.spec, tw.blob
    out: list[Belt] = []
    if spec.kind == "industrial_park":
        # The whole park is one belt per listed industry, side by side.
        for k, ind in enumerate(spec.belts):
            ang = rng.uniform(0, 2 * np.pi) if k == 0 else out[0].angle
            off = (k - (len(spec.belts) - 1) / 2) * blob.radius * 0.9
            out.append(Belt(f"B{start + k + 1:02d}", ind, tw.index,
                            blob.cx - off * np.sin(ang), blob.cy + off * np.cos(ang),
                            blob.radius * 0.85, blob.radius * 0.45, float(ang)))  # fmt: skip
        return out
    size = (650.0, 380.0) if spec.kind == "core" else (900.0, 500.0)
    a_len, b_len = size[0] * stretch, size[1] * stretch
    for k, ind in enumerate(spec.belts):
        for _ in range(40):
            theta = rng.uniform(0, 2 * np.pi)
            r = float(blob.radius_at(np.array(theta))) * rng.uniform(0.45, 0.7)
            cx, cy = blob.cx + r * np.cos(theta), blob.cy + r * np.sin(theta)
            far_river = float(river.gap(np.array(cx), np.array(cy))) > a_len + 200.0
            apart = all(np.hypot(cx - o.cx, cy - o.cy) > 2.2 * a_len for o in out)
            if far_river and apart:
                break
        out.append(Belt(f"B{start + k + 1:02d}", ind, tw.index, float(cx), float(cy),
                        a_len, b_len, float(theta + np.pi / 2 + rng.normal(0, 0.3))))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# Villages


def _villages(
    rng: np.random.Generator,
    b: _Builder,
    work: list[_TownWork],
    arrays: dict[str, np.ndarray],
    anchors: np.ndarray,
    river: River,
    stretch: float,
    scale: float,
) -> list[Village]:
    """Small villages between the towns, each joined to the nearest road on its bank."""
    chosen = _village_sites(rng, work, river, stretch, scale)
    x, y = arrays["x"], arrays["y"]
    link = _AnchorLink(
        anchors=anchors,
        tree=cKDTree(np.column_stack([x[anchors], y[anchors]])),
        north=river.north(x[anchors], y[anchors]),
        x=x,
        y=y,
    )
    villages: list[Village] = []
    for c in chosen:
        vi = len(villages)
        n_pts = int(rng.integers(22, 75))
        spacing = 65.0
        radius = spacing * np.sqrt(n_pts / np.pi)
        blob = make_blob(rng, float(c[0]), float(c[1]), float(radius))
        xy, _ = blob_points(rng, blob, spacing, quarters=1, jitter=0.3)
        if len(xy) < 4:
            continue
        cand_e = delaunay_edges(xy)
        length = np.hypot(*(xy[cand_e[:, 0]] - xy[cand_e[:, 1]]).T)
        cand_e = cand_e[length < 2.6 * spacing]
        kept = thin_to_streets(rng, xy, cand_e, spacing=spacing, mean_degree=2.6)
        nodes = b.add_nodes(xy[:, 0], xy[:, 1], area=VILLAGE_AREA + vi)
        b.add_edges(nodes[cand_e[kept, 0]], nodes[cand_e[kept, 1]], "service")
        _field_tracks(rng, b, xy, nodes, blob, river)
        vname = _village_road(rng, b, c, xy, nodes, link, river)
        if vname is not None:
            villages.append(Village(vname, float(c[0]), float(c[1])))
    return villages


def _village_sites(
    rng: np.random.Generator, work: list[_TownWork], river: River, stretch: float, scale: float
) -> list[np.ndarray]:
    """Village centres: random spots off the river and the towns, at least 1.3 km apart."""
    n_target = max(3, round(70 * scale))
    hx, hy = (h * 1000.0 * stretch - 1500.0 for h in REGION_HALF_KM)
    n_cand = 40 * n_target
    cand = np.column_stack([rng.uniform(-hx, hx, n_cand), rng.uniform(-hy, hy, n_cand)])
    ok = river.gap(cand[:, 0], cand[:, 1]) > 500.0
    for tw in work:
        ok &= ~tw.blob.contains(cand[:, 0], cand[:, 1], margin=900.0)
    chosen: list[np.ndarray] = []
    for c in cand[ok]:
        if len(chosen) >= n_target:
            break
        if not chosen or np.min(np.hypot(*(np.asarray(chosen) - c).T)) > 1300.0:
            chosen.append(c)
    return chosen


@dataclass(frozen=True, eq=False)
class _AnchorLink:
    """Road nodes villages may connect to, with a k-d tree and their river bank."""

    anchors: np.ndarray
    tree: cKDTree
    north: np.ndarray
    x: np.ndarray
    y: np.ndarray


def _village_road(
    rng: np.random.Generator,
    b: _Builder,
    c: np.ndarray,
    xy: np.ndarray,
    nodes: np.ndarray,
    link: _AnchorLink,
    river: River,
) -> str | None:
    """Road from village `c` to the nearest anchor on its bank; the village's name, or
    ``None`` (no village) when no anchor lies on that bank among the 16 nearest."""
    north = bool(river.north(np.array(c[0]), np.array(c[1])))
    _, near = link.tree.query(c, k=16)
    same = [int(j) for j in np.atleast_1d(near) if link.north[j] == north]
    if not same:
        return None
    target = int(link.anchors[same[0]])
    p = np.array([link.x[target], link.y[target]])
    local = int(np.argmin(np.hypot(*(xy - p).T)))
    q = xy[local]
    dist = float(np.hypot(*(q - p)))
    n_mid = int(dist / 250.0)
    t = np.linspace(0, 1, n_mid + 2)[1:-1]
    pts = q + t[:, None] * (p - q) + rng.normal(0, 20, (t.size, 2))
    mids = b.add_nodes(pts[:, 0], pts[:, 1], area=AREA_TRACK)
    chain = np.r_[nodes[local], mids, target]
    hw = "track" if dist < 1200.0 else "unclassified"
    surname = nm.SURNAMES[int(rng.integers(len(nm.SURNAMES)))]
    suffix = nm.VILLAGE_SUFFIX[int(rng.integers(len(nm.VILLAGE_SUFFIX)))]
    vname = f"{surname}{suffix}"
    b.add_edges(chain[:-1], chain[1:], hw, name=f"{vname}路" if hw != "track" else "")
    return vname


def _field_tracks(
    rng: np.random.Generator,
    b: _Builder,
    xy: np.ndarray,
    nodes: np.ndarray,
    blob: Blob,
    river: River,
) -> None:
    """One to three dead-end tracks from the village edge out into the fields."""
    for _ in range(int(rng.integers(1, 4))):
        theta = rng.uniform(0, 2 * np.pi)
        direction = np.array([np.cos(theta), np.sin(theta)])
        start = int(np.argmax(xy @ direction))
        steps = np.arange(150.0, rng.uniform(300.0, 900.0), 150.0)
        pts = xy[start] + steps[:, None] * direction + rng.normal(0, 15, (steps.size, 2))
        north = river.north(pts[:, 0], pts[:, 1])
        same = north == bool(river.north(xy[start, 0], xy[start, 1]))
        dry = river.gap(pts[:, 0], pts[:, 1]) > RIVER_CLEARANCE_M
        n_ok = int(np.argmin(same & dry)) if not (same & dry).all() else steps.size
        if n_ok == 0:
            continue
        mids = b.add_nodes(pts[:n_ok, 0], pts[:n_ok, 1], area=AREA_TRACK)
        chain = np.r_[nodes[start], mids]
        b.add_edges(chain[:-1], chain[1:], "track")


# ---------------------------------------------------------------------------------------------
# Expressways


def _interchange(b: _Builder, ramp_at: int, street: int) -> None:
    """An off-ramp and an on-ramp (one-way ``motorway_link``) between two nodes."""
    p, q = b.xy(ramp_at), b.xy(street)
    d = q - p
    dist = max(float(np.hypot(*d)), 1.0)
    normal = np.array([-d[1], d[0]]) / dist
    mid = (p + q) / 2
    off = 40.0 + 0.05 * dist
    m1, m2 = mid + off * normal, mid - off * normal
    mids = b.add_nodes(np.array([m1[0], m2[0]]), np.array([m1[1], m2[1]]), area=AREA_LINK)
    b.add_edges(np.array([ramp_at, mids[0]]), np.array([mids[0], street]), "motorway_link",
                oneway=True)  # fmt: skip
    b.add_edges(np.array([street, mids[1]]), np.array([mids[1], ramp_at]), "motorway_link",
                oneway=True)  # fmt: skip


def _motorways(
    rng: np.random.Generator,
    b: _Builder,
    arrays: dict[str, np.ndarray],
    anchors: np.ndarray,
    chains: list[np.ndarray],
    river: River,
    stretch: float,
) -> None:
    x, y = arrays["x"], arrays["y"]
    radius = RING_RADIUS_KM * 1000.0 * stretch
    n_ring = max(24, int(2 * np.pi * radius / 400.0))
    ang = np.linspace(0.0, 2 * np.pi, n_ring, endpoint=False)
    r = radius * (1.0 + rng.normal(0.0, 0.008, n_ring))
    rx, ry = r * np.cos(ang), r * np.sin(ang)
    wet = river.gap(rx, ry) <= RIVER_CLEARANCE_M
    rx, ry, ang = rx[~wet], ry[~wet], ang[~wet]
    ring = b.add_nodes(rx, ry, area=AREA_MOTORWAY)
    nxt = np.roll(ring, -1)
    b.add_edges(ring, nxt, "motorway", name="东草环城高速",
                bridge=river.crosses(rx, ry, np.roll(rx, -1), np.roll(ry, -1)))  # fmt: skip
    # Interchanges where arterials cross the ring.
    for chain in chains:
        d = np.hypot(x[chain], y[chain])
        crossing = np.flatnonzero((d[:-1] - radius) * (d[1:] - radius) <= 0)
        for k in crossing[:1]:
            street = int(chain[k] if abs(d[k] - radius) < abs(d[k + 1] - radius) else chain[k + 1])
            ramp = int(ring[np.argmin(np.hypot(rx - x[street], ry - y[street]))])
            _interchange(b, ramp, street)
    # Radial expressways from the ring to the edge of the region.
    anchor_tree = cKDTree(np.column_stack([x[anchors], y[anchors]]))
    hx, hy = (h * 1000.0 * stretch - 1000.0 for h in REGION_HALF_KM)
    dirs = ("东北", "西北", "西", "南")
    for deg, label in zip(RADIAL_ANGLES_DEG, dirs, strict=True):
        a0 = np.radians(deg)
        start = int(np.argmin(np.abs(np.angle(np.exp(1j * (ang - a0))))))
        steps = np.arange(400.0, 60_000.0 * stretch, 400.0)
        wig = 300.0 * stretch * np.sin(steps / (5000.0 * stretch) + rng.uniform(0, 2 * np.pi))
        px = rx[start] + steps * np.cos(a0) - wig * np.sin(a0)
        py = ry[start] + steps * np.sin(a0) + wig * np.cos(a0)
        inside = (np.abs(px) < hx) & (np.abs(py) < hy)
        stop = int(np.argmin(inside)) if not inside.all() else inside.size
        px, py = px[:stop], py[:stop]
        dry = river.gap(px, py) > RIVER_CLEARANCE_M
        px, py = px[dry], py[dry]
        if px.size == 0:
            continue
        nodes = b.add_nodes(px, py, area=AREA_MOTORWAY)
        allx, ally = np.r_[rx[start], px], np.r_[ry[start], py]
        chain = np.r_[ring[start], nodes]
        b.add_edges(chain[:-1], chain[1:], "motorway", name=f"东草{label}高速",
                    bridge=river.crosses(allx[:-1], ally[:-1], allx[1:], ally[1:]))  # fmt: skip
        # Exits about every 4 km and at the end, to the nearest town street or arterial.
        for k in [*range(9, px.size - 1, 10), px.size - 1]:
            dist, j = anchor_tree.query([px[k], py[k]])
            if dist <= 1500.0:
                _interchange(b, int(nodes[k]), int(anchors[j]))


# ---------------------------------------------------------------------------------------------
# One-way couplets, pruning, output


def _couplets(
    rng: np.random.Generator, work: list[_TownWork], arrays: dict[str, np.ndarray], river: River
) -> None:
    """Pairs of parallel one-way streets (opposite directions) through busy towns."""
    x, y, hw = arrays["x"], arrays["y"], arrays["hw"]
    eu_all, ev_all, oneway, bridge = arrays["eu"], arrays["ev"], arrays["oneway"], arrays["bridge"]
    for tw in work:
        if tw.spec.couplets == 0:
            continue
        loc = _Local(int(tw.nodes[0]))
        xy = np.column_stack([x[tw.nodes], y[tw.nodes]])
        eu, ev = eu_all[tw.edges] - tw.nodes[0], ev_all[tw.edges] - tw.nodes[0]
        a = float(tw.grid_angle[loc[tw.centre]])
        e1, e2 = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
        c = np.array([tw.blob.cx, tw.blob.cy])
        reach = 0.75 * tw.blob.radius
        sources, targets = [], []
        for k in range(tw.spec.couplets):
            axis, perp = (e1, e2) if k % 2 == 0 else (e2, e1)
            for _ in range(20):
                o = rng.uniform(-0.5, 0.5) * tw.blob.radius
                p1, q1 = c + o * perp - reach * axis, c + o * perp + reach * axis
                gap = 2.2 * tw.spec.spacing_m
                p2, q2 = p1 + gap * perp, q1 + gap * perp
                ends = np.array([p1, q1, p2, q2])
                if len(set(river.north(ends[:, 0], ends[:, 1]).tolist())) == 1:
                    break
            near = [int(np.argmin(np.hypot(*(xy - pt).T))) for pt in (p1, q1, q2, p2)]
            sources += [near[0], near[2]]
            targets += [np.array([near[1]]), np.array([near[3]])]
        pairs = [(s, t[0]) for s, t in zip(sources, targets, strict=True)]
        paths = corridor_paths(xy, eu, ev, pairs, width=0.6 * tw.spec.spacing_m)
        direction = np.zeros(len(tw.edges), dtype=np.int64)  # +1 along, -1 against, 0 both
        used = np.zeros(len(tw.edges), dtype=bool)
        conflict = np.zeros(len(tw.edges), dtype=bool)
        for idx, against in paths:
            sign = np.where(against, -1, 1)
            conflict[idx] |= used[idx] & (direction[idx] != sign)
            direction[idx] = sign
            used[idx] = True
        gidx = tw.edges
        eligible = (
            used
            & ~conflict
            & ~bridge[gidx]
            & (hw[gidx] >= RANK["secondary"])
            & (hw[gidx] <= RANK["residential"])
        )
        flip = gidx[eligible & (direction < 0)]
        eu_all[flip], ev_all[flip] = ev_all[flip].copy(), eu_all[flip].copy()
        oneway[gidx[eligible]] = True


def _finish(
    arrays: dict[str, np.ndarray],
    work: list[_TownWork],
    villages: list[Village],
    belts: list[Belt],
    river: River,
    stretch: float,
) -> RoadNetwork:
    x, y, area = arrays["x"], arrays["y"], arrays["area"]
    eu, ev, hw, oneway = arrays["eu"], arrays["ev"], arrays["hw"], arrays["oneway"]
    n = x.size
    # Keep the largest connected piece (a few street fragments cut off by the river go).
    adj = coo_array((np.ones(eu.size), (eu, ev)), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    main = labels == np.argmax(np.bincount(labels))
    keep_e = main[eu] & main[ev]
    new_id = np.cumsum(main) - 1
    eu, ev = new_id[eu[keep_e]], new_id[ev[keep_e]]
    hw, oneway = hw[keep_e], oneway[keep_e].copy()
    name, bridge = arrays["name"][keep_e], arrays["bridge"][keep_e]
    x, y, area = x[main], y[main], area[main]
    # A one-way street that is the only way out of a pocket would trap cars there; make
    # such streets two-way again until cars can reach every node.
    for _ in range(8):
        src = np.r_[eu, ev[~oneway]]
        dst = np.r_[ev, eu[~oneway]]
        comp = largest_strong_component(src, dst, x.size)
        bad = oneway & ~(comp[eu] & comp[ev]) & (hw != RANK["motorway_link"])
        if not bad.any():
            break
        oneway[bad] = False
    lon, lat = to_lonlat(x, y)
    length = np.round(geodesic_m(lon[eu], lat[eu], lon[ev], lat[ev]), 3)
    belt_of = np.full(x.size, -1, dtype=np.int32)
    for k, belt in enumerate(belts):
        inside = belt.contains(x, y) & (area == belt.town)
        belt_of[inside] = k
    towns = []
    for tw in work:
        centre = int(new_id[tw.centre]) if main[tw.centre] else -1
        towns.append(Town(tw.index, tw.spec, tw.blob, centre))
    return RoadNetwork(
        x=x, y=y, lon=lon, lat=lat, area=area, belt=belt_of,
        eu=eu.astype(np.int64), ev=ev.astype(np.int64),
        highway=np.asarray(HIGHWAYS, dtype=object)[hw], oneway=oneway,
        name=name, bridge=bridge, length_m=length,
        towns=towns, villages=villages, belts=belts, river=river, stretch=stretch,
    )  # fmt: skip


def mode_component_share(net: RoadNetwork, mode: TravelMode) -> float:
    """Share of nodes in the largest strongly connected component of `mode` (for checks)."""
    from geo.network import build_mode_graph

    g = build_mode_graph(
        mode, edge_u=net.eu, edge_v=net.ev, length_m=net.length_m, highway=net.highway,
        oneway=net.oneway, n_nodes=net.n_nodes,
    )  # fmt: skip
    return float(g.in_component.mean())


def to_graph(net: RoadNetwork) -> nx.MultiDiGraph[int]:
    """The network as an osmnx-style MultiDiGraph (EPSG:4326).

    Node ids are ``1..n``; every node has ``x`` (lon), ``y`` (lat). A two-way street is two
    opposite edges (``reversed`` False/True), a one-way street one edge; edges carry
    ``osmid`` (street id), ``highway``, ``oneway``, ``reversed``, ``length`` (m), and where
    known ``name``, ``maxspeed`` (km/h) and ``bridge``.
    """
    graph: nx.MultiDiGraph[int] = nx.MultiDiGraph(
        crs="epsg:4326", created_with="dianmian geo.democity", simplified=True, synthetic="yes"
    )
    lon, lat = net.lon.tolist(), net.lat.tolist()
    graph.add_nodes_from((i + 1, {"x": lon[i], "y": lat[i]}) for i in range(net.n_nodes))
    rows: list[Any] = []
    hw = net.highway.tolist()
    names = net.name.tolist()
    one = net.oneway.tolist()
    bridge = net.bridge.tolist()
    length = net.length_m.tolist()
    for k, (u, v) in enumerate(zip((net.eu + 1).tolist(), (net.ev + 1).tolist(), strict=True)):
        attrs: dict[str, object] = {
            "osmid": k + 1,
            "highway": hw[k],
            "oneway": one[k],
            "reversed": False,
            "length": length[k],
        }
        if names[k]:
            attrs["name"] = names[k]
        if hw[k] in MAXSPEED:
            attrs["maxspeed"] = MAXSPEED[hw[k]]
        if bridge[k]:
            attrs["bridge"] = "yes"
        rows.append((u, v, 0, attrs))
        if not one[k]:
            rows.append((v, u, 0, dict(attrs, reversed=True)))
    graph.add_edges_from(rows)
    return graph
