"""Data exports of a day plan: ``plan.json``, ``routes.json``, GeoJSON and GPX.

Data only: the printable sheet and the volunteers' pages are drawn by the ``maps`` face
(:mod:`maps.sheets`) from these files. Coordinates are (lon, lat) in EPSG:4326, taken from
each stop's record and from each route's ``geometry`` (street-following when a
``path_geometry`` was given) for lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from geo.crs import Datum
from geo.timeofday import format_hhmm
from planner.daily.record import DayPlan, Stop, plan_in_datum, routes_json
from planner.publish import write_text_atomic


def _stop_lonlat(stop: Stop) -> tuple[float, float] | None:
    if stop.lon is None or stop.lat is None:
        return None
    return stop.lon, stop.lat


def plan_json(plan: DayPlan) -> str:
    """The plan as JSON text (times also as ``HH:MM``)."""
    return json.dumps(plan.to_dict(), ensure_ascii=False, indent=1)


def plan_geojson(plan: DayPlan) -> dict[str, Any]:
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
            ll = _stop_lonlat(s)
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


def plan_gpx(plan: DayPlan) -> str:
    """GPX 1.1: a track per route and a waypoint per stop (name = order, time and label)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gpx version="1.1" creator="dianmian" xmlns="http://www.topografix.com/GPX/1/1">',
    ]
    for r in plan.routes:
        if r.is_empty:
            continue
        for order, s in enumerate(r.stops):
            ll = _stop_lonlat(s)
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


def write_exports(plan: DayPlan, out_dir: Path) -> dict[str, Path]:
    """Write ``plan.json`` (every volunteer and the dropped tasks), ``routes.json`` (the
    volunteers with tasks, read by maps and the API through
    :func:`planner.daily.record.load_routes`), ``routes.geojson`` and ``routes.gpx``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    busy = [r for r in plan.routes if not r.is_empty]
    files = {
        "json": (out_dir / "plan.json", plan_json(plan)),
        "records": (out_dir / "routes.json", routes_json(busy)),
        "geojson": (out_dir / "routes.geojson", json.dumps(plan_geojson(plan), ensure_ascii=False)),
        "gpx": (out_dir / "routes.gpx", plan_gpx(plan)),
    }
    for path, text in files.values():
        write_text_atomic(path, text)  # the API may be reading them
    return {k: p for k, (p, _) in files.items()}


def write_exports_in_datum(
    plan: DayPlan, paths: dict[str, Path], out_dir: Path, datum: Datum
) -> list[Path]:
    """``plan.json`` and ``routes.json`` again with coordinates in `datum` (``[output]
    coordinates``), under ``<out_dir>/<datum>/`` at the same relative path as `paths`
    (the ``json`` and ``records`` entries of :func:`write_exports`); the GeoJSON copy is
    made with the other layers (:func:`planner.city.write_datum_copies`), GPX stays WGS-84
    as its format requires. The originals, which maps and the API read, stay WGS-84."""
    if datum is Datum.WGS84:
        return []
    moved = plan_in_datum(plan, datum)
    busy = [r for r in moved.routes if not r.is_empty]
    texts = {"json": plan_json(moved), "records": routes_json(busy)}
    written = []
    for key, text in texts.items():
        original = paths[key]
        try:
            relative = original.resolve().relative_to(Path(out_dir).resolve())
        except ValueError:
            relative = Path(original.name)
        copy = Path(out_dir) / datum.value / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        written.append(write_text_atomic(copy, text))
    return written
