"""Cache of prepared networks: plain numpy arrays, validated before use.

Parsing a large GraphML with osmnx takes tens of seconds; the prepared arrays load in well
under a second. A cache file is an ``.npz`` archive of plain (non-object) arrays, written
with :func:`numpy.savez` and read with ``np.load(allow_pickle=False)``, so reading one never
runs code. Its ``header`` array holds JSON: format name and version, the SHA-256 of the
source file, the CRS, modes, ingest summary, and the dtype and shape of every other array.
:func:`read_network` checks all of it, plus index ranges, and raises :class:`CacheError` on
any mismatch; :func:`geo.network.load_network_cached` then logs the reason and rebuilds.

The cache folder is ``$DIANMIAN_CACHE`` or ``~/.cache/dianmian``; a file's name holds a key
over the source's bytes, the modes, the speed overrides and the default speed table.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

import numpy as np
import shapely

from ..errors import CacheError
from ..modes import MODE_CODES, TravelMode, speed_table
from .model import ModeGraph, StreetNetwork

FORMAT = "dianmian-network"
CACHE_VERSION = 3
"""Version of the cache layout; files of another version are rebuilt (1 was pickled; 3 added
way ids and the ingest summary)."""

_KIND = {
    "node_id": "i",
    "x": "f",
    "y": "f",
    "lon": "f",
    "lat": "f",
    "edge_u": "i",
    "edge_v": "i",
    "edge_length_m": "f",
    "edge_oneway": "b",
    "edge_highway": "U",
    "geom_index": "i",
    "geom_offsets": "i",
    "geom_wkb": "u",
    "edge_way": "i",
}
"""Expected dtype kind of each network-level array."""

_MODE_KIND = {
    "src": "i",
    "dst": "i",
    "time_s": "f",
    "length_m": "f",
    "edge": "i",
    "reverse": "b",
    "in_component": "b",
}
"""Expected dtype kind of each per-mode array (stored as ``<mode>__<name>``)."""


def default_cache_dir() -> Path:
    """``$DIANMIAN_CACHE`` or ``~/.cache/dianmian``."""
    return Path(os.environ.get("DIANMIAN_CACHE", Path.home() / ".cache" / "dianmian"))


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_path(
    cache_dir: Path,
    source_sha256: str,
    modes: tuple[TravelMode, ...],
    speeds: Mapping[str, Any] | None,
) -> Path:
    """File of the prepared network of a source with these modes and speeds."""
    meta = {
        "v": CACHE_VERSION,
        "source": source_sha256,
        "modes": [m.value for m in modes],
        "speeds": speeds,
        "defaults": speed_table(),  # a changed default speed table invalidates the cache
    }
    key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:24]
    return cache_dir / f"network-{key}.npz"


def network_arrays(net: StreetNetwork) -> dict[str, np.ndarray]:
    """Every array of `net` as plain numpy arrays (no object dtype), by cache name."""
    arrays: dict[str, np.ndarray] = {
        "node_id": net.node_id,
        "x": net.x,
        "y": net.y,
        "lon": net.lon,
        "lat": net.lat,
        "edge_u": net.edge_u,
        "edge_v": net.edge_v,
        "edge_length_m": net.edge_length_m,
        "edge_oneway": net.edge_oneway,
        "edge_highway": net.edge_highway.astype(str),
    }
    if net.edge_way is not None:
        arrays["edge_way"] = np.asarray(net.edge_way, dtype=np.int64)
    if net.edge_geometry is not None:
        has = np.array([g is not None for g in net.edge_geometry], dtype=bool)
        wkb = [bytes(b) for b in shapely.to_wkb(net.edge_geometry[has])]
        arrays["geom_index"] = np.flatnonzero(has).astype(np.int64)
        arrays["geom_offsets"] = np.cumsum([0, *map(len, wkb)]).astype(np.int64)
        arrays["geom_wkb"] = np.frombuffer(b"".join(wkb), dtype=np.uint8)
    for mode, g in net.modes.items():
        for name in _MODE_KIND:
            arrays[f"{mode.value}__{name}"] = np.asarray(getattr(g, name))
        if g.street_allowed is not None:
            arrays[f"{mode.value}__street_allowed"] = np.asarray(g.street_allowed, dtype=bool)
    return {k: np.ascontiguousarray(a) for k, a in arrays.items()}


def save_network(net: StreetNetwork, path: Path, *, source_sha256: str = "") -> None:
    """Write `net` to an ``.npz`` cache file (atomically, plain arrays only)."""
    arrays = network_arrays(net)
    objects = [k for k, a in arrays.items() if a.dtype.kind == "O"]
    if objects:
        msg = f"internal: arrays {objects} would need pickling"
        raise TypeError(msg)
    header = {
        "format": FORMAT,
        "version": CACHE_VERSION,
        "source_sha256": source_sha256,
        "crs": net.crs,
        "source": net.source,
        "modes": [m.value for m in net.modes],
        "ingest": net.ingest,
        "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()},
    }
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    # allow_pickle=False: numpy refuses to write an object array (typed loosely for mypy,
    # whose numpy stub confuses the ** arrays with the keyword).
    savez: Any = np.savez
    savez(tmp, header=blob, allow_pickle=False, **arrays)
    tmp.replace(path)


def read_network(path: Path, *, source_sha256: str | None = None) -> StreetNetwork:
    """Read and validate a network written by :func:`save_network`.

    Parameters
    ----------
    path
        The cache file.
    source_sha256
        If given, the file must have been prepared from a source with this SHA-256.

    Raises
    ------
    CacheError
        If the file is not a readable archive, is of another format or version, was built
        from another source, or its arrays do not have the recorded or expected dtypes,
        shapes and index ranges.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                msg = f"`{path}` is not an .npz archive"
                raise CacheError(msg)
            header = _header(data, path, source_sha256)
            arrays = {name: data[name] for name in header["arrays"]}
    except CacheError:
        raise
    except (OSError, ValueError, KeyError, EOFError, BadZipFile) as exc:
        msg = f"`{path}` cannot be read: {type(exc).__name__}: {exc}"
        raise CacheError(msg) from exc
    _check_arrays(arrays, header, path)
    return _network(arrays, header, path)


