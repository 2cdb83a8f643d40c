"""Employers, seekers, volunteers, candidate sites and the talent market of Dongcao.

Every point is placed at a street node plus a small offset (at most 60 m), so it snaps to
the street network. Columns follow :data:`geo.layers.SPECS` exactly.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.industries import INDUSTRY_CODES, Industry
from geo.layers import LayerName
from geo.modes import TravelMode

from . import names as nm
from .frame import to_lonlat
from .roads import VILLAGE_AREA, RoadNetwork, Town

logger = logging.getLogger(__name__)

SEEKERS_PER_SCALE = 42_000
EMPLOYERS_PER_SCALE = 3_300
VOLUNTEERS_PER_SCALE = 100
TALENT_MARKET_CAPACITY = 3_000
MAX_OFFSET_M = 60.0
"""Largest distance (m) between a generated point and the street node it was placed at."""

# Share of employers per industry (belt industries are spread over their belts).
EMPLOYER_SHARES: dict[Industry, float] = {
    Industry.TEXTILE: 0.26,
    Industry.ELECTRICAL: 0.21,
    Industry.FURNITURE: 0.12,
    Industry.TOYS: 0.10,
    Industry.FOOD: 0.12,
    Industry.CHEMICAL: 0.05,
    Industry.OTHER: 0.14,
}
_IND = list(EMPLOYER_SHARES)
_IND_P = np.array(list(EMPLOYER_SHARES.values()))
_IND_P = _IND_P / _IND_P.sum()

HOURS: dict[Industry, tuple[tuple[str, str, float], ...]] = {
    # (opens, closes, weight): typical front-office/recruitment hours of factories.
    Industry.TEXTILE: (("08:00", "18:00", 4), ("07:30", "17:30", 3), ("08:00", "20:00", 2)),
    Industry.ELECTRICAL: (("08:00", "17:30", 4), ("08:30", "17:30", 3), ("08:00", "20:00", 2)),
    Industry.FURNITURE: (("08:00", "17:30", 4), ("07:30", "17:00", 3)),
    Industry.TOYS: (("08:00", "18:00", 4), ("08:00", "20:00", 2), ("08:30", "17:30", 2)),
    Industry.FOOD: (("07:00", "16:00", 3), ("08:00", "17:00", 3), ("06:30", "15:30", 1)),
    Industry.CHEMICAL: (("08:00", "17:00", 4), ("08:30", "17:00", 2)),
    Industry.OTHER: (("09:00", "18:00", 4), ("08:30", "17:30", 2), ("10:00", "21:00", 2)),
}

MODE_SHARES = {
    # (walk, ebike, bus, car) by where a seeker lives.
    "core": (0.18, 0.36, 0.36, 0.10),
    "town": (0.14, 0.50, 0.26, 0.10),
    "rural": (0.05, 0.58, 0.17, 0.20),
}
_MODES = np.array(
    [TravelMode.WALK.value, TravelMode.EBIKE.value, TravelMode.BUS.value, TravelMode.CAR.value],
    dtype=object,
)

SITE_CAPACITY = {
    # (low, high) visitors per day, drawn in steps of 10.
    "community_centre": (120, 400),
    "town_hall": (300, 700),
    "industrial_park_office": (200, 500),
    "transit_hub": (400, 900),
    "school": (200, 500),
    "library": (150, 350),
    "market": (200, 450),
}

SITE_STAFFING = {
    # kind: (most staff the room holds, safe occupancy in people at once)
    "community_centre": (4, 30),
    "town_hall": (8, 60),
    "industrial_park_office": (6, 40),
    "transit_hub": (4, 30),
    "school": (5, 50),
    "library": (4, 40),
    "market": (3, 25),
}
EXISTING_STATIONS = 5
"""Town halls of this many outer towns already host a township job-agency station."""
EXCLUDED_SITE = "火车站"
"""The railway station is a candidate site the bureau rules out (crowded already)."""

DATA_DATE = np.datetime64("2026-11-20")
"""Registrations run up to this day (the data extract of the demo)."""


def make_layers(
    rng: np.random.Generator, net: RoadNetwork, *, scale: float = 1.0
) -> dict[str, gpd.GeoDataFrame]:
    """The five input layers (EPSG:4326) keyed by layer name."""
    nearest_belt, belt_dist = _nearest_belts(net)
    layers = {
        LayerName.EMPLOYERS.value: _employers(rng, net, round(EMPLOYERS_PER_SCALE * scale)),
        LayerName.SEEKERS.value: _seekers(
            rng, net, round(SEEKERS_PER_SCALE * scale), nearest_belt, belt_dist
        ),
        LayerName.VOLUNTEERS.value: _volunteers(
            rng, net, max(5, round(VOLUNTEERS_PER_SCALE * scale)), nearest_belt, belt_dist
        ),
        LayerName.CANDIDATE_SITES.value: _candidate_sites(rng, net),
        LayerName.TALENT_MARKET.value: _talent_market(rng, net),
    }
    return layers


# ---------------------------------------------------------------------------------------------
# Helpers


def _points(rng: np.random.Generator, net: RoadNetwork, nodes: np.ndarray) -> np.ndarray:
    """Shapely points (EPSG:4326) at `nodes`, each moved up to :data:`MAX_OFFSET_M`."""
    r = MAX_OFFSET_M * np.sqrt(rng.random(nodes.size))
    t = rng.uniform(0.0, 2 * np.pi, nodes.size)
    lon, lat = to_lonlat(net.x[nodes] + r * np.cos(t), net.y[nodes] + r * np.sin(t))
    return np.asarray(shapely.points(lon, lat), dtype=object)


def _frame(columns: dict[str, object], geometry: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(columns), geometry=geometry, crs="EPSG:4326")


def _nearest_belts(net: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Per node: index of the nearest belt (by distance to its edge) and that distance (m)."""
    cx = np.array([b.cx for b in net.belts])
    cy = np.array([b.cy for b in net.belts])
    size = np.array([(b.a + b.b) / 2 for b in net.belts])
    d = np.hypot(net.x[:, None] - cx[None, :], net.y[:, None] - cy[None, :]) - size[None, :]
    k = np.argmin(d, axis=1)
    return k, np.maximum(d[np.arange(d.shape[0]), k], 0.0)


