"""Request (``...Create``/``...Query``) and response (``...Public``) models.

Coordinates are longitude/latitude in degrees (WGS-84, EPSG:4326); geometries follow
GeoJSON (RFC 7946); times are seconds, distances metres.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from geo import TravelMode
from geo.timeofday import format_hhmm
from planner.daily.record import VolunteerRoute

Lon = Annotated[
    float,
    Field(ge=-180.0, le=180.0, allow_inf_nan=False, description="Longitude (degrees, WGS-84)."),
]
Lat = Annotated[
    float,
    Field(ge=-90.0, le=90.0, allow_inf_nan=False, description="Latitude (degrees, WGS-84)."),
]
Position = Annotated[list[float], Field(min_length=2, max_length=3)]
Scalar = str | int | float | bool | None
Properties = dict[str, Scalar | list[str]]
Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GeometryType(StrEnum):
    POINT = "Point"
    LINESTRING = "LineString"
    POLYGON = "Polygon"
    MULTIPOINT = "MultiPoint"
    MULTILINESTRING = "MultiLineString"
    MULTIPOLYGON = "MultiPolygon"


class Geometry(BaseModel):
    """A GeoJSON geometry (RFC 7946), coordinates in longitude/latitude."""

    type: GeometryType
    coordinates: Any


class LineString(BaseModel):
    """A GeoJSON LineString (RFC 7946)."""

    type: Literal["LineString"] = "LineString"
    coordinates: list[Position]


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: Geometry | None
    properties: Properties


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    numberMatched: int  # noqa: N815 - OGC API - Features names
    numberReturned: int  # noqa: N815
    timeStamp: dt.datetime  # noqa: N815
    links: list[Link]


class SpatialExtent(BaseModel):
    bbox: list[list[float]]
    crs: str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class Extent(BaseModel):
    spatial: SpatialExtent | None = None


class CollectionPublic(BaseModel):
    id: str
    title: str
    description: str
    itemType: Literal["feature"] = "feature"  # noqa: N815
    crs: list[str] = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    extent: Extent
    numberOfFeatures: int  # noqa: N815
    industryFilter: bool  # noqa: N815
    links: list[Link]


class CollectionsPublic(BaseModel):
    collections: list[CollectionPublic]
    links: list[Link]


# -- nearest -------------------------------------------------------------------------------


class RouteGeometry(StrEnum):
    NONE = "none"
    ROUTE = "route"


class Crs(StrEnum):
    """Datum of longitudes/latitudes in a request and its answer: WGS-84 (GPS, OSM),
    GCJ-02 (Amap, Tencent) or BD-09 (Baidu)."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


IndustryParam = Annotated[
    str | None,
    Field(
        max_length=100,
        description=(
            "Only points serving this industry of the served scenario's catalogue: its code, "
            "Chinese or English label (e.g. `textile`, `纺织服装鞋业`)."
        ),
    ),
]
CRS_DESCRIPTION = (
    "Datum of `lon`/`lat` given and answered: `wgs84` (GPS, OpenStreetMap), `gcj02` "
    "(Amap, Tencent) or `bd09` (Baidu); a GCJ-02 point is ~300-700 m off if read as WGS-84, "
    "a BD-09 point ~1 km."
)


class NearestQueryBase(BaseModel):
    """Query parameters of ``GET /service-points/nearest`` (``k`` added with its bound)."""

    lon: Lon
    lat: Lat
    mode: TravelMode = Field(default=TravelMode.WALK, description="Travel mode.")
    industry: IndustryParam = None
    crs: Crs = Field(default=Crs.WGS84, description=CRS_DESCRIPTION)
    geometry: RouteGeometry = Field(
        default=RouteGeometry.NONE, description="`route` adds each street-following route."
    )


class ServicePointPublic(BaseModel):
    id: str
    name: str
    kind: str | None
    industries: list[str]
    is_market: bool
    lon: float
    lat: float


class NearestPublic(BaseModel):
    """One of the k nearest service points."""

    rank: int = Field(description="1 for the nearest.")
    service_point: ServicePointPublic
    travel_time_s: float = Field(
        description="Travel time (s), walks to and from the street included."
    )
    distance_m: float = Field(description="Network distance (m) along the fastest route.")
    route: LineString | None = Field(
        default=None, description="Street-following route (with `geometry=route`)."
    )


class SnapPublic(BaseModel):
    distance_m: float = Field(description="Straight distance (m) from the point to its street.")


class NearestAnswer(BaseModel):
    lon: float
    lat: float
    mode: TravelMode
    industry: str | None
    k: int
    crs: Crs = Crs.WGS84
    snap: SnapPublic
    results: list[NearestPublic]


class PointCreate(_Strict):
    lon: Lon
    lat: Lat
    id: Id | None = Field(default=None, description="Echoed back to match answers to points.")


