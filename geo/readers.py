"""Read one input layer (a table of points) from CSV, GeoJSON, GeoPackage or Excel.

:func:`read_layer` returns a GeoDataFrame in EPSG:4326 with

* ``_row``: the row the record came from as the user sees it, so that every later message
  can name it: for CSV and Excel the spreadsheet row (the header is row 1, so the first
  record is row 2, as Excel/WPS show it), for GeoJSON the 1-based feature number, for
  GeoPackage the feature id ``fid`` (what QGIS shows);
* the file's attribute columns, named by the layer's column names when the header is one
  of a column's aliases (``名称`` -> ``name``, see :attr:`geo.layers.Column.aliases`),
  otherwise stripped and lower-cased (``ID`` -> ``id``); a range column (``营业时间``
  ``08:00-18:00``) is split into its two time columns; values as read (text from CSV, typed
  cells from Excel/GeoPackage); :mod:`geo.validation` checks and normalises them;
* ``_read_problem``: why a row's point could not be read (``None`` if it could);
* ``geometry``: the point, converted to WGS-84 from the file's `datum`; ``None`` if missing.

CSV and Excel carry points as longitude/latitude columns (``lon``/``lat`` or a common alias,
see :data:`LON_ALIASES`), GeoJSON and GeoPackage as point geometry in any CRS (reprojected to
EPSG:4326; a missing CRS is taken as EPSG:4326).

``frame.attrs["headers"]`` maps each column name to the header the file used, so that
messages name the column as the user wrote it (``missing `营业时间```).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .crs import Datum, parse_datum, to_wgs84
from .errors import InputError, Problem
from .layers import SPECS, LayerName, LayerSpec, header_key

logger = logging.getLogger(__name__)

ROW = "_row"
"""Column holding each record's 1-based source row."""

READ_PROBLEM = "_read_problem"
"""Column holding why a record's point could not be read (``None`` if it could)."""

LON_ALIASES: tuple[str, ...] = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标")
"""Accepted longitude column names (case- and width-insensitive, a trailing ``(unit)`` such as
``经度(GCJ-02)`` ignored), in order of preference."""

LAT_ALIASES: tuple[str, ...] = ("lat", "latitude", "y", "纬度", "北纬", "y坐标")
"""Accepted latitude column names (as :data:`LON_ALIASES`), in order of preference."""

HEADERS = "headers"
"""Key of ``frame.attrs`` mapping column names to the file's own headers."""

_RANGE_SEPARATOR = re.compile(r"\s*(?:-|~|～|－|—|–|至|到)\s*")

TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")
VECTOR_SUFFIXES: tuple[str, ...] = (".geojson", ".json", ".gpkg")
SUPPORTED_SUFFIXES: tuple[str, ...] = TABLE_SUFFIXES + VECTOR_SUFFIXES

# Encodings tried in turn for CSV: Excel in a Chinese locale saves CSV as GBK/GB18030.
_CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def layer_source(path: str | Path, layer: str | None = None) -> str:
    """How problems name a file (and, for GeoPackage/Excel, the layer or sheet in it)."""
    return f"{path}" if layer is None else f"{path} (layer `{layer}`)"


