"""Exports of a day plan: JSON, GeoJSON, GPX and a printable, phone-friendly offline HTML page.

Coordinates are (lon, lat) in EPSG:4326, taken from ``CostMatrices.coords`` for stops and from
each route's ``geometry`` (street-following when a ``path_geometry`` was given) for lines.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from geo.timeofday import format_hhmm
from planner.daily.vrp.model import DayProblem
from planner.daily.vrp.result import DayPlan, Stop, VolunteerRoute

_MODE_LABELS = {"walk": ("Walk", "步行"), "ebike": ("E-bike", "电动车")}


def _stop_lonlat(problem: DayProblem, stop: Stop) -> tuple[float, float] | None:
    coords = problem.matrices.coords
    if coords is None:
        return None
    xy = np.asarray(coords)[stop.node]
    return float(xy[0]), float(xy[1])


def plan_json(plan: DayPlan) -> str:
    """The plan as JSON text (times also as ``HH:MM``)."""
    return json.dumps(plan.to_dict(), ensure_ascii=False, indent=1)


def route_records(plan: DayPlan, problem: DayProblem) -> list[dict[str, Any]]:
    """One plain record per volunteer with tasks: the format maps and the HTTP API read.

    ``{volunteer_id, name, volunteer_name, mode, travel_time_s, distance_m,
    stops: [{seq, kind, task_id, name, lon, lat, arrival, departure}],
    geometry: GeoJSON LineString (lon, lat)}``.
    """
    records = []
    for r in plan.routes:
        if r.is_empty:
            continue
        stops = []
        for seq, s in enumerate(r.stops):
            ll = _stop_lonlat(problem, s)
            stops.append(
                {
                    "seq": seq,
                    "kind": s.kind.value,
                    "task_id": s.task_id,
                    "name": s.label or f"{s.kind.label_en} {s.kind.label_zh}",
                    "lon": None if ll is None else ll[0],
                    "lat": None if ll is None else ll[1],
                    "arrival": format_hhmm(s.arrival_s),
                    "departure": format_hhmm(s.departure_s),
                }
            )
        records.append(
            {
                "volunteer_id": r.volunteer_id,
                "name": r.name or r.volunteer_id,
                "volunteer_name": r.name or r.volunteer_id,
                "mode": r.mode.value,
                "travel_time_s": round(r.travel_s, 1),
                "distance_m": round(r.distance_m, 1),
                "stops": stops,
                "geometry": {"type": "LineString", "coordinates": [list(p) for p in r.geometry]},
            }
        )
    return records


def plan_geojson(plan: DayPlan, problem: DayProblem) -> dict[str, Any]:
    """GeoJSON FeatureCollection: one LineString per route and one Point per stop."""
    features: list[dict[str, Any]] = []
    for r in plan.routes:
        if r.is_empty:
            continue
        if len(r.geometry) >= 2:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [list(p) for p in r.geometry],
                    },
                    "properties": {
                        "kind": "route",
                        "volunteer_id": r.volunteer_id,
                        "mode": r.mode.value,
                        "travel_s": round(r.travel_s, 1),
                        "distance_m": round(r.distance_m, 1),
                        "stops": len(r.stops),
                    },
                }
            )
        for order, s in enumerate(r.stops):
            ll = _stop_lonlat(problem, s)
            if ll is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": list(ll)},
                    "properties": {"volunteer_id": r.volunteer_id, "order": order, **s.to_dict()},
                }
            )
    return {"type": "FeatureCollection", "features": features}


def plan_gpx(plan: DayPlan, problem: DayProblem) -> str:
    """GPX 1.1: a track per route and a waypoint per stop (name = order, time and label)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gpx version="1.1" creator="dianmian" xmlns="http://www.topografix.com/GPX/1/1">',
    ]
    for r in plan.routes:
        if r.is_empty:
            continue
        for order, s in enumerate(r.stops):
            ll = _stop_lonlat(problem, s)
            if ll is None:
                continue
            name = escape(f"{r.volunteer_id} #{order} {format_hhmm(s.start_s)} {s.kind.label_zh}")
            desc = escape(f"{s.kind.label_en}: {s.label or s.task_id or ''}")
            out.append(
                f'<wpt lat="{ll[1]:.7f}" lon="{ll[0]:.7f}"><name>{name}</name>'
                f"<desc>{desc}</desc></wpt>"
            )
        if r.geometry:
            out.append(f"<trk><name>{escape(r.volunteer_id)}</name><trkseg>")
            out += [f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"/>' for lon, lat in r.geometry]
            out.append("</trkseg></trk>")
    out.append("</gpx>")
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;
padding:12px;color:#222;max-width:720px}
h1{font-size:1.3em;margin:0 0 8px}h2{font-size:1.1em;margin:18px 0 6px;border-bottom:2px solid #444}
.meta{color:#555;font-size:.9em}table{border-collapse:collapse;width:100%;font-size:.95em}
td,th{border-bottom:1px solid #ccc;padding:6px 4px;text-align:left;vertical-align:top}
th{background:#f2f2f2}.t{white-space:nowrap;font-variant-numeric:tabular-nums}
.k{font-weight:600}.dropped li{margin:2px 0}section{page-break-inside:avoid}
@media print{body{max-width:none}section{page-break-after:always}}
"""


def _route_html(r: VolunteerRoute) -> str:
    en, zh = _MODE_LABELS.get(r.mode.value, (r.mode.value, r.mode.value))
    rows = []
    for i, s in enumerate(r.stops):
        rows.append(
            "<tr>"
            f"<td>{i}</td><td class='t'>{format_hhmm(s.arrival_s)}"
            f"{'' if s.wait_s < 60 else ' → ' + format_hhmm(s.start_s)}</td>"
            f"<td class='t'>{format_hhmm(s.departure_s)}</td>"
            f"<td><span class='k'>{s.kind.label_zh} {s.kind.label_en}</span><br>"
            f"{html.escape(s.label or s.task_id or '')}</td>"
            f"<td class='t'>{s.travel_s / 60:.0f} min<br>{s.travel_m / 1000:.1f} km</td></tr>"
        )
    name = html.escape(r.name or r.volunteer_id)
    return (
        f"<section><h2>{name} <small>({html.escape(r.volunteer_id)})</small></h2>"
        f"<p class='meta'>出行 Mode: {zh} {en} · 路程 Travel: {r.travel_s / 60:.0f} min, "
        f"{r.distance_m / 1000:.1f} km · 任务 Tasks: {len(set(r.task_ids))}</p>"
        "<table><tr><th>#</th><th>到达 Arrive</th><th>离开 Leave</th><th>事项 Stop</th>"
        f"<th>路程 Leg</th></tr>{''.join(rows)}</table></section>"
    )


def plan_html(plan: DayPlan, *, title: str = "Volunteer routes 志愿者路线") -> str:
    """One self-contained HTML page (inline CSS, no scripts, no external assets)."""
    sections = [_route_html(r) for r in plan.routes if not r.is_empty]
    dropped = "".join(
        f"<li><b>{html.escape(d.task_id)}</b> (priority 优先级 {d.priority:g}): "
        f"{html.escape(d.reason)}</li>"
        for d in plan.dropped
    )
    dropped_html = (
        f"<section><h2>未安排 Not planned ({len(plan.dropped)})</h2>"
        f"<ul class='dropped'>{dropped}</ul></section>"
        if plan.dropped
        else ""
    )
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{''.join(sections)}{dropped_html}</body></html>\n"
    )


def write_exports(plan: DayPlan, problem: DayProblem, out_dir: Path) -> dict[str, Path]:
    """Write ``plan.json``, ``routes.json`` (see :func:`route_records`), ``routes.geojson``,
    ``routes.gpx`` and ``routes.html`` to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    records = route_records(plan, problem)
    files = {
        "json": (out_dir / "plan.json", plan_json(plan)),
        "records": (out_dir / "routes.json", json.dumps(records, ensure_ascii=False, indent=1)),
        "geojson": (
            out_dir / "routes.geojson",
            json.dumps(plan_geojson(plan, problem), ensure_ascii=False),
        ),
        "gpx": (out_dir / "routes.gpx", plan_gpx(plan, problem)),
        "html": (out_dir / "routes.html", plan_html(plan)),
    }
    for path, text in files.values():
        path.write_text(text, encoding="utf-8")
    return {k: p for k, (p, _) in files.items()}
