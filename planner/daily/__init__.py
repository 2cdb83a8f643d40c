"""The volunteers' day: tasks, travel costs, the routing core, re-planning and exports.

* :mod:`planner.daily.select` chooses the employers to visit and the seekers to escort;
* :mod:`planner.daily.tasks` turns them and the volunteers into routing tasks;
* :mod:`planner.daily.costs` builds per-mode travel matrices and street geometry;
* :mod:`planner.daily.vrp` is the routing model, its PyVRP solver and the checks of the final
  plan (gaps filled, reasons for every task left out and every volunteer without a task);
* :mod:`planner.daily.record` is the day's record (routes, stops, tasks left out) and its
  validated loaders: the one schema the maps and the HTTP API read;
* :mod:`planner.daily.state` reads what has happened so far today (re-planning);
* :mod:`planner.daily.run` plans a city's day and writes its data files
  (:mod:`planner.daily.export`); pages and maps are drawn by the ``maps`` face.
"""
