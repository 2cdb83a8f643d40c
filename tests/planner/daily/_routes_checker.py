"""Independent checker of a day plan: recomputes every constraint from the problem alone.

Written without using anything from ``planner.daily.vrp.solve`` so that a modelling mistake in
the solver cannot hide itself.
"""

from __future__ import annotations

import numpy as np

from planner.daily.vrp import DayPlan, DayProblem, DayState, Escort, StopKind, Visit


def check_plan(problem: DayProblem, plan: DayPlan, state: DayState | None = None) -> None:
    """Raise AssertionError naming the first broken rule."""
    errors: list[str] = []
    now = state.now_s if state else 0
    done = state.done if state else frozenset()
    absent = state.absent if state else frozenset()
    carrying = dict(state.carrying) if state else {}
    tasks = {t.id: t for t in problem.tasks}
    vols = {v.id: v for v in problem.volunteers}
    seen: dict[str, int] = {}

    if sorted(r.volunteer_id for r in plan.routes) != sorted(vols):
        errors.append("not every volunteer has a route record")
    for r in plan.routes:
        v = vols[r.volunteer_id]
        if r.is_empty and not r.reason:
            errors.append(f"{v.id}: no task and no reason")
        if not r.stops:
            continue
        assert v.id not in absent, f"absent volunteer {v.id} has a route"
        dur = np.asarray(problem.matrices.durations[v.mode])
        stops = r.stops
        start_node = state.positions.get(v.id, v.start_node) if state else v.start_node
        if stops[0].kind is not StopKind.START or stops[0].node != start_node:
            errors.append(f"{v.id}: does not start at its start node")
        if stops[0].departure_s < max(v.shift.start_s, now):
            errors.append(f"{v.id}: leaves before its shift / now")
        if len(stops) > 1:
            if stops[-1].kind is not StopKind.END or stops[-1].node != v.end_node:
                errors.append(f"{v.id}: does not end at its end node")
            if stops[-1].arrival_s > v.shift.end_s:
                errors.append(f"{v.id}: back at {stops[-1].arrival_s} after shift end")
        units = 0
        seekers = 0
        lunches = 0
        picked: dict[str, int] = {}
        onboard_from_start = set(carrying.get(v.id, ()))
        seekers = sum(tasks[e].seekers for e in onboard_from_start)  # type: ignore[union-attr]
        for i, s in enumerate(stops):
            if i > 0:
                prev = stops[i - 1]
                if s.arrival_s < prev.departure_s + dur[prev.node, s.node]:
                    errors.append(f"{v.id}: stop {i} reached faster than the matrix allows")
            if s.start_s < s.arrival_s or s.departure_s < s.start_s:
                errors.append(f"{v.id}: stop {i} times out of order")
            if s.kind is StopKind.LUNCH:
                lunches += 1
                assert v.lunch is not None
                places = v.lunch.places or (v.start_node,)
                w = v.lunch.window
                if s.node not in places:
                    errors.append(f"{v.id}: lunch at a place not allowed")
                if s.departure_s - s.start_s < v.lunch.duration_s:
                    errors.append(f"{v.id}: lunch too short")
                if s.start_s < w.start_s or s.start_s + v.lunch.duration_s > w.end_s:
                    errors.append(f"{v.id}: lunch outside its window")
                continue
            if s.task_id is None:
                continue
            t = tasks[s.task_id]
            if s.task_id in done:
                errors.append(f"{v.id}: done task {s.task_id} planned again")
            if t.industry is not None and t.industry not in v.industries:
                errors.append(f"{v.id}: lacks industry {t.industry} for {t.id}")
            if isinstance(t, Visit):
                seen[t.id] = seen.get(t.id, 0) + 1
                units += t.units
                if s.node != t.node or s.kind is not StopKind.VISIT:
                    errors.append(f"{v.id}: visit {t.id} at wrong node/kind")
                if s.departure_s - s.start_s < t.service_s:
                    errors.append(f"{v.id}: visit {t.id} too short")
                if not any(
                    w.start_s <= s.start_s and s.start_s + t.service_s <= w.end_s for w in t.windows
                ):
                    errors.append(f"{v.id}: visit {t.id} outside opening hours")
            else:
                assert isinstance(t, Escort)
                if s.kind is StopKind.PICKUP:
                    picked[t.id] = i
                    seekers += t.seekers
                    if s.node != t.pickup_node or s.start_s < t.ready_s:
                        errors.append(f"{v.id}: escort {t.id} pickup wrong place/too early")
                elif s.kind is StopKind.DELIVERY:
                    seen[t.id] = seen.get(t.id, 0) + 1
                    if t.id not in picked and t.id not in onboard_from_start:
                        errors.append(f"{v.id}: escort {t.id} delivered before/without pickup")
                    seekers -= t.seekers
                    if s.node != t.delivery_node:
                        errors.append(f"{v.id}: escort {t.id} delivered to the wrong node")
                    if not (t.delivery_window.start_s <= s.start_s <= t.interview_s):
                        errors.append(f"{v.id}: escort {t.id} misses the interview time")
                if seekers > v.seats:
                    errors.append(f"{v.id}: {seekers} seekers exceed {v.seats} seats")
        if set(picked) - {s.task_id for s in stops if s.kind is StopKind.DELIVERY}:
            errors.append(f"{v.id}: picked-up group never delivered")
        if units > v.max_tasks:
            errors.append(f"{v.id}: {units} task units > max_tasks {v.max_tasks}")
        wants_lunch = (
            v.lunch is not None
            and not (state and v.id in state.lunch_taken)
            and max(v.lunch.window.start_s, now) + v.lunch.duration_s <= v.lunch.window.end_s
        )
        if wants_lunch and lunches == 0:  # lunch at the start before leaving is allowed
            assert v.lunch is not None
            eat = max(v.lunch.window.start_s, now, v.shift.start_s)
            at_start = not v.lunch.places or start_node in v.lunch.places
            if not (at_start and stops[0].departure_s >= eat + v.lunch.duration_s):
                wants_lunch = len(stops) > 1
            else:
                wants_lunch = False
        if len(stops) > 1 and lunches != int(wants_lunch):
            errors.append(f"{v.id}: {lunches} lunch stops, expected {int(wants_lunch)}")
        if len(stops) > 2 and stops[1].kind is StopKind.LUNCH and not r.is_empty:
            errors.append(f"{v.id}: the day starts with lunch, not work")

    errors += [f"task {t} planned {n} times" for t, n in seen.items() if n > 1]
    dropped = {d.task_id for d in plan.dropped}
    errors += [f"dropped task {d.task_id} has no reason" for d in plan.dropped if not d.reason]
    active = set(tasks) - set(done)
    if (set(seen) | dropped) != active:
        errors.append(
            f"planned+dropped != open tasks: {sorted((set(seen) | dropped) ^ active)[:5]}"
        )
    if set(seen) & dropped:
        errors.append("a task is both planned and dropped")
    assert not errors, "\n".join(errors[:20])
