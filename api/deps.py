"""Request dependencies (``Annotated`` aliases): the loaded state, settings, the write key."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.schemas import ErrorPublic
from api.settings import Settings
from api.state import ApiState

_bearer = HTTPBearer(auto_error=False, description="The API key from `DIANMIAN_API_KEY`.")


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


async def require_api_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Writes need ``Authorization: Bearer <DIANMIAN_API_KEY>``.

    503 if the server has no key configured (writes disabled), 401 without credentials,
    403 with a wrong key.
    """
    if settings.api_key is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="writes are disabled: the server has no API key; set `DIANMIAN_API_KEY`",
        )
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing API key: send `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = settings.api_key.get_secret_value().encode()
    if not secrets.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="wrong API key")


Writer = Depends(require_api_key)

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "Missing API key."},
    403: {"model": ErrorPublic, "description": "Wrong API key."},
    413: {"model": ErrorPublic, "description": "Request body too large."},
    503: {
        "model": ErrorPublic,
        "description": "Writes disabled (no API key configured) or scenario loading.",
    },
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
