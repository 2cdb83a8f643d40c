"""Domain exceptions of dianmian.

Every exception is a :class:`ValueError` subclass so that callers who only know
"bad value" can still catch them. Input validation collects every problem it
finds and raises a single :class:`InputError` listing them all.
"""

from __future__ import annotations

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
        1-based data row (header excluded) or ``None`` for file-level problems.
    reason
        Human-readable reason, naming the column in backticks.
    """

    source: str
    row: int | None
    reason: str

    def __str__(self) -> str:
        where = self.source if self.row is None else f"{self.source}, row {self.row}"
        return f"{where}: {self.reason}"


class InputError(DianmianError):
    """One or more problems in user input; ``problems`` lists each of them."""

    def __init__(self, problems: list[Problem], *, limit: int = 20) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:limit])
        more = len(self.problems) - limit
        tail = f"\n  ... and {more} more" if more > 0 else ""
        n = len(self.problems)
        msg = f"{n} problem{'s' if n != 1 else ''} in input:\n{shown}{tail}"
        super().__init__(msg)


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
