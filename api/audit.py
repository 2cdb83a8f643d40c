"""The audit log of writes: an ASGI middleware recording who wrote what, when, and the outcome.

Every request that reached a route's role check (:func:`api.auth.allow`) as a write (a
non-GET method that is not a query) is recorded after its response: key id and role (never
the key), client address, method, path, status code and the request body (first
:data:`MAX_DETAIL` characters). Requests refused for rate limiting (429) are not recorded, so a
flood cannot fill the log. ``GET /audit`` (``admin``) reads it.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planner.store import record_audit

logger = logging.getLogger(__name__)

MAX_DETAIL = 2000
"""Characters of a request body kept in the log."""


class AuditLog:
    """Record audited writes of the wrapped app in its state's store."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        code = 500

        async def tap_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < MAX_DETAIL:
                body.extend(message.get("body", b"")[: MAX_DETAIL - len(body)])
            return message

        async def tap_send(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, tap_receive, tap_send)
        finally:
            await self._record(scope, code, bytes(body))

    async def _record(self, scope: Scope, code: int, body: bytes) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        principal = state.get("principal")
        if principal is None or not state.get("audit") or code == 429:
            return
        api_state = scope["app"].state.api_state
        if api_state is None:
            return
        client = scope.get("client")
        path = scope.get("path", "")
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        try:
            await anyio.to_thread.run_sync(
                lambda: record_audit(
                    api_state.store,
                    key_id=principal.key_id,
                    role=principal.role.value,
                    address=None if client is None else str(client[0]),
                    method=str(scope["method"]),
                    path=path,
                    status=code,
                    detail=body.decode("utf-8", errors="replace") or None,
                )
            )
        except Exception:  # the write happened; a failed audit must be loud, not fatal
            logger.exception("could not record the audit entry of %s %s", scope["method"], path)
