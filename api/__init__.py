"""api: the HTTP face (FastAPI) of dianmian.

* :func:`create_app` builds the app around a loaded :class:`ApiState` or settings;
* :func:`load_state` loads a planned scenario (``OUT/<scenario>/``);
* :func:`serve` runs it with uvicorn (``dianmian serve``);
* :class:`Store` is the database of demand reports and completed tasks.
"""

from api.app import create_app, create_app_from_env
from api.serve import serve
from api.settings import Settings
from api.state import ApiState, build_state, check_planned, load_state
from planner.store import Store, export_feedback

__all__ = [
    "ApiState",
    "Settings",
    "Store",
    "build_state",
    "check_planned",
    "create_app",
    "create_app_from_env",
    "export_feedback",
    "load_state",
    "serve",
]
