"""Generate the Dongcao demo city and write it as a scenario folder.

The folder follows the scenario format (``scenario.toml``, ``dongcao.gpkg``,
``network.graphml``); see ``data/README.md``. Output depends only on the seed and
:data:`GENERATOR_VERSION`: the same seed gives the same graph and the same layer contents.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .frame import to_lonlat
from .graphml import write_graphml
from .people import make_layers
from .roads import MAXSPEED, RoadNetwork, build_roads, to_graph
from .towns import REGION_HALF_KM, RIVER_NAME

logger = logging.getLogger(__name__)

DEFAULT_SEED = 20261123
GENERATOR_VERSION = "2"  # 2: candidate sites carry status, max_staff, max_on_site
"""Bump when the generator's output changes, so :func:`ensure_demo_city` rebuilds."""
DEFAULT_FOLDER = Path("data/dongcao")
GPKG_NAME = "dongcao.gpkg"
GRAPHML_NAME = "network.graphml"
MARKER_NAME = ".complete"
MAX_SCALE = 50.0

Progress = Callable[[str], None]


@dataclass(frozen=True, eq=False)
class DemoCity:
    """A generated demo city in memory.

    Attributes
    ----------
    seed, scale
        What it was generated from.
    roads
        The street network as arrays (local metric frame and EPSG:4326).
    graph
        The network as an osmnx-style MultiDiGraph (EPSG:4326, ``length`` in metres),
        built on first access.
    layers
        The five input layers (EPSG:4326) keyed by layer name.
    """

    seed: int
    scale: float
    roads: RoadNetwork
    layers: dict[str, gpd.GeoDataFrame]

    @cached_property
    def graph(self) -> nx.MultiDiGraph[int]:
        """The network as an osmnx-style MultiDiGraph (built on first use, a few seconds)."""
        return to_graph(self.roads)

    def roads_layer(self) -> gpd.GeoDataFrame:
        """One line per street (for viewing in QGIS)."""
        net = self.roads
        lines = shapely.linestrings(
            np.stack(
                [np.column_stack([net.lon[net.eu], net.lat[net.eu]]),
                 np.column_stack([net.lon[net.ev], net.lat[net.ev]])],
                axis=1,
            )
        )  # fmt: skip
        frame = pd.DataFrame(
            {
                "osmid": np.arange(1, net.n_edges + 1),
                "highway": net.highway,
                "name": net.name,
                "oneway": net.oneway,
                "bridge": np.where(net.bridge, "yes", ""),
                "maxspeed": pd.Series(net.highway).map(MAXSPEED).fillna("").to_numpy(),
                "length_m": net.length_m,
            }
        )
        return gpd.GeoDataFrame(frame, geometry=lines, crs="EPSG:4326")

    def districts_layer(self) -> gpd.GeoDataFrame:
        """The twelve towns/districts as polygons (Voronoi cells of their centres)."""
        towns = self.roads.towns
        hx, hy = (h * 1000.0 * self.roads.stretch for h in REGION_HALF_KM)
        box = shapely.box(-hx, -hy, hx, hy)
        centres = shapely.points([(t.blob.cx, t.blob.cy) for t in towns])
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(centres),
                                                           extend_to=box))  # fmt: skip
        polys = []
        for c in centres:
            cell = next(p for p in cells if shapely.contains(p, c))
            polys.append(_to_lonlat_geom(shapely.intersection(cell, box)))
        frame = pd.DataFrame(
            {
                "id": [t.spec.key for t in towns],
                "name": [t.spec.zh for t in towns],
                "name_pinyin": [t.spec.pinyin for t in towns],
                "kind": [t.spec.kind for t in towns],
                "industries": [
                    ";".join(dict.fromkeys(i.value for i in t.spec.belts)) for t in towns
                ],
            }
        )
        return gpd.GeoDataFrame(frame, geometry=polys, crs="EPSG:4326")

    def river_layer(self) -> gpd.GeoDataFrame:
        river = self.roads.river
        return gpd.GeoDataFrame(
            {"name": [RIVER_NAME[1]], "name_pinyin": [RIVER_NAME[0]], "width_m": [river.width_m]},
            geometry=[_to_lonlat_geom(river.polygon())],
            crs="EPSG:4326",
        )

    def belts_layer(self) -> gpd.GeoDataFrame:
        """The industry belts the generator used (ground truth for cluster detection)."""
        belts = self.roads.belts
        return gpd.GeoDataFrame(
            {
                "id": [b.id for b in belts],
                "industry": [b.industry.value for b in belts],
                "town": [self.roads.towns[b.town].spec.zh for b in belts],
            },
            geometry=[_to_lonlat_geom(b.polygon()) for b in belts],
            crs="EPSG:4326",
        )


