"""Which OSM ways each travel mode may use: one rule table for every source format.

Every reader (``.osm`` XML and place names through osmnx, ``.osm.pbf`` through pyrosm,
GraphML) keeps the tags below on each edge; :func:`street_reason` and :func:`mode_reason`
decide, with the same rules whatever the format, which edges become streets and which
modes may use them. A rule's *reason* names the tag that decided (``"no highway tag"``,
``"area=yes"``, ``"highway=motorway"``, ``"foot=no"``, ...); ``""`` means usable.

Rules, in order (the first that applies decides):

1. a way without a ``highway`` tag (buildings, rivers, railways, land use, boundaries) is
   never a street;
2. a ``highway`` value without a speed (:mod:`geo.modes` table or the scenario's overrides),
   e.g. ``proposed``, ``construction``, ``platform``, ``raceway``, is never a street;
3. ``area=yes`` (a pedestrian square's outline, a parking area) is never a street;
4. a mode never uses a road class its speed is ``None`` for (walkers on motorways, cars on
   footways);
5. access: the most specific of the mode's tags wins (walk: ``foot``; e-bike: ``bicycle``,
   ``vehicle``; car: ``motorcar``, ``motor_vehicle``, ``vehicle``; bus: ``bus``, ``psv``,
   ``motor_vehicle``, ``vehicle``), then ``access``; values in :data:`RESTRICTIVE`
   (``no``, ``private``, ...) bar the mode. A permissive mode tag (``foot=yes``) overrides
   ``access=no`` but never opens a class rule 4 bars;
6. ``service=emergency_access`` bars cars and buses.

One-way (vehicles only; walkers use every street both ways): ``oneway`` in ``yes``,
``true``, ``1`` (``-1``: against the digitised direction), or ``junction`` ``roundabout`` /
``circular`` unless ``oneway=no`` - the rule osmnx applies to XML and place downloads, and
:func:`oneway` to PBF extracts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..modes import TravelMode, speed_table

ROUTING_TAGS: tuple[str, ...] = (
    "highway",
    "area",
    "access",
    "foot",
    "bicycle",
    "vehicle",
    "motor_vehicle",
    "motorcar",
    "bus",
    "psv",
    "service",
    "oneway",
    "junction",
    "maxspeed",
)
"""Way tags every reader keeps on the edges (osmnx ``useful_tags_way`` is extended by these)."""

MODE_ACCESS_TAGS: dict[TravelMode, tuple[str, ...]] = {
    TravelMode.WALK: ("foot",),
    TravelMode.EBIKE: ("bicycle", "vehicle"),
    TravelMode.CAR: ("motorcar", "motor_vehicle", "vehicle"),
    TravelMode.BUS: ("bus", "psv", "motor_vehicle", "vehicle"),
}
"""Access tags per mode, most specific first; ``access`` applies after them."""

RESTRICTIVE = frozenset({"no", "private", "agricultural", "forestry", "military", "use_sidepath"})
"""Access values that bar a mode (``use_sidepath``: cyclists must use the parallel path)."""

BARRED_SERVICE: dict[TravelMode, frozenset[str]] = {
    TravelMode.CAR: frozenset({"emergency_access"}),
    TravelMode.BUS: frozenset({"emergency_access"}),
}
"""``service`` values a mode may not use."""

ONEWAY_YES = frozenset({"yes", "true", "1"})
ROUNDABOUT = frozenset({"roundabout", "circular"})


def tag_frame(values: Mapping[str, Any] | pd.DataFrame, n: int | None = None) -> pd.DataFrame:
    """A frame of the :data:`ROUTING_TAGS` as lower-case strings, ``""`` where missing.

    osmnx stores the tags of merged ways as lists; the first value is used.
    """
    frame = values if isinstance(values, pd.DataFrame) else pd.DataFrame(dict(values))
    size = len(frame) if n is None else n
    out = {}
    for tag in ROUTING_TAGS:
        if tag in frame:
            col = frame[tag].map(_text)
        else:
            col = pd.Series([""] * size, index=frame.index if len(frame) else None, dtype=object)
        out[tag] = col.to_numpy(dtype=object)
    return pd.DataFrame(out)


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip().lower()


def known_highways(speeds: Mapping[str, Mapping[str, float | None]] | None = None) -> set[str]:
    """Road classes that are streets: the default speed table plus the overrides' classes."""
    return set(speed_table()) | set(speeds or {})


