"""Check input layers against their specs (:data:`geo.layers.SPECS`) and normalise them.

Every problem in a layer is collected (missing columns, bad values, bad or far-away points,
duplicate ids) and reported at once as one :class:`~geo.errors.InputError` whose
:class:`~geo.errors.Problem` entries name the file, the row as the user sees it (see
:mod:`geo.readers`) and the reason, with the column in backticks under the file's own
header (``missing `名称```). With ``skip_invalid=True`` rows with problems are dropped
instead, and the problems are returned so that the caller writes them down
(:func:`write_problem_report`); problems with the file itself (missing columns, no rows)
can never be skipped.

The clean frame has ``_row``, the spec's columns in spec order with normalised values, any
extra columns as read, and point ``geometry`` in EPSG:4326:

==============  ===========================================================
column kind     normalised value
==============  ===========================================================
``id``, text    stripped ``str`` (``1001.0`` from Excel becomes ``"1001"``)
``int``         ``int64`` >= 0
codes           code (``industry`` from the scenario's catalogue, ``mode``, ``site_kind``;
                labels and aliases such as ``纺织服装鞋业`` or ``步行`` become codes)
``industries``  codes joined by ``;``, duplicates removed
``time``        ``"HH:MM"`` (24 h)
``date``        ``"YYYY-MM-DD"``
==============  ===========================================================
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .crs import Datum, from_wgs84, out_of_china, pick_metric_crs, to_wgs84
from .errors import InputError, Problem
from .industries import DEFAULT_CATALOGUE, IndustryCatalogue, normalise_key
from .layers import (
    CODE_LABELS,
    SITE_KINDS,
    SITE_STATUSES,
    SPECS,
    VALUE_ALIASES,
    Column,
    LayerName,
    LayerSpec,
)
from .modes import MODE_CODES
from .readers import HEADERS, READ_PROBLEM, ROW
from .timeofday import format_hhmm

logger = logging.getLogger(__name__)

NetworkArea: TypeAlias = shapely.Geometry | tuple[float, float, float, float]
"""The street network's area in EPSG:4326: a polygon (e.g. a hull) or bounds
``(min_lon, min_lat, max_lon, max_lat)``."""

DEFAULT_MAX_OUTSIDE_M = 2000.0

MAX_INT = 10**12
"""Largest accepted value of an ``int`` column (far above any headcount or capacity; keeps
floats exact and ``int64`` safe)."""

Reasons = np.ndarray  # object array: None or a reason per row

_CODES: dict[str, tuple[str, ...]] = {
    "mode": MODE_CODES,
    "site_kind": tuple(SITE_KINDS),
    "site_status": SITE_STATUSES,
}
_VALUE_KEYS: dict[str, dict[str, str]] = {
    kind: {normalise_key(k): v for k, v in aliases.items()}
    for kind, aliases in VALUE_ALIASES.items()
}
_INDUSTRY_SEPARATORS = re.compile(r"[;,；，、\s]+")
_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


@dataclass(frozen=True, eq=False)
class LayerCheck:
    """Result of :func:`check_layer`.

    Attributes
    ----------
    frame
        Every row, normalised (values of bad cells are placeholders).
    problems
        Every problem, file-level ones first, then by row.
    bad
        Boolean mask over the rows of `frame`: True where the row has a problem.
    fatal
        True if there are file-level problems, which skipping rows cannot fix.
    """

    frame: gpd.GeoDataFrame
    problems: list[Problem]
    bad: np.ndarray
    fatal: bool

    def clean(self) -> gpd.GeoDataFrame:
        """The rows without problems, re-indexed from 0."""
        return self.frame.loc[~self.bad].reset_index(drop=True)


def validate_layer(
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec | LayerName | str,
    *,
    source: str,
    network_bounds: NetworkArea | None = None,
    max_outside_m: float = DEFAULT_MAX_OUTSIDE_M,
    skip_invalid: bool = False,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Check a layer read by :func:`geo.readers.read_layer` and return it normalised.

    Parameters
    ----------
    gdf
        The layer; ``_row`` (1-based source row) is used to name rows if present.
    spec
        The layer's spec, or its name.
    source
        How messages name the file (see :func:`geo.readers.layer_source`).
    network_bounds
        The street network's area (EPSG:4326); points farther outside it than
        `max_outside_m` (metres, measured in the local UTM zone) are problems.
    max_outside_m
        Largest accepted distance (metres) of a point outside `network_bounds`.
    skip_invalid
        Drop rows with problems instead of raising, and return their problems.
    industries
        The scenario's industry catalogue (``industry``/``industries`` values resolve
        against it).

    Returns
    -------
    clean, problems
        The valid rows normalised (see the module docstring), and the problems of the
        dropped rows (empty unless `skip_invalid`).

    Raises
    ------
    InputError
        Listing every problem, unless `skip_invalid` and all problems concern single rows;
        always for file-level problems and when no valid row would be left.
    """
    check = check_layer(
        gdf,
        spec,
        source=source,
        network_bounds=network_bounds,
        max_outside_m=max_outside_m,
        industries=industries,
    )
    problems = finish_checks([check], [source], skip_invalid=skip_invalid)
    return check.clean(), problems


