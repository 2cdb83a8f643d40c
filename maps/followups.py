"""The printable follow-up list: one section (and page) per service point.

Input rows are :func:`planner.loop.followups.follow_up_rows` dicts. The page is static HTML
with print styles (each service point starts on a new sheet), no script, no map: seekers'
homes never appear, only registration ids, industries, dates and the reason to call.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

_STYLE = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 1.5em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; } td.done { width: 5em; }
.meta { color: #555; }
@media print {
  section { page-break-before: always; }
  section:first-of-type { page-break-before: auto; }
}
"""

_HEAD = (
    "registration",
    "seeker id",
    "industries",
    "last contact",
    "days silent",
    "volunteer",
    "reason to call",
    "called 已回访",
)


def follow_ups_html(
    rows: Sequence[Mapping[str, Any]], *, day: dt.date, title: str, follow_up_days: int = 7
) -> str:
    """The printable page (HTML text) of a day's follow-up list."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{esc(title)} — follow-ups {day.isoformat()}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}: follow-up calls 回访名单 {day.isoformat()}</h1>",
        f"<p class='meta'>{len(rows)} open case(s) without contact for {follow_up_days} or more "
        "days. Record each call (POST /registrations/{id}/contacts) to reset its clock.</p>",
    ]
    if not rows:
        parts.append("<p>Nobody is due for a follow-up call today.</p>")

    def key(r: Mapping[str, Any]) -> str:
        return str(r.get("service_point_id") or "(no service point)")

    for point, group in groupby(sorted(rows, key=key), key=key):
        items = list(group)
        parts.append(f"<section><h2>Service point {esc(point)} — {len(items)} call(s)</h2>")
        parts.append("<table><thead><tr>")
        parts += [f"<th>{esc(h)}</th>" for h in _HEAD]
        parts.append("</tr></thead><tbody>")
        for r in items:
            cells = (
                r["registration_id"],
                r.get("external_id") or "",
                r["industries"],
                r["last_contact"],
                r["days_silent"],
                r.get("volunteer_id") or "",
                r["reason"],
            )
            parts.append(
                "<tr>"
                + "".join(f"<td>{esc(str(c))}</td>" for c in cells)
                + "<td class='done'></td></tr>"
            )
        parts.append("</tbody></table></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_follow_ups_html(
    rows: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    day: dt.date,
    title: str,
    follow_up_days: int = 7,
) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        follow_ups_html(rows, day=day, title=title, follow_up_days=follow_up_days),
        encoding="utf-8",
    )
    return out
