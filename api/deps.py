"""Request dependencies (``Annotated`` aliases): the loaded state, settings, writes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from api.schemas import ErrorPublic
from api.settings import Settings
from api.state import ApiState


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_state(request: Request) -> ApiState:
    """The loaded scenario; 503 while it is still loading or if loading failed."""
    state: ApiState | None = request.app.state.api_state
    if state is None:
        error = request.app.state.load_error
        detail = (
            f"scenario failed to load: {error}" if error else "scenario is loading; retry shortly"
        )
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=detail, headers={"Retry-After": "5"}
        )
    return state


SettingsDep = Annotated[Settings, Depends(get_settings)]
StateDep = Annotated[ApiState, Depends(get_state)]


async def require_api_key(request: Request) -> None:
    """Writes need a key: 401 for a caller without one.

    Roles and resources are checked by the router's :func:`api.auth.allow` dependency (see
    ``api/app.py``); this stays as a second line for routes that write.
    """
    principal = getattr(request.state, "principal", None)
    if principal is None or principal.role.value == "public":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing API key: send `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )


Writer = Depends(require_api_key)

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "Missing API key."},
    403: {
        "model": ErrorPublic,
        "description": "Wrong or revoked key, or its role or resource may not do this.",
    },
    413: {"model": ErrorPublic, "description": "Request body too large."},
    429: {"model": ErrorPublic, "description": "Rate limit; see `Retry-After`."},
    503: {"model": ErrorPublic, "description": "Scenario loading."},
}


def unprocessable(loc: tuple[str, ...], msg: str) -> HTTPException:
    """A 422 shaped like FastAPI's validation errors (``detail: [{loc, msg, type}]``)."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": list(loc), "msg": msg, "type": "value_error"}],
    )


def resolve_industry(state: ApiState, value: str | None, where: tuple[str, ...]) -> str | None:
    """The code of `value` in the served scenario's catalogue; 422 listing the allowed ones."""
    if value is None:
        return None
    code = state.industries.resolve(value)
    if code is None:
        raise unprocessable(
            where,
            f"`industry` {value!r} is not an industry of this scenario; allowed: "
            f"{state.industries.allowed()}",
        )
    return code
