"""The write store: demand reports, completed volunteer tasks, API keys and the audit log
(SQLAlchemy 2 core).

SQLite by default (a file next to the plan), PostgreSQL through a ``postgresql://`` URL
(driver psycopg 3). Both tables are append-only logs keyed so that repeating a request is
harmless. The API writes to it; the next planning run reads :meth:`Store.latest_demand` and
:meth:`Store.done_tasks` (through :func:`open_existing`), or :func:`export_feedback` writes them
as CSV.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

logger = logging.getLogger(__name__)

DB_FILE = "dianmian.sqlite"
"""The default SQLite database of a scenario, inside its output folder."""

metadata = sa.MetaData()

demand_reports = sa.Table(
    "demand_reports",
    metadata,
    sa.Column("report_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("employer_id", sa.String(200), nullable=False, index=True),
    sa.Column("demand", sa.Integer, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
)
"""Every demand report (open positions of an employer); the latest per employer counts."""

tasks_done = sa.Table(
    "tasks_done",
    metadata,
    sa.Column("volunteer_id", sa.String(200), primary_key=True),
    sa.Column("task_id", sa.String(200), primary_key=True),
    sa.Column("route_date", sa.Date, primary_key=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
)
"""Tasks of a day's route that a volunteer has completed (once per volunteer, task, date)."""

# -- the registration loop (planner.loop) ---------------------------------------------------
# Seekers' home coordinates are stored for matching only; nothing serves them.

registrations = sa.Table(
    "registrations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("external_id", sa.String(200), nullable=True, unique=True),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("industries", sa.String(200), nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("registered", sa.Date, nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("phone", sa.String(50), nullable=True),
    sa.Column("service_point_id", sa.String(200), nullable=True, index=True),
    sa.Column("point_time_s", sa.Float, nullable=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("outcome", sa.String(30), nullable=True),
    sa.Column("screened_on", sa.Date, nullable=True),
    sa.Column("reason", sa.String(40), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
"""Job seekers' registrations (a case: ``open`` until an outcome closes it)."""

recommendations = sa.Table(
    "recommendations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("registration_id", sa.Integer, nullable=False, index=True),
    sa.Column("employer_id", sa.String(200), nullable=False, index=True),
    sa.Column("industry", sa.String(30), nullable=False),
    sa.Column("travel_time_s", sa.Float, nullable=False),
    sa.Column("status", sa.String(30), nullable=False, index=True),
    sa.Column("recommended_on", sa.Date, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.UniqueConstraint("registration_id", "employer_id"),
)
"""Openings recommended to a registration (never the same employer twice)."""

interviews = sa.Table(
    "interviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recommendation_id", sa.Integer, nullable=False, unique=True),
    sa.Column("registration_id", sa.Integer, nullable=False, index=True),
    sa.Column("employer_id", sa.String(200), nullable=False),
    sa.Column("service_point_id", sa.String(200), nullable=True),
    sa.Column("day", sa.Date, nullable=False, index=True),
    sa.Column("time_s", sa.Integer, nullable=False),
    sa.Column("escort", sa.Boolean, nullable=False),
    sa.Column("group_size", sa.Integer, nullable=False),
    sa.Column("booked_on", sa.Date, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
)
"""Interviews booked for a recommendation (escorted ones become escort tasks)."""

outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("registration_id", sa.Integer, nullable=False, index=True),
    sa.Column("recommendation_id", sa.Integer, nullable=True),
    sa.Column("outcome", sa.String(30), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)
"""Every outcome recorded for a case (hired, hired elsewhere, not hired, ...)."""

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("registration_id", sa.Integer, nullable=False, index=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("by", sa.String(200), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)
"""Follow-up calls (and other contacts) with a registered seeker; each resets the clock."""

matching_runs = sa.Table(
    "matching_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("screened", sa.Integer, nullable=False),
    sa.Column("recommended", sa.Integer, nullable=False),
    sa.Column("objective", sa.Float, nullable=False),
    sa.Column("bound", sa.Float, nullable=False),
    sa.Column("runtime_s", sa.Float, nullable=False),
    sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
)
"""One row per matching run (audit of the assignment model's result)."""


@dataclass(frozen=True)
class DemandReport:
    report_id: int
    employer_id: str
    demand: int
    note: str | None
    reported_at: datetime


@dataclass(frozen=True)
class TaskDone:
    volunteer_id: str
    task_id: str
    route_date: date
    note: str | None
    done_at: datetime


def sqlite_url(path: str | Path) -> str:
    """SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def store_url(folder: str | Path, database_url: str | None = None) -> str:
    """The database of a scenario's output ``folder``: ``database_url`` or its SQLite file."""
    return database_url or sqlite_url(Path(folder) / DB_FILE)


def open_existing(folder: str | Path, database_url: str | None = None) -> Store | None:
    """The scenario's store if it exists (a ``database_url``, or the SQLite file), else None."""
    if database_url is None and not (Path(folder) / DB_FILE).is_file():
        return None
    return Store(store_url(folder, database_url), create=False)


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://``/``postgres://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Store:
    """Repository over the demand and task tables; safe to share between threads.

    The loop's tables are read and written by :mod:`planner.loop` through :attr:`engine`.
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = normalise_url(url)
        self.engine: Engine = _engine(self.url)
        if create:
            _create_tables(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()

    # -- demand ------------------------------------------------------------------------------

    def record_demand(
        self, employer_id: str, demand: int, *, note: str | None = None
    ) -> DemandReport:
        """Store a demand report (open positions, >= 0) for `employer_id`."""
        if demand < 0:
            msg = f"`demand` must be >= 0, got {demand}"
            raise ValueError(msg)
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            result = conn.execute(
                demand_reports.insert().values(
                    employer_id=employer_id, demand=demand, note=note, reported_at=now
                )
            )
            (report_id,) = result.inserted_primary_key or (0,)
        return DemandReport(int(report_id), employer_id, demand, note, now)

    def demand_history(self, employer_id: str) -> list[DemandReport]:
        """All reports of one employer, oldest first."""
        query = (
            sa.select(demand_reports)
            .where(demand_reports.c.employer_id == employer_id)
            .order_by(demand_reports.c.report_id)
        )
        with self.engine.connect() as conn:
            return [_demand(row) for row in conn.execute(query).mappings()]

    def latest_demand(self) -> dict[str, int]:
        """Latest reported demand per employer id (what the next planning run should use)."""
        latest = (
            sa.select(sa.func.max(demand_reports.c.report_id).label("report_id"))
            .group_by(demand_reports.c.employer_id)
            .subquery()
        )
        query = sa.select(demand_reports.c.employer_id, demand_reports.c.demand).join(
            latest, demand_reports.c.report_id == latest.c.report_id
        )
        with self.engine.connect() as conn:
            return {str(e): int(d) for e, d in conn.execute(query)}

    # -- tasks -------------------------------------------------------------------------------

    def mark_done(
        self, volunteer_id: str, task_id: str, route_date: date, *, note: str | None = None
    ) -> tuple[TaskDone, bool]:
        """Record a completed task; returns the record and whether it was new.

        Marking a task done twice keeps the first record (idempotent).
        """
        now = datetime.now(UTC)
        values = dict(
            volunteer_id=volunteer_id,
            task_id=task_id,
            route_date=route_date,
            note=note,
            done_at=now,
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(tasks_done.insert().values(**values))
        except IntegrityError:
            existing = self._task(volunteer_id, task_id, route_date)
            if existing is None:  # pragma: no cover - a racing delete; nothing deletes
                raise
            return existing, False
        return TaskDone(volunteer_id, task_id, route_date, note, now), True

    def _task(self, volunteer_id: str, task_id: str, route_date: date) -> TaskDone | None:
        query = sa.select(tasks_done).where(
            tasks_done.c.volunteer_id == volunteer_id,
            tasks_done.c.task_id == task_id,
            tasks_done.c.route_date == route_date,
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _task(row)

    def done_tasks(
        self, route_date: date | None = None, *, volunteer_id: str | None = None
    ) -> list[TaskDone]:
        """Completed tasks, optionally of one date and/or one volunteer."""
        query = sa.select(tasks_done).order_by(tasks_done.c.route_date, tasks_done.c.done_at)
        if route_date is not None:
            query = query.where(tasks_done.c.route_date == route_date)
        if volunteer_id is not None:
            query = query.where(tasks_done.c.volunteer_id == volunteer_id)
        with self.engine.connect() as conn:
            return [_task(row) for row in conn.execute(query).mappings()]


def export_feedback(store: Store, folder: str | Path) -> tuple[Path, Path]:
    """Write ``demand_updates.csv`` and ``tasks_done.csv`` to `folder` for the planner.

    ``demand_updates.csv``: ``employer_id,demand`` (latest report per employer);
    ``tasks_done.csv``: ``volunteer_id,task_id,route_date,done_at`` (ISO date/time, UTC).
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    demand_path = out / "demand_updates.csv"
    with demand_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["employer_id", "demand"])
        writer.writerows(sorted(store.latest_demand().items()))
    tasks_path = out / "tasks_done.csv"
    with tasks_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["volunteer_id", "task_id", "route_date", "done_at"])
        for t in store.done_tasks():
            writer.writerow([t.volunteer_id, t.task_id, t.route_date.isoformat(), _iso(t.done_at)])
    return demand_path, tasks_path


def _create_tables(engine: Engine, attempts: int = 5) -> None:
    """Create missing tables; several workers starting at once may race on a new database
    (one sees the table missing, another has just created it), so retry."""
    for attempt in range(attempts):
        try:
            metadata.create_all(engine)
            return
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            if "already exists" not in str(exc) or attempt == attempts - 1:
                raise
            logger.debug("tables created concurrently; checking again")


def _engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        # Several uvicorn workers share the file: wait for locks instead of failing at once.
        kwargs["connect_args"] = {"timeout": 15, "check_same_thread": False}
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

    return engine


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes; everything is stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return _aware(value).isoformat()


def _demand(row: Any) -> DemandReport:
    return DemandReport(
        report_id=int(row["report_id"]),
        employer_id=str(row["employer_id"]),
        demand=int(row["demand"]),
        note=row["note"],
        reported_at=_aware(row["reported_at"]),
    )


def _task(row: Any) -> TaskDone:
    return TaskDone(
        volunteer_id=str(row["volunteer_id"]),
        task_id=str(row["task_id"]),
        route_date=row["route_date"],
        note=row["note"],
        done_at=_aware(row["done_at"]),
    )


# -- API keys and the audit log (added for roles; see api/auth.py) ------------------------------

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("service_point", sa.String(200), nullable=True),
    sa.Column("volunteer_id", sa.String(200), nullable=True),
    sa.Column("label", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)
"""API keys: only the SHA-256 of each secret is stored (the secret is shown once)."""

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("entry_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("key_id", sa.String(32), nullable=True, index=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("address", sa.String(100), nullable=True),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
)
"""Every write through the API: who (key id, role, address), when, what and the outcome."""


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored (never the secret; `secret_sha256` is its hash)."""

    key_id: str
    secret_sha256: str
    role: str
    service_point: str | None
    volunteer_id: str | None
    label: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class AuditEntry:
    entry_id: int
    at: datetime
    key_id: str | None
    role: str
    address: str | None
    method: str
    path: str
    status: int
    detail: str | None


def add_key(store: Store, key: ApiKey) -> None:
    """Store a new API key (its id must be new)."""
    with store.engine.begin() as conn:
        conn.execute(
            api_keys.insert().values(
                key_id=key.key_id,
                secret_sha256=key.secret_sha256,
                role=key.role,
                service_point=key.service_point,
                volunteer_id=key.volunteer_id,
                label=key.label,
                created_at=key.created_at,
                revoked_at=key.revoked_at,
            )
        )


def get_key(store: Store, key_id: str) -> ApiKey | None:
    """The key with `key_id` (revoked or not), or ``None``."""
    query = sa.select(api_keys).where(api_keys.c.key_id == key_id)
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return None if row is None else _key(row)


def list_keys(store: Store) -> list[ApiKey]:
    """Every key, oldest first."""
    query = sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)
    with store.engine.connect() as conn:
        return [_key(row) for row in conn.execute(query).mappings()]


def revoke_key(store: Store, key_id: str) -> bool:
    """Revoke a key; False if there is no such active key."""
    with store.engine.begin() as conn:
        result = conn.execute(
            api_keys.update()
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return bool(result.rowcount)


def record_audit(
    store: Store,
    *,
    key_id: str | None,
    role: str,
    address: str | None,
    method: str,
    path: str,
    status: int,
    detail: str | None = None,
) -> None:
    """Append one entry to the audit log (time: now, UTC)."""
    with store.engine.begin() as conn:
        conn.execute(
            audit_log.insert().values(
                at=datetime.now(UTC),
                key_id=key_id,
                role=role,
                address=address,
                method=method,
                path=path,
                status=status,
                detail=detail,
            )
        )


def audit_entries(
    store: Store,
    *,
    since: datetime | None = None,
    key_id: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEntry]:
    """Audit entries, newest first (optionally since a time, of one key, before an id)."""
    query = sa.select(audit_log).order_by(audit_log.c.entry_id.desc()).limit(limit)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if key_id is not None:
        query = query.where(audit_log.c.key_id == key_id)
    if before_id is not None:
        query = query.where(audit_log.c.entry_id < before_id)
    with store.engine.connect() as conn:
        return [
            AuditEntry(
                entry_id=int(r["entry_id"]),
                at=_aware(r["at"]),
                key_id=r["key_id"],
                role=str(r["role"]),
                address=r["address"],
                method=str(r["method"]),
                path=str(r["path"]),
                status=int(r["status"]),
                detail=r["detail"],
            )
            for r in conn.execute(query).mappings()
        ]


def _key(row: Any) -> ApiKey:
    return ApiKey(
        key_id=str(row["key_id"]),
        secret_sha256=str(row["secret_sha256"]),
        role=str(row["role"]),
        service_point=row["service_point"],
        volunteer_id=row["volunteer_id"],
        label=row["label"],
        created_at=_aware(row["created_at"]),
        revoked_at=None if row["revoked_at"] is None else _aware(row["revoked_at"]),
    )
