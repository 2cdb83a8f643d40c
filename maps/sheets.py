"""Printable day sheets: every volunteer's route on one page, and one page per volunteer.

Drawn from the day's record (:class:`planner.daily.record.DayPlan`, read back from
``plan.json`` with :func:`planner.daily.record.load_plan`); self-contained HTML (inline CSS,
no scripts, no external assets) that works offline and prints one volunteer per page.
Times come from :func:`geo.timeofday.format_hhmm`, as on the maps.
"""

from __future__ import annotations

import html
import logging
import os
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
        f"<td class='t'>{_minutes(s.travel_s)}<br>{s.travel_m / 1000:.1f} km</td></tr>"
    )


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
        f"<th>路程 Leg</th></tr>{rows}</table></section>"
    )


def _idle_section(plan: DayPlan) -> str:
    idle = [r for r in plan.routes if r.is_empty]
    if not idle:
        return ""
    items = "".join(
        f"<li><b>{html.escape(r.display_name)}</b> ({html.escape(r.volunteer_id)}): "
        f"{html.escape(r.reason or 'no task')}</li>"
        for r in idle
    )
    return (
        f"<section><h2>无任务 Without tasks ({len(idle)})</h2>"
        f"<ul class='dropped'>{items}</ul></section>"
    )


def _dropped_section(plan: DayPlan) -> str:
    if not plan.dropped:
        return ""
    items = "".join(
        f"<li><b>{html.escape(d.task_id)}</b> (priority 优先级 {d.priority:g}): "
        f"{html.escape(d.reason)}</li>"
        for d in plan.dropped
    )
    return (
        f"<section><h2>未安排 Not planned ({len(plan.dropped)})</h2>"
        f"<ul class='dropped'>{items}</ul></section>"
    )


def sheet_html(plan: DayPlan, *, title: str = "Volunteer routes 志愿者路线") -> str:
    """The printable sheet: every route with tasks, volunteers without tasks (with the
    reason) and the tasks left out (with the reason)."""
    sections = "".join(route_section(r) for r in plan.routes if not r.is_empty)
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{sections}{_idle_section(plan)}"
        f"{_dropped_section(plan)}</body></html>\n"
    )


def _page_name(volunteer_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in volunteer_id) + ".html"


def write_sheets(plan: DayPlan, out_dir: str | Path, *, title: str = "") -> dict[str, Path]:
    """Write ``routes.html`` (everyone, for printing) and ``volunteers/<id>.html`` (one
    phone-friendly page per volunteer with tasks) into a day's folder.

    Pages of an earlier plan whose volunteer has no task any more are removed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sheet = out / "routes.html"
    _write(sheet, sheet_html(plan, title=title or "Volunteer routes 志愿者路线"))
    pages = out / "volunteers"
    pages.mkdir(exist_ok=True)
    for old in pages.glob("*.html"):
        old.unlink()  # a re-plan may leave a volunteer without tasks
    for r in plan.routes:
        if r.is_empty:
            continue
        one = DayPlan((r,), (), 0, 0.0)
        head = f"{r.display_name} · {title}" if title else r.display_name
        _write(pages / _page_name(r.volunteer_id), sheet_html(one, title=head))
    return {"html": sheet, "volunteers": pages}


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    logger.debug("wrote %s", path)
