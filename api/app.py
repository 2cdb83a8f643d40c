"""The FastAPI application factory.

``create_app(state)`` serves an already loaded :class:`~api.state.ApiState` (tests, the
single-process server); ``create_app(settings=...)`` loads the scenario named in the
settings in the background, answering ``/healthz`` at once and ``/readyz`` (and everything
else) with 503 until it is loaded. Settings live on the app, never in a module global.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.audit import AuditLog
from api.auth import Role, allow, deny_undeclared, finish_roles
from api.limits import Limiter
from api.loop_deps import case_scope
from api.middleware import BodyLimit
from api.reload import watch
from api.routes import (
    audit,
    collections,
    employers,
    health,
    matching,
    nearest,
    plan,
    recommendations,
    registrations,
    volunteers,
)
from api.routes import loop as loop_routes
from api.schemas import ErrorPublic
from api.settings import Settings
from api.state import ApiState, load_state
from geo import DianmianError

logger = logging.getLogger(__name__)

DESCRIPTION = """\
点面 dianmian: which job-service point should a person go to, and the bureau's plan.

Coordinates are longitude/latitude in degrees (WGS-84); geometries are GeoJSON (RFC 7946);
travel times in seconds, distances in metres. Seekers' homes are never served, only counts
per hexagon cell (`seeker-cells`, under disclosure control).

Roles: `admin` (planners), `staff` (one service point), `volunteer` (one volunteer) send
`Authorization: Bearer <key>` (keys from `dianmian keys create`); `public` needs no key.
Each endpoint lists its roles (`x-roles` and "Roles:" below). Writes and batch queries are
rate limited per key and per address (429 with `Retry-After`); every write is audited.
"""

PUBLIC = allow(Role.PUBLIC)
"""Everyone, with or without a key."""


def create_app(state: ApiState | None = None, *, settings: Settings | None = None) -> FastAPI:
    """Build the app around a loaded `state`, or load the scenario of `settings`.

    Parameters
    ----------
    state
        A loaded scenario; if ``None``, ``settings.scenario`` is loaded at start-up.
    settings
        Limits, API key and database; default read from the environment.
    """
    settings = settings or Settings()
    if state is None and settings.scenario is None:
        msg = "`create_app` needs a `state` or `settings.scenario` (DIANMIAN_SCENARIO)"
        raise ValueError(msg)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if app.state.api_state is None:
            tasks.append(asyncio.create_task(_load(app, settings)))
        if settings.scenario is not None:
            tasks.append(asyncio.create_task(watch(app, settings, owns_first=state is None)))
        try:
            yield
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if app.state.api_state is not None and app.state.api_state is not state:
                app.state.api_state.close()

    app = FastAPI(
        title="dianmian API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={
            400: {"model": ErrorPublic, "description": "Malformed request (e.g. body not UTF-8)."}
        },
        # A route that declares no roles (see api.auth.allow) is for admin only.
        dependencies=[Depends(deny_undeclared)],
    )
    app.state.settings = settings
    app.state.api_state = state
    app.state.load_error = None
    app.state.limiter = Limiter.from_settings(settings)
    app.add_middleware(AuditLog)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Roles of each router (admin always): see api/auth.py and the README's roles table.
    app.include_router(health.router, dependencies=[PUBLIC])
    app.include_router(nearest.make_router(settings), dependencies=[allow(Role.PUBLIC, query=True)])
    app.include_router(collections.make_router(settings), dependencies=[PUBLIC])
    app.include_router(volunteers.router, dependencies=[allow(Role.STAFF, Role.VOLUNTEER)])
    app.include_router(employers.router, dependencies=[allow(Role.STAFF, Role.VOLUNTEER)])
    app.include_router(plan.router, dependencies=[PUBLIC])
    app.include_router(audit.router, dependencies=[allow()])
    # The loop's cases are personal data: staff see their point's cases only (case_scope).
    staff_cases = allow(Role.STAFF, scope=case_scope)
    app.include_router(registrations.router, dependencies=[staff_cases])
    app.include_router(recommendations.router, dependencies=[staff_cases])
    app.include_router(matching.router, dependencies=[allow()])
    app.include_router(loop_routes.router, dependencies=[allow(Role.STAFF)])
    _add_error_handlers(app)
    for route in finish_roles(app):
        logger.warning("route %s declares no roles: admin only", route)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (settings from ``DIANMIAN_*`` variables)."""
    return create_app(settings=Settings())


async def _load(app: FastAPI, settings: Settings) -> None:
    assert settings.scenario is not None
    try:
        app.state.api_state = await asyncio.to_thread(
            load_state, settings.scenario, settings.out, settings=settings
        )
        logger.info("scenario %s loaded", app.state.api_state.name)
    except Exception as exc:  # reported by /readyz; the process stays up for diagnosis
        app.state.load_error = f"{type(exc).__name__}: {exc}"
        logger.exception("scenario %s failed to load", settings.scenario)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own shape (loc/msg/type per problem), minus echoed inputs beyond a
        # short preview, so a 10,000-point batch error does not echo the batch back.
        problems: list[dict[str, Any]] = []
        for err in exc.errors()[:50]:
            item = {k: err[k] for k in ("loc", "msg", "type") if k in err}
            if "ctx" in err:
                item["ctx"] = {k: str(v) for k, v in err["ctx"].items()}
            problems.append(item)
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": problems}
        )

    @app.exception_handler(DianmianError)
    async def _domain(_request: Request, exc: DianmianError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": str(exc)}
        )