def finish_checks(
    checks: list[LayerCheck], sources: list[str], *, skip_invalid: bool
) -> list[Problem]:
    """Raise once for the problems of several checked layers, or return them when skipping.

    Raises
    ------
    InputError
        If there is any problem and not `skip_invalid`, if any problem is file-level, or if
        skipping would leave a layer without rows.
    """
    problems = [p for c in checks for p in c.problems]
    if not problems:
        return []
    # The cause comes first: a layer none of whose rows would survive is said so plainly.
    emptied = [
        f"{source}: no valid rows left: every one of its {c.bad.size:,} rows has a problem "
        "(skipping invalid rows cannot help; the reasons follow)"
        for c, source in zip(checks, sources, strict=True)
        if c.bad.size and c.bad.all()
    ]
    if not skip_invalid or any(c.fatal for c in checks) or emptied:
        raise InputError(problems, causes=emptied)
    n_rows = int(sum(c.bad.sum() for c in checks))
    logger.warning("skipping %d invalid row(s) (%d problem(s))", n_rows, len(problems))
    return problems


def write_problem_report(problems: Iterable[Problem], path: str | Path) -> Path:
    """Write problems as CSV with columns ``source,row,reason`` (UTF-8 with BOM, for Excel).

    File-level problems have an empty ``row``. Parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source", "row", "reason"])
        for p in problems:
            writer.writerow([p.source, "" if p.row is None else p.row, p.reason])
    return path


# ---------------------------------------------------------------------------------------------
# Checking


def check_layer(
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec | LayerName | str,
    *,
    source: str,
    network_bounds: NetworkArea | None = None,
    max_outside_m: float = DEFAULT_MAX_OUTSIDE_M,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
) -> LayerCheck:
    """Check every row and column of a layer without raising (see :func:`validate_layer`)."""
    if not isinstance(spec, LayerSpec):
        spec = SPECS[LayerName(spec)]
    if max_outside_m < 0:
        msg = f"`max_outside_m` must be >= 0, got {max_outside_m}"
        raise ValueError(msg)
    headers: dict[str, str] = dict(gdf.attrs.get(HEADERS, {}))
    gdf = _in_wgs84(gdf).reset_index(drop=True)
    n = len(gdf)
    rows = gdf[ROW].to_numpy(dtype=np.int64) if ROW in gdf else np.arange(1, n + 1)
    file_problems: list[Problem] = []
    if n == 0:
        file_problems.append(Problem(source, None, "the layer has no rows"))

    # One list of reasons per row, filled column by column so messages keep spec order.
    reasons: list[list[str]] = [[] for _ in range(n)]
    values: dict[str, pd.Series] = {}
    col_bad: dict[str, np.ndarray] = {}
    checkers = _checkers(industries)
    for col in spec.columns:
        if col.name not in gdf.columns:
            if col.required:
                file_problems.append(Problem(source, None, _missing_column(col)))
            else:
                values[col.name] = pd.Series([col.default or ""] * n, dtype=object)
            continue
        shown = _shown(col, headers)  # messages name the column as the file does
        normalised, errs = checkers[col.kind](_as_text(gdf[col.name]), shown)
        values[col.name] = normalised
        col_bad[col.name] = _add(reasons, errs)

    for col in spec.columns:
        shown = _shown(col, headers)
        if col.kind == "id" and col.name in values:
            _add(reasons, _duplicates(values[col.name], rows, shown.name))
        if col.after and col.name in col_bad and col.after in col_bad:
            ok = ~(col_bad[col.name] | col_bad[col.after])
            _add(reasons, _not_after(values[col.name], values[col.after], ok, shown))
    lonlat = (headers.get("lon", "lon"), headers.get("lat", "lat"))
    _add(reasons, _check_points(gdf, network_bounds, max_outside_m, lonlat))

    problems = list(file_problems)
    for r, rs in zip(rows, reasons, strict=True):
        # A range column (营业时间) split in two may give the same reason twice.
        problems += [Problem(source, int(r), why) for why in dict.fromkeys(rs)]
    bad = np.array([bool(rs) for rs in reasons], dtype=bool)
    frame = _assemble(gdf, spec, values, rows)
    return LayerCheck(frame=frame, problems=problems, bad=bad, fatal=bool(file_problems))


def _shown(col: Column, headers: dict[str, str]) -> Column:
    """`col` named (and its ``after`` column) by the file's headers, for messages."""
    after = headers.get(col.after, col.after) if col.after else None
    return replace(col, name=headers.get(col.name, col.name), after=after)


