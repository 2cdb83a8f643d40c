"""Who may call what: API keys, roles and the per-route role dependency.

Roles
-----
``admin``
    The bureau's planners: everything, including ``GET /audit``.
``staff``
    Staff of one service point (the key names it): its registrations and follow-ups, and
    the routes and tasks of the volunteers who belong to it.
``volunteer``
    One volunteer (the key names them): their own route and tasks, demand reports.
``public``
    No key: nearest service point, the public plan layers, employers' public fields.

Keys
----
A key is ``dm_<key id>_<secret>`` (``dianmian keys create``). The database stores the key id,
the role, its service point or volunteer and the SHA-256 of the whole key, never the key;
a presented key is looked up by its id and its hash compared in constant time. Keys are
never logged (the audit log records the key id). ``DIANMIAN_API_KEY``, if set, is a
bootstrap ``admin`` key (key id ``bootstrap``).

Routes declare their roles with :func:`allow` (as a route or router dependency); the app
then writes them into the OpenAPI schema (``x-roles`` and the description) and refuses, to
anyone but ``admin``, any route that declares none (:func:`finish_roles`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.limits import check_rate
from api.settings import Settings
from api.state import ApiState
from planner.store import ApiKey, get_key

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key from `dianmian keys create` (or the bootstrap `DIANMIAN_API_KEY`).",
)

BOOTSTRAP_ID = "bootstrap"
"""Key id of the bootstrap admin key ``DIANMIAN_API_KEY``."""

_TOKEN = re.compile(r"^dm_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    VOLUNTEER = "volunteer"
    PUBLIC = "public"


ROLE_NOTES = {
    Role.ADMIN: "admin",
    Role.STAFF: "staff (their service point's data only)",
    Role.VOLUNTEER: "volunteer (their own data only)",
    Role.PUBLIC: "public (no key)",
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role and, for keys, the key id and what the key is bound to."""

    role: Role
    key_id: str | None = None
    service_point: str | None = None
    volunteer_id: str | None = None


ANONYMOUS = Principal(Role.PUBLIC)


# -- keys -------------------------------------------------------------------------------------


def hash_key(token: str) -> str:
    """SHA-256 (hex) of a whole key, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_key(
    role: Role | str,
    *,
    service_point: str | None = None,
    volunteer_id: str | None = None,
    label: str | None = None,
) -> tuple[str, ApiKey]:
    """A fresh key: ``(the key, to show once, its record to store)``.

    ``staff`` keys need `service_point`, ``volunteer`` keys `volunteer_id`; ``admin`` keys
    take neither.
    """
    role = Role(role)
    problems = []
    if role is Role.PUBLIC:
        problems.append("`role` public needs no key")
    if role is Role.STAFF and not service_point:
        problems.append("a staff key needs `service_point` (--point)")
    if role is Role.VOLUNTEER and not volunteer_id:
        problems.append("a volunteer key needs `volunteer_id` (--volunteer)")
    if role is Role.ADMIN and (service_point or volunteer_id):
        problems.append("an admin key takes no `service_point` or `volunteer_id`")
    if role is Role.STAFF and volunteer_id:
        problems.append("a staff key takes no `volunteer_id`")
    if problems:
        msg = "; ".join(problems)
        raise ValueError(msg)
    key_id = secrets.token_hex(6)
    token = f"dm_{key_id}_{secrets.token_urlsafe(32)}"
    record = ApiKey(
        key_id=key_id,
        secret_sha256=hash_key(token),
        role=role.value,
        service_point=service_point,
        volunteer_id=volunteer_id,
        label=label,
        created_at=datetime.now(UTC),
        revoked_at=None,
    )
    return token, record


def verify(token: str, record: ApiKey | None) -> bool:
    """Whether `token` is the active key `record` (hashes compared in constant time)."""
    if record is None or not record.active:
        # Compare anyway, so unknown ids take as long as wrong secrets.
        hmac.compare_digest(hash_key(token), "0" * 64)
        return False
    return hmac.compare_digest(hash_key(token), record.secret_sha256)


# -- dependencies -----------------------------------------------------------------------------


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller: :data:`ANONYMOUS` without a key; 401 for a malformed header, 403 for a
    wrong, unknown or revoked key."""
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="malformed API key: send `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = credentials.credentials
    settings: Settings = request.app.state.settings
    if settings.api_key is not None and hmac.compare_digest(
        token.encode(), settings.api_key.get_secret_value().encode()
    ):
        return Principal(Role.ADMIN, key_id=BOOTSTRAP_ID)
    match = _TOKEN.match(token)
    state: ApiState | None = request.app.state.api_state
    if match is not None and state is not None:
        record = await run_in_threadpool(get_key, state.store, match.group(1))
        if verify(token, record):
            assert record is not None
            return Principal(
                Role(record.role),
                key_id=record.key_id,
                service_point=record.service_point,
                volunteer_id=record.volunteer_id,
            )
    if match is not None and state is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="scenario is loading; retry shortly",
            headers={"Retry-After": "5"},
        )
    raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid or revoked API key")


