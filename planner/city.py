"""The planning pipeline: load a scenario, validate it, and write the results.

The faces (CLI, API, maps) call these functions; they hold no planning logic themselves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import Datum, frame_from_wgs84
from geo.industries import IndustryCatalogue
from geo.layers import LayerName
from geo.network import StreetNetwork, load_network_cached
from geo.scenario import Scenario, load_layers
from geo.validation import DatumFinding, check_datum, street_tree
from planner.disclosure import protect_totals
from planner.hexbin import hexbin

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    return None


@dataclass(eq=False)
class City:
    """A validated scenario: its street network and its five layers (EPSG:4326)."""

    scenario: Scenario
    network: StreetNetwork
    layers: dict[LayerName, gpd.GeoDataFrame]
    skipped_report: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def layer(self, name: LayerName | str) -> gpd.GeoDataFrame:
        return self.layers[LayerName(name)]

    @property
    def industries(self) -> IndustryCatalogue:
        """The scenario's industry catalogue (codes, labels, colours)."""
        return self.scenario.industries

    def summary(self) -> dict[str, Any]:
        """Counts per layer, per industry (employers and their demand, seekers) and network."""
        employers = self.layer(LayerName.EMPLOYERS)
        seekers = self.layer(LayerName.SEEKERS)
        industries: dict[str, Any] = {}
        seeker_codes = seekers["industries"].astype(str).str.split(";").explode()
        seeker_counts = seeker_codes.value_counts()
        for info in self.industries:
            code = info.code
            sub = employers[employers["industry"] == code]
            industries[code] = {
                "label": info.label,
                "employers": len(sub),
                "demand": int(sub["demand"].sum()),
                "seekers": int(seeker_counts.get(code, 0)),
            }
        net = self.network.summary()
        return {
            "title": self.scenario.title,
            "layers": {name.value: len(gdf) for name, gdf in self.layers.items()},
            "industries": industries,
            "industry_catalogue": self.industries.to_records(),
            "warnings": list(self.warnings),
            "network": {
                "nodes": net["nodes"],
                "edges": net["edges"],
                "one-way edges": net["oneway_edges"],
                "length km": net["length_km"],
                **{
                    f"{m} nodes reachable": v["nodes_in_component"] for m, v in net["modes"].items()
                },
            },
        }


def apply_demand_updates(city: City, updates: dict[str, int]) -> list[str]:
    """Set employers' ``demand`` to the latest reported values (e.g. from the HTTP API).

    Returns the ids of updates naming no employer of the city (reported, not applied).
    """
    employers = city.layers[LayerName.EMPLOYERS]
    ids = employers["id"].astype(str)
    known = {k: v for k, v in updates.items() if k in set(ids)}
    unknown = sorted(set(updates) - set(known))
    if known:
        employers = employers.copy()
        hit = ids.isin(list(known))
        employers.loc[hit, "demand"] = ids[hit].map(known).astype(employers["demand"].dtype)
        city.layers[LayerName.EMPLOYERS] = employers
        logger.info("applied %d demand update(s)", len(known))
    if unknown:
        logger.warning("demand updates for unknown employers ignored: %s", unknown)
    return unknown


def network_area(network: StreetNetwork) -> shapely.Geometry:
    """Convex hull of the network's nodes (EPSG:4326), for the "far outside" input check."""
    return shapely.convex_hull(shapely.multipoints(shapely.points(network.lon, network.lat)))


def load_city(
    folder: str | Path,
    *,
    skip_invalid: bool = False,
    out_root: str | Path = "out",
    progress: Progress | None = None,
) -> City:
    """Load a scenario folder: network first (its area bounds the input check), then layers.

    Parameters
    ----------
    folder
        Scenario folder with ``scenario.toml``.
    skip_invalid
        Drop invalid rows instead of failing; every dropped row is written to
        ``<out_root>/<scenario>/invalid_rows.csv``.
    out_root
        Output root (only used for the report of skipped rows).
    progress
        Called with a short text before each step.

    Raises
    ------
    geo.ScenarioError, geo.NetworkError, geo.InputError
        On a bad scenario, network or layer; input errors list every problem at once.
    """
    say = progress or _quiet
    scenario = Scenario.load(folder)
    say(f"street network {scenario.network_source}")
    network = load_network_cached(scenario.network_source)
    say("layers")
    report = Path(out_root) / scenario.name / "invalid_rows.csv"
    layers = load_layers(
        scenario,
        network_bounds=network_area(network),
        skip_invalid=skip_invalid,
        report=report if skip_invalid else None,
    )
    skipped = report if skip_invalid and report.exists() else None
    say("datum check")
    findings = datum_findings(scenario, layers, network)
    for finding in findings:
        logger.warning("%s", finding)
    return City(
        scenario=scenario,
        network=network,
        layers=layers,
        skipped_report=skipped,
        warnings=[str(f) for f in findings],
    )