def _missing_column(col: Column) -> str:
    also = f" (also accepted: {', '.join(col.aliases)})" if col.aliases else ""
    return f"missing column `{col.name}`{also}"


def _in_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        return gdf.set_crs("EPSG:4326")
    if pyproj.CRS(gdf.crs).to_epsg() != 4326:
        return gdf.to_crs("EPSG:4326")
    return gdf


def _add(reasons: list[list[str]], errs: Reasons) -> np.ndarray:
    """Append each row's reason (if any) and return the mask of rows that got one."""
    mask = np.asarray(pd.notna(errs), dtype=bool)
    for i in np.flatnonzero(mask):
        reasons[i].append(str(errs[i]))
    return mask


def _assemble(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, values: dict[str, pd.Series], rows: np.ndarray
) -> gpd.GeoDataFrame:
    data: dict[str, Any] = {ROW: rows}
    for col in spec.columns:
        if col.name in values:
            data[col.name] = values[col.name].to_numpy()
    skip = {ROW, READ_PROBLEM, gdf.geometry.name, *data}
    for name in gdf.columns:
        if name not in skip:
            data[name] = gdf[name].to_numpy()
    return gpd.GeoDataFrame(data, geometry=gdf.geometry.to_numpy(), crs="EPSG:4326")


# ---------------------------------------------------------------------------------------------
# Cell values


def _as_text(raw: pd.Series) -> pd.Series:
    """Cell values as stripped text (``""`` when empty), indexed 0..n-1."""
    raw = raw.reset_index(drop=True)
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        # Fast path for CSV, where every cell is text already.
        return raw.astype(object).where(raw.notna(), "").map(str).str.strip()
    return raw.map(_cell_text).astype(object)


def _cell_text(value: Any) -> str:
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        # Excel and GeoPackage store whole numbers as floats; 1001.0 means "1001".
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, dt.datetime):  # before date: datetime is a date subclass
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M" if value.second == 0 else "%H:%M:%S")
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value).strip()


