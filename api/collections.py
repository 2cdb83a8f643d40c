"""Plan and city layers served as OGC API - Features collections (GeoJSON, EPSG:4326).

Each collection keeps only its public fields (a whitelist, so a column added to a plan file
is never exposed by accident) and is turned into GeoJSON feature dicts once, at load time;
requests then filter by bounding box and industry with numpy and slice a page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

COORD_DECIMALS = 7
"""Decimals of longitude/latitude in answers (about 1 cm)."""


@dataclass(frozen=True)
class CollectionSpec:
    """How one layer is served.

    Attributes
    ----------
    name
        Collection id in URLs (``/collections/{name}``).
    title, description
        For ``/collections``.
    fields
        Public properties, in order (missing optional columns are skipped).
    id_of
        Builds the feature ids from the frame.
    industries_of
        The industries of each feature (for the ``industry`` filter), or ``None`` if the
        collection has no industries.
    """

    name: str
    title: str
    description: str
    fields: tuple[str, ...]
    id_of: Callable[[pd.DataFrame], list[str]]
    industries_of: Callable[[pd.DataFrame], list[frozenset[str]]] | None = None


@dataclass(frozen=True, eq=False)
class Collection:
    """A served layer: GeoJSON features plus arrays for filtering."""

    spec: CollectionSpec
    features: list[dict[str, Any]]
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy
    industries: list[frozenset[str]] | None
    index: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    def __len__(self) -> int:
        return len(self.features)

    def extent(self) -> list[float] | None:
        """Bounding box of all features ``[minx, miny, maxx, maxy]`` (degrees)."""
        if not self.features:
            return None
        b = self.bounds
        return [
            float(b[:, 0].min()),
            float(b[:, 1].min()),
            float(b[:, 2].max()),
            float(b[:, 3].max()),
        ]

    def get(self, feature_id: str) -> dict[str, Any] | None:
        i = self.index.get(feature_id)
        return None if i is None else self.features[i]

    def select(
        self, *, bbox: Sequence[float] | None = None, industry: str | None = None
    ) -> np.ndarray:
        """Positions of the features intersecting `bbox` and serving `industry`."""
        keep = np.ones(len(self.features), dtype=bool)
        if bbox is not None and len(self.features):
            minx, miny, maxx, maxy = bbox
            b = self.bounds
            keep &= (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
        if industry is not None:
            if self.industries is None:
                msg = f"collection `{self.name}` has no industries"
                raise ValueError(msg)
            keep &= np.fromiter((industry in s for s in self.industries), bool, len(self.features))
        return np.flatnonzero(keep)


def build_collection(spec: CollectionSpec, frame: gpd.GeoDataFrame) -> Collection:
    """GeoJSON features of `frame` (any CRS; converted to EPSG:4326) with public fields only."""
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    frame = frame[~frame.geometry.isna() & ~frame.geometry.is_empty].reset_index(drop=True)
    geoms = shapely.transform(
        np.asarray(frame.geometry.array, dtype=object),
        lambda c: np.round(c, COORD_DECIMALS),
    )
    ids = spec.id_of(frame)
    # A field ending in `*` stands for every column with that prefix (``n_*``: the seeker
    # counts per industry of the scenario's own catalogue).
    fields = [
        c
        for f in spec.fields
        for c in ([f] if not f.endswith("*") else list(frame.columns))
        if c in frame.columns and (c == f or (f.endswith("*") and c.startswith(f[:-1])))
    ]
    columns = {f: [_plain(v) for v in frame[f].tolist()] for f in fields}
    if "industries" in columns:  # stored ';'-separated, served as a list of codes
        columns["industries"] = [_codes(v) for v in columns["industries"]]
    features = []
    for i, geom in enumerate(geoms):
        props = {f: columns[f][i] for f in fields}
        features.append(
            {
                "type": "Feature",
                "id": ids[i],
                "geometry": shapely.geometry.mapping(geom),
                "properties": props,
            }
        )
    bounds = shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4))
    return Collection(
        spec=spec,
        features=features,
        bounds=np.asarray(bounds, dtype=float).reshape(-1, 4),
        industries=spec.industries_of(frame) if spec.industries_of else None,
        index={fid: i for i, fid in enumerate(ids)},
    )


def _plain(value: Any) -> Any:
    """JSON-ready scalar: numpy types to Python, NaN/NaT to None."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if pd.isna(value):
        return None
    return str(value)


