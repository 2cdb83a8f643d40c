"""Pick up a newly published plan without a restart (see :mod:`planner.publish`).

The watcher polls ``OUT/<scenario>/CURRENT`` every ``reload_poll_s`` seconds and also wakes
on ``SIGHUP``. When it names a version other than the one served, the new version is loaded
in a worker thread from its own, immutable folder while the old one keeps answering; then
the app's state is swapped in one assignment, so every request sees either the old plan or
the new one, never a mix. The old state's database pool is closed a little later (requests
in flight finish on it). A version that fails to load is logged and the old one kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from fastapi import FastAPI

from api.settings import Settings
from api.state import ApiState, load_state, plan_folder
from geo.scenario import Scenario
from planner.publish import current_version

logger = logging.getLogger(__name__)

UNVERSIONED = "unversioned"
CLOSE_AFTER_S = 30.0
"""Seconds an old state stays open after a swap (for requests still using it)."""


def served_version(version: str | None) -> str:
    return version or UNVERSIONED


async def watch(app: FastAPI, settings: Settings, *, owns_first: bool) -> None:
    """Run until cancelled: reload the scenario whenever a new version is published.

    `owns_first`: whether the state served at start belongs to the app (closed when
    replaced) or to the caller (left open).
    """
    assert settings.scenario is not None
    scenario = await asyncio.to_thread(Scenario.load, settings.scenario)
    folder = plan_folder(scenario, settings.out)
    wake = asyncio.Event()
    _on_sighup(wake)
    failed: str | None = None
    owned = owns_first
    while True:
        with contextlib.suppress(TimeoutError):
            timeout = settings.reload_poll_s or None
            await asyncio.wait_for(wake.wait(), timeout)
        hup = wake.is_set()
        wake.clear()
        try:
            version = served_version(await asyncio.to_thread(current_version, folder))
        except OSError:
            logger.exception("cannot read the published version of %s", folder)
            continue
        state: ApiState | None = app.state.api_state
        if state is None or state.version == version or (version == failed and not hup):
            continue
        logger.info("new plan version %s published; loading", version)
        try:
            new = await asyncio.to_thread(
                load_state, settings.scenario, settings.out, settings=settings
            )
        except Exception:
            failed = version
            logger.exception(
                "plan version %s failed to load; still serving %s", version, state.version
            )
            continue
        failed = None
        app.state.api_state = new
        logger.info("serving plan version %s (was %s)", new.version, state.version)
        if owned:
            asyncio.get_running_loop().call_later(CLOSE_AFTER_S, state.close)
        owned = True


def _on_sighup(wake: asyncio.Event) -> None:
    """Wake the watcher on SIGHUP (only possible in the main thread; else polling only)."""
    if not hasattr(signal, "SIGHUP"):
        return
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, wake.set)
    except (RuntimeError, ValueError, NotImplementedError):
        logger.debug("SIGHUP not available in this thread; polling only")
