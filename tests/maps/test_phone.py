"""The volunteer's day page (maps.phone): rows, waiting and lunch, escorts, idle volunteers."""

from __future__ import annotations

import dataclasses
import re

from geo.timeofday import parse_hhmm
from maps.phone import employer_facts, phone_rows, volunteer_page
from planner.daily.record import StopKind, VolunteerRoute

ESCORT = "3 人 seekers Point A → Hongda Textiles 11:00"


def _escort_day(route: VolunteerRoute) -> VolunteerRoute:
    """V001's day with a 10-minute wait before the first visit, a lunch whose break starts
    after arrival, and an escort (pickup at the point, drop-off at the employer)."""
    s = route.stops
    first = dataclasses.replace(s[1], arrival_s=parse_hhmm("08:40"))  # opens 08:50
    pickup = dataclasses.replace(s[2], kind=StopKind.PICKUP, task_id="escort:1", label=ESCORT)
    drop = dataclasses.replace(s[3], kind=StopKind.DELIVERY, task_id="escort:1", label=ESCORT)
    lunch = dataclasses.replace(
        s[3],
        kind=StopKind.LUNCH,
        task_id=None,
        label="",
        arrival_s=parse_hhmm("11:05"),
        start_s=parse_hhmm("11:30"),
        departure_s=parse_hhmm("12:00"),
    )
    end = dataclasses.replace(s[4], arrival_s=parse_hhmm("12:05"))
    return dataclasses.replace(route, stops=(s[0], first, pickup, drop, lunch, end))


def test_rows_say_what_to_do(routes, employers):
    rows = phone_rows(_escort_day(routes[0]), employer_facts(employers))
    kinds = [r.kind for r in rows]
    assert kinds == ["start", "wait", "visit", "pickup", "delivery", "wait", "lunch", "end"]
    wait, visit, pickup, drop, _w, lunch = rows[1:7]
    assert wait.time == "08:40–08:50" and "10 min" in wait.title
    # The visit names the employer from the employers file, its open positions and contact.
    assert "Hongda Textiles" in visit.title and visit.time == "08:50–09:20"
    assert any("Open positions 空缺岗位: 40" in d for d in visit.details)
    assert any(d.startswith("Purpose") for d in visit.details)
    assert any("Contact" in d for d in visit.details)
    # Escort: group size, meeting point, and that the time is the interview time.
    assert "3 seekers" in pickup.title
    assert any("Meeting point 集合点: Point A" in d for d in pickup.details)
    assert any("Hongda Textiles at 11:00 (interview time" in d for d in pickup.details)
    assert "Hongda Textiles" in drop.title and any("11:00" in d for d in drop.details)
    # Lunch is the break itself (11:30-12:00); the time before it is a waiting row.
    assert lunch.time == "11:30–12:00"


def test_contact_column_is_shown_when_present(employers):
    emp = employers.copy()
    emp["phone"] = ["0769-1234"] + [None] * (len(emp) - 1)
    emp["opens"], emp["closes"] = "08:00", 61200  # as text (city.gpkg) or seconds
    facts = employer_facts(emp)
    assert facts["E1"].contact == "0769-1234" and facts["E2"].contact == ""
    assert facts["E1"].hours == "08:00–17:00"


def test_page_has_title_rows_and_tap_targets(routes, employers):
    page = volunteer_page(
        _escort_day(routes[0]),
        scenario="Dongcao",
        synthetic=True,
        date="2025-03-03",
        employers=employer_facts(employers),
    )
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert title == "Chen Jing 陈静 (V001) · 2025-03-03 · Dongcao"
    assert 'name="viewport"' in page and "http" not in page.split("<body")[1].split("tile")[0]
    seqs = [int(s) for s in re.findall(r'<li class="[a-z]+" data-seq="(\d+)">', page)]
    assert seqs == [0, 1, 1, 2, 3, 4, 4, 5]


def test_names_are_escaped(routes):
    page = volunteer_page(routes[1], scenario="<Town>", synthetic=True, date="2025-03-03")
    assert "Li <Wei>" not in page and "Li &lt;Wei&gt;" in page and "<Town>" not in page


def test_volunteer_without_task_gets_a_page_with_the_reason(routes):
    idle = dataclasses.replace(
        routes[0], stops=routes[0].stops[:1], geometry=(), reason="on leave <today>"
    )
    page = volunteer_page(idle, scenario="Dongcao", synthetic=True, date="2025-03-03")
    assert "No task today 今日无任务" in page and "on leave &lt;today&gt;" in page
    assert "<title>Chen Jing 陈静 (V001) · 2025-03-03 · Dongcao</title>" in page
    assert "<script" not in page
