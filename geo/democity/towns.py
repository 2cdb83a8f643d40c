"""The fixed layout of Dongcao: towns, their industries, arterial links and the region.

Everything here is in a local metric frame (metres east/north of the city centre, see
:mod:`geo.democity.frame`). The layout is hand-designed so that the river runs between the
towns and through the core only; the seed varies street patterns, belts and people, not the
map. ``scale`` multiplies areas (lengths by ``sqrt(scale)``) while street spacing stays fixed,
so a larger city has proportionally more streets and people.

All town names are invented (no real town is called so); the city is synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.industries import Industry

# Region half-extent (km) at scale 1: about 52 km x 42 km.
REGION_HALF_KM = (26.0, 21.0)


@dataclass(frozen=True)
class TownSpec:
    """One town or district of the demo city (scale 1, kilometres)."""

    key: str
    pinyin: str
    zh: str
    kind: str  # "core", "town" or "industrial_park"
    x_km: float
    y_km: float
    radius_km: float
    spacing_m: float  # typical distance between street intersections
    belts: tuple[Industry, ...]  # industries whose belts lie in this town
    people: float  # relative residential density
    couplets: int = 0  # pairs of one-way streets


TOWNS: tuple[TownSpec, ...] = (
    TownSpec("dongcao", "Dongcao Jiedao", "东草街道", "core", 0.0, 0.0, 4.0, 72.0,
             (Industry.TEXTILE, Industry.FOOD), 2.6, couplets=4),
    TownSpec("luting", "Luting Zhen", "鹭汀镇", "town", -10.0, 8.0, 3.0, 82.0,
             (Industry.TEXTILE, Industry.TEXTILE), 1.3, couplets=1),
    TownSpec("rongluan", "Rongluan Zhen", "榕峦镇", "town", 1.0, 13.0, 2.8, 85.0,
             (Industry.FURNITURE, Industry.FURNITURE), 1.0),
    TownSpec("hewan", "Hewan Zhen", "禾湾镇", "town", 11.0, 8.0, 3.0, 82.0,
             (Industry.FOOD, Industry.ELECTRICAL), 1.1, couplets=1),
    TownSpec("jiaobei", "Jiaobei Zhen", "蕉陂镇", "town", 13.0, -4.0, 2.8, 85.0,
             (Industry.TOYS, Industry.TOYS), 1.0),
    TownSpec("lizhou", "Lizhou Zhen", "栎洲镇", "town", 5.0, -13.0, 3.1, 80.0,
             (Industry.ELECTRICAL, Industry.ELECTRICAL), 1.3, couplets=1),
    TownSpec("yanlang", "Yanlang Zhen", "雁塱镇", "town", -8.0, -11.0, 3.0, 82.0,
             (Industry.TEXTILE, Industry.TOYS), 1.2),
    TownSpec("fengchong", "Fengchong Zhen", "枫涌镇", "town", -14.0, -1.0, 2.8, 85.0,
             (Industry.FURNITURE, Industry.FOOD), 1.0),
    TownSpec("weibu", "Weibu Zhen", "苇埗镇", "town", -19.0, 13.0, 2.6, 90.0,
             (Industry.TEXTILE,), 0.8),
    TownSpec("tongli", "Tongli Zhen", "桐沥镇", "town", 21.0, 12.0, 2.6, 90.0,
             (Industry.ELECTRICAL, Industry.FURNITURE), 0.8),
    TownSpec("yinjiao", "Yinjiao Zhen", "银滘镇", "town", 18.0, -15.0, 2.7, 88.0,
             (Industry.ELECTRICAL, Industry.FOOD), 0.9),
    TownSpec("lanyu", "Lanyu Huagong Yuanqu", "澜屿化工园区", "industrial_park",
             -20.0, -15.5, 1.9, 150.0, (Industry.CHEMICAL, Industry.CHEMICAL), 0.05),
)  # fmt: skip
"""The twelve towns/districts; the first is the urban core with the talent market."""

CORE = 0
"""Index of the urban core in :data:`TOWNS`."""


@dataclass(frozen=True)
class ArterialSpec:
    """A road between two towns (indices into :data:`TOWNS`)."""

    a: int
    b: int
    highway: str  # "primary" or "trunk"
    bridge: bool = False  # allowed to cross the river


def _t(key: str) -> int:
    return next(i for i, t in enumerate(TOWNS) if t.key == key)


ARTERIALS: tuple[ArterialSpec, ...] = (
    # Radials from the core; two are trunk roads (no walking), the rest primary.
    ArterialSpec(_t("dongcao"), _t("luting"), "primary"),
    ArterialSpec(_t("dongcao"), _t("rongluan"), "primary"),
    ArterialSpec(_t("dongcao"), _t("hewan"), "trunk"),
    ArterialSpec(_t("dongcao"), _t("jiaobei"), "primary"),
    ArterialSpec(_t("dongcao"), _t("lizhou"), "trunk"),
    ArterialSpec(_t("dongcao"), _t("yanlang"), "primary"),
    ArterialSpec(_t("dongcao"), _t("fengchong"), "primary"),
    # The ring of towns; two links cross the river on bridges.
    ArterialSpec(_t("luting"), _t("rongluan"), "primary"),
    ArterialSpec(_t("rongluan"), _t("hewan"), "primary"),
    ArterialSpec(_t("hewan"), _t("jiaobei"), "primary", bridge=True),
    ArterialSpec(_t("jiaobei"), _t("lizhou"), "primary"),
    ArterialSpec(_t("lizhou"), _t("yanlang"), "primary"),
    ArterialSpec(_t("yanlang"), _t("fengchong"), "primary"),
    ArterialSpec(_t("fengchong"), _t("luting"), "primary", bridge=True),
    # Outer towns and the chemical park.
    ArterialSpec(_t("weibu"), _t("luting"), "primary"),
    ArterialSpec(_t("weibu"), _t("rongluan"), "primary"),
    ArterialSpec(_t("tongli"), _t("hewan"), "primary"),
    ArterialSpec(_t("tongli"), _t("rongluan"), "primary"),
    ArterialSpec(_t("yinjiao"), _t("lizhou"), "primary"),
    ArterialSpec(_t("yinjiao"), _t("jiaobei"), "primary"),
    ArterialSpec(_t("lanyu"), _t("yanlang"), "primary"),
    ArterialSpec(_t("lanyu"), _t("fengchong"), "primary"),
)

RING_RADIUS_KM = 6.0
"""Radius of the expressway ring around the core (scale 1)."""

RADIAL_ANGLES_DEG = (60.0, 120.0, 200.0, 270.0)
"""Directions of the radial expressways leaving the ring (degrees from east)."""

# River control points (km, scale 1), west to east: between the towns and through the core.
RIVER_KM = (
    (-27.0, 4.6),
    (-20.0, 3.6),
    (-12.0, 3.2),
    (-6.0, 2.0),
    (0.0, 0.6),
    (6.0, 1.2),
    (12.0, 2.0),
    (18.0, 3.2),
    (27.0, 2.2),
)
RIVER_NAME = ("Cao Jiang", "草江")
RIVER_WIDTH_M = 180.0
