"""api: the HTTP face (FastAPI) of dianmian.

* :func:`create_app` builds the app around a loaded :class:`ApiState` or settings;
* :func:`load_state` loads a planned scenario (``OUT/<scenario>/``);
* :func:`serve` runs it with uvicorn (``dianmian serve``);
* :class:`Store` is the database of demand reports and completed tasks.
"""

from .app import create_app, create_app_from_env
from .serve import serve
from .settings import Settings
from .state import ApiState, build_state, check_planned, load_state
from .store import Store, export_feedback

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
