"""OGC API - Features style access to the plan and city layers (GeoJSON, RFC 7946)."""

import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import shapely
import shapely.geometry
from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse

from api.collections import SPECS, Collection
from api.deps import StateDep, resolve_industry, unprocessable
from api.schemas import (
    CRS_DESCRIPTION,
    CollectionPublic,
    CollectionsPublic,
    Crs,
    Feature,
    FeatureCollection,
)
from api.settings import Settings
from geo.crs import geometries_from_wgs84, to_wgs84

GEOJSON = "application/geo+json"

CollectionName = StrEnum(  # type: ignore[misc]
    "CollectionName", {name.upper().replace("-", "_"): name for name in SPECS}
)
"""The collection names (an enum, so a wrong name is answered with the allowed ones)."""


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


def make_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/collections", tags=["collections"])
    max_page = settings.max_page

    @router.get("", response_model=CollectionsPublic, summary="Served collections")
    async def collections(state: StateDep, request: Request) -> dict[str, Any]:
        return {
            "collections": [_describe(c, request) for c in state.collections.values()],
            "links": [{"href": str(request.url), "rel": "self", "type": "application/json"}],
        }

    @router.get(
        "/{name}",
        response_model=CollectionPublic,
        summary="One collection",
        responses={404: {"description": "Collection not served by this scenario."}},
    )
    async def collection(
        state: StateDep, request: Request, name: Annotated[CollectionName, Path()]
    ) -> dict[str, Any]:
        return _describe(_get(state.collections, name), request)

    @router.get(
        "/{name}/items",
        response_model=FeatureCollection,
        response_class=GeoJSONResponse,
        summary="Features of a collection (GeoJSON FeatureCollection)",
        description=(
            "Filter by `bbox` (min lon, min lat, max lon, max lat; degrees) and, for "
            "collections with industries, by `industry`; page with `limit`/`offset`."
        ),
        responses={
            404: {"description": "Collection not served by this scenario."},
            422: {"description": "Invalid parameter (names it and the allowed values)."},
        },
    )
    async def items(
        state: StateDep,
        request: Request,
        name: Annotated[CollectionName, Path()],
        bbox: Annotated[
            str | None,
            Query(
                description="minLon,minLat,maxLon,maxLat (degrees, in `crs`)",
                examples=["115.4,21.4,115.6,21.6"],
                max_length=200,
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=max_page)] = 100,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
        industry: Annotated[
            str | None,
            Query(max_length=100, description="An industry of the scenario (code or label)."),
        ] = None,
        crs: Annotated[Crs, Query(description=CRS_DESCRIPTION)] = Crs.WGS84,
    ) -> GeoJSONResponse:
        coll = _get(state.collections, name)
        box = parse_bbox(bbox) if bbox is not None else None
        if box is not None and crs is not Crs.WGS84:
            (x0, x1), (y0, y1) = to_wgs84([box[0], box[2]], [box[1], box[3]], crs.value)
            box = (float(x0), float(y0), float(x1), float(y1))
        industry = resolve_industry(state, industry, ("query", "industry"))
        if industry is not None and coll.industries is None:
            with_industries = ", ".join(
                n for n, c in state.collections.items() if c.industries is not None
            )
            raise unprocessable(
                ("query", "industry"),
                f"`industry` filter does not apply to collection `{coll.name}`; "
                f"it applies to: {with_industries}",
            )
        hits = coll.select(bbox=box, industry=industry)
        page = hits[offset : offset + limit]
        links = [{"href": str(request.url), "rel": "self", "type": GEOJSON}]
        if offset + limit < hits.size:
            nxt = request.url.include_query_params(offset=offset + limit, limit=limit)
            links.append({"href": str(nxt), "rel": "next", "type": GEOJSON})
        if offset > 0:
            prev = request.url.include_query_params(offset=max(0, offset - limit), limit=limit)
            links.append({"href": str(prev), "rel": "prev", "type": GEOJSON})
        return GeoJSONResponse(
            {
                "type": "FeatureCollection",
                "features": [in_crs(coll.features[i], crs) for i in page.tolist()],
                "numberMatched": int(hits.size),
                "numberReturned": int(page.size),
                "timeStamp": datetime.now(UTC).isoformat(),
                "links": links,
            }
        )

    @router.get(
        "/{name}/items/{feature_id}",
        response_model=Feature,
        response_class=GeoJSONResponse,
        summary="One feature (GeoJSON Feature)",
        responses={404: {"description": "No such collection or feature."}},
    )
    async def item(
        state: StateDep,
        name: Annotated[CollectionName, Path()],
        feature_id: Annotated[str, Path(max_length=200)],
        crs: Annotated[Crs, Query(description=CRS_DESCRIPTION)] = Crs.WGS84,
    ) -> GeoJSONResponse:
        coll = _get(state.collections, name)
        feature = coll.get(feature_id)
        if feature is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"collection `{coll.name}` has no feature with id {feature_id!r}",
            )
        return GeoJSONResponse(in_crs(feature, crs))

    return router


def in_crs(feature: dict[str, Any], crs: Crs) -> dict[str, Any]:
    """`feature` (GeoJSON, WGS-84) with its geometry in `crs` (a copy when moved)."""
    if crs is Crs.WGS84 or feature.get("geometry") is None:
        return feature
    geom = geometries_from_wgs84(shapely.geometry.shape(feature["geometry"]), crs.value)
    geom = shapely.set_precision(geom, 1e-7)  # about 1 cm, as the WGS-84 answers
    return {**feature, "geometry": shapely.geometry.mapping(geom)}


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minLon,minLat,maxLon,maxLat`` in degrees; 422 naming `bbox` if malformed."""
    parts = text.split(",")
    problem = None
    values: list[float] = []
    if len(parts) != 4:
        problem = f"has {len(parts)} numbers, needs 4"
    else:
        try:
            values = [float(p) for p in parts]
        except ValueError:
            problem = "has a part that is not a number"
    if problem is None:
        minx, miny, maxx, maxy = values
        if not all(math.isfinite(v) for v in values):
            problem = "has a number that is not finite"
        elif not (-180 <= minx <= 180 and -180 <= maxx <= 180):
            problem = "has a longitude outside -180..180"
        elif not (-90 <= miny <= 90 and -90 <= maxy <= 90):
            problem = "has a latitude outside -90..90"
        elif minx > maxx or miny > maxy:
            problem = "has a minimum larger than its maximum"
    if problem is not None:
        raise unprocessable(
            ("query", "bbox"),
            f"`bbox` {text!r} {problem}; expected minLon,minLat,maxLon,maxLat in degrees",
        )
    return values[0], values[1], values[2], values[3]


def _get(collections: dict[str, Collection], name: str) -> Collection:
    coll = collections.get(str(name))
    if coll is None:
        served = ", ".join(collections)
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"collection `{name}` is not served by this scenario; served: {served}",
        )
    return coll


def _describe(coll: Collection, request: Request) -> dict[str, Any]:
    spec = SPECS[coll.name]
    base = str(request.url_for("items", name=coll.name))
    extent = coll.extent()
    return {
        "id": coll.name,
        "title": spec.title,
        "description": spec.description,
        "extent": {"spatial": {"bbox": [extent]} if extent else None},
        "numberOfFeatures": len(coll),
        "industryFilter": coll.industries is not None,
        "links": [
            {"href": base, "rel": "items", "type": GEOJSON, "title": spec.title},
        ],
    }