def _header(data: Any, path: Path, source_sha256: str | None) -> dict[str, Any]:
    if "header" not in data.files:
        msg = f"`{path}` has no header"
        raise CacheError(msg)
    raw = data["header"]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        msg = f"`{path}` has a malformed header"
        raise CacheError(msg)
    try:
        header = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"`{path}` has a malformed header: {exc}"
        raise CacheError(msg) from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        msg = f"`{path}` is not a dianmian network cache"
        raise CacheError(msg)
    if header.get("version") != CACHE_VERSION:
        msg = f"`{path}` has cache version {header.get('version')!r}, not {CACHE_VERSION}"
        raise CacheError(msg)
    if source_sha256 is not None and header.get("source_sha256") != source_sha256:
        msg = f"`{path}` was prepared from another source file"
        raise CacheError(msg)
    arrays, modes = header.get("arrays"), header.get("modes")
    well_formed = (
        isinstance(arrays, dict)
        and all(isinstance(v, dict) for v in arrays.values())
        and isinstance(modes, list)
        and all(m in MODE_CODES for m in modes)
        and isinstance(header.get("crs"), str)
        and isinstance(header.get("ingest", {}), dict)
    )
    if not well_formed:
        msg = f"`{path}` has a malformed header"
        raise CacheError(msg)
    listed = set(header["arrays"])
    if listed != set(data.files) - {"header"}:
        msg = f"`{path}`: arrays {sorted(set(data.files) - {'header'})} differ from its header"
        raise CacheError(msg)
    return header


def _check_arrays(arrays: dict[str, np.ndarray], header: dict[str, Any], path: Path) -> None:
    """Dtypes and shapes as recorded and as expected; indices within range."""
    modes = [TravelMode(m) for m in header["modes"]]
    n = arrays["node_id"].shape[0] if "node_id" in arrays else -1
    m = arrays["edge_u"].shape[0] if "edge_u" in arrays else -1
    optional = ("geom_index", "geom_offsets", "geom_wkb", "edge_way")
    expected: dict[str, tuple[str, tuple[int, ...] | None]] = {
        k: (kind, None) for k, kind in _KIND.items() if k not in optional
    }
    if "edge_way" in arrays:
        expected["edge_way"] = (_KIND["edge_way"], (m,))
    for k in ("node_id", "x", "y", "lon", "lat"):
        expected[k] = (_KIND[k], (n,))
    for k in ("edge_u", "edge_v", "edge_length_m", "edge_oneway", "edge_highway"):
        expected[k] = (_KIND[k], (m,))
    if "geom_index" in arrays:
        for k in ("geom_index", "geom_offsets", "geom_wkb"):
            expected[k] = (_KIND[k], None)
    for mode in modes:
        for k, kind in _MODE_KIND.items():
            shape = (n,) if k == "in_component" else None
            expected[f"{mode.value}__{k}"] = (kind, shape)
        if f"{mode.value}__street_allowed" in arrays:
            expected[f"{mode.value}__street_allowed"] = ("b", (m,))
    problems = _dtype_shape_problems(arrays, header, expected)
    if not problems:
        problems = _range_problems(arrays, modes, n, m)
    if problems:
        msg = f"`{path}` is not a valid network cache: " + "; ".join(problems[:5])
        raise CacheError(msg)


