"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool

from api.deps import get_state
from api.schemas import HealthPublic, ReadyPublic

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic, summary="The process is alive")
async def healthz() -> HealthPublic:
    return HealthPublic()


@router.get(
    "/readyz",
    response_model=ReadyPublic,
    summary="The scenario is loaded and the database answers; the plan version served",
    responses={503: {"description": "Loading, load failed, or database unreachable."}},
)
async def readyz(request: Request) -> ReadyPublic:
    state = await get_state(request)
    try:
        await run_in_threadpool(state.store.ping)
    except Exception as exc:  # any driver error means "not ready"; say which
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"database unreachable: {type(exc).__name__}",
        ) from exc
    return ReadyPublic(
        scenario=state.name,
        modes=list(state.modes),
        service_points=len(state.service_points),
        database=state.store.dialect,
        version=state.version,
    )
