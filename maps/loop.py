"""The loop section of the plan map: every registration answered (事事有回音).

Draws the loop report of the scenario's database as published by
:func:`planner.loop.report.published_summary` (every count through disclosure control):

* a panel (top left, under the crowd panel, folded): totals, the median days to the first
  recommendation and to an outcome, why registrations got no recommendation, outcomes by
  kind, and sortable tables per industry and per service point (a click on a point's row
  opens it on the map);
* a row "Loop 事事有回音" in each service point's popup (registrations, open cases,
  follow-ups due);
* a layer "Loop: open cases 在办个案" (off by default): a neutral ring per service point,
  its area growing with the open cases, with every figure of the point in its popup.

Without a loop database the panel says how to create one; it never shows a number that is
not in the report. Hidden counts (fewer than ``k`` people, or hidden to protect one that
is) are shown as "–"; rows left out are stated with the people in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import numpy as np

from geo.industries import DEFAULT_CATALOGUE, IndustryCatalogue
from maps._base import (
    HtmlControl,
    LegendItem,
    LegendSection,
    esc,
    figure,
    geojson,
    register,
    round_coords,
)
from planner.loop import REASONS

LOOP_LAYER = "Loop: open cases 在办个案"
LOOP_COLOUR = "#4a4a4a"
"""One neutral ring colour: the loop layer shows no industry and no load (see STYLE.md)."""
MIN_RADIUS_PX = 8.0
MAX_RADIUS_PX = 28.0
"""Ring radii (pixels): larger than the points' circles (5-18 px), so a ring encloses its
point."""
HIDDEN = "–"

FIGURE_LABELS = (
    ("registrations", "Registrations 登记"),
    ("screened", "Screened 已筛查"),
    ("screened_within_1_day", "Screened within 1 day 1天内筛查"),
    ("with_recommendations", "With recommendations 有推荐"),
    ("answered", "Answered (recommendations or a reason) 已回音"),
    ("interviews", "Interviews booked 面试"),
    ("escorted_interviews", "Escorted interviews 陪同面试"),
    ("hires", "Hires 录用"),
    ("open_cases", "Open cases 在办个案"),
    ("follow_ups_due", "Follow-ups due 待回访"),
    ("follow_ups_done", "Follow-up calls done 已回访"),
)
"""Every count of the loop report, in the order of ``dianmian loop report``."""
COLUMNS = (
    ("registrations", "Reg. 登记", "registrations"),
    ("screened_within_1_day", "≤1 d 1天内", "screened within 1 day"),
    ("with_recommendations", "Rec. 推荐", "with recommendations"),
    ("interviews", "Int. 面试", "interviews booked"),
    ("hires", "Hired 录用", "hires"),
    ("open_cases", "Open 在办", "open cases"),
    ("follow_ups_due", "Due 待回访", "follow-ups due"),
    ("follow_ups_done", "Calls 已回访", "follow-up calls done"),
)
"""(figure, heading, tooltip) of the per-industry and per-point tables."""
REASON_LABELS = {
    "outside_network": "home too far from every street 住址离道路太远",
    "no_opening_in_reach": "no opening of their industries within reach 出行范围内无对口岗位",
    "all_recommended": "every opening in reach already recommended 可达岗位均已推荐",
    "all_taken": "every opening in reach has its full share 可达岗位名额已满",
    "pending": "not screened yet 尚未筛查",
}
"""Short labels of :data:`planner.loop.REASONS` (codes without one show the long text)."""
OUTCOME_LABELS = {
    "hired": "hired 录用",
    "hired_elsewhere": "hired elsewhere 他处就业",
    "not_hired": "not hired 未录用",
    "declined": "declined 本人放弃",
    "no_show": "did not come 未到场",
    "withdrawn": "withdrawn 撤回登记",
}

_CSS = """
<style>
/* Leaves room for the title, table and download panels below it (bottom left). */
.dm-loop { max-width: min(560px, calc(100vw - 40px));
  max-height: max(140px, calc(100vh - 480px)); overflow: auto; font-size: 12px; }
