"""``GET /audit``: the audit log of writes (admin only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import StateDep, unprocessable
from api.schemas import AuditEntryPublic, AuditPublic
from planner.store import audit_entries

router = APIRouter(tags=["audit"])

ISO = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"


def _parse(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise unprocessable(("query", "since"), f"`since` {text!r} is not a date-time") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@router.get(
    "/audit",
    response_model=AuditPublic,
    summary="Audit log of writes, newest first",
    description="Who (key id and role, never the key), when, from which address, what "
    "(method, path, body) and the status code of every write. Page with `before_id`.",
)
async def audit(
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    key_id: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[
        str | None,
        Query(
            description="ISO 8601 date or date-time (UTC if no offset), e.g. 2026-03-01T08:00Z",
            pattern=ISO,
            max_length=40,
        ),
    ] = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> AuditPublic:
    start = None if since is None else _parse(since)
    entries = await run_in_threadpool(
        audit_entries, state.store, since=start, key_id=key_id, limit=limit, before_id=before_id
    )
    return AuditPublic(
        entries=[
            AuditEntryPublic(
                entry_id=e.entry_id,
                at=e.at,
                key_id=e.key_id,
                role=e.role,
                address=e.address,
                method=e.method,
                path=e.path,
                status=e.status,
                detail=e.detail,
            )
            for e in entries
        ]
    )
