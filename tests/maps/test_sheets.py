"""The printable day sheet and the volunteers' pages (maps.sheets)."""

from __future__ import annotations

import dataclasses

from maps.sheets import sheet_html, write_sheets
from planner.daily.record import DayPlan, DroppedTask


def _plan(routes):
    idle = dataclasses.replace(
        routes[0], volunteer_id="V9", stops=routes[0].stops[:1], reason="on leave <today>"
    )
    named = dataclasses.replace(
        routes[1],
        stops=(
            routes[1].stops[0],
            dataclasses.replace(routes[1].stops[1], label="<Co>"),
            *routes[1].stops[2:],
        ),
    )
    dropped = (DroppedTask("visit:E9", "no volunteer knows the industry `chemical`", 3.5),)
    return DayPlan((routes[0], named, idle), dropped, 0, 0.0)


def test_sheet_is_offline_bilingual_and_escaped(routes):
    page = sheet_html(_plan(routes))
    assert "<script" not in page and "http" not in page and "<link" not in page
    assert "width=device-width" in page and "@media print" in page
    assert "走访企业" in page and "Employer visit" in page and "陈静" in page
    assert "&lt;Co&gt;" in page and "<Co>" not in page
    assert "未安排 Not planned (1)" in page and "chemical" in page
    # A volunteer without a task is listed with the reason.
    assert "Without tasks (1)" in page and "on leave &lt;today&gt;" in page
    # Per volunteer: tasks, working, travel and waiting time.
    assert "Tasks: 3" in page and "Working: 90 min" in page and "Waiting: 0 min" in page


def test_write_sheets_one_page_per_volunteer_with_tasks(routes, tmp_path):
    plan = _plan(routes)
    (tmp_path / "volunteers").mkdir()
    (tmp_path / "volunteers" / "OLD.html").write_text("stale")
    paths = write_sheets(plan, tmp_path, title="Town")
    assert paths["html"].is_file()
    assert sorted(p.name for p in paths["volunteers"].glob("*.html")) == ["V001.html", "V_002.html"]
    page = (paths["volunteers"] / "V001.html").read_text(encoding="utf-8")
    assert "陈静" in page and "Town" in page and "V/002" not in page
