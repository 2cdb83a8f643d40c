"""Volunteers' daily routes: model, PyVRP-based planning, re-planning and exports.

Typical use::

    problem = DayProblem(tasks, volunteers, CostMatrices(durations, distances, coords))
    plan = plan_day(problem, options=SolveOptions(seconds=10))
    write_exports(plan, problem, out_dir)
"""

from .export import plan_geojson, plan_gpx, plan_html, plan_json, write_exports
from .model import (
    ROUTING_MODES,
    CostMatrices,
    DayProblem,
    Escort,
    Lunch,
    ReplanState,
    Task,
    TimeWindow,
    Visit,
    Volunteer,
    fmt_hhmm,
    hhmm,
    visit_priority,
)
from .result import DayPlan, DroppedTask, Stop, StopKind, VolunteerRoute
from .solve import PathGeometry, SolveOptions, plan_day

__all__ = [
    "ROUTING_MODES",
    "CostMatrices",
    "DayPlan",
    "DayProblem",
    "DroppedTask",
    "Escort",
    "Lunch",
    "PathGeometry",
    "ReplanState",
    "SolveOptions",
    "Stop",
    "StopKind",
    "Task",
    "TimeWindow",
    "Visit",
    "Volunteer",
    "VolunteerRoute",
    "fmt_hhmm",
    "hhmm",
    "plan_day",
    "plan_geojson",
    "plan_gpx",
    "plan_html",
    "plan_json",
    "visit_priority",
    "write_exports",
]
