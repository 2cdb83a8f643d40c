"""The volunteers' day: tasks, travel costs, the routing core, re-planning and exports.

* :mod:`planner.daily.select` chooses the employers to visit and the seekers to escort;
* :mod:`planner.daily.tasks` turns them and the volunteers into routing tasks;
* :mod:`planner.daily.costs` builds per-mode travel matrices and street geometry;
* :mod:`planner.daily.vrp` is the routing model and its PyVRP solver;
* :mod:`planner.daily.state` reads what has happened so far today (re-planning);
* :mod:`planner.daily.run` plans a city's day and writes its data files
  (:mod:`planner.daily.export`); pages and maps are drawn by the ``maps`` face.
"""
