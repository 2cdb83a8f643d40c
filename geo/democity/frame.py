"""The local metric frame of the demo city and its conversion to WGS-84.

The city is laid out in metres east/north of its centre, a point in open sea in the South
China Sea (lon 115.5, lat 21.5, UTM zone 50N) so that it can never be mistaken for a real
town. A transverse Mercator projection centred there keeps distances true to well under
0.1 % across the whole region, so lengths computed from the final lon/lat agree with the
layout.
"""

from __future__ import annotations

import numpy as np
import pyproj

CENTRE_LON = 115.5
CENTRE_LAT = 21.5
UTM_CRS = "EPSG:32650"
"""UTM zone of the demo city (50N); what :func:`geo.network.utm_crs` picks for it."""

LOCAL_PROJ = (
    f"+proj=tmerc +lat_0={CENTRE_LAT} +lon_0={CENTRE_LON} +k=1 +x_0=0 +y_0=0 "
    "+ellps=WGS84 +units=m +no_defs"
)
COORD_DECIMALS = 7
"""Decimals kept in lon/lat (about 1 cm), so output is byte-stable across platforms."""

_TO_LONLAT = pyproj.Transformer.from_crs(LOCAL_PROJ, "EPSG:4326", always_xy=True)
_TO_LOCAL = pyproj.Transformer.from_crs("EPSG:4326", LOCAL_PROJ, always_xy=True)


def to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local metres to (lon, lat) degrees, rounded to :data:`COORD_DECIMALS`."""
    lon, lat = _TO_LONLAT.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.round(lon, COORD_DECIMALS), np.round(lat, COORD_DECIMALS)


def to_local(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) degrees to local metres east/north of the centre."""
    x, y = _TO_LOCAL.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


_GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Distance (m) on the WGS-84 ellipsoid between two sets of points (degrees).

    Agrees with distances in the UTM projection used for routing to about 0.01 % here,
    where a spherical great circle would be off by up to 0.5 % (north-south).
    """
    _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=float)
