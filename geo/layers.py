"""The five input layers and their columns.

Every layer is a table of points. In files, points are either a geometry column
(GeoJSON, GeoPackage) or ``lon``/``lat`` columns (CSV, Excel). In memory, every layer is a
GeoDataFrame in EPSG:4326 with the columns below (plus ``geometry``).

Column kinds:

Every column may also be headed by one of its aliases (Chinese as bureaus export them, see
:attr:`Column.aliases`); matching ignores case, full-width forms and a trailing unit in
brackets (``岗位数（人）``). Two time columns may come as one range column (``营业时间``
``08:00-18:00``, see :attr:`LayerSpec.ranges`).

``id``        text, unique within the layer, non-empty
``text``      free text (may be empty unless required)
``int``       whole number >= 0
``industry``  one industry of the scenario's catalogue (code or label, see :mod:`geo.industries`)
``industries``  one or more codes separated by ``;`` (e.g. ``textile;toys``)
``mode``      a travel mode (``walk``, ``ebike``, ``bus``, ``car``; or 步行, 电动车, 公交, 自驾)
``time``      time of day ``HH:MM`` (24 h)
``date``      ISO date ``YYYY-MM-DD``
``site_kind`` a candidate-site kind (see :data:`SITE_KINDS`)
``code``      one of the column's ``choices``
"""

from __future__ import annotations

import re
import unicodedata
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

MODE_ALIASES: dict[str, str] = {
    "步行": "walk",
    "走路": "walk",
    "徒步": "walk",
    "foot": "walk",
    "电动车": "ebike",
    "电瓶车": "ebike",
    "电单车": "ebike",
    "电动自行车": "ebike",
    "e-bike": "ebike",
    "公交": "bus",
    "公交车": "bus",
    "巴士": "bus",
    "公共交通": "bus",
    "自驾": "car",
    "开车": "car",
    "汽车": "car",
    "小汽车": "car",
    "私家车": "car",
}
"""Names accepted for travel modes besides the codes (matched ignoring case and width)."""

SITE_KIND_ALIASES: dict[str, str] = {
    **{zh: code for code, (_, zh) in SITE_KINDS.items()},
    **{en: code for code, (en, _) in SITE_KINDS.items()},
    "社区": "community_centre",
    "社区中心": "community_centre",
    "党群服务中心": "community_centre",
    "镇政府": "town_hall",
    "街道办": "town_hall",
    "街道办事处": "town_hall",
    "园区": "industrial_park_office",
    "管委会": "industrial_park_office",
    "车站": "transit_hub",
    "公交站": "transit_hub",
    "学校": "school",
    "培训中心": "school",
    "图书馆": "library",
    "文化中心": "library",
    "文化站": "library",
    "菜市场": "market",
    "其它": "other",
}
"""Names accepted for candidate-site kinds besides the codes: the labels and common words."""

SITE_STATUS_ALIASES: dict[str, str] = {
    "已有": "existing",
    "现有": "existing",
    "既有": "existing",
    "已建": "existing",
    "候选": "candidate",
    "备选": "candidate",
    "排除": "excluded",
    "不可用": "excluded",
}
"""Names accepted for candidate-site statuses besides the codes."""

CODE_LABELS: dict[str, dict[str, str]] = {
    "mode": {"walk": "步行", "ebike": "电动车", "bus": "公交", "car": "自驾"},
    "site_status": {"existing": "已有", "candidate": "候选", "excluded": "排除"},
    "site_kind": {code: zh for code, (_, zh) in SITE_KINDS.items()},
}
"""Chinese label of each code, shown next to it in messages (``walk (步行)``)."""

VALUE_ALIASES: dict[str, dict[str, str]] = {
    "mode": MODE_ALIASES,
    "site_kind": SITE_KIND_ALIASES,
    "site_status": SITE_STATUS_ALIASES,
}
"""Value aliases per column kind (industries come from the scenario's catalogue instead)."""

SITE_STATUSES = ("existing", "candidate", "excluded")
"""``status`` of a candidate site: an existing station (township job-agency station and the
like: always open, staffed from the pool), a candidate, or excluded from the plan."""


@dataclass(frozen=True)
class Column:
    """One column of a layer: name, kind (see module docstring), whether required.

    ``choices`` narrows the codes a code column (``mode``, ``industry`` ...) accepts,
    ``default`` fills an optional column's empty cells, ``after`` names a ``time`` column
    this one must be later than (e.g. ``closes`` after ``opens``), and ``aliases`` are other
    headers accepted for the column (e.g. ``名称``).
    """

    name: str
    kind: str
    required: bool = True
    description: str = ""
    choices: tuple[str, ...] | None = None
    default: str | None = None
    after: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Range:
    """One column holding two time columns as ``HH:MM-HH:MM`` (e.g. ``营业时间``)."""

    start: str
    end: str
    headers: tuple[str, ...]