def read_layer(
    path: str | Path,
    layer_name: LayerName | str,
    *,
    layer: str | None = None,
    datum: Datum | str = "wgs84",
    strict: bool = True,
) -> gpd.GeoDataFrame:
    """Read the points of one input layer into a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    path
        A ``.csv``, ``.xlsx``, ``.geojson``/``.json`` or ``.gpkg`` file.
    layer_name
        Which of the five layers this is; the default GeoPackage layer name.
    layer
        GeoPackage layer or Excel sheet to read. Default: for GeoPackage the layer called
        `layer_name` (or the only layer), for Excel the first sheet.
    datum
        Datum of the coordinates in the file (``wgs84``, ``gcj02`` or ``bd09``); points are
        converted to WGS-84.
    strict
        If true, rows whose point cannot be read (non-point geometry, unparseable
        coordinates) raise :class:`InputError`; if false they are kept with a reason in
        ``_read_problem`` for :func:`geo.validation.validate_layer` to report with the rest.

    Raises
    ------
    InputError
        If the file is missing, of an unsupported type or unreadable, lacks coordinate
        columns, or (with `strict`) has rows whose point cannot be read.
    """
    path = Path(path)
    name = LayerName(layer_name)
    source = layer_source(path, layer)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        hint = " (save it as .xlsx)" if suffix == ".xls" else ""
        msg = (
            f"unsupported file type `{suffix or path.name}`{hint}; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
        raise InputError([Problem(source, None, msg)])
    if not path.is_file():
        raise InputError([Problem(source, None, "file does not exist")])
    d = parse_datum(datum)

    spec = SPECS[name]
    if suffix in VECTOR_SUFFIXES:
        layer = _pick_gpkg_layer(path, name, layer) if suffix == ".gpkg" else None
        source = layer_source(path, layer)
        frame, headers = _read_vector(path, layer, source, spec)
    elif suffix == ".csv":
        frame, headers = _read_csv(path, source, spec)
    else:
        frame, headers = _read_xlsx(path, layer, source, spec)

    if not isinstance(frame, gpd.GeoDataFrame):
        # A table without geometry (CSV, Excel, or a non-spatial GeoPackage table).
        frame = _points_from_columns(frame, source, headers)
    frame = _split_ranges(frame, spec, headers)
    frame = _points_only(frame)
    frame = _convert_datum(frame, d)

    problems = [
        Problem(source, int(r), str(reason))
        for r, reason in zip(frame[ROW], frame[READ_PROBLEM], strict=True)
        if reason is not None
    ]
    if strict and problems:
        raise InputError(problems)
    frame.attrs["source"] = source  # the layer actually read, for messages
    frame.attrs[HEADERS] = headers
    logger.info("read %d %s from %s", len(frame), name.value, source)
    return frame


# ---------------------------------------------------------------------------------------------
# Formats


def _pick_gpkg_layer(path: Path, name: LayerName, layer: str | None) -> str:
    import pyogrio

    try:
        available = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL raises DataSourceError & co. for corrupt files
        msg = f"cannot read GeoPackage: {exc}"
        raise InputError([Problem(layer_source(path, layer), None, msg)]) from exc
    wanted = layer if layer is not None else name.value
    if wanted in available:
        return wanted
    if layer is None and len(available) == 1:
        return available[0]
    msg = f"no layer `{wanted}` in the GeoPackage; layers: {', '.join(available) or 'none'}"
    raise InputError([Problem(str(path), None, msg)])


def _read_vector(
    path: Path, layer: str | None, source: str, spec: LayerSpec
) -> tuple[pd.DataFrame, dict[str, str]]:
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio", fid_as_index=True)
    except Exception as exc:  # GDAL/pyogrio raise many types for malformed files
        msg = f"cannot read file: {type(exc).__name__}: {exc}"
        raise InputError([Problem(source, None, msg)]) from exc
    # GeoPackage feature ids are what users see in QGIS; GeoJSON fids are 0-based positions.
    fid = frame.index.to_numpy()
    rows = fid if path.suffix.lower() == ".gpkg" else np.arange(1, len(frame) + 1)
    frame = frame.reset_index(drop=True)
    frame, headers = _normalise_columns(frame, source, spec)
    frame.insert(0, ROW, np.asarray(rows, dtype=np.int64))
    if isinstance(frame, gpd.GeoDataFrame):
        if frame.crs is None:
            logger.warning("%s has no CRS; assuming EPSG:4326", source)
            frame = frame.set_crs("EPSG:4326")
        elif pyproj.CRS(frame.crs).to_epsg() != 4326:
            logger.info("%s: reprojecting from %s to EPSG:4326", source, frame.crs)
            frame = frame.to_crs("EPSG:4326")
    return frame, headers


def _read_csv(path: Path, source: str, spec: LayerSpec) -> tuple[pd.DataFrame, dict[str, str]]:
    last: Exception | None = None
    for encoding in _CSV_ENCODINGS:
        try:
            # All cells as text: ids keep leading zeros and validation sees what was written.
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,  # keep positions equal to data rows
                encoding=encoding,
            )
            break
        except UnicodeDecodeError as exc:
            last = exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            msg = f"cannot parse CSV: {exc}"
            raise InputError([Problem(source, None, msg)]) from exc
    else:
        msg = f"cannot decode CSV as UTF-8 or GB18030: {last}"
        raise InputError([Problem(source, None, msg)])
    return _finish_table(frame.astype(object), source, spec)