def _to_lonlat_geom(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.column_stack(to_lonlat(c[:, 0], c[:, 1])))


def generate_city(
    seed: int = DEFAULT_SEED, *, scale: float = 1.0, progress: Progress | None = None
) -> DemoCity:
    """Generate the demo city in memory.

    Parameters
    ----------
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same city.
    scale
        Multiplies the city's area, street count and number of people (lengths by
        ``sqrt(scale)``; street spacing unchanged). 1 gives about 47,000 street nodes,
        5 about 240,000.
    progress
        Called with a short message before each step.

    Raises
    ------
    ValueError
        If `seed` is negative or `scale` outside ``(0, 50]``.
    """
    problems = []
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        problems.append(f"`seed` must be a non-negative integer, got {seed!r}")
    if not isinstance(scale, (int, float)) or not (0.0 < float(scale) <= MAX_SCALE):
        problems.append(f"`scale` must be in (0, {MAX_SCALE:g}], got {scale!r}")
    if problems:
        msg = "; ".join(problems)
        raise ValueError(msg)
    say = _reporter(progress)
    # Separate streams, so that a change to the people does not move every street.
    rng_roads, rng_people = np.random.default_rng(int(seed)).spawn(2)
    say(f"generating streets (scale {scale:g})")
    roads = build_roads(rng_roads, scale=float(scale))
    say(f"placing people and places ({roads.n_nodes} street nodes)")
    layers = make_layers(rng_people, roads, scale=float(scale))
    return DemoCity(int(seed), float(scale), roads, layers)


def _reporter(progress: Progress | None) -> Progress:
    def say(message: str) -> None:
        logger.info("democity: %s", message)
        if progress is not None:
            progress(message)

    return say


def scale_suffix(scale: float) -> str:
    """``""`` for scale 1 (Dongcao itself), else ``"-x5"``, ``"-x0.5"`` ...: names apart."""
    return "" if float(scale) == 1.0 else f"-x{float(scale):g}"


def folder_for_scale(scale: float) -> Path:
    """Default folder of the demo city at `scale` (``data/dongcao``, ``data/dongcao-x5`` ...)."""
    return DEFAULT_FOLDER.with_name(DEFAULT_FOLDER.name + scale_suffix(scale))


def scenario_toml(*, seed: int, scale: float = 1.0) -> str:
    """The ``scenario.toml`` of the demo city (see the scenario format).

    A city bigger than Dongcao (scale above 1) is named ``dongcao-x<scale>`` so its outputs
    (``out/<name>/``) never overwrite Dongcao's, and its points to open (40) and staff pool
    (150 + 20 desk volunteers) grow with its area. Smaller towns (tests) keep Dongcao's
    name and settings.
    """
    suffix = scale_suffix(scale) if float(scale) > 1.0 else ""
    grow = float(scale) if suffix else 1.0
    size = "" if not suffix else f", {float(scale):g} times its size"
    layers = ("employers", "seekers", "volunteers", "candidate_sites", "talent_market")
    lines = [
        f"# Synthetic demo city made by geo.democity (seed {seed}, generator version "
        f"{GENERATOR_VERSION}).",
        "# Dongcao is invented: its streets, people and firms do not exist. It lies in open",
        "# sea (around lon 115.5, lat 21.5) so it cannot be mistaken for a real town.",
        "",
        "[scenario]",
        f'name = "dongcao{suffix}"',
        f'title = "Dongcao 东草 (synthetic demo city{size})"',
        "synthetic = true",
        'coordinates = "wgs84"',
        "",
        "[network]",
        f'source = "{GRAPHML_NAME}"',
        "",
        "[layers]",
        *(f'{name} = {{ path = "{GPKG_NAME}", layer = "{name}" }}' for name in layers),
        "",
        "[planning]",
        "max_snap_m = 2000",
        "time_limit_s = 10",
        *(
            [f"n_points = {round(40 * grow)}          # 40 per Dongcao-sized area"]
            if suffix
            else []
        ),
        "",
        "[staffing]",
        f"pool = {round(150 * grow)}                 # bureau staff for service points",
        f"desk_volunteers = {round(20 * grow)}       # volunteers who may do desk duty",
        "market_staff = 30          # the central talent market's own staff",
        "",
        "[map]",
        'tiles = "none"',
        'attribution = "Synthetic data (dianmian demo city)"',
        "",
    ]
    return "\n".join(lines)