.dm-loop > details > summary { font-size: 15px; }
.dm-loop .headline { font-weight: 600; margin: 2px 0; }
.dm-loop .h { font-weight: 700; margin-top: 4px; }
.dm-loop table { border-collapse: collapse; font-size: 12px; margin-bottom: 4px; }
.dm-loop td, .dm-loop th { padding: 1px 4px; text-align: right; border-bottom: 1px solid #eee; }
.dm-loop td:first-child, .dm-loop th:first-child { text-align: left; }
.dm-loop .note { font-size: 11px; color: #444; margin: 2px 0 4px; }
.dm-loop code { font-size: 11px; background: #f3f3f3; padding: 0 2px; }
</style>
"""
_JS = """
<script>
// One of the two top-left panels open at a time, so neither runs under the bottom-left ones.
window.addEventListener('load', function () {
  var loop = document.querySelector('.dm-loop details');
  var crowd = document.querySelector('.dm-crowd details');
  if (!loop || !crowd) return;
  loop.addEventListener('toggle', function () { if (loop.open) crowd.open = false; });
  crowd.addEventListener('toggle', function () { if (crowd.open) loop.open = false; });
});
</script>
"""


@dataclass(frozen=True)
class LoopSection:
    """The loop section of the plan map.

    Attributes
    ----------
    report
        The published loop report (:func:`planner.loop.report.published_summary`), or
        ``None`` when the scenario has no loop database (or no registration in it yet).
    scenario
        The scenario folder as typed on the command line, for the commands in the hint.
    point_names
        Names of service points not drawn on the map (the talent market's desk), by id.
    """

    report: Mapping[str, Any] | None
    scenario: str = "SCENARIO"
    point_names: Mapping[str, str] = field(default_factory=dict)


def count_text(value: object) -> str:
    """A published count (``None``: hidden, shown as "–")."""
    return HIDDEN if value is None else f"{int(value):,}"  # type: ignore[call-overload]


def _days(value: object) -> str:
    return HIDDEN if value is None else f"{float(value):g} d"  # type: ignore[arg-type]


def _row_cells(figures: Mapping[str, Any]) -> str:
    return "".join(
        f"<td data-v='{-1 if figures.get(f) is None else int(figures[f])}'>"
        f"{count_text(figures.get(f))}</td>"
        for f, _h, _t in COLUMNS
    )


def _head(first: str) -> str:
    cells = "".join(f'<th title="{esc(t)}">{esc(h)}</th>' for _f, h, t in COLUMNS)
    return f"<thead><tr><th>{esc(first)}</th>{cells}</tr></thead>"


def _held_back(part: Mapping[str, Any], what: tuple[str, str], k: int) -> str:
    """The note on rows left out; `what` is (singular, plural)."""
    n = int(part.get("suppressed_rows", 0))
    if not n:
        return ""
    # Complementary suppression may hide a row of k or more to protect a small one, so
    # the note does not claim every hidden row is small.
    return (
        f"<p class='note'>{n} {what[n > 1]} not shown ({int(part['suppressed']):,} people): "
        f"fewer than {k} registrations, or hidden to protect such a row "
        f"少于{k}人（或为保护其而隐藏）的未显示</p>"
    )


def _breakdown(title: str, values: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    if not values:
        return ""
    rows = "".join(
        f"<tr><td>{esc(labels.get(key, key))}</td><td>{count_text(v)}</td></tr>"
        for key, v in sorted(values.items(), key=lambda kv: -(kv[1] or 0))
    )
    return f"<div class='h'>{esc(title)}</div><table>{rows}</table>"


def loop_panel_html(
    section: LoopSection,
    point_names: Mapping[str, str],
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
    *,
    reasons: Mapping[str, str] | None = None,
) -> str:
    """HTML of the loop panel (see the module docstring); `point_names` maps service point
    ids to names, `reasons` reason codes to their text."""
    title = "事事有回音 Every registration answered"
    report = section.report
    if report is None:
        scen = esc(section.scenario)
        return (
            f"<details><summary><b>{title}</b></summary>"
            "<p class='note'>No loop database with registrations for this scenario yet, so no "
            "figures. 尚无登记数据。 Create one with:</p><p class='note'>"
            f"<code>dianmian registrations import {scen}</code><br>"
            f"<code>dianmian match {scen} --date YYYY-MM-DD</code><br>"
            f"(or <code>dianmian loop simulate {scen}</code> on a synthetic city), then "
            f"<code>dianmian maps {scen}</code>.</p></details>"
        )
    k = int(report["k"])
    totals = report["totals"]
    n = totals.get("registrations")
    share = totals.get("answered_share")
    headline = f"{count_text(n)} registrations" + (
        f", {float(share):.1%} answered" if share is not None else ""
    )
    rows = "".join(
        f"<tr><td>{esc(label)}</td><td>{count_text(totals.get(f))}</td></tr>"
        for f, label in FIGURE_LABELS
    )
    rows += (
        "<tr><td>Median days to the first recommendation 首次推荐天数中位数</td>"
        f"<td>{_days(totals.get('median_days_to_first_recommendation'))}</td></tr>"
        "<tr><td>Median days to an outcome 得到结果天数中位数</td>"
        f"<td>{_days(totals.get('median_days_to_outcome'))}</td></tr>"
    )
    by_ind = report["by_industry"]
    ind_rows = "".join(
        f"<tr><td>{esc(industries.label(code) if code in industries else code)}</td>"
        f"{_row_cells(fig)}</tr>"
        for code, fig in by_ind["rows"].items()
    )
    by_pt = report["by_service_point"]
    pt_rows = "".join(
        f'<tr data-id="{esc(pid)}"><td>{esc(point_names.get(pid, pid))}</td>{_row_cells(fig)}</tr>'
        for pid, fig in by_pt["rows"].items()
    )
    return (
        f"<details><summary><b>{title}</b></summary>"
        f"<div class='headline'>{esc(headline)}</div>"
        f"<p class='note'>Loop report as of {esc(report['date'])}; follow-ups due: open cases "
        f"silent for {int(report['follow_up_days'])}+ days. Counts below {k} are not shown "
        f"({HIDDEN}; also where one would reveal another). 截至{esc(report['date'])}；"
        f"少于{k}人的数字不显示。</p>"
        f"<table>{rows}</table>"
        + _breakdown(
            "No recommendation yet, by reason 暂无推荐原因",
            report.get("no_recommendation_reasons", {}),
            {**(reasons or {}), **REASON_LABELS},
        )
        + _breakdown("Outcomes 结果", report.get("outcomes", {}), OUTCOME_LABELS)
        + "<div class='h'>Per industry 各产业 <small>(a person counts under each of their "
        "industries 多产业者重复计)</small></div>"
        f"<table class='dm-sortable'>{_head('Industry 产业')}<tbody>{ind_rows}</tbody></table>"
        + _held_back(by_ind, ("industry", "industries"), k)
        + "<div class='h'>Per service point 各服务点 <small>(click a heading to sort, a row to "
        "open the point 点击表头排序，点击行定位)</small></div>"
        f"<table class='dm-sortable' data-key='points:'>{_head('Service point 服务点')}"
        f"<tbody>{pt_rows}</tbody></table>"
        + _held_back(by_pt, ("service point", "service points"), k)
        + "</details>"
    )


def point_loop_text(section: LoopSection, point_id: str) -> str:
    """The loop row of a service point's popup (escaped)."""
    report = section.report
    if report is None:
        return "no loop database 尚无登记数据"
    fig = report["by_service_point"]["rows"].get(str(point_id))
    if fig is None:
        return f"fewer than {int(report['k'])} registrations (not shown) 少于{report['k']}人"
    return esc(
        f"{count_text(fig['registrations'])} registrations 登记, "
        f"{count_text(fig['open_cases'])} open 在办, "
        f"{count_text(fig['follow_ups_due'])} follow-ups due 待回访"
    )


def add_loop_layer(
    m: folium.Map, section: LoopSection, points: gpd.GeoDataFrame
) -> LegendSection | None:
    """The open-cases layer (off by default) and its legend section; ``None`` without a
    report. Only points whose open cases are published get a ring."""
    report = section.report
    if report is None:
        return None
    rows = report["by_service_point"]["rows"]
    ids = points["id"].astype(str)
    keep = ids.map(lambda p: p in rows and rows[p]["open_cases"] is not None).to_numpy(bool)
    sub = points.loc[keep]
    figs = [rows[str(p)] for p in sub["id"]]
    open_cases = np.array([f["open_cases"] for f in figs], dtype=float)
    top = float(open_cases.max()) if open_cases.size and open_cases.max() > 0 else 1.0
    data: dict[str, Any] = {
        "id": sub["id"].astype(str).map(esc).to_numpy(),
        "name": sub["name"].map(esc).to_numpy(),
        "radius": np.round(
            MIN_RADIUS_PX + (MAX_RADIUS_PX - MIN_RADIUS_PX) * np.sqrt(open_cases / top), 1
        ),
    }
    labels = dict(FIGURE_LABELS)
    for f, _h, _t in COLUMNS:
        data[f] = [count_text(fig[f]) for fig in figs]
    frame = gpd.GeoDataFrame(data, geometry=sub.geometry.values, crs=points.crs)
    group = folium.FeatureGroup(name=LOOP_LAYER, show=False).add_to(m)
    fields = ["name", *(f for f, _h, _t in COLUMNS), "id"]
    aliases = ["Service point 服务点", *(labels[f] for f, _h, _t in COLUMNS), "ID"]
    geojson(
        round_coords(frame),
        marker=folium.CircleMarker(radius=MIN_RADIUS_PX),
        style_function=lambda f: {
            "radius": f["properties"]["radius"],
            "fill": True,
            "fillColor": LOOP_COLOUR,
            "fillOpacity": 0.12,
            "color": LOOP_COLOUR,
            "weight": 2,
            "opacity": 0.9,
            "dashArray": "1 4",  # dotted: not the market demand's dashes
        },
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "open_cases", "follow_ups_due"],
            aliases=["", "Open cases 在办", "Follow-ups due 待回访"],
        ),
    ).add_to(group)
    register(m, "loop", group)
    k = int(report["k"])
    return LegendSection(
        LOOP_LAYER,
        [
            LegendItem(
                LOOP_COLOUR,
                "dotted ring, area grows with open cases 点线圈越大在办越多",
                swatch="dot",
            )
        ],
        f"Points with fewer than {k} registrations or a hidden count have no ring.",
    )


def add_loop_panel(
    m: folium.Map,
    section: LoopSection,
    points: gpd.GeoDataFrame,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
) -> None:
    """The loop panel (top left: add it after the crowd panel to sit under it)."""
    root = figure(m)
    root.header.add_child(folium.Element(_CSS), name="dm_loop_css")
    root.html.add_child(folium.Element(_JS), name="dm_loop_js")
    names = {
        **section.point_names,
        **dict(zip(points["id"].astype(str), points["name"].astype(str), strict=True)),
    }
    HtmlControl(
        loop_panel_html(section, names, industries, reasons=REASONS),
        position="topleft",
        css_class="dm-loop",
    ).add_to(m)
