"""The five input layers and their columns.

Every layer is a table of points. In files, points are either a geometry column
(GeoJSON, GeoPackage) or ``lon``/``lat`` columns (CSV, Excel). In memory, every layer is a
GeoDataFrame in EPSG:4326 with the columns below (plus ``geometry``).

Column kinds:

``id``        text, unique within the layer, non-empty
``text``      free text (may be empty unless required)
``int``       whole number >= 0
``industry``  one industry code (see :mod:`geo.industries`)
``industries``  one or more codes separated by ``;`` (e.g. ``textile;toys``)
``mode``      a travel mode code (``walk``, ``ebike``, ``bus``, ``car``)
``time``      time of day ``HH:MM`` (24 h)
``date``      ISO date ``YYYY-MM-DD``
``site_kind`` a candidate-site kind (see :data:`SITE_KINDS`)
``code``      one of the column's ``choices``
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LayerName(StrEnum):
    EMPLOYERS = "employers"
    SEEKERS = "seekers"
    VOLUNTEERS = "volunteers"
    CANDIDATE_SITES = "candidate_sites"
    TALENT_MARKET = "talent_market"


SITE_KINDS: dict[str, tuple[str, str]] = {
    "community_centre": ("Community centre", "社区服务中心"),
    "town_hall": ("Town / sub-district office", "镇街办事处"),
    "industrial_park_office": ("Industrial-park office", "工业园区管委会"),
    "transit_hub": ("Transit hub", "交通枢纽"),
    "school": ("School / training centre", "学校/培训中心"),
    "library": ("Library / cultural centre", "图书馆/文化中心"),
    "market": ("Market hall", "市场"),
    "other": ("Other", "其他"),
}
"""Allowed ``kind`` codes of candidate sites, with English and Chinese labels."""

SITE_STATUSES = ("existing", "candidate", "excluded")
"""``status`` of a candidate site: an existing station (township job-agency station and the
like: always open, staffed from the pool), a candidate, or excluded from the plan."""


@dataclass(frozen=True)
class Column:
    """One column of a layer: name, kind (see module docstring), whether required.

    ``choices`` narrows the codes a code column (``mode``, ``industry`` ...) accepts,
    ``default`` fills an optional column's empty cells, and ``after`` names a ``time`` column
    this one must be later than (e.g. ``closes`` after ``opens``).
    """

    name: str
    kind: str
    required: bool = True
    description: str = ""
    choices: tuple[str, ...] | None = None
    default: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class LayerSpec:
    """Columns of one layer (geometry is always a point and always required)."""

    name: LayerName
    columns: tuple[Column, ...]
    description: str

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        msg = f"layer `{self.name}` has no column `{name}`"
        raise KeyError(msg)


SPECS: dict[LayerName, LayerSpec] = {
    LayerName.EMPLOYERS: LayerSpec(
        LayerName.EMPLOYERS,
        (
            Column("id", "id"),
            Column("name", "text"),
            Column("industry", "industry"),
            Column("demand", "int", description="open positions (headcount)"),
            Column("opens", "time", description="opening time, HH:MM"),
            Column(
                "closes", "time", description="closing time, HH:MM, after `opens`", after="opens"
            ),
        ),
        "Employers (factories, workshops) with their hiring demand.",
    ),
    LayerName.SEEKERS: LayerSpec(
        LayerName.SEEKERS,
        (
            Column("id", "id"),
            Column("industries", "industries", description="industries of experience"),
            Column("mode", "mode", description="usual travel mode"),
            Column("registered", "date", description="registration date"),
        ),
        "Registered job seekers at their residence (personal data: never exposed raw).",
    ),
    LayerName.VOLUNTEERS: LayerSpec(
        LayerName.VOLUNTEERS,
        (
            Column("id", "id"),
            Column("name", "text"),
            Column("industries", "industries", description="industries the volunteer knows"),
            Column("available_from", "time"),
            Column("available_to", "time", after="available_from"),
            Column(
                "mode",
                "mode",
                required=False,
                description="walk or ebike (default ebike)",
                choices=("walk", "ebike"),
                default="ebike",
            ),
        ),
        "Employment volunteers at their home.",
    ),
    LayerName.CANDIDATE_SITES: LayerSpec(
        LayerName.CANDIDATE_SITES,
        (
            Column("id", "id"),
            Column("name", "text"),
            Column("kind", "site_kind"),
            Column("capacity", "int", description="safe number of visitors per day"),
            Column(
                "status",
                "code",
                required=False,
                description="existing (always open), candidate (default) or excluded",
                choices=SITE_STATUSES,
                default="candidate",
            ),
            Column(
                "max_staff",
                "int",
                required=False,
                description="most staff the room holds (empty or 0: `[staffing] max_staff`)",
            ),
            Column(
                "max_on_site",
                "int",
                required=False,
                description="safe occupancy, people at once (empty or 0: `[staffing]`)",
            ),
        ),
        "Places where a job-service point could open.",
    ),
    LayerName.TALENT_MARKET: LayerSpec(
        LayerName.TALENT_MARKET,
        (
            Column("id", "id"),
            Column("name", "text"),
            Column("capacity", "int", description="safe number of visitors per day"),
        ),
        "The central talent market (usually one row).",
    ),
}