def datum_findings(
    scenario: Scenario, layers: dict[LayerName, gpd.GeoDataFrame], network: StreetNetwork
) -> list[DatumFinding]:
    """Layers whose points would sit markedly closer to the streets in another datum."""
    tree = street_tree(network.x, network.y, network.edge_u, network.edge_v)
    findings = []
    for name, frame in layers.items():
        source = scenario.layers[name].source
        found = check_datum(
            name.value, frame, scenario.layer_datum(name), tree, network.crs, source=source
        )
        if found is not None:
            findings.append(found)
    return findings


def seeker_cells(city: City, *, cell_m: float = 500.0) -> gpd.GeoDataFrame:
    """Seekers aggregated to hexagons with industry counts, under disclosure control.

    Cells under the scenario's ``[privacy] min_count`` (k, default 5) are suppressed, and
    industry sub-counts in ``1..k-1`` are null and merged into ``merged``, with
    complementary suppression against subtraction (see :mod:`planner.disclosure`).
    """
    seekers = city.layer(LayerName.SEEKERS)
    k = city.scenario.privacy.min_count
    by_industry = hexbin(
        seekers,
        metric_crs=city.network.crs,
        cell_m=cell_m,
        min_count=k,
        category="industries",
        categories=list(city.industries.codes),
    )
    if by_industry.suppressed or by_industry.hidden_parts:
        logger.info(
            "%d seekers in %d cells with fewer than %d seekers (or hidden to protect them) are "
            "not shown; %d industry sub-counts hidden",
            by_industry.suppressed,
            by_industry.suppressed_cells,
            k,
            by_industry.hidden_parts,
        )
    cells = by_industry.cells
    cells.attrs["suppressed"] = by_industry.suppressed
    cells.attrs["suppressed_cells"] = by_industry.suppressed_cells
    return cells


def published_summary(city: City) -> dict[str, Any]:
    """:meth:`City.summary` as published: per-industry seeker totals in ``1..k-1`` are
    ``None`` (they are grand totals of the seeker-cell breakdown)."""
    summary = city.summary()
    k = city.scenario.privacy.min_count
    totals = {code: row["seekers"] for code, row in summary.get("industries", {}).items()}
    for code, value in protect_totals(totals, k=k).items():
        summary["industries"][code]["seekers"] = value
    summary["privacy_min_count"] = k
    return summary


MAJOR_ROADS = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
)
"""Road classes drawn on maps (all streets would make a city map slow to open)."""


def major_roads(network: StreetNetwork) -> gpd.GeoDataFrame:
    """Lines of the major roads (EPSG:4326) with their ``highway`` class."""
    idx = np.flatnonzero(np.isin(network.edge_highway.astype(str), MAJOR_ROADS))
    lines = [network.edge_line(int(i)) for i in idx]
    gdf = gpd.GeoDataFrame(
        {"highway": network.edge_highway[idx].astype(str)}, geometry=lines, crs=network.crs
    )
    return gdf.to_crs("EPSG:4326")


def write_city(city: City, out_dir: str | Path, *, progress: Progress | None = None) -> list[Path]:
    """Write the validated layers to ``city.gpkg`` and counts to ``city_summary.json``.

    Seekers are written only as aggregated hexagons (``seeker_cells``): their residences
    are personal data and stay in the bureau's input files.
    """
    say = progress or _quiet
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / "city.gpkg"
    if gpkg.exists():
        gpkg.unlink()  # layers are rewritten as a whole, never appended to stale ones
    for name, gdf in city.layers.items():
        if name is LayerName.SEEKERS:
            continue
        say(name.value)
        gdf.to_file(gpkg, layer=name.value, driver="GPKG")
    say("major roads")
    major_roads(city.network).to_file(gpkg, layer="roads", driver="GPKG")
    say("seeker cells")
    cells = seeker_cells(city)
    cells.to_file(gpkg, layer="seeker_cells", driver="GPKG")
    summary = published_summary(city)
    summary["seekers_in_suppressed_cells"] = int(cells.attrs.get("suppressed", 0))
    summary["network_detail"] = city.network.summary()
    summary_path = out / "city_summary.json"
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=_json))
    return [gpkg, summary_path]


def write_datum_copies(paths: list[Path], out_dir: str | Path, datum: Datum) -> list[Path]:
    """Copies of the GeoPackage/GeoJSON files in `paths` with coordinates in `datum`, under
    ``<out_dir>/<datum>/`` at the same relative path (``[output] coordinates``; the
    originals, which maps and the API read, stay WGS-84).

    GCJ-02 has no EPSG code: the copies are labelled EPSG:4326 but hold GCJ-02 numbers, which
    is what Amap and Tencent expect of imported data.
    """
    if datum is Datum.WGS84:
        return []
    import pyogrio

    target = Path(out_dir) / datum.value
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        suffix = path.suffix.lower()
        if suffix not in (".gpkg", ".geojson") or not path.is_file():
            continue
        try:
            copy = target / path.resolve().relative_to(Path(out_dir).resolve())
        except ValueError:
            copy = target / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if copy.exists():
            copy.unlink()
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]] if suffix == ".gpkg" else [None]
        for name in names:
            frame = gpd.read_file(path, layer=name)
            moved = frame_from_wgs84(frame, datum)
            moved.to_file(copy, layer=name, driver="GPKG" if suffix == ".gpkg" else "GeoJSON")
        written.append(copy)
    return written


def _json(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)