def _missing(text: pd.Series, col: Column) -> np.ndarray:
    """Reason "missing" for empty cells of a required column."""
    errs = np.full(len(text), None, dtype=object)
    if col.required:
        errs[(text == "").to_numpy()] = f"missing `{col.name}`"
    return errs


def _check_text(text: pd.Series, col: Column) -> tuple[pd.Series, Reasons]:
    return text, _missing(text, col)


def _check_id(text: pd.Series, col: Column) -> tuple[pd.Series, Reasons]:
    errs = np.full(len(text), None, dtype=object)
    errs[(text == "").to_numpy()] = f"empty `{col.name}`"
    return text, errs


def _duplicates(ids: pd.Series, rows: np.ndarray, name: str) -> Reasons:
    errs = np.full(len(ids), None, dtype=object)
    present = (ids != "").to_numpy()
    dup = ids.duplicated(keep="first").to_numpy() & present
    if dup.any():
        first = pd.Series(rows[present], index=ids[present].to_numpy())
        first = first[~first.index.duplicated(keep="first")]
        for i in np.flatnonzero(dup):
            errs[i] = f"duplicate `{name}` {ids.iloc[i]!r} (also in row {first[ids.iloc[i]]})"
    return errs


def _check_int(text: pd.Series, col: Column) -> tuple[pd.Series, Reasons]:
    text = text.where(text != "", col.default or "")
    errs = _missing(text, col)
    num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    given = (text != "").to_numpy()
    whole = np.isfinite(num) & (np.floor(num) == num)
    for i in np.flatnonzero(given & ~whole):
        errs[i] = f"`{col.name}` {text.iloc[i]!r} is not a whole number"
    for i in np.flatnonzero(given & whole & (num < 0)):
        errs[i] = f"`{col.name}` {text.iloc[i]!r} is negative; must be >= 0"
    for i in np.flatnonzero(given & whole & (num > MAX_INT)):
        errs[i] = f"`{col.name}` {text.iloc[i]!r} is too large; must be <= {MAX_INT:,}"
    good = given & whole & (num >= 0) & (num <= MAX_INT)
    return pd.Series(np.where(good, num, 0).astype(np.int64)), errs


def _check_code(text: pd.Series, col: Column) -> tuple[pd.Series, Reasons]:
    allowed = col.choices or _CODES[col.kind]
    aliases = _VALUE_KEYS.get(col.kind, {})
    known = {normalise_key(c): c for c in allowed}

    def resolve(value: str) -> str:
        key = normalise_key(value)
        return known.get(key) or aliases.get(key) or key

    codes = text.map(resolve).where(text != "", col.default or "")
    errs = _missing(codes, col)
    unknown = ((codes != "") & ~codes.isin(allowed)).to_numpy()
    labels = CODE_LABELS.get(col.kind, {})
    listed = ", ".join(f"{c} ({labels[c]})" if c in labels else c for c in allowed)
    for i in np.flatnonzero(unknown):
        errs[i] = f"unknown `{col.name}` {text.iloc[i]!r}; allowed: {listed}"
    return codes, errs


def _check_industry(
    text: pd.Series, col: Column, *, catalogue: IndustryCatalogue
) -> tuple[pd.Series, Reasons]:
    """One industry per cell: code, label, alias or GB/T 4754 code of the catalogue."""
    resolved = {v: catalogue.resolve(v) for v in text.unique() if v}
    codes = text.map(lambda v: resolved.get(v) or "").astype(object)
    errs = _missing(text, col)
    for i in np.flatnonzero(((text != "") & (codes == "")).to_numpy()):
        errs[i] = f"unknown `{col.name}` {text.iloc[i]!r}; allowed: {catalogue.allowed()}"
    return codes, errs


