"""One volunteer's page for one day, for a phone: a map of the route above the list of rows.

Every volunteer of the day gets exactly one page (``routes/<date>/volunteers/<id>.html``):

* with tasks: the map (street path, numbered stops; stops at one place fanned out) and one
  row per thing to do, in order. A visit says whom to see, why, how many open positions the
  employer reported and the contact if the employer file has one; an escort says whom to
  meet where (the meeting point), how many seekers, and that the time is the interview time;
  waiting and lunch are their own rows with their own times. Tapping a row centres the map
  on the stop and opens its popup.
* without tasks: a short page saying so, with the reason from the day's ``plan.json``.

Pages are self-contained HTML (Leaflet inlined, no request to the network) and readable at
390 px wide without zooming. The ``<title>`` holds the volunteer's name, the date and the
scenario.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd
from jinja2.utils import htmlsafe_json_dumps

from geo import InputError, Problem
from geo.timeofday import format_hhmm
from maps import _layers as layers
from maps._base import base_map, figure, render_html
from maps.daily import (
    ROADS_MARGIN_M,
    ROUTE_PALETTE,
    add_route,
    check_drawable,
    roads_near,
    route_bounds,
)
from planner.daily.record import Stop, StopKind, VolunteerRoute

logger = logging.getLogger(__name__)

WAIT_ROW_MIN_S = 60
"""Waits shorter than this (seconds) are not given their own row."""
VISIT_PURPOSE = "check open positions, update the vacancy record 核实岗位空缺、更新登记"
CONTACT_COLUMNS = ("contact", "phone", "联系人", "电话")
"""Optional employer columns shown as the contact of a visit (first found)."""
_ESCORT = re.compile(
    r"^(?P<n>\d+) 人 seekers (?P<meet>.+) → (?P<employer>.+) (?P<time>\d{1,2}:\d\d)$"
)


@dataclass(frozen=True)
class EmployerFacts:
    """What a visit row shows about an employer (all plain text)."""

    name: str
    positions: int | None = None
    hours: str = ""
    contact: str = ""


def employer_facts(employers: gpd.GeoDataFrame | None) -> dict[str, EmployerFacts]:
    """``employer id -> facts`` from the city's employers layer (``demand`` = open positions,
    ``opens``/``closes`` in seconds after midnight or as ``HH:MM``, optional contact column)."""
    if employers is None or len(employers) == 0:
        return {}
    contact_col = next((c for c in CONTACT_COLUMNS if c in employers.columns), None)
    demand = pd.to_numeric(employers.get("demand"), errors="coerce")
    out = {}
    for i, eid in enumerate(employers["id"].astype(str)):
        hours = ""
        if {"opens", "closes"} <= set(employers.columns):
            o, c = employers["opens"].iat[i], employers["closes"].iat[i]
            if pd.notna(o) and pd.notna(c):
                hours = f"{_clock(o)}–{_clock(c)}"
        contact = str(employers[contact_col].iat[i]) if contact_col else ""
        out[eid] = EmployerFacts(
            name=str(employers["name"].iat[i]),
            positions=None if demand is None or pd.isna(demand.iat[i]) else int(demand.iat[i]),
            hours=hours,
            contact="" if contact in ("", "nan", "None") else contact,
        )
    return out


def _clock(value: object) -> str:
    """``HH:MM`` of seconds after midnight, or of a time already written as text."""
    try:
        return format_hhmm(int(float(str(value))))
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class Row:
    """One row of the page: a time span, what to do (title, details) and the stop it is at."""

    time: str
    kind: str
    title: str
    details: tuple[str, ...] = ()
    seq: int | None = None


def _escort_parts(stop: Stop) -> dict[str, str] | None:
    m = _ESCORT.match(stop.label or "")
    return m.groupdict() if m else None


def _visit_row(k: int, s: Stop, facts: Mapping[str, EmployerFacts]) -> Row:
    eid = (s.task_id or "").removeprefix("visit:")
    f = facts.get(eid)
    name = f.name if f else s.name
    details = [f"Purpose 目的: {VISIT_PURPOSE}"]
    if f is not None and f.positions is not None:
        details.append(f"Open positions 空缺岗位: {f.positions}")
    if f is not None and f.hours:
        details.append(f"Opening hours 营业时间: {f.hours}")
    details.append(
        f"Contact 联系人: {f.contact}"
        if f is not None and f.contact
        else "Contact 联系人: not on file, ask at reception 未登记，请到前台询问"
    )
    span = f"{format_hhmm(s.start_s)}–{format_hhmm(s.departure_s)}"
    return Row(span, "visit", f"Visit 走访 {name} ({eid})", tuple(details), k)


def _escort_row(k: int, s: Stop) -> Row:
    span = f"{format_hhmm(s.start_s)}–{format_hhmm(s.departure_s)}"
    p = _escort_parts(s)
    if p is None:  # a label written by another tool: show it as it is
        return Row(span, s.kind.value, f"{s.kind.label_en} {s.kind.label_zh}", (s.label,), k)
    if s.kind is StopKind.PICKUP:
        return Row(
            span,
            "pickup",
            f"Meet {p['n']} seekers 接{p['n']}位求职者",
            (
                f"Meeting point 集合点: {p['meet']}",
                f"Interview 面试: {p['employer']} at {p['time']} (interview time 面试时间)",
                "Check names against the point's list, then go together. 核对名单后一同前往。",
            ),
            k,
        )
    return Row(
        span,
        "delivery",
        f"Bring {p['n']} seekers to {p['employer']} 送达面试",
        (
            f"Interview time 面试时间: {p['time']}",
            "Introduce them at reception; note who attended. 到前台引荐并记录到场人员。",
        ),
        k,
    )


def _place(route: VolunteerRoute, stop: Stop) -> str:
    """Where the day starts or ends: the stop's label, else the service point, else ""."""
    if stop.label:
        return stop.label
    if route.service_point and route.home_legs_removed:
        return f"service point 服务点 {route.service_point}"
    return ""