class NearestBatchCreate(_Strict):
    """Up to the server's batch limit of points, answered with one mode/industry/k."""

    points: list[PointCreate] = Field(min_length=1)
    mode: TravelMode = TravelMode.WALK
    industry: IndustryParam = None
    k: int = Field(default=1, ge=1)
    crs: Crs = Field(default=Crs.WGS84, description=CRS_DESCRIPTION)


class NearestBrief(BaseModel):
    service_point_id: str
    travel_time_s: float
    distance_m: float


class NearestBatchItem(BaseModel):
    index: int
    id: str | None
    snap_distance_m: float | None
    error: str | None = Field(
        default=None, description="Why the point has no answer (e.g. outside the network area)."
    )
    nearest: list[NearestBrief]


class NearestBatchAnswer(BaseModel):
    mode: TravelMode
    industry: str | None
    k: int
    crs: Crs = Crs.WGS84
    results: list[NearestBatchItem]


# -- routes, plan ---------------------------------------------------------------------------


class StopPublic(BaseModel):
    seq: int
    kind: str
    task_id: str | None
    name: str | None
    lon: float | None
    lat: float | None
    arrival: str | None = Field(description="HH:MM (rounded down to the minute).")
    departure: str | None = Field(description="HH:MM (rounded down to the minute).")
    arrival_s: int = Field(description="Seconds since midnight.")
    start_s: int = Field(description="Seconds since midnight; after `arrival_s` when waiting.")
    departure_s: int = Field(description="Seconds since midnight.")
    done: bool = Field(description="Marked done through the API.")


class VolunteerRoutePublic(BaseModel):
    volunteer_id: str
    name: str | None
    date: dt.date
    travel_time_s: float | None
    distance_m: float | None
    stops: list[StopPublic]
    geometry: LineString | None

    @classmethod
    def from_record(
        cls, route: VolunteerRoute, day: dt.date, done: set[str]
    ) -> VolunteerRoutePublic:
        """The public view of a route record (:mod:`planner.daily.record`) on `day`."""
        stops = [
            StopPublic(
                seq=k,
                kind=s.kind.value,
                task_id=s.task_id,
                name=s.name,
                lon=s.lon,
                lat=s.lat,
                arrival=format_hhmm(s.arrival_s),
                departure=format_hhmm(s.departure_s),
                arrival_s=s.arrival_s,
                start_s=s.start_s,
                departure_s=s.departure_s,
                done=s.task_id is not None and s.task_id in done,
            )
            for k, s in enumerate(route.stops)
        ]
        line = (
            LineString(type="LineString", coordinates=[list(p) for p in route.geometry])
            if len(route.geometry) >= 2
            else None
        )
        return cls(
            volunteer_id=route.volunteer_id,
            name=route.display_name,
            date=day,
            travel_time_s=round(route.travel_s, 1),
            distance_m=round(route.distance_m, 1),
            stops=stops,
            geometry=line,
        )


class PlanSummaryPublic(BaseModel):
    scenario: str
    title: str
    summary: dict[str, Any] = Field(description="Before/after crowd figures as planned.")


# -- writes ---------------------------------------------------------------------------------


class DemandCreate(_Strict):
    demand: int = Field(ge=0, le=1_000_000, description="Open positions (headcount).")
    note: str | None = Field(default=None, max_length=1000)


class DemandPublic(BaseModel):
    report_id: int
    employer_id: str
    demand: int
    note: str | None
    reported_at: dt.datetime


class TaskDoneCreate(_Strict):
    date: dt.date | None = Field(
        default=None, description="Route date (YYYY-MM-DD); default the latest planned date."
    )
    note: str | None = Field(default=None, max_length=1000)


class TaskDonePublic(BaseModel):
    volunteer_id: str
    task_id: str
    date: dt.date
    note: str | None
    done_at: dt.datetime
    created: bool = Field(description="False if the task had already been marked done.")


# -- health ---------------------------------------------------------------------------------


class HealthPublic(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyPublic(BaseModel):
    status: Literal["ready"] = "ready"
    scenario: str
    modes: list[TravelMode]
    service_points: int
    database: str
    version: str | None = Field(
        default=None, description="Version of the published plan being served."
    )


class ErrorPublic(BaseModel):
    detail: str | list[dict[str, Any]]


# -- audit ----------------------------------------------------------------------------------


class AuditEntryPublic(BaseModel):
    entry_id: int
    at: dt.datetime
    key_id: str | None = Field(description="Key id (`bootstrap` for DIANMIAN_API_KEY).")
    role: str
    address: str | None
    method: str
    path: str
    status: int
    detail: str | None = Field(description="Request body (truncated).")


class AuditPublic(BaseModel):
    entries: list[AuditEntryPublic]