def _check_industries(
    text: pd.Series, col: Column, *, catalogue: IndustryCatalogue
) -> tuple[pd.Series, Reasons]:
    """Several industries per cell, separated by ``;``, ``,``, ``、`` or spaces."""
    errs = _missing(text, col)
    # Parse each distinct value once: a layer has few distinct combinations of industries.
    parsed: dict[str, tuple[str, str | None]] = {}
    for value in text.unique():
        names = [c for c in _INDUSTRY_SEPARATORS.split(value) if c]
        if len(names) > 1 and catalogue.resolve(value) is not None:
            names = [value]  # a label with a space in it ("Food & beverage")
        codes = [catalogue.resolve(c) for c in names]
        unknown = [n for n, c in zip(names, codes, strict=True) if c is None]
        why = None
        if unknown:
            listed = ", ".join(repr(c) for c in unknown)
            why = f"unknown `{col.name}` {listed}; allowed: {catalogue.allowed()}"
        found = [c for c in codes if c is not None]
        parsed[value] = (";".join(dict.fromkeys(found)), why)  # ordered, no duplicates
    normalised = text.map(lambda v: parsed[v][0]).astype(object)
    reasons = text.map(lambda v: parsed[v][1]).to_numpy(dtype=object)
    has_reason = np.asarray(pd.notna(reasons), dtype=bool)
    errs[has_reason] = reasons[has_reason]
    return normalised, errs


def _check_time(text: pd.Series, col: Column) -> tuple[pd.Series, Reasons]:
    text = text.where(text != "", col.default or "")
    errs = _missing(text, col)
    normalised, good = _by_value(text, _parse_times)
    for i in np.flatnonzero((text != "").to_numpy() & ~good):
        errs[i] = f"`{col.name}` {text.iloc[i]!r} is not a time of day HH:MM (00:00-23:59)"
    return pd.Series(normalised, dtype=object), errs


def _check_date(text: pd.Series, col: Column) -> tuple[pd.Series, Reasons]:
    text = text.where(text != "", col.default or "")
    errs = _missing(text, col)
    normalised, good = _by_value(text, _parse_dates)
    for i in np.flatnonzero((text != "").to_numpy() & ~good):
        errs[i] = f"`{col.name}` {text.iloc[i]!r} is not a date YYYY-MM-DD"
    return pd.Series(normalised, dtype=object), errs


