"""The routing core of a volunteer day: model, PyVRP-based planning and re-planning.

Typical use::

    problem = DayProblem(tasks, volunteers, CostMatrices(durations, distances, coords))
    plan = solve_day(problem, options=SolveOptions(iterations=2000, seed=0))
"""

from planner.daily.record import DayPlan, DroppedTask, Stop, StopKind, VolunteerRoute
from planner.daily.vrp.model import (
    ROUTING_MODES,
    CostMatrices,
    DayProblem,
    DayState,
    Escort,
    Lunch,
    Task,
    TimeWindow,
    Visit,
    Volunteer,
    visit_priority,
)
from planner.daily.vrp.solve import PathGeometry, SolveOptions, fair_days, solve_day

__all__ = [
    "ROUTING_MODES",
    "CostMatrices",
    "DayPlan",
    "DayProblem",
    "DayState",
    "DroppedTask",
    "Escort",
    "Lunch",
    "PathGeometry",
    "SolveOptions",
    "Stop",
    "StopKind",
    "Task",
    "TimeWindow",
    "Visit",
    "Volunteer",
    "VolunteerRoute",
    "fair_days",
    "solve_day",
    "visit_priority",
]
