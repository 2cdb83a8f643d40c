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
    # Done/signature column, one box per stop that is not home.
    assert "完成/签名 Done/sign" in page and page.count("☐") == 3 + 2


def test_sheet_names_dropped_tasks_with_bilingual_reasons(routes):
    labels = {"visit:E9": "Chemco <Ltd>"}
    page = sheet_html(_plan(routes), title="Town", date="2025-03-03", task_labels=labels)
    assert "<title>Town · 2025-03-03</title>" in page and "Date: 2025-03-03" in page
    assert "Chemco &lt;Ltd&gt;" in page and "没有志愿者熟悉该行业" in page


def test_write_sheets_writes_the_printable_sheet_only(routes, tmp_path):
    paths = write_sheets(_plan(routes), tmp_path, title="Town", date="2025-03-03")
    assert paths == {"html": tmp_path / "routes.html"}
    assert "Town · 2025-03-03" in paths["html"].read_text(encoding="utf-8")
    assert not (tmp_path / "volunteers").exists()  # phone pages: maps.phone


def test_left_out_reasons_are_translated_part_by_part():
    from maps.sheets import reason_zh

    en = (
        "left out (priority 8): of 21 volunteers who know `furniture`, 19 too far from their "
        "start (beyond the longest leg, or not back by shift end), 2 at their daily task limit"
    )
    assert reason_zh(en) == (
        "未安排（优先级8）：熟悉`furniture`的21位志愿者中，19人离出发点太远，2人已达当日任务上限"
    )
    assert reason_zh("something new") == "原因见英文说明"