def _residential_weight(net: RoadNetwork, belt_dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes where people live and their relative weight (dense near factories, in the core)."""
    area = net.area
    town = (area >= 0) & (area < VILLAGE_AREA)
    village = area >= VILLAGE_AREA
    people = np.array([t.spec.people for t in net.towns])
    w = np.zeros(net.n_nodes)
    w[town] = people[area[town]]
    w[village] = 0.35
    w *= 1.0 + 1.8 * np.exp(-belt_dist / (900.0 * net.stretch))
    w[net.belt >= 0] *= 0.5  # factory dormitories, but mostly outside the belts
    nodes = np.flatnonzero(w > 0)
    return nodes, w[nodes] / w[nodes].sum()


def _industry_lists(
    rng: np.random.Generator, near_industry: np.ndarray, p_near: np.ndarray
) -> np.ndarray:
    """``;``-joined industry codes: mostly the nearby belt's, some others, some several."""
    n = near_industry.size
    drawn = rng.choice(len(_IND), size=n, p=_IND_P)
    code_idx = {ind: INDUSTRY_CODES.index(ind.value) for ind in _IND}
    near_code = np.array([code_idx[i] for i in near_industry.tolist()])
    drawn_code = np.array([code_idx[_IND[i]] for i in drawn])
    first = np.where(rng.random(n) < p_near, near_code, drawn_code)
    bits = 1 << first
    for share in (0.3, 0.08):
        extra = np.array([code_idx[_IND[i]] for i in rng.choice(len(_IND), size=n, p=_IND_P)])
        bits |= np.where(rng.random(n) < share, 1 << extra, 0)
    table = np.array(
        [";".join(c for j, c in enumerate(INDUSTRY_CODES) if m >> j & 1) for m in range(128)],
        dtype=object,
    )
    return np.asarray(table[bits], dtype=object)


def _hours(rng: np.random.Generator, industry: Industry, size: int) -> tuple[list[str], list[str]]:
    options = HOURS[industry]
    w = np.array([o[2] for o in options], dtype=float)
    pick = rng.choice(len(options), size=size, p=w / w.sum())
    return [options[i][0] for i in pick], [options[i][1] for i in pick]


# ---------------------------------------------------------------------------------------------
# Layers


def _employers(rng: np.random.Generator, net: RoadNetwork, n: int) -> gpd.GeoDataFrame:
    industry = rng.choice(len(_IND), size=n, p=_IND_P)
    nodes = np.zeros(n, dtype=np.int64)
    town_of = np.zeros(n, dtype=np.int64)
    # Belt industries: spread over the belts of that industry, by belt area.
    for k, ind in enumerate(_IND):
        rows = np.flatnonzero(industry == k)
        if ind is Industry.OTHER:
            # Shops, logistics, hotels: anywhere in town, mostly in the core.
            town_nodes = np.flatnonzero((net.area >= 0) & (net.area < VILLAGE_AREA))
            w = np.array([t.spec.people for t in net.towns])[net.area[town_nodes]]
            nodes[rows] = rng.choice(town_nodes, size=rows.size, p=w / w.sum())
        else:
            belts = [j for j, b in enumerate(net.belts) if b.industry is ind]
            area = np.array([net.belts[j].a * net.belts[j].b for j in belts])
            which = rng.choice(len(belts), size=rows.size, p=area / area.sum())
            for i, j in enumerate(belts):
                inside = np.flatnonzero(net.belt == j)
                sel = rows[which == i]
                nodes[sel] = rng.choice(inside, size=sel.size)
        town_of[rows] = net.area[nodes[rows]]
    # Heavy-tailed hiring demand: most workshops need a handful, a few factories hundreds.
    demand = np.ceil(rng.lognormal(1.25, 0.85, n)).clip(1, 40)
    big_p = np.where(industry == _IND.index(Industry.CHEMICAL), 0.15, 0.035)
    big = rng.random(n) < big_p
    demand[big] = np.minimum(60.0 * (1.0 + rng.pareto(1.3, int(big.sum()))), 1500.0)
    opens, closes = np.empty(n, dtype=object), np.empty(n, dtype=object)
    for k, ind in enumerate(_IND):
        rows = np.flatnonzero(industry == k)
        o, c = _hours(rng, ind, rows.size)
        opens[rows], closes[rows] = o, c
    brands = nm.brand_names(rng, n)
    suffix = [nm.INDUSTRY_SUFFIX[_IND[k]] for k in industry]
    pick = rng.integers(0, 6, n)
    names = [
        f"{net.towns[t].spec.zh[:2]}{b}{s[p % len(s)]}"
        for t, b, s, p in zip(town_of, brands, suffix, pick, strict=True)
    ]
    return _frame(
        {
            "id": [f"E{i + 1:05d}" for i in range(n)],
            "name": names,
            "industry": [_IND[k].value for k in industry],
            "demand": demand.astype(np.int64),
            "opens": opens,
            "closes": closes,
        },
        _points(rng, net, nodes),
    )


def _place_kind(net: RoadNetwork, nodes: np.ndarray) -> np.ndarray:
    area = net.area[nodes]
    kind = np.full(nodes.size, "rural", dtype=object)
    town = (area >= 0) & (area < VILLAGE_AREA)
    kinds = np.array([t.spec.kind for t in net.towns], dtype=object)
    town_kind = kinds[area[town]]
    kind[town] = np.where(
        town_kind == "core", "core", np.where(town_kind == "town", "town", "rural")
    )
    return kind


def _seekers(
    rng: np.random.Generator,
    net: RoadNetwork,
    n: int,
    nearest_belt: np.ndarray,
    belt_dist: np.ndarray,
) -> gpd.GeoDataFrame:
    cand, p = _residential_weight(net, belt_dist)
    nodes = rng.choice(cand, size=n, p=p)
    near_ind = np.array([net.belts[k].industry for k in nearest_belt[nodes]], dtype=object)
    p_near = np.where(belt_dist[nodes] < 2500.0 * net.stretch, 0.6, 0.3)
    industries = _industry_lists(rng, near_ind, p_near)
    kind = _place_kind(net, nodes)
    mode = np.empty(n, dtype=object)
    for k, shares in MODE_SHARES.items():
        rows = np.flatnonzero(kind == k)
        mode[rows] = _MODES[rng.choice(4, size=rows.size, p=np.array(shares))]
    # Registrations over the last 20 months, denser recently, with a spring peak after the
    # Chinese New Year (2026-02-17) when migrant workers come back and change jobs.
    start = np.datetime64("2025-03-01")
    span = int((DATA_DATE - start).astype(int))
    days = np.floor(span * np.sqrt(rng.random(n))).astype(int)
    peak = rng.random(n) < 0.2
    days[peak] = (np.datetime64("2026-02-24") - start).astype(int) + rng.integers(0, 45, peak.sum())
    registered = np.datetime_as_string(start + days.astype("timedelta64[D]"), unit="D")
    return _frame(
        {
            "id": [f"S{i + 1:06d}" for i in range(n)],
            "industries": industries,
            "mode": mode,
            "registered": registered.astype(object),
        },
        _points(rng, net, nodes),
    )


def _volunteers(
    rng: np.random.Generator,
    net: RoadNetwork,
    n: int,
    nearest_belt: np.ndarray,
    belt_dist: np.ndarray,
) -> gpd.GeoDataFrame:
    cand, p = _residential_weight(net, belt_dist)
    town = (net.area[cand] >= 0) & (net.area[cand] < VILLAGE_AREA)
    p = np.where(town, p, 0.0)
    nodes = rng.choice(cand, size=n, p=p / p.sum())
    near_ind = np.array([net.belts[k].industry for k in nearest_belt[nodes]], dtype=object)
    industries = _industry_lists(rng, near_ind, np.full(n, 0.7))
    slots = (("08:00", "17:00"), ("08:30", "17:30"), ("09:00", "18:00"), ("08:00", "12:00"),
             ("13:30", "18:00"), ("09:00", "15:00"))  # fmt: skip
    slot = rng.choice(len(slots), size=n, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
    return _frame(
        {
            "id": [f"V{i + 1:03d}" for i in range(n)],
            "name": nm.person_names(rng, n),
            "industries": industries,
            "available_from": [slots[s][0] for s in slot],
            "available_to": [slots[s][1] for s in slot],
            "mode": np.where(rng.random(n) < 0.3, "walk", "ebike").astype(object),
        },
        _points(rng, net, nodes),
    )


Site = tuple[str, str, int]
"""A candidate site: (name, kind, network node)."""


def _candidate_sites(rng: np.random.Generator, net: RoadNetwork) -> gpd.GeoDataFrame:
    rows: list[Site] = []
    for town in net.towns:
        rows.extend(_town_sites(rng, net, town))
    for vi, village in enumerate(net.villages):
        if rng.random() < 0.3:
            nodes = np.flatnonzero(net.area == VILLAGE_AREA + vi)
            if nodes.size:
                rows.append((f"{village.name}村委会", "community_centre", int(rng.choice(nodes))))
    kinds = np.array([r[1] for r in rows], dtype=object)
    cap = np.zeros(len(rows), dtype=np.int64)
    for kind, (lo, hi) in SITE_CAPACITY.items():
        sel = np.flatnonzero(kinds == kind)
        cap[sel] = rng.integers(lo // 10, hi // 10 + 1, sel.size) * 10
    return _frame(
        {
            "id": [f"C{i + 1:04d}" for i in range(len(rows))],
            "name": [r[0] for r in rows],
            "kind": kinds,
            "capacity": cap,
            **_site_staffing([r[0] for r in rows], kinds),
        },
        _points(rng, net, np.array([r[2] for r in rows], dtype=np.int64)),
    )


def _town_sites(rng: np.random.Generator, net: RoadNetwork, town: Town) -> list[Site]:
    """Candidate sites of one town: park offices of its belts, the town hall, community
    centres, transit hubs, schools, libraries and markets (draws in a fixed order)."""
    spec = town.spec
    short = spec.zh[:2]
    nodes = np.flatnonzero(net.area == town.index)
    if nodes.size == 0:
        return []
    dx = net.x[nodes] - town.blob.cx
    dy = net.y[nodes] - town.blob.cy
    rel = np.hypot(dx, dy) / town.blob.radius_at(np.arctan2(dy, dx))
    inner, outer = nodes[rel < 0.5], nodes[(rel > 0.4) & (rel < 0.9)]
    centre = town.centre_node if town.centre_node >= 0 else int(nodes[np.argmin(rel)])
    rows = _belt_offices(net, town, short)
    if spec.kind == "industrial_park":
        return [*rows, (f"{short}园区服务中心", "community_centre", centre)]

    def some(pool: np.ndarray, k: int) -> list[int]:
        pool = pool if pool.size else nodes
        return [int(i) for i in rng.choice(pool, size=k, replace=pool.size < k)]

    hall = "街道办事处" if spec.kind == "core" else "镇人民政府"
    rows.append((f"{short}{hall}", "town_hall", centre))
    core = spec.kind == "core"
    n_cc = max(2, min(len(nm.COMMUNITY_WORDS), round(nodes.size / 380)))
    words = rng.permutation(len(nm.COMMUNITY_WORDS))[:n_cc]
    for w, node in zip(words, some(nodes, n_cc), strict=True):
        rows.append((f"{short}{nm.COMMUNITY_WORDS[w]}社区服务中心", "community_centre", node))
    schools = ["第一中学", "第二中学", "职业技术学校", "第三中学", "技工学校", "实验学校"]
    markets = ("中心市场", "东门市场", "西门市场") if core else ("中心市场", "农贸市场")
    groups: list[tuple[tuple[str, ...], np.ndarray, str]] = [
        (("汽车总站", "火车站", "公交枢纽") if core else ("汽车站",), outer, "transit_hub"),
        (tuple(schools[: 6 if core else 3]), nodes, "school"),
        (("图书馆", "文化中心") if core else ("文化站",), inner, "library"),
        (markets, nodes, "market"),
    ]
    for names, pool, kind in groups:
        for label, node in zip(names, some(pool, len(names)), strict=True):
            rows.append((f"{short}{label}", kind, node))
    return rows


def _belt_offices(net: RoadNetwork, town: Town, short: str) -> list[Site]:
    """The management office of each industry belt of `town`, at the belt's central node."""
    rows: list[Site] = []
    for k, belt in enumerate(b for b in net.belts if b.town == town.index):
        inside = np.flatnonzero(net.belt == net.belts.index(belt))
        if inside.size:
            d = np.hypot(net.x[inside] - belt.cx, net.y[inside] - belt.cy)
            node = int(inside[np.argmin(d)])
            label = f"{short}{belt.industry.label_zh}产业园{'' if k == 0 else k + 1}管委会"
            rows.append((label, "industrial_park_office", node))
    return rows


def _site_staffing(names: list[str], kinds: np.ndarray) -> dict[str, object]:
    """``status``, ``max_staff`` and ``max_on_site`` of the candidate sites (no random draw,
    so the other layers stay as they were): every other outer town hall is an existing
    township station, the railway station is excluded, room limits follow the kind."""
    town_halls = [i for i, n in enumerate(names) if n.endswith("镇人民政府")]
    existing = set(town_halls[::2][:EXISTING_STATIONS])
    status = [
        "existing" if i in existing else "excluded" if n.endswith(EXCLUDED_SITE) else "candidate"
        for i, n in enumerate(names)
    ]
    limits = [SITE_STAFFING.get(str(k), (3, 25)) for k in kinds]
    return {
        "status": status,
        "max_staff": np.array([m for m, _ in limits], dtype=np.int64),
        "max_on_site": np.array([o for _, o in limits], dtype=np.int64),
    }


def _talent_market(rng: np.random.Generator, net: RoadNetwork) -> gpd.GeoDataFrame:
    core = net.towns[0]
    nodes = np.flatnonzero(net.area == core.index)
    d = np.hypot(net.x[nodes] - core.blob.cx - 250.0, net.y[nodes] - core.blob.cy + 150.0)
    node = np.array([nodes[np.argmin(d)]])
    return _frame(
        {"id": ["TM01"], "name": ["东草市人才市场"], "capacity": [TALENT_MARKET_CAPACITY]},
        _points(rng, net, node),
    )
