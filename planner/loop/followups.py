"""The follow-up list as rows and CSV (one row per due case, grouped by service point).

Rows carry no home location and no contact details beyond the registration's ids: the
caller looks the phone number up in the bureau's own records (or the registration).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from planner.loop.cases import FollowUp

COLUMNS = (
    "service_point_id",
    "volunteer_id",
    "registration_id",
    "external_id",
    "industries",
    "last_contact",
    "days_silent",
    "state",
    "reason",
)


def follow_up_rows(items: Sequence[FollowUp]) -> list[dict[str, Any]]:
    """JSON/CSV-ready rows in :data:`COLUMNS` order (service point, then registration)."""
    return [
        {
            "service_point_id": f.service_point_id,
            "volunteer_id": f.volunteer_id,
            "registration_id": f.registration_id,
            "external_id": f.external_id,
            "industries": ";".join(f.industries),
            "last_contact": f.last_contact.isoformat(),
            "days_silent": f.days_silent,
            "state": f.state,
            "reason": f.reason,
        }
        for f in items
    ]


def write_follow_ups_csv(items: Sequence[FollowUp], path: str | Path) -> Path:
    """Write the list as UTF-8 CSV (with BOM, so Excel opens the Chinese text right)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(follow_up_rows(items))
    return out


def follow_ups_folder(plan_folder: str | Path, day: dt.date) -> Path:
    """``OUT/<scenario>/followups/<date>/``."""
    return Path(plan_folder) / "followups" / day.isoformat()
