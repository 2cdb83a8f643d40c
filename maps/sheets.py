"""The printable day sheet: every volunteer's route, one volunteer per printed page.

Drawn from the day's record (:class:`planner.daily.record.DayPlan`, read back from
``plan.json`` with :func:`planner.daily.record.load_plan`); self-contained HTML (inline CSS,
no scripts, no external assets) that works offline. Each stop row has a done/signature
column to tick on paper; tasks left out and volunteers without a task are listed by name
(employer, escort) with their reason in English and Chinese. Times come from
:func:`geo.timeofday.format_hhmm`, as on the maps.

The volunteers' own phone pages (one per volunteer, with a map) are written by
:mod:`maps.phone` into the day's ``volunteers/`` folder.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

from geo.timeofday import format_hhmm
from planner.daily.record import DayPlan, Stop, VolunteerRoute

logger = logging.getLogger(__name__)

_MODE_LABELS = {"walk": ("Walk", "步行"), "ebike": ("E-bike", "电动车")}

_CSS = """
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;
padding:12px;color:#222;max-width:720px}
h1{font-size:1.3em;margin:0 0 8px}h2{font-size:1.1em;margin:18px 0 6px;border-bottom:2px solid #444}
.meta{color:#555;font-size:.9em}table{border-collapse:collapse;width:100%;font-size:.95em}
td,th{border-bottom:1px solid #ccc;padding:6px 4px;text-align:left;vertical-align:top}
th{background:#f2f2f2}.t{white-space:nowrap;font-variant-numeric:tabular-nums}
.k{font-weight:600}.w{color:#8a5a00}.dropped li{margin:2px 0}section{page-break-inside:avoid}
.sig{width:5.5em;border-left:1px solid #ccc}.zh{color:#444}
@media print{body{max-width:none}section{page-break-after:always}}
"""


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def _stop_row(i: int, s: Stop) -> str:
    wait = ""
    if s.wait_s >= 60:
        wait = (
            f"<br><span class='w'>等候 wait {_minutes(s.wait_s)} → {format_hhmm(s.start_s)}</span>"
        )
    return (
        "<tr>"
        f"<td>{i}</td><td class='t'>{format_hhmm(s.arrival_s)}{wait}</td>"
        f"<td class='t'>{format_hhmm(s.departure_s)}</td>"
        f"<td><span class='k'>{s.kind.label_zh} {s.kind.label_en}</span><br>"
        f"{html.escape(s.label or s.task_id or '')}</td>"
        f"<td class='t'>{_minutes(s.travel_s)}<br>{s.travel_m / 1000:.1f} km</td>"
        f"<td class='sig'>{'' if s.kind.is_home else '☐'}</td></tr>"
    )


REASONS_ZH = (
    ("day too short", "当天时间不足：让位于优先级更高或更顺路的任务"),
    ("no volunteer knows the industry", "没有志愿者熟悉该行业"),
    ("left out (priority", "未安排：熟悉该行业的志愿者都无法承担（见英文明细）"),
    ("not available", "今日不在岗"),
    ("no task today needs the industries", "今日没有其熟悉行业的任务"),
    ("can be reached and done within their hours", "其行业的任务在其工作时间内无法到达或完成"),
    ("are planned for others", "其可做的任务已安排给其他志愿者"),
    ("no task", "今日无任务"),
)
"""(English phrase, Chinese reason) of the reasons the day planner writes, first match wins."""


_LEFT_OUT = re.compile(
    r"left out \(priority (?P<p>[\d.]+)\): of (?P<n>\d+) volunteers who know `(?P<i>[^`]+)`, "
    r"(?P<parts>.*)$"
)
_WHY_NOT_ZH = (
    ("not available", "人不在岗"),
    ("with too few seats for the group", "人座位不足"),
    ("at their daily task limit", "人已达当日任务上限"),
    ("too far from their start", "人离出发点太远"),
    ("whose shift does not meet its hours", "人班次与其时间不符"),
    ("with no room in their day at its hours", "人当时没有空档"),
    ("with room for it", "人尚有空档"),
)


def _left_out_zh(m: re.Match[str]) -> str:
    parts = []
    for part in re.split(r", (?=\d+ )", m["parts"]):  # phrases may hold ", " themselves
        count, _, rest = part.partition(" ")
        zh = next((z for en, z in _WHY_NOT_ZH if rest.startswith(en)), None)
        if zh is None or not count.isdigit():
            return "未安排：熟悉该行业的志愿者都无法承担（见英文明细）"
        parts.append(f"{count}{zh}")
    return f"未安排（优先级{m['p']}）：熟悉`{m['i']}`的{m['n']}位志愿者中，" + "，".join(parts)


def reason_zh(reason: str) -> str:
    """Chinese version of a planner reason (a pointer to the English one if unknown)."""
    m = _LEFT_OUT.search(reason)
    if m:
        return _left_out_zh(m)
    low = reason.lower()
    return next((zh for en, zh in REASONS_ZH if en in low), "原因见英文说明")


def _reason_html(reason: str) -> str:
    return f"{html.escape(reason)}<br><span class='zh'>{reason_zh(reason)}</span>"


def route_section(r: VolunteerRoute) -> str:
    """One volunteer's table: stops, times (waiting shown as waiting) and legs."""
    en, zh = _MODE_LABELS.get(r.mode.value, (r.mode.value, r.mode.value))
    rows = "".join(_stop_row(i, s) for i, s in enumerate(r.stops))
    name = html.escape(r.display_name)
    return (
        f"<section><h2>{name} <small>({html.escape(r.volunteer_id)})</small></h2>"
        f"<p class='meta'>出行 Mode: {zh} {en} · 任务 Tasks: {len(set(r.task_ids))} · "
        f"工作 Working: {_minutes(r.working_s)} · 路程 Travel: {_minutes(r.travel_s)}, "
        f"{r.distance_m / 1000:.1f} km · 等候 Waiting: {_minutes(r.waiting_s)}</p>"
        "<table><tr><th>#</th><th>到达 Arrive</th><th>离开 Leave</th><th>事项 Stop</th>"
        f"<th>路程 Leg</th><th>完成/签名 Done/sign</th></tr>{rows}</table></section>"
    )


def _idle_section(plan: DayPlan) -> str:
    idle = [r for r in plan.routes if r.is_empty]
    if not idle:
        return ""
    items = "".join(
        f"<li><b>{html.escape(r.display_name)}</b> ({html.escape(r.volunteer_id)}): "
        f"{_reason_html(r.reason or 'no task')}</li>"
        for r in idle
    )
    return (
        f"<section><h2>无任务 Without tasks ({len(idle)})</h2>"
        f"<ul class='dropped'>{items}</ul></section>"
    )


def _dropped_section(plan: DayPlan, labels: Mapping[str, str]) -> str:
    if not plan.dropped:
        return ""
    items = "".join(
        f"<li><b>{html.escape(labels.get(d.task_id) or d.task_id)}</b> "
        f"<small>({html.escape(d.task_id)}, priority 优先级 {d.priority:g})</small>: "
        f"{_reason_html(d.reason)}</li>"
        for d in plan.dropped
    )
    return (
        f"<section><h2>未安排 Not planned ({len(plan.dropped)})</h2>"
        f"<ul class='dropped'>{items}</ul></section>"
    )


def sheet_html(
    plan: DayPlan,
    *,
    title: str = "Volunteer routes 志愿者路线",
    date: str | None = None,
    task_labels: Mapping[str, str] | None = None,
) -> str:
    """The printable sheet: every route with tasks, volunteers without tasks (with the
    reason) and the tasks left out (by name, with the reason), in English and Chinese.

    `task_labels` maps task ids to what the sheet calls them (employer name, escort group);
    a task without a label is shown by its id.
    """
    sections = "".join(route_section(r) for r in plan.routes if not r.is_empty)
    head = f"{title} · {date}" if date and date not in title else title
    when = f"<p class='meta'>日期 Date: {html.escape(date)}</p>" if date else ""
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(head)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(head)}</h1>{when}{sections}{_idle_section(plan)}"
        f"{_dropped_section(plan, task_labels or {})}</body></html>\n"
    )


def write_sheets(
    plan: DayPlan,
    out_dir: str | Path,
    *,
    title: str = "",
    date: str | None = None,
    task_labels: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write the day's printable ``routes.html`` into its folder (see :func:`sheet_html`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sheet = out / "routes.html"
    text = sheet_html(
        plan, title=title or "Volunteer routes 志愿者路线", date=date, task_labels=task_labels
    )
    _write(sheet, text)
    return {"html": sheet}


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    logger.debug("wrote %s", path)