def _dtype_shape_problems(
    arrays: dict[str, np.ndarray],
    header: dict[str, Any],
    expected: dict[str, tuple[str, tuple[int, ...] | None]],
) -> list[str]:
    problems = []
    if set(expected) != set(arrays):
        problems.append(f"arrays {sorted(arrays)} instead of {sorted(expected)}")
        return problems
    for k, (kind, shape) in expected.items():
        a, rec = arrays[k], header["arrays"][k]
        if a.dtype.str != rec.get("dtype") or list(a.shape) != rec.get("shape"):
            problems.append(f"`{k}` is {a.dtype.str}{list(a.shape)}, header says {rec}")
        elif a.dtype.kind != kind or a.ndim != 1 or (shape is not None and a.shape != shape):
            problems.append(f"`{k}` has dtype {a.dtype.str} and shape {a.shape}")
    return problems


def _range_problems(
    arrays: dict[str, np.ndarray], modes: list[TravelMode], n: int, m: int
) -> list[str]:
    def within(k: str, hi: int) -> bool:
        a = arrays[k]
        return a.size == 0 or bool(a.min() >= 0 and a.max() < hi)

    problems = [
        f"`{k}` indexes outside 0..{n - 1}" for k in ("edge_u", "edge_v") if not within(k, n)
    ]
    for mode in modes:
        p = f"{mode.value}__"
        sizes = {arrays[p + k].size for k in _MODE_KIND if k != "in_component"}
        if len(sizes) != 1:
            problems.append(f"{mode.value} arrays differ in length")
            continue
        problems += [f"`{p}{k}` out of range" for k in ("src", "dst") if not within(p + k, n)]
        if not within(p + "edge", m):
            problems.append(f"`{p}edge` out of range")
        t = arrays[p + "time_s"]
        if t.size and not (np.isfinite(t).all() and t.min() >= 0):
            problems.append(f"`{p}time_s` has negative or non-finite times")
    if "geom_index" in arrays:
        idx, off, wkb = arrays["geom_index"], arrays["geom_offsets"], arrays["geom_wkb"]
        if not within("geom_index", m) or off.size != idx.size + 1:
            problems.append("geometry index out of range")
        elif off[0] != 0 or off[-1] != wkb.size or (np.diff(off) <= 0).any():
            problems.append("geometry offsets inconsistent")
    return problems


def _network(arrays: dict[str, np.ndarray], header: dict[str, Any], path: Path) -> StreetNetwork:
    geometry = None
    if "geom_index" in arrays:
        blob, off = arrays["geom_wkb"].tobytes(), arrays["geom_offsets"]
        try:
            lines = shapely.from_wkb([blob[a:b] for a, b in itertools.pairwise(off.tolist())])
        except shapely.errors.GEOSException as exc:
            msg = f"`{path}` holds unreadable geometries: {exc}"
            raise CacheError(msg) from exc
        geometry = np.full(arrays["edge_u"].size, None, dtype=object)
        geometry[arrays["geom_index"]] = lines
    modes = {
        TravelMode(m): ModeGraph(
            mode=TravelMode(m),
            src=arrays[f"{m}__src"],
            dst=arrays[f"{m}__dst"],
            time_s=arrays[f"{m}__time_s"],
            length_m=arrays[f"{m}__length_m"],
            edge=arrays[f"{m}__edge"],
            reverse=arrays[f"{m}__reverse"],
            in_component=arrays[f"{m}__in_component"],
            street_allowed=arrays.get(f"{m}__street_allowed"),
        )
        for m in header["modes"]
    }
    return StreetNetwork(
        crs=str(header["crs"]),
        node_id=arrays["node_id"],
        x=arrays["x"],
        y=arrays["y"],
        lon=arrays["lon"],
        lat=arrays["lat"],
        edge_u=arrays["edge_u"],
        edge_v=arrays["edge_v"],
        edge_length_m=arrays["edge_length_m"],
        edge_highway=arrays["edge_highway"].astype(object),
        edge_oneway=arrays["edge_oneway"],
        edge_geometry=geometry,
        modes=modes,
        source=str(header["source"]),
        edge_way=arrays.get("edge_way"),
        ingest=dict(header.get("ingest") or {}),
    )
