"""Service points: industry belts, demand groups, siting and staffing, assignment, the crowd
report and the trade-off curve.

:func:`planner.points.plan.make_plan` runs the steps on a validated city;
:func:`planner.points.plan.write_plan` writes ``plan.gpkg`` and ``plan_summary.json``.
"""