def write_city(city: DemoCity, folder: Path, *, progress: Progress | None = None) -> Path:
    """Write `city` as a scenario folder; returns the folder.

    Files are written under temporary names and renamed, and the completion marker is
    written last, so an interrupted build is never taken for a complete one.
    """
    say = _reporter(progress)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / MARKER_NAME
    marker.unlink(missing_ok=True)
    say(f"writing {GPKG_NAME}")
    tmp_gpkg = folder / f"{GPKG_NAME}.tmp.gpkg"
    tmp_gpkg.unlink(missing_ok=True)
    frames = dict(city.layers)
    frames["roads"] = city.roads_layer()
    frames["districts"] = city.districts_layer()
    frames["river"] = city.river_layer()
    frames["belts_truth"] = city.belts_layer()
    for name, frame in frames.items():
        frame.to_file(tmp_gpkg, layer=name, driver="GPKG", engine="pyogrio")
    os.replace(tmp_gpkg, folder / GPKG_NAME)
    say(f"writing {GRAPHML_NAME}")
    tmp_graph = folder / f"{GRAPHML_NAME}.tmp"
    write_graphml(city.roads, tmp_graph)
    os.replace(tmp_graph, folder / GRAPHML_NAME)
    (folder / "scenario.toml").write_text(
        scenario_toml(seed=city.seed, scale=city.scale), encoding="utf-8"
    )
    marker.write_text(json.dumps(_marker(city.seed, city.scale)) + "\n", encoding="utf-8")
    say(f"demo city written to {folder}")
    return folder


def _marker(seed: int, scale: float) -> dict[str, object]:
    return {"seed": int(seed), "scale": float(scale), "generator_version": GENERATOR_VERSION}


def build_demo_city(
    folder: Path,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    progress: Progress | None = None,
) -> Path:
    """Generate the demo city and write its scenario folder (always rebuilds).

    Parameters
    ----------
    folder
        Target folder, created if missing; existing demo files in it are replaced.
    seed
        Seed of the generator.
    scale
        City size (see :func:`generate_city`); the demo uses 1.
    progress
        Called with a short message before each step.

    Returns
    -------
    pathlib.Path
        `folder`.
    """
    city = generate_city(seed, scale=scale, progress=progress)
    return write_city(city, Path(folder), progress=progress)


def is_complete(folder: Path, *, seed: int = DEFAULT_SEED, scale: float = 1.0) -> bool:
    """True if `folder` holds a finished build of this generator version, `seed` and `scale`."""
    folder = Path(folder)
    try:
        marker = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files = ("scenario.toml", GPKG_NAME, GRAPHML_NAME)
    return marker == _marker(seed, scale) and all((folder / f).is_file() for f in files)


def ensure_demo_city(
    folder: Path = DEFAULT_FOLDER,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    progress: Progress | None = None,
) -> Path:
    """Build the demo city into `folder` unless a complete build of `seed` is there.

    Completeness is told by the ``.complete`` marker (seed, scale, generator version),
    which is written last; a missing file or another version also triggers a rebuild.
    """
    folder = Path(folder)
    if is_complete(folder, seed=seed, scale=scale):
        logger.info("demo city in %s is up to date", folder)
        return folder
    return build_demo_city(folder, seed=seed, scale=scale, progress=progress)