def phone_rows(route: VolunteerRoute, facts: Mapping[str, EmployerFacts]) -> list[Row]:
    """The page's rows in order: start, then per stop a waiting row (if any) and the stop."""
    rows: list[Row] = []
    for k, s in enumerate(route.stops):
        if s.kind.is_home:
            time = format_hhmm(s.departure_s if s.kind is StopKind.START else s.arrival_s)
            where = _place(route, s)
            kind = f"{s.kind.label_en} {s.kind.label_zh}"
            title = where if where.startswith(kind) else kind + (f": {where}" if where else "")
            rows.append(Row(time, s.kind.value, title, (), k))
            continue
        if s.wait_s >= WAIT_ROW_MIN_S:
            why = (
                "the employer opens then 企业届时开门"
                if s.kind is StopKind.VISIT
                else "until it is time 等到预定时间"
            )
            rows.append(
                Row(
                    f"{format_hhmm(s.arrival_s)}–{format_hhmm(s.start_s)}",
                    "wait",
                    f"Wait 等候 {round(s.wait_s / 60)} min",
                    (f"At 在 {s.name}: {why}",),
                    k,
                )
            )
        if s.kind is StopKind.LUNCH:
            span = f"{format_hhmm(s.start_s)}–{format_hhmm(s.departure_s)}"
            rows.append(Row(span, "lunch", "Lunch break 午休", (), k))
        elif s.kind is StopKind.VISIT:
            rows.append(_visit_row(k, s, facts))
        else:
            rows.append(_escort_row(k, s))
    return rows