def _by_value(
    text: pd.Series, parse: Callable[[pd.Series], tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Apply `parse` to each distinct value once (times and dates repeat a lot)."""
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))
    if len(uniques) == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=bool)
    normalised, good = parse(pd.Series(uniques, dtype=object))
    return normalised[codes], good[codes]


def _parse_times(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``"HH:MM"`` (seconds dropped) and validity of ``H:MM``/``HH:MM[:SS]`` texts."""
    parts = values.str.extract(_TIME)
    hh = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
    mm = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float)
    ss = pd.to_numeric(parts[2], errors="coerce").fillna(0).to_numpy(dtype=float)
    good = (hh <= 23) & (mm <= 59) & (ss <= 59)  # NaN compares False
    normalised = np.array(
        [format_hhmm(3600 * h + 60 * m) if g else "" for h, m, g in zip(hh, mm, good, strict=True)],
        dtype=object,
    )
    return normalised, good


def _parse_dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``"YYYY-MM-DD"`` and validity of ``YYYY-M-D`` texts (``-``, ``/`` or ``.``)."""
    parts = values.str.extract(_DATE).apply(pd.to_numeric, errors="coerce")
    parts.columns = ["year", "month", "day"]
    when = pd.to_datetime(parts, errors="coerce")  # NaT for 2024-02-30 and non-matches
    good = when.notna().to_numpy()
    normalised = when.dt.strftime("%Y-%m-%d").where(when.notna(), "").to_numpy(dtype=object)
    return normalised, good


def _not_after(later: pd.Series, earlier: pd.Series, ok: np.ndarray, col: Column) -> Reasons:
    errs = np.full(len(later), None, dtype=object)
    # Zero-padded "HH:MM" strings compare like times.
    wrong = ok & (later != "").to_numpy() & (later <= earlier).to_numpy()
    for i in np.flatnonzero(wrong):
        errs[i] = f"`{col.name}` {later.iloc[i]} is not after `{col.after}` {earlier.iloc[i]}"
    return errs


Checker: TypeAlias = Callable[[pd.Series, Column], tuple[pd.Series, Reasons]]


def _checkers(catalogue: IndustryCatalogue) -> dict[str, Checker]:
    """The checker of each column kind; industries resolve against `catalogue`."""
    return {
        "id": _check_id,
        "text": _check_text,
        "int": _check_int,
        "industry": functools.partial(_check_industry, catalogue=catalogue),
        "mode": _check_code,
        "site_kind": _check_code,
        "site_status": _check_code,
        "industries": functools.partial(_check_industries, catalogue=catalogue),
        "time": _check_time,
        "date": _check_date,
    }


# ---------------------------------------------------------------------------------------------
# Points


def _check_points(
    gdf: gpd.GeoDataFrame,
    network_bounds: NetworkArea | None,
    max_outside_m: float,
    lonlat: tuple[str, str] = ("lon", "lat"),
) -> Reasons:
    n = len(gdf)
    errs = np.full(n, None, dtype=object)
    read = gdf[READ_PROBLEM].to_numpy(dtype=object) if READ_PROBLEM in gdf else errs.copy()
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    point = ~missing & (shapely.get_type_id(geoms) == shapely.GeometryType.POINT)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    x[point] = shapely.get_x(geoms[point])
    y[point] = shapely.get_y(geoms[point])
    finite = np.isfinite(x) & np.isfinite(y)
    in_range = finite & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
    has_read_problem = np.asarray(pd.notna(read), dtype=bool)
    for i in np.flatnonzero(has_read_problem | ~in_range).tolist():
        if has_read_problem[i]:
            errs[i] = str(read[i])
        elif missing[i]:
            errs[i] = "missing point (no geometry or coordinates)"
        elif not point[i]:
            errs[i] = f"geometry is a {geoms[i].geom_type}; only points are allowed"
        elif not finite[i]:
            errs[i] = "point has missing (NaN) coordinates"
        else:
            swapped = abs(y[i]) <= 180.0 and abs(x[i]) <= 90.0
            lon, lat = lonlat
            hint = f"; are `{lon}` and `{lat}` swapped?" if swapped else ""
            errs[i] = (
                f"`{lon}`/`{lat}` ({x[i]:g}, {y[i]:g}) out of range "
                f"(|lon| <= 180, |lat| <= 90){hint}"
            )
    in_range &= ~has_read_problem
    if network_bounds is not None and in_range.any():
        dist = distance_outside_m(x[in_range], y[in_range], network_bounds)
        far = dist > max_outside_m
        for k, d in zip(np.flatnonzero(in_range)[far].tolist(), dist[far], strict=True):
            errs[k] = (
                f"point lies {d:,.0f} m outside the street network's area "
                f"(limit {max_outside_m:,.0f} m)"
            )
    return errs


def distance_outside_m(lon: np.ndarray, lat: np.ndarray, area: NetworkArea) -> np.ndarray:
    """Distance (metres) from each point (EPSG:4326) to `area`; 0 inside it.

    Measured in the UTM zone of the area's centre. A bounds tuple is densified before
    projecting so its edges follow the meridians and parallels.
    """
    geom = shapely.box(*area) if isinstance(area, tuple | list) else area
    geom = shapely.segmentize(geom, 0.01)  # degrees; keeps projected edges faithful
    crs = pick_metric_crs(geom)
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    geom_m = shapely.transform(geom, lambda c: np.column_stack(to_metric.transform(*c.T)))
    px, py = to_metric.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(shapely.distance(shapely.points(px, py), geom_m), dtype=float)


# ---------------------------------------------------------------------------------------------
# Datum sanity check

DATUM_SAMPLE = 1000
"""Points per layer the datum check measures (evenly spread over the layer)."""

DATUM_MIN_POINTS = 5
"""Layers with fewer points are not judged (one point can sit anywhere)."""

DATUM_MIN_GAIN_M = 15.0
DATUM_MAX_RATIO = 0.5
"""Another datum is "markedly closer" when its median distance to the streets is at most
half the declared datum's and at least 15 m less. Addresses lie a few metres to tens of
metres off their street; the ~300-700 m GCJ-02 offset puts points at random against the
street grid, several times farther on the median, however dense the grid."""


@dataclass(frozen=True)
class DatumFinding:
    """A layer whose points sit markedly closer to the streets in another datum.

    Distances are medians (metres) from the layer's points to the nearest street segment.
    """

    layer: str
    source: str
    declared: Datum
    declared_m: float
    better: Datum
    better_m: float

    def __str__(self) -> str:
        names = {Datum.WGS84: "WGS-84", Datum.GCJ02: "GCJ-02", Datum.BD09: "BD-09"}
        return (
            f"{self.source}: points look like {names[self.better]}, not "
            f"{names[self.declared]}: median distance to the nearest street "
            f"{self.declared_m:,.0f} m as {self.declared.value}, {self.better_m:,.0f} m if read "
            f'as {self.better.value}; set `coordinates = "{self.better.value}"` on '
            f"`layers.{self.layer}` in scenario.toml if so"
        )


def street_distance_m(
    lon: np.ndarray, lat: np.ndarray, segments: shapely.STRtree, crs: str
) -> np.ndarray:
    """Distance (metres, in the metric `crs` of `segments`) from each point to the nearest
    segment of `segments` (see :func:`street_tree`)."""
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_metric.transform(np.asarray(lon, float), np.asarray(lat, float))
    points = shapely.points(x, y)
    index, dist = segments.query_nearest(points, return_distance=True, all_matches=False)
    out = np.full(len(points), np.inf)
    out[index[0]] = dist
    return out


def street_tree(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> shapely.STRtree:
    """Spatial index of straight street segments between nodes (`x`, `y`)[`u`] and [`v`]."""
    coords = np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1)
    return shapely.STRtree(shapely.linestrings(coords))


def check_datum(
    layer: str,
    frame: gpd.GeoDataFrame,
    declared: Datum,
    segments: shapely.STRtree,
    crs: str,
    *,
    source: str = "",
) -> DatumFinding | None:
    """Would reading `frame`'s file in another datum bring its points markedly closer to the
    streets? (A WGS-84 layer among GCJ-02 tables sits ~600 m off in China.)

    Parameters
    ----------
    layer
        The layer's name (for the message).
    frame
        The layer as validated: points in EPSG:4326, converted from `declared`.
    declared
        The datum the file was read with.
    segments, crs
        Streets (:func:`street_tree`) in the metric `crs`.
    """
    geoms = frame.geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if geoms.size < DATUM_MIN_POINTS:
        return None
    take = np.unique(np.linspace(0, geoms.size - 1, min(DATUM_SAMPLE, geoms.size)).astype(int))
    lon, lat = shapely.get_x(geoms[take]), shapely.get_y(geoms[take])
    if out_of_china(lon, lat).all():
        return None  # GCJ-02 equals WGS-84 there; BD-09 alone is not worth guessing
    raw_lon, raw_lat = from_wgs84(lon, lat, declared)  # the file's own numbers
    medians: dict[Datum, float] = {}
    for datum in (Datum.WGS84, Datum.GCJ02, Datum.BD09):
        x, y = to_wgs84(raw_lon, raw_lat, datum)
        medians[datum] = float(np.median(street_distance_m(x, y, segments, crs)))
    best = min(medians, key=lambda d: medians[d])
    gain = medians[declared] - medians[best]
    if (
        best is declared
        or gain < DATUM_MIN_GAIN_M
        or medians[best] > DATUM_MAX_RATIO * medians[declared]
    ):
        return None
    return DatumFinding(layer, source or layer, declared, medians[declared], best, medians[best])
