"""Nearest-point labels on disk, built once and memory-mapped by every API worker.

Labelling every street node with its k nearest service points per mode and industry is the
costly part of an API start (minutes and gigabytes at city scale). :func:`open_labels`
therefore keeps the labels in a folder of plain ``.npy`` arrays with a JSON header:

* the folder's name is a key over everything the labels depend on: the street network's
  arrays (nodes, streets, geometry, each mode's graph), the service points' coordinates and
  industries, the modes, ``max_k``, ``max_snap_m`` and :data:`LABELS_VERSION`. A new plan
  with the same points reuses the folder; different points or a changed network get a new one;
* the folder also holds each mode's street snapping index (segments and samples of the
  k-d tree, :class:`geo.engine.segment_index.SegmentIndex`; only the tree is rebuilt);
* a worker that finds a valid folder maps its arrays read-only
  (``np.load(mmap_mode="r", allow_pickle=False)``), so all workers share one copy in the OS
  page cache instead of holding their own;
* a missing, stale (header of another key or version), truncated or corrupt folder (checked:
  header, dtype and shape of every array, facility indices in range, no NaN or negative
  time or length, a CRC-32 per array) is logged and rebuilt;
* building takes an exclusive lock (``fcntl.flock`` on ``<key>.lock``), so of several
  workers starting together one builds and the others wait, then map its result; the folder
  is written under a temporary name and renamed into place, so no reader sees a half-written
  one.

The files never hold Python objects: reading one never runs code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import shapely

from geo import TravelMode
from geo.engine import NearestIndex
from geo.engine.base import street_lines
from geo.engine.nearest import NodeLabels
from geo.engine.segment_index import SAMPLE_M
from geo.network import StreetNetwork

try:  # POSIX; elsewhere several workers may each build (safe, only slower)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

FORMAT = "dianmian-api-labels"
LABELS_VERSION = 3
"""Version of the layout and of the labelling; folders of another version are rebuilt
(2: CRC-32 instead of BLAKE2 checksums; 3: with the snapping index)."""

HEADER = "header.json"
KEEP = 3
"""Label folders kept per labels directory (the newest; older ones are removed)."""

FIELDS = (("facility", "i"), ("time_s", "f"), ("length_m", "f"))


class ModeArrays(NamedTuple):
    """What a worker maps per mode: node labels by group, and the arrays of the street
    snapping index (:meth:`geo.engine.segment_index.SegmentIndex.arrays`; may be empty)."""

    labels: dict[str, NodeLabels]
    segments: dict[str, np.ndarray]


Labels = dict[TravelMode, ModeArrays]


class LabelsError(ValueError):
    """A labels folder that cannot be used (missing, stale, truncated or corrupt)."""


@dataclass(frozen=True)
class LabelsSpec:
    """What a labels folder must hold: its key, modes, groups (``""`` = all) and sizes."""

    key: str
    modes: tuple[TravelMode, ...]
    groups: tuple[str, ...]
    n_nodes: int
    k_max: int
    n_facilities: int

    def header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": LABELS_VERSION,
            "key": self.key,
            "modes": [m.value for m in self.modes],
            "groups": list(self.groups),
            "n_nodes": self.n_nodes,
            "k_max": self.k_max,
            "n_facilities": self.n_facilities,
        }


def network_digest(network: StreetNetwork, modes: tuple[TravelMode, ...]) -> str:
    """BLAKE2 digest of the network arrays the labels of `modes` depend on."""
    h = hashlib.blake2b(digest_size=20)

    def add(name: str, arr: np.ndarray) -> None:
        a = np.ascontiguousarray(arr)
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.data)

    for name in ("x", "y", "edge_u", "edge_v", "edge_length_m"):
        add(name, getattr(network, name))
    if network.edge_geometry is not None:
        has = np.array([g is not None for g in network.edge_geometry], dtype=bool)
        coords, which = shapely.get_coordinates(network.edge_geometry[has], return_index=True)
        add("geom_edges", np.flatnonzero(has))
        add("geom_coords", coords)
        add("geom_which", which)
    h.update(str(network.crs).encode())
    for mode in modes:
        g = network.mode(mode)
        for name in ("src", "dst", "time_s", "length_m", "edge", "reverse"):
            add(f"{mode.value}.{name}", np.asarray(getattr(g, name)))
    return h.hexdigest()


def labels_key(
    network_sha: str,
    *,
    modes: tuple[TravelMode, ...],
    lon: np.ndarray,
    lat: np.ndarray,
    groups: Mapping[str, np.ndarray],
    k_max: int,
    max_snap_m: float,
) -> str:
    """Key of the labels of these inputs (hex, 24 characters)."""
    meta = {
        "format": FORMAT,
        "v": LABELS_VERSION,
        "network": network_sha,
        "modes": [m.value for m in modes],
        "lon": np.asarray(lon, dtype=float).tolist(),
        "lat": np.asarray(lat, dtype=float).tolist(),
        "groups": {k: np.asarray(v, dtype=np.int64).tolist() for k, v in sorted(groups.items())},
        "k_max": int(k_max),
        "max_snap_m": float(max_snap_m),
        "sample_m": SAMPLE_M,  # the snapping index's sample spacing
    }
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:24]


def _file_name(mode_i: int, group_i: int, field: str) -> str:
    return f"m{mode_i}_g{group_i}_{field}.npy"


def _segment_file(mode_i: int, name: str) -> str:
    return f"m{mode_i}_seg_{name}.npy"


def _save(path: Path, arr: np.ndarray) -> dict[str, Any]:
    """Write one array (fsynced); its header entry."""
    arr = np.ascontiguousarray(arr)
    with path.open("wb") as fh:
        np.save(fh, arr, allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())
    return {"dtype": arr.dtype.str, "shape": list(arr.shape), "crc32": array_checksum(arr)}


def array_checksum(arr: np.ndarray) -> str:
    """CRC-32 of the array's bytes (against corruption, not tampering: fast to check at
    every start)."""
    crc = 0
    flat = np.ascontiguousarray(arr).reshape(-1)
    step = 1 << 22  # elements; in blocks so a mapped file is not copied whole
    for start in range(0, flat.size, step):
        crc = zlib.crc32(flat[start : start + step].data, crc)
    return f"{crc:08x}"


def write_labels(folder: Path, labels: Labels, spec: LabelsSpec) -> None:
    """Write `labels` to `folder` atomically (a temporary folder renamed into place)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    arrays: dict[str, dict[str, Any]] = {}
    segments: dict[str, list[str]] = {}
    for mi, mode in enumerate(spec.modes):
        for gi, group in enumerate(spec.groups):
            lab = labels[mode].labels[group]
            for field, _kind in FIELDS:
                name = _file_name(mi, gi, field)
                arrays[name] = _save(tmp / name, getattr(lab, field))
        segments[mode.value] = sorted(labels[mode].segments)
        for seg, arr in labels[mode].segments.items():
            name = _segment_file(mi, seg)
            arrays[name] = _save(tmp / name, arr)
    header = {**spec.header(), "arrays": arrays, "segments": segments}
    with (tmp / HEADER).open("w", encoding="utf-8") as fh:
        json.dump(header, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    old = None
    if folder.exists():
        old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
        folder.rename(old)  # a reader with the old files mapped keeps them until it exits
    tmp.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_labels(folder: Path, spec: LabelsSpec) -> Labels:
    """Map the labels in `folder` read-only, after checking them all.

    Raises
    ------
    LabelsError
        If the folder is missing, of another key or version, or an array is truncated,
        of the wrong dtype or shape, out of range or fails its checksum.
    """
    try:
        header = json.loads((folder / HEADER).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"`{folder}` has no {HEADER}"
        raise LabelsError(msg) from exc
    except (OSError, ValueError) as exc:
        msg = f"`{folder / HEADER}` is unreadable: {exc}"
        raise LabelsError(msg) from exc
    expected = spec.header()
    if not isinstance(header, dict):
        msg = f"`{folder / HEADER}` does not hold a JSON object"
        raise LabelsError(msg)
    wrong = [
        f"{k} {header.get(k)!r} (expected {v!r})" for k, v in expected.items() if header.get(k) != v
    ]
    if wrong:
        msg = f"`{folder}` is stale or foreign: {', '.join(wrong)}"
        raise LabelsError(msg)
    arrays = header.get("arrays")
    if not isinstance(arrays, dict):
        msg = f"`{folder / HEADER}` lists no arrays"
        raise LabelsError(msg)
    segments = header.get("segments")
    if not isinstance(segments, dict):
        msg = f"`{folder / HEADER}` lists no segment arrays"
        raise LabelsError(msg)
    out: Labels = {}
    shape = (spec.n_nodes, spec.k_max)
    for mi, mode in enumerate(spec.modes):
        labels = {}
        for gi, group in enumerate(spec.groups):
            fac, tim, lng = (
                _read_array(folder, _file_name(mi, gi, field), kind, arrays, shape)
                for field, kind in FIELDS
            )
            _check_values(folder, f"{mode.value}/{group or 'all'}", fac, tim, lng, spec)
            labels[group] = NodeLabels(fac, tim, lng)
        seg = {
            str(name): _read_array(folder, _segment_file(mi, str(name)), "if", arrays, None)
            for name in segments.get(mode.value, [])
        }
        out[mode] = ModeArrays(labels, seg)
    return out


def _read_array(
    folder: Path,
    name: str,
    kind: str,
    arrays: Mapping[str, Any],
    shape: tuple[int, int] | None,
) -> np.ndarray:
    """One array mapped read-only, checked against the header (and `shape` unless ``None``);
    `kind`: the dtype kinds allowed."""
    meta = arrays.get(name)
    if not isinstance(meta, dict):
        msg = f"`{folder}` header does not list `{name}`"
        raise LabelsError(msg)
    try:
        arr = np.load(folder / name, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:  # missing, truncated, not .npy, object dtype
        msg = f"`{folder / name}` is unreadable: {exc}"
        raise LabelsError(msg) from exc
    if (
        arr.dtype.kind not in kind
        or arr.dtype.str != meta.get("dtype")
        or (shape is not None and arr.shape != shape)
        or list(arr.shape) != meta.get("shape")
    ):
        got = f"{arr.dtype}{list(arr.shape)}"
        want = f"{meta.get('dtype')}{meta.get('shape')}" if shape is None else list(shape)
        msg = f"`{folder / name}` is {got}, expected kind {kind!r} {want}"
        raise LabelsError(msg)
    if array_checksum(arr) != meta.get("crc32"):
        msg = f"`{folder / name}` fails its checksum (corrupt)"
        raise LabelsError(msg)
    return np.asarray(arr)


def _check_values(
    folder: Path, what: str, fac: np.ndarray, tim: np.ndarray, lng: np.ndarray, spec: LabelsSpec
) -> None:
    n_fac = spec.n_facilities
    problems = []
    if fac.size and (int(fac.min()) < -1 or int(fac.max()) >= n_fac):
        problems.append(f"facility index outside -1..{n_fac - 1}")
    for name, arr in (("time_s", tim), ("length_m", lng)):
        if arr.size and not float(arr.min()) >= 0:  # one pass; a NaN makes the minimum NaN
            problems.append(f"negative or NaN {name}")
    if problems:
        msg = f"`{folder}` labels {what}: {'; '.join(problems)}"
        raise LabelsError(msg)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed) while inside."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as fh:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _prune(root: Path, keep: str) -> None:
    """Remove all but the :data:`KEEP` newest label folders (never `keep`)."""
    folders = sorted(
        (p for p in root.iterdir() if p.is_dir() and (p / HEADER).is_file()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in folders[KEEP:]:
        if old.name != keep:
            logger.info("removing old API labels %s", old)
            shutil.rmtree(old, ignore_errors=True)
            old.with_name(f"{old.name}.lock").unlink(missing_ok=True)


def open_labels(root: Path, spec: LabelsSpec, build: Callable[[], Labels]) -> tuple[Labels, bool]:
    """The labels of `spec` mapped from ``root/<key>/``, built with `build` first if needed.

    If `root` cannot be written (read-only), the labels are built and kept in memory, with a
    warning: the worker still serves, only without sharing.

    Returns
    -------
    labels, built
        The labels (mapped unless `root` is read-only) and whether this call built them.
    """
    folder = root / spec.key
    with contextlib.suppress(LabelsError):
        return read_labels(folder, spec), False
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(_locked(root / f"{spec.key}.lock"))
        except OSError as exc:
            logger.warning("cannot lock API labels in %s (%s): built in memory", root, exc)
            return build(), True
        try:  # another worker may have built them while this one waited
            return read_labels(folder, spec), False
        except LabelsError as exc:
            logger.warning("API labels %s: %s; building them", spec.key, exc)
        start = time.perf_counter()
        labels = build()
        try:
            write_labels(folder, labels, spec)
        except OSError as exc:
            logger.warning("cannot write API labels to %s (%s): kept in memory", folder, exc)
            return labels, True
        logger.info("API labels %s built in %.1f s", folder, time.perf_counter() - start)
        mapped = read_labels(folder, spec)
    with contextlib.suppress(OSError):
        _prune(root, spec.key)
    return mapped, True


def state_labels(
    root: Path,
    network: StreetNetwork,
    modes: tuple[TravelMode, ...],
    lon: np.ndarray,
    lat: np.ndarray,
    groups: Mapping[str, np.ndarray],
    *,
    k_max: int,
    max_snap_m: float,
) -> dict[TravelMode, NearestIndex]:
    """Nearest indices of `modes` answering from labels mapped from ``root`` (built once)."""
    wanted = {"": np.arange(np.asarray(lon).size), **{str(k): v for k, v in groups.items()}}
    key = labels_key(
        network_digest(network, modes),
        modes=modes,
        lon=lon,
        lat=lat,
        groups=wanted,
        k_max=k_max,
        max_snap_m=max_snap_m,
    )
    lines = street_lines(network)  # one copy for all modes

    def build() -> Labels:
        built = {}
        for mode in modes:
            ix = NearestIndex(
                network,
                mode,
                lon,
                lat,
                groups=groups,
                k_max=k_max,
                max_snap_m=max_snap_m,
                lines=lines,
            )
            built[mode] = ModeArrays(ix.labels, ix.segments.arrays())
        return built

    spec = LabelsSpec(
        key=key,
        modes=modes,
        groups=tuple(wanted),
        n_nodes=network.n_nodes,
        k_max=k_max,
        n_facilities=int(np.asarray(lon).size),
    )
    mapped, _built = open_labels(root, spec, build)
    # Built or not, the indices answer from the mapping (the building copies are dropped).
    return {
        mode: NearestIndex(
            network,
            mode,
            lon,
            lat,
            groups=groups,
            k_max=k_max,
            max_snap_m=max_snap_m,
            labels=mapped[mode].labels,
            segments=mapped[mode].segments or None,
            lines=lines,
        )
        for mode in modes
    }
