"""A scenario folder: ``scenario.toml``, the five input layers and the street network.

:meth:`Scenario.load` parses and checks ``scenario.toml``, reporting every problem at once and
naming the key; :func:`load_layers` reads and validates all five layers, again collecting
the problems of every layer before raising once.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd

from .crs import DATUM_CODES, Datum, parse_datum, pick_metric_crs
from .errors import InputError, ScenarioError
from .industries import DEFAULT_CATALOGUE, PALETTE, IndustryCatalogue, IndustryInfo
from .layers import SPECS, LayerName
from .readers import SUPPORTED_SUFFIXES, layer_source, read_layer
from .staffing import StaffingParams
from .validation import LayerCheck, NetworkArea, check_layer, finish_checks, write_problem_report

logger = logging.getLogger(__name__)

__all__ = [
    "LayerSource",
    "MapSettings",
    "OutputSettings",
    "PlanningParams",
    "Scenario",
    "load_layers",
    "pick_metric_crs",
]

SCENARIO_FILE = "scenario.toml"
NETWORK_SUFFIXES: tuple[str, ...] = (".graphml", ".osm", ".xml", ".pbf")
"""``[network] source`` values ending like this are files; anything else is a place name."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KNOWN_SECTIONS = (
    "scenario",
    "network",
    "layers",
    "planning",
    "map",
    "industries",
    "output",
    "privacy",
    "staffing",
)


SITING_MODELS = ("staffed", "capacitated", "pmedian", "coverage", "min_points")
"""``planning.model`` values: staffed siting (default: which points open and how many staff
each gets, peak waits bounded; see ``[staffing]``), capacitated p-median, p-median, maximal
coverage, and the fewest points that put ``coverage_share`` of the demand within
``max_travel_min``. Every model's points are then staffed from the pool."""


@dataclass(frozen=True)
class PlanningParams:
    """Planner parameters from ``[planning]`` (all optional).

    Parameters
    ----------
    max_snap_m
        Largest distance (metres) between a point and the street network: points farther
        outside the network's area are input errors, and snapping refuses farther points.
    model
        Siting model, one of :data:`SITING_MODELS`.
    n_points
        Number of new service points to open (not used by ``min_points``).
    max_travel_min
        Longest acceptable trip to a service point (minutes, by the person's own mode);
        also the coverage limit. Seekers with no point within it go to the central market.
    coverage_share
        ``min_points``: share of demand (0-1] that must be within ``max_travel_min``.
    visit_rate
        Share of registered seekers who visit a service point on a given day.
    employer_visit_rate
        Visits per employer per day (reporting demand, interviews).
    opens, closes
        Opening hours of service points ("HH:MM").
    service_min
        Mean time (minutes) staff spend per visitor.
    staff_per_point
        Staff at each service point (Erlang-C waiting time is reported for this number).
    target_wait_min
        Mean wait (minutes) used to compute the staff needed.
    cell_m
        Size (m) of the hexagons demand is aggregated to for siting and reporting.
    time_limit_s
        Time budget of the siting solver (seconds).
    """

    max_snap_m: float = 2000.0
    model: str = "staffed"
    n_points: int = 40
    max_travel_min: float = 45.0
    coverage_share: float = 0.9
    visit_rate: float = 0.08
    employer_visit_rate: float = 0.2
    opens: str = "09:00"
    closes: str = "17:00"
    service_min: float = 12.0
    staff_per_point: int = 3
    target_wait_min: float = 15.0
    cell_m: float = 400.0
    time_limit_s: float = 20.0

    def __post_init__(self) -> None:
        errors: list[str] = []
        numbers = {
            # name: (lowest allowed, highest allowed, whole number?)
            "max_snap_m": (1e-9, math.inf, False),
            "n_points": (1, 100_000, True),
            "max_travel_min": (1.0, 24 * 60.0, False),
            "coverage_share": (1e-9, 1.0, False),
            "visit_rate": (0.0, 1.0, False),
            "employer_visit_rate": (0.0, 100.0, False),
            "service_min": (0.1, 8 * 60.0, False),
            "staff_per_point": (1, 10_000, True),
            "target_wait_min": (0.1, 24 * 60.0, False),
            "cell_m": (10.0, 50_000.0, False),
            "time_limit_s": (0.1, 86_400.0, False),
        }
        for name, (low, high, whole) in numbers.items():
            value = getattr(self, name)
            kind = "a whole number" if whole else "a number"
            not_number = isinstance(value, bool) or not isinstance(value, int | float)
            if not_number or (whole and not float(value).is_integer()):
                errors.append(f"`{name}` must be {kind}, got {value!r}")
            elif not (math.isfinite(value) and low <= value <= high):
                errors.append(f"`{name}` must be between {low:g} and {high:g}, got {value!r}")
            else:
                object.__setattr__(self, name, int(value) if whole else float(value))
        if self.model not in SITING_MODELS:
            errors.append(f"`model` {self.model!r} is unknown; allowed: {', '.join(SITING_MODELS)}")
        hours = []
        for name in ("opens", "closes"):
            value = getattr(self, name)
            match = re.fullmatch(r"([01]?\d|2[0-4]):([0-5]\d)", str(value))
            if match is None:
                errors.append(f"`{name}` must be a time of day HH:MM, got {value!r}")
            else:
                hours.append(int(match[1]) + int(match[2]) / 60.0)
        if len(hours) == 2 and hours[0] >= hours[1]:
            errors.append(f"`closes` ({self.closes}) must be after `opens` ({self.opens})")
        if errors:
            raise ValueError("; ".join(errors))

    @property
    def open_hours(self) -> tuple[float, float]:
        """Opening and closing time as hours since midnight."""
        h0, m0 = self.opens.split(":")
        h1, m1 = self.closes.split(":")
        return int(h0) + int(m0) / 60.0, int(h1) + int(m1) / 60.0


