"""Checks against the final plan: fill its gaps, and say truly why the rest is left out.

* :func:`fill_gaps` — no task stays out while a volunteer who can take it has room for it:
  every left-out task (highest priority first) goes where it adds the least travel (plus the
  balance cost of a longer day) among the volunteers who know its industry, have seats and
  task units left and can fit it between their stops on time. The solver weighs a task's
  priority against its travel; this check makes "nobody who could do it is idle" a rule.
* :func:`why_dropped` — the reason of a left-out task, from every volunteer: unavailable,
  does not know the industry, too few seats, at the daily task limit, too far to get there and
  back within the shift, or no room in their day at its hours.
* :func:`why_idle` — the reason of a volunteer without a task.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from geo.timeofday import format_hhmm
from planner.daily.vrp.model import Escort, Task, Visit, Volunteer
from planner.daily.vrp.timeline import Insertion, Timeline, task_acts


def _knows(vol: Volunteer, task: Task) -> bool:
    return task.industry is None or task.industry in vol.industries


def _why_not(tl: Timeline, task: Task) -> str | None:
    """Why the volunteer of `tl` cannot take `task` in the final plan (None: they can)."""
    vol = tl.crew.vol
    if not _knows(vol, task):
        return "industry"
    if isinstance(task, Escort) and task.seekers > vol.seats:
        return "seats"
    if isinstance(task, Visit) and tl.units() + task.units > vol.max_tasks:
        return "limit"
    options = task_acts(task)
    if next(tl.insertions(options, vol.seats), None) is not None:
        return None
    empty = Timeline(tl.crew, tl.dur, [], tl.carried_seekers)
    if next(empty.insertions(options, vol.seats), None) is None:
        nodes = [a.node for a in options[0]]
        there = float(tl.dur[tl.crew.start_node, nodes[0]])
        back = float(tl.dur[nodes[-1], vol.end_node])
        shift = vol.shift.end_s - tl.crew.early_s
        return "far" if there + back > shift else "hours"
    return "full"


def _cost(tl: Timeline, ins: Insertion, balance: float) -> float:
    """Added travel plus the balance cost of the longer day beyond the fair day."""
    if balance <= 0 or tl.crew.fair_s is None:
        return ins.added_s
    busy = tl.travel_s() + sum(a.service_s for a in tl.acts)
    extra = ins.added_s + sum(a.service_s for a in ins.acts)
    before = max(0.0, busy - tl.crew.fair_s)
    after = max(0.0, busy + extra - tl.crew.fair_s)
    return ins.added_s + balance * (after - before)


def fill_gaps(timelines: Sequence[Timeline], tasks: Sequence[Task], *, balance: float) -> list[str]:
    """Insert left-out `tasks` where a volunteer still has room (see module docstring).

    Returns the ids of the tasks inserted, in order; `timelines` are changed in place.
    """
    inserted = []
    for task in sorted(tasks, key=lambda t: (-t.priority, t.id)):
        best: tuple[float, int, Insertion] | None = None
        for i, tl in enumerate(timelines):
            if _why_not(tl, task) is not None:
                continue
            for ins in tl.insertions(task_acts(task), tl.crew.vol.seats):
                cost = _cost(tl, ins, balance)
                if best is None or cost < best[0]:
                    best = (cost, i, ins)
        if best is not None:
            timelines[best[1]].insert(best[2])
            inserted.append(task.id)
    return inserted


_PHRASES = {
    "absent": "not available",
    "seats": "with too few seats for the group",
    "limit": "at their daily task limit",
    "far": "too far from their start (beyond the longest leg, or not back by shift end)",
    "hours": "whose shift does not meet its hours",
    "full": "with no room in their day at its hours",
}


def why_dropped(task: Task, timelines: Sequence[Timeline], volunteers: Sequence[Volunteer]) -> str:
    """The reason `task` is not in the final plan, from a check of every volunteer."""
    knows = [v for v in volunteers if _knows(v, task)]
    industry = str(task.industry) if task.industry is not None else "any"
    if not knows:
        return f"no volunteer knows the industry `{industry}` (priority {task.priority:g})"
    by_id = {tl.crew.vol.id: tl for tl in timelines}
    counts: Counter[str] = Counter()
    for v in knows:
        tl = by_id.get(v.id)
        counts[_why_not(tl, task) or "fits" if tl is not None else "absent"] += 1
    parts = [f"{n} {_PHRASES[k]}" for k, n in sorted(counts.items()) if k in _PHRASES]
    if counts["fits"]:  # never after fill_gaps; kept so a reason is never silently wrong
        parts.append(f"{counts['fits']} with room for it")
    return (
        f"left out (priority {task.priority:g}): of {len(knows)} volunteers who know "
        f"`{industry}`, " + ", ".join(parts)
    )


def _clock(seconds: int) -> str:
    return format_hhmm(seconds) if seconds < 2 * 86400 else f"{seconds / 3600:.0f} h"


def why_idle(
    vol: Volunteer,
    tl: Timeline | None,
    tasks: Sequence[Task],
    planned_by: Mapping[str, str],
    unavailable: Mapping[str, str],
) -> str:
    """The reason volunteer `vol` has no task in the final plan."""
    if tl is None:
        return unavailable.get(vol.id, "not available today")
    known = [t for t in tasks if _knows(vol, t)]
    inds = ", ".join(sorted(str(i) for i in vol.industries)) or "none"
    hours = f"{_clock(tl.crew.early_s)}-{_clock(vol.shift.end_s)}"
    if not known:
        return f"no task today needs the industries they know ({inds})"
    empty = Timeline(tl.crew, tl.dur, [], tl.carried_seekers)
    doable = [t for t in known if next(empty.insertions(task_acts(t), vol.seats), None)]
    if not doable:
        return (
            f"none of the {len(known)} tasks of their industries ({inds}) can be reached and "
            f"done within their hours {hours}"
        )
    others = sum(t.id in planned_by for t in doable)
    rest = len(doable) - others
    text = f"the {len(doable)} tasks they could do ({inds}, {hours}) are planned for others"
    if rest:
        text += f" except {rest} that do not fit around their lunch"
    return text
