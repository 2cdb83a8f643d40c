"""``GET /audit``: the audit log of writes (admin only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import StateDep
from api.schemas import AuditEntryPublic, AuditPublic
from planner.store import audit_entries

router = APIRouter(tags=["audit"])


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
    since: Annotated[dt.datetime | None, Query(description="ISO date-time")] = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> AuditPublic:
    entries = await run_in_threadpool(
        audit_entries, state.store, since=since, key_id=key_id, limit=limit, before_id=before_id
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
