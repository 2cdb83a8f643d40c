"""Travel modes and their default speeds per road class."""

from __future__ import annotations

from enum import StrEnum


class TravelMode(StrEnum):
    """How a person travels on the street network."""

    WALK = "walk"
    EBIKE = "ebike"
    BUS = "bus"
    CAR = "car"

    @property
    def respects_oneway(self) -> bool:
        """Pedestrians may walk both ways along a one-way street; vehicles may not."""
        return self is not TravelMode.WALK


MODE_CODES: tuple[str, ...] = tuple(m.value for m in TravelMode)

WALK_SPEED_KPH = 4.8
"""Walking speed (km/h), also used for the off-network leg to and from a snapped point."""

TRIP_OVERHEAD_S: dict[TravelMode, float] = {
    TravelMode.WALK: 0.0,
    TravelMode.EBIKE: 60.0,  # unlock, park
    TravelMode.BUS: 480.0,  # walk to the stop and wait (about half the headway)
    TravelMode.CAR: 300.0,  # find parking and walk from it
}
"""Fixed time (s) a person's trip takes on top of the network travel time, per mode.

Street networks carry no bus stops or parking; without this, short bus trips would look as
fast as car trips. The planner adds it to seekers' trips; the engine itself reports pure
network times."""

# Speeds in km/h per OSM ``highway`` class and mode; ``None`` means the mode may not use the
# road. Values are typical operating speeds in a Chinese manufacturing city (signals, mixed
# traffic), not legal limits. Bus speeds include stops.
_SPEEDS: dict[str, tuple[float | None, float | None, float | None, float | None]] = {
    #                walk   ebike  bus    car
    "motorway": (None, None, 60.0, 90.0),
    "motorway_link": (None, None, 40.0, 50.0),
    # Chinese trunk roads (national highways) usually have side paths for pedestrians.
    "trunk": (4.8, 22.0, 40.0, 65.0),
    "trunk_link": (4.8, 20.0, 30.0, 40.0),
    "primary": (4.8, 20.0, 25.0, 45.0),
    "primary_link": (4.8, 18.0, 22.0, 35.0),
    "secondary": (4.8, 18.0, 22.0, 38.0),
    "secondary_link": (4.8, 18.0, 20.0, 30.0),
    "tertiary": (4.8, 17.0, 20.0, 32.0),
    "tertiary_link": (4.8, 16.0, 18.0, 28.0),
    "unclassified": (4.8, 16.0, 18.0, 28.0),
    "residential": (4.8, 15.0, 16.0, 24.0),
    "living_street": (4.8, 12.0, None, 12.0),
    "service": (4.8, 12.0, None, 15.0),
    "track": (4.5, 10.0, None, 12.0),
    "road": (4.8, 15.0, 16.0, 24.0),
    "busway": (4.8, None, 25.0, None),
    "cycleway": (4.8, 16.0, None, None),
    "path": (4.5, 10.0, None, None),
    "footway": (4.8, None, None, None),
    "pedestrian": (4.8, None, None, None),
    "steps": (2.0, None, None, None),
}
_MODE_INDEX = {TravelMode.WALK: 0, TravelMode.EBIKE: 1, TravelMode.BUS: 2, TravelMode.CAR: 3}
DEFAULT_HIGHWAY = "residential"
"""Road class assumed for an edge whose ``highway`` tag is missing or unknown."""


def speed_kph(highway: str, mode: TravelMode) -> float | None:
    """Default speed (km/h) of `mode` on a road of class `highway`, or ``None`` if barred."""
    row = _SPEEDS.get(highway, _SPEEDS[DEFAULT_HIGHWAY])
    return row[_MODE_INDEX[mode]]


def speed_table() -> dict[str, dict[str, float | None]]:
    """The whole default speed table as ``{highway: {mode: km/h or None}}`` (for docs/reports)."""
    return {hw: {m.value: row[_MODE_INDEX[m]] for m in TravelMode} for hw, row in _SPEEDS.items()}