@dataclass(frozen=True)
class MapSettings:
    """Map background from ``[map]``.

    Parameters
    ----------
    tiles
        ``"none"`` (plain background, for synthetic cities), ``"osm"`` (OpenStreetMap), or
        a tile URL template with ``{z}``, ``{x}`` and ``{y}``.
    attribution
        Attribution shown on the map; required for a custom tile URL.
    coordinates
        Datum of the tiles: ``wgs84`` (OpenStreetMap and most services) or ``gcj02`` (Amap,
        Tencent: every overlay is shifted to GCJ-02 so that it sits on their streets).
    """

    tiles: str = "none"
    attribution: str = ""
    coordinates: Datum = Datum.WGS84

    def __post_init__(self) -> None:
        if not isinstance(self.tiles, str) or not isinstance(self.attribution, str):
            msg = "`tiles` and `attribution` must be text"
            raise ValueError(msg)
        object.__setattr__(self, "coordinates", _datum_value(self.coordinates, ("wgs84", "gcj02")))
        if self.tiles in ("none", "osm"):
            if self.coordinates is not Datum.WGS84:
                msg = f"`coordinates` = {self.coordinates.value!r} needs a GCJ-02 `tiles` URL"
                raise ValueError(msg)
            return
        if not all(k in self.tiles for k in ("{z}", "{x}", "{y}")):
            msg = (
                f"`tiles` must be 'none', 'osm' or a URL template with {{z}}, {{x}} and {{y}}, "
                f"got {self.tiles!r}"
            )
            raise ValueError(msg)
        if not self.attribution.strip():
            msg = "`attribution` is required for a custom `tiles` URL"
            raise ValueError(msg)


@dataclass(frozen=True)
class OutputSettings:
    """What ``[output]`` asks of the written files.

    Parameters
    ----------
    coordinates
        ``wgs84`` (default) or ``gcj02``: with ``gcj02`` every output layer is also written
        in GCJ-02 under ``out/<scenario>/gcj02/`` for Amap/Tencent users (the files maps
        and the API read stay WGS-84).
    """

    coordinates: Datum = Datum.WGS84

    def __post_init__(self) -> None:
        object.__setattr__(self, "coordinates", _datum_value(self.coordinates, ("wgs84", "gcj02")))