_CSS = """
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
/* height:auto: with folium's 100 % body the sticky map would stop at the first screen. */
html, body { margin: 0; height: auto !important; }
body { font: 16px/1.45 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
  color: #222; overflow-x: hidden; }
/* Map first whatever the DOM order folium writes; it stays on top while the rows scroll. */
body { display: flex; flex-direction: column; }
body > .folium-map { order: 0; flex: none; position: sticky !important; top: 0;
  height: 42vh !important; z-index: 500; border-bottom: 2px solid #444; }
body > .dm-page { order: 1; }
.dm-page { padding: 8px 12px 40px; max-width: 720px; }
.dm-page h1 { font-size: 19px; margin: 6px 0 2px; }
.dm-page .facts { color: #555; font-size: 14px; }
.dm-rows { list-style: none; padding: 0; margin: 8px 0; }
.dm-rows li { display: grid; grid-template-columns: 34px 1fr; gap: 4px 10px; padding: 9px 4px;
  border-bottom: 1px solid #ddd; cursor: pointer; }
.dm-rows li:active, .dm-rows li.on { background: #eef3ff; }
.dm-rows .b { grid-row: span 2; width: 28px; height: 28px; border-radius: 50%; color: #fff;
  font-weight: 700; text-align: center; line-height: 28px; font-size: 14px; }
.dm-rows .t { font-weight: 700; font-variant-numeric: tabular-nums; }
.dm-rows .w { font-weight: 600; overflow-wrap: anywhere; }
.dm-rows .d { grid-column: 2; font-size: 14px; color: #444; overflow-wrap: anywhere; }
.dm-rows .d div { margin-top: 2px; }
.dm-rows li.wait, .dm-rows li.lunch { background: #f7f5ef; }
.dm-rows li.wait .b, .dm-rows li.lunch .b { background: #9a9a9a !important; }
.dm-rows li.start .b, .dm-rows li.end .b { background: #222 !important; border-radius: 4px; }
/* The page heading says who and when; the map's title panel would hide the route. */
.dm-title { display: none; }
.dm-idle { font-size: 17px; padding: 14px; margin: 12px 0; background: #f7f5ef;
  border-left: 4px solid #777; }
@media print { body > .folium-map { position: static !important; } }
</style>
"""

_JS = """
<script>
document.addEventListener('DOMContentLoaded', function () {
  var key = %s;
  function stopLayer(seq) {
    var found = null, group = (window.dianmian_layers || {})[key];
    function walk(l) {
      if (found) return;
      if (l.feature && l.feature.properties && l.feature.properties.seq === seq) found = l;
      else if (l.eachLayer) l.eachLayer(walk);
    }
    if (group) walk(group);
    return found;
  }
  document.querySelectorAll('.dm-rows li[data-seq]').forEach(function (li) {
    li.addEventListener('click', function () {
      var layer = stopLayer(Number(li.dataset.seq)), m = window.dianmian_map;
      var on = document.querySelectorAll('.dm-rows li.on');
      on.forEach(function (o) { o.classList.remove('on'); });
      li.classList.add('on');
      if (!layer || !m) return;
      m.setView(layer.getLatLng(), Math.max(m.getZoom(), 16), {animate: false});
      layer.fire('click', {latlng: layer.getLatLng()}, true);
    });
  });
});
</script>
"""


def page_title(route: VolunteerRoute, date: str | None, scenario: str) -> str:
    """``<name> (<id>) · <date> · <scenario>`` (plain text)."""
    who = f"{route.display_name} ({route.volunteer_id})"
    return " · ".join(t for t in (who, date, scenario) if t)


def _facts_line(route: VolunteerRoute, date: str | None, *, synthetic: bool = False) -> str:
    parts = [date or "", f"{route.mode.value}"]
    if route.service_point:
        parts.append(f"Point 服务点 {route.service_point}")
    if not route.is_empty:
        parts += [f"{route.distance_m / 1000:.1f} km", f"{route.duration_s / 3600:.1f} h"]
    if synthetic:
        parts.append("Synthetic demo city 虚构示范城市")
    return " · ".join(html.escape(p) for p in parts if p)


