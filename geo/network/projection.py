"""The metric CRS a network is prepared in: the UTM zone of its centre, as pyproj finds it."""

from __future__ import annotations

import numpy as np
import pyproj
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info


def utm_crs(lon: float, lat: float) -> str:
    """EPSG code of the WGS-84 UTM zone containing (`lon`, `lat`) in degrees (EPSG:4326).

    The zone comes from the PROJ database (what ``geopandas.GeoSeries.estimate_utm_crs``
    uses), asked for the single point. On a zone boundary the eastern zone is taken, and the
    northern hemisphere for ``lat >= 0``.

    >>> utm_crs(113.75, 23.02)
    'EPSG:32649'
    >>> utm_crs(24.94, 60.17)
    'EPSG:32635'
    """
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -80 <= lat <= 84):
        msg = f"`lon`/`lat` ({lon}, {lat}) outside the UTM range"
        raise ValueError(msg)
    found = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )
    prefix = "326" if lat >= 0 else "327"
    codes = [int(c.code) for c in found if c.auth_name == "EPSG" and c.code.startswith(prefix)]
    if not codes:  # the PROJ database covers -180..180, -80..84; kept for a clear message
        msg = f"no UTM zone found for ({lon}, {lat})"
        raise ValueError(msg)
    return f"EPSG:{max(codes)}"


def to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[str, pyproj.Transformer]:
    """The UTM CRS of the median of `lon`/`lat` (degrees) and a transformer into it."""
    crs = utm_crs(float(np.median(lon)), float(np.median(lat)))
    return crs, pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
