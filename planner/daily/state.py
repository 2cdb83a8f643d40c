"""What has happened so far today, as a small JSON file the CLI reads with ``--state FILE``.

Format (every key optional; ids are those of ``plan.json``)::

    {
      "now": "13:10",                        // HH:MM, nothing is planned earlier
      "done": ["visit:E00012", "escort:2025-06-02:003"],   // finished or cancelled tasks
      "absent": ["V017"],                    // volunteers not (or no longer) available
      "lunch_taken": ["V001"],               // volunteers who have had lunch
      "positions": {"V002": "E00012"},       // where a volunteer is now: an employer id,
                                             // a service point id, "home" or "point"
      "carrying": {"V003": ["escort:2025-06-02:007"]}   // groups picked up, not delivered
    }

Without ``positions`` a volunteer re-plans from their start (home or point). A volunteer
listed in ``carrying`` should also have a position, or the delivery is planned from the start.

The file becomes a :class:`planner.daily.vrp.DayState` (the one record of the day so far):
:func:`parse_state` checks its form, :func:`resolve_state` checks its ids against the day's
tasks and places and turns positions into matrix nodes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo import InputError, Problem
from geo.timeofday import format_hhmm, parse_hhmm
from planner.daily.vrp import DayState, Escort

if TYPE_CHECKING:
    from planner.daily.tasks import DayTasks

_KEYS = {"now", "done", "absent", "lunch_taken", "positions", "carrying"}


def state_to_dict(state: DayState) -> dict[str, Any]:
    """The state in the file format (only the keys that are set)."""
    out: dict[str, Any] = {}
    if state.now_s is not None:
        out["now"] = format_hhmm(state.now_s, name="now_s")
    for key in ("done", "absent", "lunch_taken"):
        if getattr(state, key):
            out[key] = sorted(getattr(state, key))
    if state.positions:
        out["positions"] = dict(state.positions)
    if state.carrying:
        out["carrying"] = {k: list(v) for k, v in state.carrying.items()}
    return out


def _str_list(data: dict[str, Any], key: str, bad: list[str]) -> frozenset[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        bad.append(f"`{key}` must be a list of ids (strings)")
        return frozenset()
    return frozenset(value)


def _now(data: dict[str, Any], bad: list[str]) -> int | None:
    if "now" not in data:
        return None
    if not isinstance(data["now"], str):
        bad.append("`now` must be a HH:MM string")
        return None
    try:
        return parse_hhmm(data["now"], name="now")
    except ValueError as exc:
        bad.append(str(exc))
        return None


def parse_state(data: Any, *, source: str = "state") -> DayState:
    """A :class:`DayState` (positions as place ids) from decoded JSON; all problems at once.

    Raises
    ------
    geo.InputError
        On unknown keys, wrong types or a malformed ``now``.
    """
    if not isinstance(data, dict):
        raise InputError([Problem(source, None, "the state must be a JSON object")])
    bad: list[str] = []
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        bad.append(f"unknown keys {unknown}; allowed: {sorted(_KEYS)}")
    now_s = _now(data, bad)
    done = _str_list(data, "done", bad)
    absent = _str_list(data, "absent", bad)
    lunch = _str_list(data, "lunch_taken", bad)
    positions = data.get("positions", {})
    if not isinstance(positions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in positions.items()
    ):
        bad.append("`positions` must map volunteer ids to a place id, 'home' or 'point'")
        positions = {}
    carrying_raw = data.get("carrying", {})
    carrying: dict[str, tuple[str, ...]] = {}
    if not isinstance(carrying_raw, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in carrying_raw.values()
    ):
        bad.append("`carrying` must map volunteer ids to lists of escort ids")
    else:
        carrying = {str(k): tuple(v) for k, v in carrying_raw.items()}
    if bad:
        raise InputError([Problem(source, None, b) for b in bad])
    return DayState(now_s, done, absent, dict(positions), carrying, lunch)


def load_state(path: str | Path) -> DayState:
    """Read a state file (see the module docstring).

    Raises
    ------
    geo.InputError
        If the file is not valid JSON or not a valid state.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError([Problem(str(p), None, f"cannot read state file: {exc}")]) from None
    return parse_state(data, source=str(p))


def _unknown_ids(state: DayState, day: DayTasks) -> list[str]:
    task_ids = {t.id for t in day.tasks}
    escort_ids = {t.id for t in day.tasks if isinstance(t, Escort)}
    vols = {v.id for v in day.volunteers}
    bad = [f"`done`: {t!r} is not a task of {day.date}" for t in sorted(state.done - task_ids)]
    for key in ("absent", "lunch_taken"):
        bad += [f"`{key}`: unknown volunteer {v!r}" for v in sorted(getattr(state, key) - vols)]
    bad += [f"`carrying`: unknown volunteer {v!r}" for v in sorted(set(state.carrying) - vols)]
    bad += [
        f"`carrying`: {e!r} is not an escort of {day.date}"
        for ids in state.carrying.values()
        for e in ids
        if e not in escort_ids
    ]
    return bad


def resolve_state(state: DayState, day: DayTasks) -> DayState:
    """`state` with every position a matrix node of `day`, after checking every id.

    Raises
    ------
    geo.InputError
        Listing every id in `state` that is not a task, volunteer or place of the day.
    """
    bad = _unknown_ids(state, day)
    vols = {v.id for v in day.volunteers}
    keys = {k: i for i, k in enumerate(day.locations["key"])}
    positions: dict[str, int | str] = {}
    for vid, place in state.positions.items():
        if vid not in vols:
            bad.append(f"`positions`: unknown volunteer {vid!r}")
            continue
        if isinstance(place, int):
            node: int | None = place
        elif place == "home":
            node = keys[f"home:{vid}"]
        elif place == "point":
            node = keys[f"point:{day.point_of[vid]}"]
        else:
            node = keys.get(f"employer:{place}", keys.get(f"point:{place}"))
        if node is None:
            bad.append(
                f"`positions`: {place!r} of {vid!r} is not a service point or an employer "
                f"with a task on {day.date}"
            )
            continue
        positions[vid] = node
    if bad:
        raise InputError([Problem("re-planning state", None, b) for b in bad])
    return DayState(
        now_s=state.now_s,
        done=state.done,
        absent=state.absent,
        positions=positions,
        carrying={k: tuple(v) for k, v in state.carrying.items()},
        lunch_taken=state.lunch_taken,
    )
