"""The routing core of a volunteer day: model, PyVRP-based planning and re-planning.

Typical use::

    problem = DayProblem(tasks, volunteers, CostMatrices(durations, distances, coords))
    plan = plan_day(problem, options=SolveOptions(seconds=10))
"""

from planner.daily.vrp.model import (
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
from planner.daily.vrp.result import DayPlan, DroppedTask, Stop, StopKind, VolunteerRoute
from planner.daily.vrp.solve import PathGeometry, SolveOptions, plan_day

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
    "visit_priority",
]
