"""Times of day: ``HH:MM`` text <-> whole seconds since local midnight.

Every part of dianmian that reads or shows a time of day goes through this module, so a stop
shows the same minute on the map, the printable sheet, the phone page and the API.

Rounding rule (one, everywhere): :func:`format_hhmm` rounds **down** to the minute, as a
wall clock does (it shows 09:59 until 10:00:00). A shown time is therefore never later than
the planned one: an arrival planned at 09:59:40 for a 10:00 interview shows as 09:59, never
as a clash at 10:00, and times that are ordered stay ordered (the floor is monotonic).
"""

from __future__ import annotations

import numbers
import re

DAY_S = 24 * 3600
"""Seconds in a day; ``24:00`` (the end of the day) is the largest time of day."""

_HHMM = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_hhmm(text: str, *, name: str = "value") -> int:
    """Seconds since midnight of a ``HH:MM`` (or ``H:MM``, ``HH:MM:SS``) time, 00:00-24:00.

    Parameters
    ----------
    text
        The time of day; surrounding blanks are ignored, seconds are kept.
    name
        Name of the argument in error messages.

    Returns
    -------
    int
        Seconds since midnight, e.g. ``parse_hhmm("08:30") == 30600``.

    Raises
    ------
    ValueError
        If `text` is not such a time, or lies outside 00:00-24:00.
    """
    if not isinstance(text, str):
        msg = f"`{name}` {text!r} is not a HH:MM time (got {type(text).__name__})"
        raise ValueError(msg)
    match = _HHMM.fullmatch(text.strip())
    if match is None:
        msg = f"`{name}` {text!r} is not a HH:MM time"
        raise ValueError(msg)
    hours, minutes = int(match.group(1)), int(match.group(2))
    seconds = int(match.group(3) or 0)
    total = hours * 3600 + minutes * 60 + seconds
    if minutes > 59 or seconds > 59 or total > DAY_S:
        msg = f"`{name}` {text!r} is not a time of day between 00:00 and 24:00"
        raise ValueError(msg)
    return total


def format_hhmm(seconds: float, *, name: str = "seconds") -> str:
    """``HH:MM`` of a time in seconds since midnight, rounded down to the minute.

    Times past midnight (up to two days, e.g. a night shift's end) continue counting hours
    (``25:10``); the rounding rule is explained in the module docstring.

    Raises
    ------
    ValueError
        If `seconds` is not a finite number in ``[0, 2 days)``.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        msg = f"`{name}` {seconds!r} is not a number of seconds"
        raise ValueError(msg)
    if not 0 <= float(seconds) < 2 * DAY_S:  # also False for NaN
        msg = f"`{name}` ({seconds}) is not a time of day in seconds (0 to 2 days)"
        raise ValueError(msg)
    minutes = int(float(seconds)) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
