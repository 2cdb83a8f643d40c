"""Run the API with uvicorn: ``dianmian serve SCENARIO --host 127.0.0.1 --port 8000``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import uvicorn

from api.app import create_app
from api.settings import Settings
from api.state import check_planned, load_state

logger = logging.getLogger(__name__)


def serve(
    scenario_folder: str | Path,
    out_root: str | Path = "out",
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
) -> None:
    """Serve a planned scenario until interrupted.

    With one worker the scenario is loaded before the port opens (errors surface at once).
    With several, each worker process loads it (uvicorn spawns them from
    :func:`api.app.create_app_from_env`), answering ``/readyz`` with 503 until loaded.
    Other settings (``DIANMIAN_API_KEY``, ``DATABASE_URL``, limits) come from the environment.

    Raises
    ------
    ScenarioError
        If the scenario folder is invalid or not planned yet.
    """
    if workers < 1:
        msg = f"`workers` must be at least 1, got {workers}"
        raise ValueError(msg)
    check_planned(scenario_folder, out_root)
    scenario = Path(scenario_folder).resolve()
    out = Path(out_root).resolve()
    if workers == 1:
        settings = Settings(scenario=scenario, out=out)
        if settings.api_key is None:
            logger.warning("DIANMIAN_API_KEY is not set: writes are disabled (503)")
        state = load_state(scenario, out, settings=settings)
        uvicorn.run(create_app(state, settings=settings), host=host, port=port, log_level=log_level)
        return
    # Worker processes read their settings from the environment they inherit.
    os.environ["DIANMIAN_SCENARIO"] = str(scenario)
    os.environ["DIANMIAN_OUT"] = str(out)
    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )
