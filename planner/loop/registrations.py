"""Registrations: one by one (the API) or in bulk (the seekers layer), each with its
responsible service point.

A registration stores the seeker's home point (WGS-84, for matching only: it is never
returned by any function of the loop that a face serves), industries, travel mode,
registration date and optional contact fields. Bulk imports are idempotent on the seeker's
``id`` (``external_id``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import sqlalchemy as sa

from geo import INDUSTRY_CODES, TravelMode
from planner.errors import CaseNotFoundError
from planner.loop.context import LoopCity, Progress
from planner.store import Store, recommendations, registrations

logger = logging.getLogger(__name__)

OPEN = "open"
CLOSED = "closed"
_CHUNK = 5000


@dataclass(frozen=True)
class NewRegistration:
    """A registration form.

    Attributes
    ----------
    lon, lat
        Home (degrees, EPSG:4326); kept on the server.
    industries
        Industry codes of experience (at least one).
    mode
        ``walk``, ``ebike``, ``bus`` or ``car``.
    registered
        Date of registration.
    name, phone
        Optional contact fields.
    external_id
        The seeker's id in the bureau's files (bulk import; unique).
    """

    lon: float
    lat: float
    industries: tuple[str, ...]
    mode: str
    registered: dt.date
    name: str | None = None
    phone: str | None = None
    external_id: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if not (np.isfinite(self.lon) and np.isfinite(self.lat)):
            problems.append("`lon`/`lat` must be finite")
        unknown = [c for c in self.industries if c not in INDUSTRY_CODES]
        if unknown or not self.industries:
            problems.append(
                f"`industries` {list(self.industries)} must be codes among "
                f"{', '.join(INDUSTRY_CODES)}"
            )
        if self.mode not in {m.value for m in TravelMode}:
            problems.append(f"`mode` {self.mode!r} must be walk, ebike, bus or car")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class Registration:
    """A stored registration as the faces may see it (no home coordinates)."""

    id: int
    external_id: str | None
    industries: tuple[str, ...]
    mode: str
    registered: dt.date
    service_point_id: str | None
    status: str
    outcome: str | None
    screened_on: dt.date | None
    reason: str | None


def register(
    store: Store,
    city: LoopCity,
    forms: Sequence[NewRegistration],
    *,
    reject_outside: bool = False,
    progress: Progress | None = None,
) -> list[int]:
    """Store registrations with their responsible service points; returns their ids.

    Forms whose ``external_id`` is already stored are not stored again (their existing id
    is returned), so an import can be repeated. With `reject_outside`, a home farther than
    the snap limit from every street raises ``ValueError`` (nothing is stored); otherwise
    it is stored without a point and matching answers it with ``outside_network``.
    """
    say = progress or (lambda _m: None)
    if not forms:
        return []
    existing = _existing_ids([f.external_id for f in forms if f.external_id], store)
    todo: list[int] = []
    seen: set[str] = set()
    for k, f in enumerate(forms):
        if f.external_id and (f.external_id in existing or f.external_id in seen):
            continue
        if f.external_id:
            seen.add(f.external_id)
        todo.append(k)
    result: dict[int, int] = {}
    if todo:
        new = [forms[k] for k in todo]
        say(f"responsible service points of {len(new):,} registrations")
        lon = np.array([f.lon for f in new], dtype=float)
        lat = np.array([f.lat for f in new], dtype=float)
        homes = city.snap_homes(lon, lat, np.array([f.mode for f in new], dtype=object))
        outside = np.flatnonzero(homes.mode == "")
        if reject_outside and outside.size:
            msg = (
                f"home(s) {outside.tolist()} lie farther than {city.engine.max_snap_m:g} m "
                "from every street: outside the network area"
            )
            raise ValueError(msg)
        point, point_t = city.responsible_points(homes, [list(f.industries) for f in new])
        ids = city.points["id"].to_numpy()
        now = datetime.now(UTC)
        rows = [
            {
                "external_id": f.external_id,
                "lon": float(f.lon),
                "lat": float(f.lat),
                "industries": ";".join(f.industries),
                "mode": f.mode,
                "registered": f.registered,
                "name": f.name,
                "phone": f.phone,
                "service_point_id": None if p < 0 else str(ids[p]),
                "point_time_s": None if p < 0 else round(float(t), 1),
                "status": OPEN,
                "created_at": now,
            }
            for f, p, t in zip(new, point.tolist(), point_t.tolist(), strict=True)
        ]
        say(f"storing {len(rows):,} registrations")
        for k, i in zip(todo, _insert(store, rows), strict=True):
            result[k] = i
            if forms[k].external_id:
                existing[str(forms[k].external_id)] = i
    return [result[k] if k in result else existing[str(f.external_id)] for k, f in enumerate(forms)]


def _insert(store: Store, rows: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    with store.engine.begin() as conn:
        if len(rows) == 1:
            res = conn.execute(registrations.insert().values(**rows[0]))
            return [int(res.inserted_primary_key[0])]  # type: ignore[index]
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            res = conn.execute(
                registrations.insert().returning(registrations.c.id, sort_by_parameter_order=True),
                chunk,
            )
            ids += [int(r[0]) for r in res]
    return ids


def _existing_ids(external: list[str | None], store: Store) -> dict[str, int]:
    keys = [k for k in external if k]
    found: dict[str, int] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(keys), _CHUNK):
            q = sa.select(registrations.c.external_id, registrations.c.id).where(
                registrations.c.external_id.in_(keys[start : start + _CHUNK])
            )
            found.update({str(e): int(i) for e, i in conn.execute(q)})
    return found


def forms_from_seekers(
    seekers: gpd.GeoDataFrame,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[NewRegistration]:
    """Registration forms from a validated seekers layer (``registered`` in [since, until]).

    Raises
    ------
    ValueError
        Naming the first rows whose ``registered`` is not a YYYY-MM-DD date.
    """
    gdf = seekers.to_crs("EPSG:4326") if seekers.crs and seekers.crs.to_epsg() != 4326 else seekers
    days = []
    bad = []
    for k, value in enumerate(gdf["registered"].astype(str)):
        try:
            days.append(dt.date.fromisoformat(value[:10]))
        except ValueError:
            bad.append(f"row {k + 1} ({gdf['id'].iloc[k]}): `registered` {value!r}")
            days.append(dt.date.min)
    if bad:
        msg = "seekers with a bad registration date: " + "; ".join(bad[:20])
        raise ValueError(msg)
    forms = []
    for k, (sid, inds, mode, geom) in enumerate(
        zip(gdf["id"], gdf["industries"], gdf["mode"], gdf.geometry, strict=True)
    ):
        day = days[k]
        if (since and day < since) or (until and day > until):
            continue
        forms.append(
            NewRegistration(
                lon=float(geom.x),
                lat=float(geom.y),
                industries=tuple(c for c in str(inds).split(";") if c),
                mode=str(mode),
                registered=day,
                external_id=str(sid),
            )
        )
    return forms


def get_registration(store: Store, registration_id: int) -> Registration:
    """One registration (without its home); :class:`CaseNotFoundError` if unknown."""
    q = sa.select(registrations).where(registrations.c.id == registration_id)
    with store.engine.connect() as conn:
        row = conn.execute(q).mappings().first()
    if row is None:
        msg = f"no registration with id {registration_id}"
        raise CaseNotFoundError(msg)
    return Registration(
        id=int(row["id"]),
        external_id=row["external_id"],
        industries=tuple(str(row["industries"]).split(";")),
        mode=str(row["mode"]),
        registered=row["registered"],
        service_point_id=row["service_point_id"],
        status=str(row["status"]),
        outcome=row["outcome"],
        screened_on=row["screened_on"],
        reason=row["reason"],
    )


def case_point(
    store: Store, *, registration_id: int | None = None, recommendation_id: int | None = None
) -> str | None:
    """The responsible service point of a case, by registration or recommendation id
    (``None`` when unknown or without a point)."""
    if registration_id is not None:
        q = sa.select(registrations.c.service_point_id).where(registrations.c.id == registration_id)
    elif recommendation_id is not None:
        q = (
            sa.select(registrations.c.service_point_id)
            .join(recommendations, recommendations.c.registration_id == registrations.c.id)
            .where(recommendations.c.id == recommendation_id)
        )
    else:
        msg = "give `registration_id` or `recommendation_id`"
        raise ValueError(msg)
    with store.engine.connect() as conn:
        point = conn.execute(q).scalar()
    return None if point is None else str(point)
