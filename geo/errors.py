"""Domain exceptions of dianmian.

Every exception is a :class:`ValueError` subclass so that callers who only know
"bad value" can still catch them. Input validation collects every problem it
finds and raises a single :class:`InputError` listing them all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass


class DianmianError(ValueError):
    """Base class of all dianmian domain errors."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Parameters
    ----------
    source
        File (and layer) the problem was found in.
    row
        The row as the user sees it (spreadsheet row with the header as row 1 for CSV and
        Excel, feature number for GeoJSON, ``fid`` for GeoPackage), or ``None`` for
        file-level problems.
    reason
        Human-readable reason, naming the column in backticks.
    """

    source: str
    row: int | None
    reason: str

    def __str__(self) -> str:
        where = self.source if self.row is None else f"{self.source}, row {self.row}"
        return f"{where}: {self.reason}"


# Quoted values and numbers vary from row to row; the rest of a reason is its kind.
_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|-?\d[\d,.]*")


def reason_kind(reason: str) -> str:
    """`reason` with its values blanked (``unknown `mode` …``), to count problems by kind."""
    parts = reason.split("`")
    # Column names sit between backticks (odd parts) and stay as they are.
    return "`".join(p if i % 2 else _VALUES.sub("…", p) for i, p in enumerate(parts))


class InputError(DianmianError):
    """One or more problems in user input; ``problems`` lists each of them.

    The message leads with the cause: `causes` (statements such as "no valid rows left" in a
    layer), then file-level problems (missing columns), then each kind of row problem per
    file with its count and its first `per_kind` rows, so that thousands of problems read as
    a few causes.
    """

    def __init__(
        self,
        problems: list[Problem],
        *,
        causes: list[str] | tuple[str, ...] = (),
        limit: int = 20,
        per_kind: int = 3,
    ) -> None:
        self.problems = list(problems)
        self.causes = list(causes)
        text = summarise(self.problems, causes=self.causes, limit=limit, per_kind=per_kind)
        super().__init__(text)


def summarise(
    problems: list[Problem],
    *,
    causes: list[str] | tuple[str, ...] = (),
    limit: int = 20,
    per_kind: int = 3,
) -> str:
    """Problems grouped by cause (see :class:`InputError`); at most `limit` kinds shown."""
    n = len(problems)
    lines = [*causes, f"{n:,} problem{'s' if n != 1 else ''} in input:"]
    lines += [f"  - {p}" for p in problems if p.row is None]
    groups: dict[tuple[str, str], list[Problem]] = defaultdict(list)
    for p in problems:
        if p.row is not None:
            groups[(p.source, reason_kind(p.reason))].append(p)
    ordered = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    for (source, kind), members in ordered[:limit]:
        if len(members) == 1:
            lines.append(f"  - {members[0]}")
            continue
        rows = len({p.row for p in members})
        lines.append(f"  - {source}: {rows:,} rows: {kind}")
        lines += [f"      row {p.row}: {p.reason}" for p in members[:per_kind]]
        if len(members) > per_kind:
            lines.append(f"      ... and {len(members) - per_kind:,} more like it")
    if len(ordered) > limit:
        rest = sum(len(m) for _, m in ordered[limit:])
        lines.append(f"  ... and {rest:,} more problems of {len(ordered) - limit} other kinds")
    return "\n".join(lines)


class ScenarioError(DianmianError):
    """A scenario folder or its ``scenario.toml`` is missing or malformed."""


class NetworkError(DianmianError):
    """The street network cannot be loaded or is unusable."""


class DisconnectedError(NetworkError):
    """Origin and destination lie in parts of the network that do not connect."""


class SnapError(DianmianError):
    """A point lies too far from the street network to be snapped."""


class CacheError(NetworkError):
    """A prepared-network cache file is corrupt, truncated, foreign or of an old format."""