PrincipalDep = Annotated[Principal, Depends(authenticate)]

Scope = Callable[[Principal, Request], Awaitable[str | None]]
"""Resource check of a route: ``None`` if the principal may touch the requested resource,
else the reason it may not (answered 403)."""


def allow(*roles: Role, scope: Scope | None = None, query: bool = False) -> Any:
    """Dependency admitting `roles` (``admin`` always) to a route or router.

    Parameters
    ----------
    roles
        Roles allowed besides ``admin``; :attr:`Role.PUBLIC` admits everyone.
    scope
        Resource check for ``staff`` and ``volunteer`` callers (default
        :func:`own_resources`: the ``volunteer_id`` and ``point_id`` path parameters must
        be theirs).
    query
        The route's non-GET methods are queries (e.g. a batch nearest query): rate limited
        but not audited as writes.
    """
    allowed = frozenset({Role.ADMIN, *roles})
    check = scope or own_resources

    async def guard(request: Request, principal: PrincipalDep) -> Principal:
        request.state.principal = principal
        write = request.method not in SAFE_METHODS
        request.state.audit = write and not query
        if write:
            check_rate(request, principal.key_id)
        if Role.PUBLIC in allowed:
            if principal.role in (Role.STAFF, Role.VOLUNTEER):
                await _deny_if_not_own(check, principal, request)
            return principal
        if principal.role is Role.PUBLIC:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=f"this endpoint needs an API key (roles: {_names(allowed)}); "
                "send `Authorization: Bearer <key>`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if principal.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role `{principal.role}` may not call this endpoint "
                f"(roles: {_names(allowed)})",
            )
        if principal.role is not Role.ADMIN:
            await _deny_if_not_own(check, principal, request)
        return principal

    guard.roles = allowed  # type: ignore[attr-defined]  # read by finish_roles
    return Depends(guard)


async def _deny_if_not_own(check: Scope, principal: Principal, request: Request) -> None:
    reason = await check(principal, request)
    if reason is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=reason)


VOLUNTEER_PARAMS = ("volunteer_id",)
POINT_PARAMS = ("point_id", "service_point_id")


async def own_resources(principal: Principal, request: Request) -> str | None:
    """Default resource check: path parameters naming a volunteer or a service point.

    A volunteer may touch only their own ``volunteer_id`` and no service point's data; staff
    only their ``point_id`` and the volunteers who belong to their point (read from the
    routes' ``service_point``).
    """
    params = request.path_params
    volunteer = next((str(params[p]) for p in VOLUNTEER_PARAMS if p in params), None)
    point = next((str(params[p]) for p in POINT_PARAMS if p in params), None)
    if principal.role is Role.VOLUNTEER:
        if point is not None:
            return "a volunteer key may not read a service point's data"
        if volunteer is not None and volunteer != principal.volunteer_id:
            return f"a volunteer key may only use its own volunteer ({principal.volunteer_id})"
    if principal.role is Role.STAFF:
        if point is not None and point != principal.service_point:
            return f"a staff key may only use its own service point ({principal.service_point})"
        if volunteer is not None:
            state: ApiState | None = request.app.state.api_state
            home = None if state is None else state.routes.point_of(volunteer)
            if home != principal.service_point:
                return (
                    f"volunteer {volunteer!r} does not belong to service point "
                    f"{principal.service_point!r}"
                )
    return None