def _codes(value: Any) -> list[str]:
    if value is None:
        return []
    return [c.strip() for c in str(value).replace(",", ";").split(";") if c.strip()]


def _column_ids(column: str) -> Callable[[pd.DataFrame], list[str]]:
    def ids(frame: pd.DataFrame) -> list[str]:
        return [str(v) for v in frame[column].tolist()]

    return ids


def _belt_ids(frame: pd.DataFrame) -> list[str]:
    """Belts have no id column: ``<industry>-<n>``, n counting from 1 within an industry."""
    if "id" in frame.columns:
        return [str(v) for v in frame["id"].tolist()]
    n = frame.groupby("industry").cumcount() + 1
    return [f"{ind}-{k}" for ind, k in zip(frame["industry"].astype(str), n, strict=True)]


def _catchment_ids(frame: pd.DataFrame) -> list[str]:
    for column in ("service_point", "service_point_id", "id"):
        if column in frame.columns:
            return [str(v) for v in frame[column].tolist()]
    return [str(i) for i in range(len(frame))]


def _one_industry(frame: pd.DataFrame) -> list[frozenset[str]]:
    return [frozenset([str(v)]) for v in frame["industry"].tolist()]


def _many_industries(frame: pd.DataFrame) -> list[frozenset[str]]:
    return [frozenset(_codes(v)) for v in frame["industries"].tolist()]


def _cell_industries(frame: pd.DataFrame) -> list[frozenset[str]]:
    # Seeker cells count seekers per industry code of the scenario's catalogue as `n_<code>`.
    cols = [c for c in frame.columns if c.startswith("n_")]
    if not cols:
        return [frozenset() for _ in range(len(frame))]
    counts = frame[cols].fillna(0).to_numpy()
    codes = [c[2:] for c in cols]
    return [frozenset(c for c, n in zip(codes, row, strict=True) if n > 0) for row in counts]


def _seeker_fields() -> tuple[str, ...]:
    # `merged`: the cell's hidden small industry counts, added up (planner.disclosure).
    return ("cell", "count", "n_*", "merged")


SPECS: dict[str, CollectionSpec] = {
    spec.name: spec
    for spec in (
        CollectionSpec(
            "service-points",
            "Service points",
            "Open job-service points of the plan (and the central talent market).",
            ("id", "name", "kind", "industries", "capacity", "load", "is_market"),
            _column_ids("id"),
            _many_industries,
        ),
        CollectionSpec(
            "belts",
            "Industry belts",
            "Areas where employers of one industry cluster.",
            ("industry", "employers", "demand"),
            _belt_ids,
            _one_industry,
        ),
        CollectionSpec(
            "catchments",
            "Catchments",
            "Area each service point serves (feature id = service point id).",
            ("service_point", "service_point_id"),
            _catchment_ids,
            None,
        ),
        CollectionSpec(
            "employers",
            "Employers",
            "Employers with their hiring demand (public fields only).",
            ("id", "name", "industry", "demand", "opens", "closes"),
            _column_ids("id"),
            _one_industry,
        ),
        CollectionSpec(
            "candidate-sites",
            "Candidate sites",
            "Places where a service point could open.",
            ("id", "name", "kind", "capacity"),
            _column_ids("id"),
            None,
        ),
        CollectionSpec(
            "talent-market",
            "Talent market",
            "The central talent market.",
            ("id", "name", "capacity"),
            _column_ids("id"),
            None,
        ),
        CollectionSpec(
            "seeker-cells",
            "Job seekers (hexagon cells)",
            "Registered job seekers counted per hexagon under disclosure control: no count "
            "or industry sub-count below the scenario's threshold (5 by default); small "
            "sub-counts are null and added up in `merged`; small cells are not served. "
            "Seekers are never served individually.",
            _seeker_fields(),
            _column_ids("cell"),
            _cell_industries,
        ),
    )
}
"""Every collection, by URL name."""

LAYERS: dict[str, tuple[str, str]] = {
    "service-points": ("plan", "service_points"),
    "belts": ("plan", "belts"),
    "catchments": ("plan", "catchments"),
    "seeker-cells": ("plan", "seeker_cells"),
    "employers": ("city", "employers"),
    "candidate-sites": ("city", "candidate_sites"),
    "talent-market": ("city", "talent_market"),
}
"""Where each collection is read from: (``plan`` | ``city``) GeoPackage and layer name."""