def rows_html(rows: list[Row], colour: str) -> str:
    """The ``<ol>`` of rows (escaped); stop rows carry ``data-seq`` for tap-to-centre."""
    items = []
    number = 0
    for r in rows:
        if r.kind in ("visit", "pickup", "delivery"):
            number = r.seq or number
        badge = {"start": "⌂", "end": "⌂", "wait": "…", "lunch": "☕"}.get(r.kind, str(number))
        seq = "" if r.seq is None else f' data-seq="{r.seq}"'
        details = "".join(f"<div>{html.escape(d)}</div>" for d in r.details)
        items.append(
            f'<li class="{r.kind}"{seq}><span class="b" style="background:{colour}">{badge}</span>'
            f'<span><span class="t">{html.escape(r.time)}</span> '
            f'<span class="w">{html.escape(r.title)}</span></span>'
            f'<span class="d">{details}</span></li>'
        )
    return f'<ol class="dm-rows">{"".join(items)}</ol>'


def volunteer_page(
    route: VolunteerRoute,
    *,
    scenario: str,
    synthetic: bool,
    date: str | None = None,
    employers: Mapping[str, EmployerFacts] | None = None,
    tiles: str | None = None,
    attribution: str | None = None,
    roads: gpd.GeoDataFrame | None = None,
    colour: str = ROUTE_PALETTE[2],
) -> str:
    """The volunteer's page for `date` (self-contained HTML).

    A volunteer without tasks (:attr:`VolunteerRoute.is_empty`) gets a page without a map
    that says so, with the route's ``reason``.

    Parameters
    ----------
    route
        The volunteer's route record (stops in EPSG:4326).
    scenario
        Scenario title, shown in the page title.
    synthetic, tiles, attribution
        As in :func:`maps.overview.overview_map`.
    date
        The day (``YYYY-MM-DD``).
    employers
        Facts per employer id (:func:`employer_facts`) for the visit rows.
    roads
        Optional street lines; only those within :data:`maps.daily.ROADS_MARGIN_M` of the
        route are drawn.
    colour
        Colour of the path and stop numbers.

    Raises
    ------
    geo.InputError
        If a stop of a route with tasks has no coordinates.
    """
    title = page_title(route, date, scenario)
    if route.is_empty:
        return idle_page(route, title=title, date=date)
    problems: list[Problem] = []
    check_drawable([route], problems)
    road = layers.check_roads(roads, problems) if roads is not None else None
    if problems:
        raise InputError(problems)
    m = base_map(
        bounds=route_bounds([route]),
        title=f"{route.display_name} · {date}" if date else route.display_name,
        subtitle=scenario,
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
        measure=False,
    )
    figure(m).title = html.escape(title)
    if road is not None:
        near = roads_near(road, [route], ROADS_MARGIN_M)
        if near is not None and len(near):
            layers.add_roads(m, near)
    add_route(m, route, colour, page_link=None)
    rows = phone_rows(route, employers or {})
    body = (
        f'<div class="dm-page"><h1>{html.escape(route.display_name)} '
        f"<small>({html.escape(route.volunteer_id)})</small></h1>"
        f'<div class="facts">{_facts_line(route, date, synthetic=synthetic)}</div>'
        f"{rows_html(rows, colour)}</div>"
    )
    figure(m).header.add_child(folium.Element(_CSS), name="dm_phone_css")
    figure(m).html.add_child(folium.Element(body), name="dm_rows")
    js = _JS % htmlsafe_json_dumps(f"route:{route.volunteer_id}")
    figure(m).html.add_child(folium.Element(js), name="dm_rows_js")
    return render_html(m)


def idle_page(route: VolunteerRoute, *, title: str, date: str | None) -> str:
    """The page of a volunteer without a task today: who, when, and why (no map)."""
    reason = route.reason or "no task was assigned today 今日未分配任务"
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>{_CSS}</head><body><div class='dm-page'>"
        f"<h1>{html.escape(route.display_name)} <small>({html.escape(route.volunteer_id)})"
        f"</small></h1><div class='facts'>{_facts_line(route, date)}</div>"
        "<div class='dm-idle'><b>No task today 今日无任务</b>"
        f"<p>Reason 原因: {html.escape(reason)}</p>"
        "<p>Please check with your service point for changes. 如有变动请联系所属服务点。</p>"
        "</div></div></body></html>\n"
    )