def _names(roles: Iterable[Role]) -> str:
    return ", ".join(r.value for r in Role if r in set(roles))


# -- OpenAPI and default deny -----------------------------------------------------------------


@dataclass(frozen=True)
class RouteRoles:
    """An API route as served (router prefixes and dependencies applied) and its roles."""

    path: str
    methods: frozenset[str]
    roles: frozenset[Role] | None
    route: Any  # the route object the request scope names (``scope["route"]``)


def _declared(dependant: Any) -> frozenset[Role] | None:
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        roles = getattr(dep.call, "roles", None)
        if roles is not None:
            return frozenset(roles)
        stack.extend(dep.dependencies)
    return None


def api_routes(app: FastAPI) -> list[RouteRoles]:
    """Every API route of `app` with the roles it declares (``None``: none declared)."""
    out = []
    for rc in iter_route_contexts(app.routes):
        if not isinstance(rc.original_route, APIRoute):
            continue
        out.append(
            RouteRoles(
                path=str(rc.path_format),
                methods=frozenset(rc.methods or ()),
                roles=_declared(getattr(rc, "dependant", None)),
                route=rc.original_route,
            )
        )
    return out


async def deny_undeclared(request: Request, principal: PrincipalDep) -> None:
    """App-wide dependency: a route that declares no roles is for ``admin`` only."""
    route = request.scope.get("route")
    declared: set[int] = request.app.state.declared_routes
    if id(route) not in declared:  # a route added since: look again
        declared.update(id(r.route) for r in api_routes(request.app) if r.roles is not None)
    if id(route) in declared or principal.role is Role.ADMIN:
        return
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED
        if principal.role is Role.PUBLIC
        else status.HTTP_403_FORBIDDEN,
        detail="this endpoint declares no roles; admin only",
        headers={"WWW-Authenticate": "Bearer"},
    )


_AUTH_ANSWERS = {
    "401": "No API key (or a malformed `Authorization` header) where one is needed.",
    "403": "Wrong or revoked key, or the key's role or resource may not do this.",
    "429": "Too many writes or batch queries; retry after `Retry-After` seconds.",
}


def finish_roles(app: FastAPI) -> list[str]:
    """Write each route's roles into the OpenAPI schema; return the routes declaring none.

    Adds to each operation ``x-roles`` (role names), a ``security`` requirement where a key
    is needed and a "Roles:" line to its description. Undeclared routes get no ``x-roles``
    (:func:`deny_undeclared` keeps them admin-only and the route x role test fails).
    """
    app.state.declared_routes = {id(r.route) for r in api_routes(app) if r.roles is not None}
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for r in api_routes(app):
            for method in r.methods:
                op = schema.get("paths", {}).get(r.path, {}).get(method.lower())
                if op is None or r.roles is None:
                    continue
                op["x-roles"] = [role.value for role in Role if role in r.roles]
                # Public routes take a key optionally (the empty requirement).
                op["security"] = (
                    [{"apiKey": []}] if Role.PUBLIC not in r.roles else [{}, {"apiKey": []}]
                )
                responses = op.setdefault("responses", {})
                for code, text in _AUTH_ANSWERS.items():
                    if code != "429" or method not in SAFE_METHODS:
                        responses.setdefault(code, {"description": text})
                line = "**Roles:** " + ", ".join(ROLE_NOTES[x] for x in Role if x in r.roles)
                op["description"] = f"{op.get('description', '')}\n\n{line}.".strip()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["apiKey"] = {
            "type": "http",
            "scheme": "bearer",
            "description": _bearer.model.description,
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return [f"{','.join(sorted(r.methods))} {r.path}" for r in api_routes(app) if r.roles is None]