@dataclass(frozen=True)
class LayerSpec:
    """Columns of one layer (geometry is always a point and always required)."""

    name: LayerName
    columns: tuple[Column, ...]
    description: str
    ranges: tuple[Range, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        msg = f"layer `{self.name}` has no column `{name}`"
        raise KeyError(msg)

    def headers(self) -> dict[str, str]:
        """Normalised header -> column name, for every name and alias of every column."""
        out = {header_key(c.name): c.name for c in self.columns}
        for c in self.columns:
            out.update({header_key(a): c.name for a in c.aliases})
        return out


def header_key(header: object) -> str:
    """How headers are compared: NFKC, case-folded, no spaces, no trailing ``(unit)``."""
    text = unicodedata.normalize("NFKC", str(header)).casefold()
    text = re.sub(r"\s+", "", text)
    return re.sub(r"\([^()]*\)$", "", text) or text


_ID = ("编号", "序号", "代码", "ID号")
_NAME = ("名称", "姓名")
_CAPACITY = ("容量", "承载量", "日接待量", "日接待能力", "接待能力", "capacity_per_day")
_INDUSTRIES = ("行业", "从业行业", "求职行业", "意向行业", "熟悉行业", "擅长行业", "行业经验")

SPECS: dict[LayerName, LayerSpec] = {
    LayerName.EMPLOYERS: LayerSpec(
        LayerName.EMPLOYERS,
        (
            Column("id", "id", aliases=(*_ID, "企业编号", "单位编号", "统一社会信用代码")),
            Column("name", "text", aliases=("名称", "企业名称", "单位名称", "公司名称", "企业")),
            Column("industry", "industry", aliases=("行业", "所属行业", "行业类别", "行业代码")),
            Column(
                "demand",
                "int",
                description="open positions (headcount)",
                aliases=("岗位数", "用工需求", "招聘人数", "需求人数", "空缺岗位", "岗位需求"),
            ),
            Column(
                "opens",
                "time",
                description="opening time, HH:MM",
                aliases=("开门时间", "上班时间", "营业开始", "开始时间"),
            ),
            Column(
                "closes",
                "time",
                description="closing time, HH:MM, after `opens`",
                after="opens",
                aliases=("关门时间", "下班时间", "营业结束", "结束时间"),
            ),
        ),
        "Employers (factories, workshops) with their hiring demand.",
        ranges=(Range("opens", "closes", ("hours", "营业时间", "工作时间", "营业时段")),),
    ),
    LayerName.SEEKERS: LayerSpec(
        LayerName.SEEKERS,
        (
            Column("id", "id", aliases=(*_ID, "求职者编号", "人员编号", "登记编号")),
            Column(
                "industries",
                "industries",
                description="industries of experience",
                aliases=_INDUSTRIES,
            ),
            Column(
                "mode",
                "mode",
                description="usual travel mode",
                aliases=("出行方式", "交通方式", "通勤方式"),
            ),
            Column(
                "registered",
                "date",
                description="registration date",
                aliases=("登记日期", "登记时间", "注册日期", "求职登记日期"),
            ),
        ),
        "Registered job seekers at their residence (personal data: never exposed raw).",
    ),
    LayerName.VOLUNTEERS: LayerSpec(
        LayerName.VOLUNTEERS,
        (
            Column("id", "id", aliases=(*_ID, "志愿者编号", "志愿者")),
            Column("name", "text", aliases=(*_NAME, "志愿者姓名")),
            Column(
                "industries",
                "industries",
                description="industries the volunteer knows",
                aliases=_INDUSTRIES,
            ),
            Column("available_from", "time", aliases=("开始时间", "可服务开始", "上岗时间")),
            Column(
                "available_to",
                "time",
                after="available_from",
                aliases=("结束时间", "可服务结束", "离岗时间"),
            ),
            Column(
                "mode",
                "mode",
                required=False,
                description="walk or ebike (default ebike)",
                choices=("walk", "ebike"),
                default="ebike",
                aliases=("出行方式", "交通方式"),
            ),
        ),
        "Employment volunteers at their home.",
        ranges=(Range("available_from", "available_to", ("available", "可服务时间", "服务时间")),),
    ),
    LayerName.CANDIDATE_SITES: LayerSpec(
        LayerName.CANDIDATE_SITES,
        (
            Column("id", "id", aliases=(*_ID, "站点编号")),
            Column("name", "text", aliases=(*_NAME, "站点名称", "地点名称")),
            Column("kind", "site_kind", aliases=("站点类型", "类型", "场所类型")),
            Column(
                "capacity",
                "int",
                description="safe number of visitors per day",
                aliases=_CAPACITY,
            ),
            Column(
                "status",
                "site_status",
                required=False,
                aliases=("站点状态", "状态"),
                description="existing (always open), candidate (default) or excluded",
                choices=SITE_STATUSES,
                default="candidate",
            ),
            Column(
                "max_staff",
                "int",
                required=False,
                aliases=("最多人员", "人员上限", "最大人员数"),
                description="most staff the room holds (empty or 0: `[staffing] max_staff`)",
            ),
            Column(
                "max_on_site",
                "int",
                required=False,
                aliases=("最大容纳人数", "安全容量", "现场人数上限"),
                description="safe occupancy, people at once (empty or 0: `[staffing]`)",
            ),
        ),
        "Places where a job-service point could open.",
    ),
    LayerName.TALENT_MARKET: LayerSpec(
        LayerName.TALENT_MARKET,
        (
            Column("id", "id", aliases=_ID),
            Column("name", "text", aliases=(*_NAME, "市场名称")),
            Column(
                "capacity",
                "int",
                description="safe number of visitors per day",
                aliases=_CAPACITY,
            ),
        ),
        "The central talent market (usually one row).",
    ),
}
