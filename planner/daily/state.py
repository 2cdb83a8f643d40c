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
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo import InputError, Problem
from planner.daily.vrp import hhmm

_KEYS = {"now", "done", "absent", "lunch_taken", "positions", "carrying"}


@dataclass(frozen=True)
class RouteState:
    """The day so far, by ids (see the module docstring for the file format).

    ``now_s`` is seconds since midnight or ``None`` (start of the day).
    """

    now_s: int | None = None
    done: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()
    lunch_taken: frozenset[str] = frozenset()
    positions: Mapping[str, str] = field(default_factory=dict)
    carrying: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self.now_s is None and not (
            self.done or self.absent or self.lunch_taken or self.positions or self.carrying
        )

    def merged(
        self, *, done: Iterable[str] = (), absent: Iterable[str] = (), now: str | int | None = None
    ) -> RouteState:
        """This state plus more done tasks / absent volunteers and a later time."""
        now_s = self.now_s
        if now is not None:
            now_s = hhmm(now) if isinstance(now, str) else int(now)
        return RouteState(
            now_s=now_s,
            done=self.done | frozenset(done),
            absent=self.absent | frozenset(absent),
            lunch_taken=self.lunch_taken,
            positions=dict(self.positions),
            carrying=dict(self.carrying),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.now_s is not None:
            out["now"] = f"{self.now_s // 3600:02d}:{self.now_s % 3600 // 60:02d}"
        for key in ("done", "absent", "lunch_taken"):
            if getattr(self, key):
                out[key] = sorted(getattr(self, key))
        if self.positions:
            out["positions"] = dict(self.positions)
        if self.carrying:
            out["carrying"] = {k: list(v) for k, v in self.carrying.items()}
        return out


def _str_list(data: dict[str, Any], key: str, bad: list[str]) -> frozenset[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        bad.append(f"`{key}` must be a list of ids (strings)")
        return frozenset()
    return frozenset(value)


def parse_state(data: Any, *, source: str = "state") -> RouteState:
    """A :class:`RouteState` from decoded JSON; every problem is reported at once.

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
    now_s = None
    if "now" in data:
        try:
            now_s = hhmm(str(data["now"])) if isinstance(data["now"], str) else None
            if now_s is None:
                bad.append("`now` must be a HH:MM string")
        except ValueError as exc:
            bad.append(str(exc).replace("`value`", "`now`"))
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
    return RouteState(now_s, done, absent, lunch, dict(positions), carrying)


def load_state(path: str | Path) -> RouteState:
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
