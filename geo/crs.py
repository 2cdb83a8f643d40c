"""Chinese map datums: GCJ-02 ("Mars coordinates") and BD-09 (Baidu) to and from WGS-84.

Coordinates copied from Chinese web maps are rarely WGS-84: Amap (Gaode), Tencent and
Google China use GCJ-02, Baidu uses BD-09. Both are deliberate, smooth offsets of a few
hundred metres, so points taken from those maps must be converted before they are placed on
an OpenStreetMap street network (which is WGS-84).

The forward formulas (WGS-84 -> GCJ-02 -> BD-09) are the widely published ones (e.g. the
open-source ``coordtransform`` libraries by wandergis and ``eviltransform`` by googollee).
Their inverses have no closed form; the usual one-step inverse is off by up to a few metres,
so :func:`gcj02_to_wgs84` and :func:`bd09_to_gcj02` solve ``forward(x) = target`` by fixed-point
iteration instead (the forward offset changes by far less than 1 % per degree, so each step
shrinks the error about a hundredfold) until the residual is below :data:`INVERSE_TOL_DEG`.

Outside mainland China (the usual rectangle :func:`out_of_china`) GCJ-02 equals WGS-84. The
BD-09 step is applied everywhere, as in ``coordtransform``.

All functions are vectorised: they take scalars or array-likes of longitudes and latitudes
in degrees and return a pair of float arrays of the broadcast shape (0-d for scalars). NaN
stays NaN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm (not the WGS-84 ellipsoid).
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

INVERSE_TOL_DEG = 1e-10
"""Stop iterating an inverse once ``|forward(x) - target|`` is below this (degrees, ~1e-5 m)."""

_MAX_ITER = 30


class Datum(StrEnum):
    """Datum of longitude/latitude pairs in an input file."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