def _read_xlsx(
    path: Path, sheet: str | None, source: str, spec: LayerSpec
) -> tuple[pd.DataFrame, dict[str, str]]:
    try:
        frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object)
    except ValueError as exc:
        if sheet is not None and "not found" in str(exc):
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            msg = f"no sheet `{sheet}` in the workbook; sheets: {', '.join(book.sheetnames)}"
            book.close()
            raise InputError([Problem(str(path), None, msg)]) from exc
        msg = f"cannot read Excel file: {exc}"
        raise InputError([Problem(source, None, msg)]) from exc
    except Exception as exc:  # zipfile/openpyxl errors for corrupt workbooks
        msg = f"cannot read Excel file: {type(exc).__name__}: {exc}"
        raise InputError([Problem(source, None, msg)]) from exc
    return _finish_table(frame, source, spec)


def _finish_table(
    frame: pd.DataFrame, source: str, spec: LayerSpec
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Number the rows as a spreadsheet does (header = row 1), normalise headers, drop
    wholly empty rows (blank lines)."""
    frame, headers = _normalise_columns(frame.reset_index(drop=True), source, spec)
    frame.insert(0, ROW, np.arange(2, len(frame) + 2, dtype=np.int64))
    data = frame.drop(columns=[ROW])
    blank = np.ones(len(frame), dtype=bool)
    for name in data.columns:  # only rows still blank so far need a look at the next column
        candidates = np.flatnonzero(blank)
        if candidates.size == 0:
            break
        blank[candidates] = _blank_cells(data[name].iloc[candidates])
    if blank.any():
        logger.debug("%s: ignoring %d blank row(s)", source, int(blank.sum()))
    return frame.loc[~blank].reset_index(drop=True), headers


def _blank_cells(column: pd.Series) -> np.ndarray:
    """True where a cell is empty: missing, or text of only whitespace."""
    empty: np.ndarray = column.isna().to_numpy()
    if pd.api.types.infer_dtype(column, skipna=True) == "string":
        text: np.ndarray = column.fillna("").str.strip().eq("").to_numpy()
    else:
        text = np.array([isinstance(v, str) and not v.strip() for v in column], dtype=bool)
    blank: np.ndarray = empty | text  # typed: numpy's `|` on bare arrays is Any to mypy
    return blank


def _normalise_columns(
    frame: pd.DataFrame, source: str, spec: LayerSpec
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Name columns by the spec (aliases) or stripped and lower-cased; two columns that then
    collide are an error. Also returns column name -> the file's header."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    known = spec.headers()
    names = [
        c if c == geometry else known.get(header_key(c), str(c).strip().lower())
        for c in frame.columns
    ]
    seen: dict[str, Any] = {}
    problems = []
    for original, new in zip(frame.columns, names, strict=True):
        if new in seen:
            msg = f"columns {seen[new]!r} and {original!r} both mean `{new}`"
            problems.append(Problem(source, None, msg))
        seen[new] = original
    if problems:
        raise InputError(problems)
    frame.columns = pd.Index(names)
    return frame, {new: str(original).strip() for new, original in seen.items()}


# ---------------------------------------------------------------------------------------------
# Points


def _find_column(columns: pd.Index, aliases: tuple[str, ...]) -> str | None:
    present = {header_key(c): str(c) for c in columns}
    return next((present[a] for a in aliases if a in present), None)


def _points_from_columns(
    frame: pd.DataFrame, source: str, headers: dict[str, str]
) -> gpd.GeoDataFrame:
    """Build point geometry from longitude/latitude columns (degrees)."""
    lon_col = _find_column(frame.columns, LON_ALIASES)
    lat_col = _find_column(frame.columns, LAT_ALIASES)
    problems = []
    for col, aliases in ((lon_col, LON_ALIASES), (lat_col, LAT_ALIASES)):
        if col is None:
            msg = f"missing column `{aliases[0]}` (also accepted: {', '.join(aliases[1:])})"
            problems.append(Problem(source, None, msg))
    if problems or lon_col is None or lat_col is None:
        raise InputError(problems)

    headers["lon"], headers["lat"] = headers.get(lon_col, lon_col), headers.get(lat_col, lat_col)
    lon_raw, lat_raw = frame[lon_col], frame[lat_col]
    lon = pd.to_numeric(lon_raw, errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(lat_raw, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    reasons = np.full(len(frame), None, dtype=object)
    for i in np.flatnonzero(~ok).tolist():
        parts = []
        for value, raw, col in (
            (lon[i], lon_raw.iloc[i], headers["lon"]),
            (lat[i], lat_raw.iloc[i], headers["lat"]),
        ):
            if not np.isfinite(value):
                parts.append(
                    f"missing `{col}`" if _blank(raw) else f"`{col}` {raw!r} is not a number"
                )
        reasons[i] = "; ".join(parts)
    geometry = np.full(len(frame), None, dtype=object)
    geometry[ok] = shapely.points(lon[ok], lat[ok])
    attrs = frame.drop(columns=[lon_col, lat_col])
    attrs[READ_PROBLEM] = pd.Series(reasons, index=frame.index, dtype=object)
    points = gpd.GeoSeries(geometry, index=frame.index, crs="EPSG:4326")
    return gpd.GeoDataFrame(attrs, geometry=points)


def _split_ranges(
    frame: gpd.GeoDataFrame, spec: LayerSpec, headers: dict[str, str]
) -> gpd.GeoDataFrame:
    """Split a range column (``营业时间`` ``08:00-18:00``) into its two time columns.

    Only when neither time column is present. A value that does not split in two goes to
    both columns unchanged, so that validation reports it once under the range's header.
    """
    for r in spec.ranges:
        if r.start in frame.columns or r.end in frame.columns:
            continue
        keys = {header_key(h) for h in r.headers}
        column = next((c for c in frame.columns if header_key(c) in keys), None)
        if column is None:
            continue
        start, end = [], []
        for value in frame[column]:
            text = "" if _blank(value) else str(value).strip()
            parts = _RANGE_SEPARATOR.split(text)
            a, b = (parts[0], parts[1]) if len(parts) == 2 else (text, text)
            start.append(a)
            end.append(b)
        frame = frame.drop(columns=[column])
        frame[r.start] = pd.Series(start, index=frame.index, dtype=object)
        frame[r.end] = pd.Series(end, index=frame.index, dtype=object)
        headers[r.start] = headers[r.end] = headers.pop(column, str(column))
    return frame


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return bool(pd.isna(value))


def _points_only(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep points (2-D; single-part multipoints unwrapped), flag every other geometry."""
    if READ_PROBLEM not in frame.columns:
        frame[READ_PROBLEM] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    geoms = frame.geometry.to_numpy()
    types = shapely.get_type_id(geoms)  # -1 for None
    single_multi = (types == shapely.GeometryType.MULTIPOINT) & (
        shapely.get_num_geometries(geoms) == 1
    )
    if single_multi.any():  # QGIS often stores point layers as MultiPoint
        geoms = geoms.copy()
        geoms[single_multi] = shapely.get_geometry(geoms[single_multi], 0)
        types = shapely.get_type_id(geoms)
    bad = (types != shapely.GeometryType.POINT) & (types != -1)
    bad &= ~shapely.is_empty(geoms)
    reasons = frame[READ_PROBLEM].to_numpy(dtype=object).copy()
    for i in np.flatnonzero(bad):
        reasons[i] = f"geometry is a {geoms[i].geom_type}; only points are allowed"
    geoms = np.where(bad, None, geoms)
    geoms = shapely.force_2d(geoms)
    frame = frame.copy()
    frame[READ_PROBLEM] = pd.Series(reasons, index=frame.index, dtype=object)
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


def _convert_datum(frame: gpd.GeoDataFrame, datum: Datum) -> gpd.GeoDataFrame:
    """Convert in-range points from `datum` to WGS-84 (out-of-range ones stay for reporting)."""
    if datum is Datum.WGS84:
        return frame
    geoms = frame.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    x[present] = shapely.get_x(geoms[present])
    y[present] = shapely.get_y(geoms[present])
    ok = present & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
    lon, lat = to_wgs84(x[ok], y[ok], datum)
    geoms = geoms.copy()
    geoms[ok] = shapely.points(lon, lat)
    frame = frame.copy()
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs="EPSG:4326"))