def street_reason(tags: pd.DataFrame, known: set[str]) -> np.ndarray:
    """Per edge: why it is no street for any mode (rules 1-3), ``""`` if it is one."""
    hw = tags["highway"].to_numpy(dtype=object)
    reason = np.full(len(tags), "", dtype=object)
    is_area = tags["area"].to_numpy(dtype=object) == "yes"
    unknown = ~pd.Series(hw).isin(known).to_numpy()
    reason[is_area] = "area=yes"
    reason[unknown] = np.array([f"highway={h} is not a street" for h in hw[unknown]], dtype=object)
    reason[hw == ""] = "no highway tag"
    return reason


def mode_reason(
    tags: pd.DataFrame,
    mode: TravelMode,
    *,
    kph: np.ndarray,
    known: set[str],
) -> np.ndarray:
    """Per edge: why `mode` may not use it (rules 1-6), ``""`` where it may.

    Parameters
    ----------
    tags
        :func:`tag_frame` of the edges.
    kph
        The mode's speed (km/h) on each edge by road class, NaN where the class is barred.
    known
        Road classes that are streets (:func:`known_highways`).
    """
    reason = street_reason(tags, known)
    open_ = reason == ""
    hw = tags["highway"].to_numpy(dtype=object)
    barred_class = open_ & ~(np.isfinite(kph) & (kph > 0))
    reason[barred_class] = np.array([f"highway={h}" for h in hw[barred_class]], dtype=object)
    open_ &= ~barred_class
    decided = np.zeros(len(tags), dtype=bool)
    for tag in (*MODE_ACCESS_TAGS[mode], "access"):
        value = tags[tag].to_numpy(dtype=object)
        here = open_ & ~decided & (value != "")
        bars = here & pd.Series(value).isin(RESTRICTIVE).to_numpy()
        reason[bars] = np.array([f"{tag}={v}" for v in value[bars]], dtype=object)
        decided |= here
    open_ &= reason == ""
    barred_service = BARRED_SERVICE.get(mode, frozenset())
    service = tags["service"].to_numpy(dtype=object)
    bars = open_ & pd.Series(service).isin(barred_service).to_numpy()
    reason[bars] = np.array([f"service={v}" for v in service[bars]], dtype=object)
    return reason


def oneway(tags: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per edge: one-way for vehicles, and whether traffic runs against the digitised way."""
    value = tags["oneway"].to_numpy(dtype=object)
    junction = tags["junction"].to_numpy(dtype=object)
    reverse = value == "-1"
    forward = pd.Series(value).isin(ONEWAY_YES).to_numpy()
    ring = pd.Series(junction).isin(ROUNDABOUT).to_numpy() & (value != "no")
    return forward | reverse | ring, reverse


def summarise(
    reasons: Mapping[str, np.ndarray],
    ways: Sequence[Sequence[int]],
    dropped_before: Mapping[str, int],
) -> dict[str, Any]:
    """Ways kept and dropped (by reason) per mode.

    Parameters
    ----------
    reasons
        Per mode, the reason of each street edge (``""`` = kept).
    ways
        OSM way ids of each street edge (several where osmnx merged ways; none if unknown,
        then the edge counts as one way).
    dropped_before
        Ways no mode may use that the reader already left out, by reason.
    """
    ids = [list(w) if len(w) else [-1 - i] for i, w in enumerate(ways)]
    edge = np.repeat(np.arange(len(ids)), [len(w) for w in ids])
    flat = np.array([i for w in ids for i in w], dtype=np.int64)
    out: dict[str, Any] = {}
    for mode, reason in reasons.items():
        # A way counts as kept if any of its edges is usable.
        frame = pd.DataFrame({"way": flat, "reason": np.asarray(reason, dtype=object)[edge]})
        frame = frame.sort_values("reason", key=lambda r: r != "", kind="stable")
        frame = frame.drop_duplicates("way")
        counts = frame["reason"].value_counts()
        dropped = {str(k): int(v) for k, v in counts.items() if k}
        for k, v in dropped_before.items():
            dropped[k] = dropped.get(k, 0) + int(v)
        out[mode] = {
            "ways_kept": int(counts.get("", 0)),
            "ways_dropped": int(sum(dropped.values())),
            "dropped_by_reason": dict(sorted(dropped.items(), key=lambda kv: -kv[1])),
        }
    return out
