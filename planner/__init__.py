"""planner: the bureau's plans, built on ``geo``.

* :mod:`planner.city` loads and validates a scenario into a :class:`~planner.city.City`;
* :mod:`planner.points` sites and staffs service points (belts, demand, siting, assignment,
  crowd report) and writes the plan;
* :mod:`planner.daily` plans the volunteers' day (tasks, travel costs, the PyVRP core in
  :mod:`planner.daily.vrp`, re-planning state, data exports);
* :mod:`planner.store` keeps what the API writes back (demand reports, tasks done);
* :mod:`planner.hexbin` aggregates personal locations into suppressed hexagons.

Imports ``geo``; never imports a face (``api``, ``maps``, ``dianmian``).
"""

from planner.errors import InfeasibleError, PlannerError, SolverError

__all__ = ["InfeasibleError", "PlannerError", "SolverError"]