@dataclass(frozen=True)
class PrivacySettings:
    """What ``[privacy]`` allows to be published.

    Parameters
    ----------
    min_count
        Smallest count of people published in any aggregate (seeker cells and their
        breakdowns); smaller counts are suppressed (see :mod:`planner.disclosure`).
    volunteer_homes
        ``true`` publishes volunteers' routes from and to their homes on the maps; by default
        published routes start and end at the volunteer's service point (home legs removed).
    """

    min_count: int = 5
    volunteer_homes: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int):
            msg = f"`min_count` must be a whole number, got {self.min_count!r}"
            raise ValueError(msg)
        if self.min_count < 1:
            msg = f"`min_count` must be at least 1, got {self.min_count}"
            raise ValueError(msg)
        if not isinstance(self.volunteer_homes, bool):
            msg = f"`volunteer_homes` must be true or false, got {self.volunteer_homes!r}"
            raise ValueError(msg)


def _datum_value(value: object, allowed: tuple[str, ...]) -> Datum:
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        msg = f"`coordinates` {value!r} is unknown; allowed: {', '.join(allowed)}"
        raise ValueError(msg)
    return Datum(value.strip().lower())


@dataclass(frozen=True)
class LayerSource:
    """Where one layer is stored: a file and, for GeoPackage/Excel, a layer or sheet.

    ``datum`` is the layer's own ``coordinates`` (``None``: the scenario's).
    """

    path: Path
    layer: str | None = None
    datum: Datum | None = None

    @property
    def source(self) -> str:
        """How messages name this layer's file."""
        return layer_source(self.path, self.layer)


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario folder (see :meth:`load`).

    Attributes
    ----------
    folder
        The scenario folder (absolute).
    name
        Folder-safe name, used for ``out/<name>/``.
    title
        Human-readable title for maps and reports.
    synthetic
        True for an invented city (maps use a plain background).
    datum
        Datum of the points in the layer files (converted to WGS-84 when read), unless a
        layer gives its own (:meth:`layer_datum`).
    network_source
        The street network: an existing file (absolute path) or a place name for osmnx.
    layers
        Where each of the five layers is stored.
    planning
        Planner parameters.
    map
        Map background settings.
    industries
        The scenario's industries (``[industries]``; default the bureau's six and ``other``).
    output
        Output settings (``[output]``).
    privacy
        Disclosure settings (``[privacy]``).
    staffing
        Staff pool and arrival pattern of the service points (`[staffing]`).
    """

    folder: Path
    name: str
    title: str
    synthetic: bool
    datum: Datum
    network_source: Path | str
    layers: Mapping[LayerName, LayerSource]
    planning: PlanningParams = field(default_factory=PlanningParams)
    map: MapSettings = field(default_factory=MapSettings)
    industries: IndustryCatalogue = DEFAULT_CATALOGUE
    output: OutputSettings = field(default_factory=OutputSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    staffing: StaffingParams = field(default_factory=StaffingParams)

    @property
    def network_is_file(self) -> bool:
        return isinstance(self.network_source, Path)

    def layer_datum(self, name: LayerName | str) -> Datum:
        """Datum of one layer's file: its own ``coordinates`` or the scenario's."""
        return self.layers[LayerName(name)].datum or self.datum

    @classmethod
    def load(cls, folder: str | Path) -> Scenario:
        """Parse ``scenario.toml`` in `folder` (or the given ``.toml`` file).

        Raises
        ------
        ScenarioError
            If the folder or file is missing, the TOML is malformed, or any section or key
            is missing or wrong; the message lists every problem, naming each key.
        """
        path = Path(folder)
        toml_path = path if path.suffix.lower() == ".toml" else path / SCENARIO_FILE
        if not toml_path.parent.is_dir():
            msg = f"scenario folder `{toml_path.parent}` does not exist"
            raise ScenarioError(msg)
        if not toml_path.is_file():
            msg = f"`{toml_path}` does not exist (every scenario folder needs a {SCENARIO_FILE})"
            raise ScenarioError(msg)
        try:
            with toml_path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            msg = f"`{toml_path}` is not valid TOML: {exc}"
            raise ScenarioError(msg) from exc
        return _parse(data, toml_path.parent.resolve(), toml_path)


def _parse(data: dict[str, Any], folder: Path, toml_path: Path) -> Scenario:
    """Parse every section, one function each, collecting all problems before raising."""
    errors: list[str] = []
    for section in data:
        if section not in _KNOWN_SECTIONS:
            logger.warning("%s: ignoring unknown section [%s]", toml_path, section)
    head = _parse_head(data, errors)
    network_source = _parse_network(data, folder, errors)
    layers: dict[LayerName, LayerSource] = {}
    if "layers" in data:
        layers = _parse_layers(_section(data, "layers", errors), folder, errors)
    else:
        errors.append("missing section `[layers]`")
    planning = _parse_planning(data, errors)
    map_settings = _parse_settings(data, "map", MapSettings, errors)
    output = _parse_settings(data, "output", OutputSettings, errors)
    privacy = _parse_settings(data, "privacy", PrivacySettings, errors)
    industries = _parse_industries(data, errors)
    staffing = _parse_staffing(data, errors)
    if errors:
        shown = "\n".join(f"  - {e}" for e in errors)
        msg = f"{len(errors)} problem(s) in `{toml_path}`:\n{shown}"
        raise ScenarioError(msg)
    return Scenario(
        folder=folder,
        name=head.name,
        title=head.title,
        synthetic=head.synthetic,
        datum=head.datum,
        network_source=network_source,
        layers=layers,
        planning=planning,
        map=map_settings,
        industries=industries,
        output=output,
        privacy=privacy,
        staffing=staffing,
    )


@dataclass(frozen=True)
class _Head:
    name: str
    title: str
    synthetic: bool
    datum: Datum


def _parse_head(data: dict[str, Any], errors: list[str]) -> _Head:
    """``[scenario]``: name, title, synthetic, coordinates."""
    scen = _section(data, "scenario", errors, required=True)
    _unknown_keys(scen, "scenario", ("name", "title", "synthetic", "coordinates"), errors)
    # A missing section is reported once, not once more per required key in it.
    name = _text(scen, "scenario", "name", errors, required="scenario" in data)
    if name and not _NAME.match(name):
        errors.append(
            f"`scenario.name` {name!r} must be folder-safe (letters, digits, `_`, `-`, `.`)"
        )
    title = _text(scen, "scenario", "title", errors) or name
    synthetic = scen.get("synthetic", False)
    if not isinstance(synthetic, bool):
        errors.append(f"`scenario.synthetic` must be true or false, got {synthetic!r}")
        synthetic = False
    datum = _datum(scen.get("coordinates", "wgs84"), "scenario.coordinates", errors)
    return _Head(name, title, synthetic, datum or Datum.WGS84)


def _datum(value: Any, where: str, errors: list[str]) -> Datum | None:
    try:
        return parse_datum(value)
    except ValueError:
        errors.append(f"`{where}` {value!r} is unknown; allowed: {', '.join(DATUM_CODES)}")
        return None


def _parse_network(data: dict[str, Any], folder: Path, errors: list[str]) -> Path | str:
    """``[network]``: a file next to ``scenario.toml`` or a place name."""
    net = _section(data, "network", errors, required=True)
    _unknown_keys(net, "network", ("source",), errors)
    source = _text(net, "network", "source", errors, required="network" in data)
    if not source:
        return ""
    if not source.lower().endswith(NETWORK_SUFFIXES):
        return source  # a place name for osmnx to geocode
    path = (folder / source).resolve()
    if not path.is_file():
        errors.append(f"`network.source` file `{path}` does not exist")
    return path


def _parse_planning(data: dict[str, Any], errors: list[str]) -> PlanningParams:
    plan = _section(data, "planning", errors)
    known = tuple(f.name for f in fields(PlanningParams))
    _unknown_keys(plan, "planning", known, errors)
    try:
        return PlanningParams(**{k: v for k, v in plan.items() if k in known})
    except ValueError as exc:
        errors.append(f"[planning] {exc}")
        return PlanningParams()


_Settings = TypeVar("_Settings", MapSettings, OutputSettings, PrivacySettings)


def _parse_settings(
    data: dict[str, Any], name: str, kind: type[_Settings], errors: list[str]
) -> _Settings:
    """A small section whose keys are the fields of `kind` (``[map]``, ``[output]``)."""
    section = _section(data, name, errors)
    known = tuple(f.name for f in fields(kind))
    _unknown_keys(section, name, known, errors)
    try:
        return kind(**{k: v for k, v in section.items() if k in known})
    except (ValueError, TypeError) as exc:
        errors.append(f"[{name}] {exc}")
        return kind()


_INDUSTRY_KEYS = ("zh", "en", "colour", "gbt4754", "aliases")


def _parse_industries(data: dict[str, Any], errors: list[str]) -> IndustryCatalogue:
    """``[industries.<code>]`` tables (display order = file order), or the default."""
    section = _section(data, "industries", errors)
    if not section:
        return DEFAULT_CATALOGUE
    infos: list[IndustryInfo] = []
    for code, table in section.items():
        info = _industry(code, table, len(infos), errors)
        if info is not None:
            infos.append(info)
    try:
        return IndustryCatalogue(tuple(infos))
    except ValueError as exc:
        errors.append(f"[industries] {exc}")
        return DEFAULT_CATALOGUE


def _industry(code: str, table: Any, index: int, errors: list[str]) -> IndustryInfo | None:
    where = f"industries.{code}"
    if not isinstance(table, dict):
        errors.append(
            f'`{where}` must be a table such as {{ zh = "电子信息", en = "Electronics" }}, '
            f"got {table!r}"
        )
        return None
    _unknown_keys(table, where, _INDUSTRY_KEYS, errors)
    lists = {}
    for key in ("gbt4754", "aliases"):
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(f"`{where}.{key}` must be a list of texts, got {value!r}")
            value = []
        lists[key] = tuple(value)
    try:
        return IndustryInfo(
            code=code,
            zh=table.get("zh", ""),
            en=table.get("en", ""),
            colour=table.get("colour", PALETTE[index % len(PALETTE)]),
            gbt4754=lists["gbt4754"],
            aliases=lists["aliases"],
        )
    except ValueError as exc:
        errors.append(f"`{where}`: {exc}")
        return None


def _parse_staffing(data: dict[str, Any], errors: list[str]) -> StaffingParams:
    """The ``[staffing]`` section (defaults when absent); problems go to `errors`."""
    try:
        return StaffingParams.from_section(_section(data, "staffing", errors))
    except (ValueError, TypeError) as exc:
        errors.append(f"[staffing] {exc}")
        return StaffingParams()


def _section(
    data: dict[str, Any], name: str, errors: list[str], *, required: bool = False
) -> dict[str, Any]:
    value = data.get(name)
    if value is None:
        if required:
            errors.append(f"missing section `[{name}]`")
        return {}
    if not isinstance(value, dict):
        errors.append(f"`{name}` must be a section `[{name}]`, got {value!r}")
        return {}
    return value


def _unknown_keys(
    section: dict[str, Any], name: str, known: tuple[str, ...], errors: list[str]
) -> None:
    for key in section:
        if key not in known:
            errors.append(f"unknown key `{name}.{key}`; known: {', '.join(known)}")


def _text(
    section: dict[str, Any], name: str, key: str, errors: list[str], *, required: bool = False
) -> str:
    value = section.get(key)
    if value is None:
        if required:
            errors.append(f"missing key `{name}.{key}`")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(f"`{name}.{key}` must be non-empty text, got {value!r}")
        return ""
    return value.strip()


_LAYER_KEYS = ("path", "layer", "coordinates")


def _parse_layers(
    section: dict[str, Any], folder: Path, errors: list[str]
) -> dict[LayerName, LayerSource]:
    """``[layers]``: each layer a file name or ``{ path, layer, coordinates }``."""
    allowed = [n.value for n in LayerName]
    layers: dict[LayerName, LayerSource] = {}
    for key, value in section.items():
        if key not in allowed:
            errors.append(f"unknown layer `layers.{key}`; layers: {', '.join(allowed)}")
            continue
        source = _layer_source(f"layers.{key}", value, folder, errors)
        if source is not None:
            layers[LayerName(key)] = source
    for name in LayerName:
        if name.value not in section:
            errors.append(f"missing layer `layers.{name.value}`")
    return layers


def _layer_source(where: str, value: Any, folder: Path, errors: list[str]) -> LayerSource | None:
    table = value if isinstance(value, dict) else {"path": value}
    _unknown_keys(table, where, _LAYER_KEYS, errors)
    file = table.get("path")
    if not isinstance(file, str) or not file.strip():
        errors.append(
            f'`{where}` must be a file name or {{ path = "file", layer = "name" }}, got {value!r}'
        )
        return None
    layer: str | None = None
    given = table.get("layer")
    if isinstance(given, str) and given.strip():
        layer = given.strip()
    elif given is not None:
        errors.append(f"`{where}.layer` must be non-empty text, got {given!r}")
    datum = None
    if "coordinates" in table:
        datum = _datum(table["coordinates"], f"{where}.coordinates", errors)
    path = (folder / file).resolve()
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        errors.append(
            f"`{where}` file `{file}` has an unsupported type; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    elif not path.is_file():
        errors.append(f"`{where}` file `{path}` does not exist")
    return LayerSource(path=path, layer=layer, datum=datum)


# ---------------------------------------------------------------------------------------------
# Layers


def load_layers(
    scenario: Scenario,
    *,
    network_bounds: NetworkArea | None = None,
    skip_invalid: bool = False,
    report: str | Path | None = None,
) -> dict[LayerName, gpd.GeoDataFrame]:
    """Read and validate all five layers of `scenario` (see :func:`geo.validation.validate_layer`).

    Points are converted to WGS-84 from the scenario's datum; points farther than
    ``planning.max_snap_m`` outside `network_bounds` (EPSG:4326) are problems.

    Parameters
    ----------
    scenario
        The loaded scenario.
    network_bounds
        The street network's area (a polygon or bounds in EPSG:4326), or ``None`` to skip
        the distance check.
    skip_invalid
        Drop rows with problems instead of raising. Requires `report`.
    report
        CSV file (``source,row,reason``) that receives the skipped rows' problems; written
        only when rows were skipped.

    Raises
    ------
    InputError
        Listing every problem of every layer (file-level problems always raise).
    ValueError
        If `skip_invalid` is set without `report`: nothing is dropped without a record.
    """
    if skip_invalid and report is None:
        msg = "`skip_invalid` needs a `report` path so that skipped rows are written down"
        raise ValueError(msg)
    checks: dict[LayerName, LayerCheck] = {}
    sources: list[str] = []
    unreadable = []
    for name in LayerName:
        where = scenario.layers[name]
        try:
            gdf = read_layer(
                where.path, name, layer=where.layer, datum=scenario.layer_datum(name), strict=False
            )
        except InputError as exc:
            unreadable.extend(exc.problems)
            continue
        source = str(gdf.attrs.get("source", where.source))
        sources.append(source)
        checks[name] = check_layer(
            gdf,
            SPECS[name],
            source=source,
            network_bounds=network_bounds,
            max_outside_m=scenario.planning.max_snap_m,
            industries=scenario.industries,
        )
    try:
        problems = finish_checks(list(checks.values()), sources, skip_invalid=skip_invalid)
    except InputError as exc:
        raise InputError(unreadable + exc.problems, causes=exc.causes) from None
    if unreadable:
        raise InputError(unreadable + problems)
    if problems and report is not None:
        path = write_problem_report(problems, report)
        logger.warning("skipped invalid rows; %d problem(s) written to %s", len(problems), path)
    return {name: check.clean() for name, check in checks.items()}