DATUM_CODES: tuple[str, ...] = tuple(d.value for d in Datum)


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Fresh float copies of `lon`, `lat` broadcast to one shape."""
    lo, la = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lo.copy(), la.copy()


def _flat(
    func: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
) -> Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]:
    """Run `func` on flattened 1-d copies and give the results the inputs' broadcast shape."""

    def wrapper(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
        lo, la = _arrays(lon, lat)
        rlo, rla = func(lo.ravel(), la.ravel())
        return np.asarray(rlo).reshape(lo.shape), np.asarray(rla).reshape(lo.shape)

    wrapper.__name__ = func.__name__
    wrapper.__qualname__ = func.__qualname__
    wrapper.__doc__ = func.__doc__
    return wrapper


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where (`lon`, `lat`) lies outside the rectangle in which GCJ-02 applies.

    The rectangle 72.004..137.8347 E, 0.8293..55.8271 N is the rule every published
    GCJ-02 implementation uses. NaN counts as inside (and stays NaN when converted).
    """
    lo, la = _arrays(lon, lat)
    return (lo < 72.004) | (lo > 137.8347) | (la < 0.8293) | (la > 55.8271)


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 offset (degrees) to add to WGS-84 (`lon`, `lat`) inside China."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


@_flat
def wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude (degrees) to GCJ-02."""
    inside = ~out_of_china(lon, lat)
    dlon, dlat = _gcj_delta(lon[inside], lat[inside])
    lon[inside] += dlon  # in place: @_flat hands over fresh copies
    lat[inside] += dlat
    return lon, lat


@_flat
def gcj02_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude (degrees) to BD-09."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The published one-step inverse of :func:`gcj02_to_bd09` (starting guess)."""
    x = x - 0.0065
    y = y - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: FloatArray,
    lat: FloatArray,
    guess_lon: FloatArray,
    guess_lat: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(x) = (lon, lat)`` by fixed-point iteration from the guess.

    Only the points that have not converged are recomputed in each round.
    """
    x, y = guess_lon.copy(), guess_lat.copy()
    active = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        fx, fy = forward(x[active], y[active])
        rx = fx - lon[active]
        ry = fy - lat[active]
        x[active] -= rx
        y[active] -= ry
        active = active[np.maximum(np.abs(rx), np.abs(ry)) > INVERSE_TOL_DEG]
    if active.size:
        logger.warning("datum inverse did not converge for %d point(s)", active.size)
    return x, y


@_flat
def gcj02_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS-84, exact to ~1e-5 m.

    Points outside China (:func:`out_of_china`, tested on the GCJ-02 input) are unchanged.
    """
    inside = ~out_of_china(lon, lat)
    tlo, tla = lon[inside], lat[inside]
    dlon, dlat = _gcj_delta(tlo, tla)
    # The one-step inverse (subtract the offset computed at the GCJ point) starts within a
    # few metres; the iteration removes the rest.
    wlo, wla = _invert(_gcj_delta_applied, tlo, tla, tlo - dlon, tla - dlat)
    lon[inside] = wlo  # in place: @_flat hands over fresh copies
    lat[inside] = wla
    return lon, lat


def _gcj_delta_applied(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS-84 -> GCJ-02 without the out-of-China test (the iteration stays inside)."""
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


@_flat
def bd09_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude (degrees) to GCJ-02 (iterative exact inverse)."""
    glo, gla = _bd09_to_gcj02_approx(lon, lat)
    return _invert(gcj02_to_bd09, lon, lat, glo, gla)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude (degrees) to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude (degrees) to WGS-84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def parse_datum(datum: Datum | str) -> Datum:
    """The :class:`Datum` named by `datum` (case, ``-`` and ``_`` ignored: ``"GCJ-02"`` works).

    Raises
    ------
    ValueError
        If `datum` is unknown; the message lists the allowed codes.
    """
    try:
        return Datum(str(datum).strip().lower().replace("-", "").replace("_", ""))
    except ValueError:
        msg = f"unknown `datum` {datum!r}; allowed: {', '.join(DATUM_CODES)}"
        raise ValueError(msg) from None


def to_wgs84(lon: ArrayLike, lat: ArrayLike, datum: Datum | str) -> tuple[FloatArray, FloatArray]:
    """Convert longitude/latitude (degrees) in `datum` (``wgs84``, ``gcj02``, ``bd09``) to WGS-84.

    Raises
    ------
    ValueError
        If `datum` is unknown (see :func:`parse_datum`).
    """
    d = parse_datum(datum)
    if d is Datum.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if d is Datum.BD09:
        return bd09_to_wgs84(lon, lat)
    return _arrays(lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, datum: Datum | str) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude (degrees) to `datum` (inverse of :func:`to_wgs84`)."""
    d = parse_datum(datum)
    if d is Datum.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if d is Datum.BD09:
        return wgs84_to_bd09(lon, lat)
    return _arrays(lon, lat)


def pick_metric_crs(area: Any) -> str:
    """EPSG code of a metric CRS (the UTM zone of the centre) for data in EPSG:4326.

    Parameters
    ----------
    area
        A GeoDataFrame/GeoSeries or shapely geometry in EPSG:4326, or bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees.
    """
    from .network import utm_crs  # network pulls in scipy/networkx; only needed here

    if isinstance(area, tuple | list | np.ndarray) and len(area) == 4:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in area)
    elif hasattr(area, "total_bounds"):
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in area.total_bounds)
    elif hasattr(area, "bounds"):
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in area.bounds)
    else:
        msg = f"`area` must be a geometry, GeoDataFrame or bounds tuple, got {type(area).__name__}"
        raise TypeError(msg)
    if not np.all(np.isfinite([min_lon, min_lat, max_lon, max_lat])):
        msg = "`area` is empty: its bounds are not finite"
        raise ValueError(msg)
    return utm_crs((min_lon + max_lon) / 2.0, (min_lat + max_lat) / 2.0)


def geometries_from_wgs84(geoms: Any, datum: Datum | str) -> Any:
    """Shapely geometries (array or single, EPSG:4326 degrees) with every vertex moved to
    `datum` (e.g. overlays for GCJ-02 tiles, or output files for Amap users)."""
    d = parse_datum(datum)
    if d is Datum.WGS84:
        return geoms

    def move(coords: FloatArray) -> FloatArray:
        lon, lat = from_wgs84(coords[:, 0], coords[:, 1], d)
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, move)


def frame_from_wgs84(frame: Any, datum: Datum | str) -> Any:
    """A copy of a GeoDataFrame in EPSG:4326 with its geometry moved to `datum` (the CRS
    stays EPSG:4326: GCJ-02 has no EPSG code; readers of the file must know)."""
    d = parse_datum(datum)
    if d is Datum.WGS84:
        return frame
    out = frame.to_crs("EPSG:4326") if frame.crs is not None else frame.copy()
    moved = geometries_from_wgs84(out.geometry.to_numpy(), d)
    return out.set_geometry(type(out.geometry)(moved, index=out.index, crs=out.crs))
