"""Nearest labels on disk (api.labels): mapped answers equal fresh ones; stale, corrupt or
foreign folders are rebuilt with a log line; no pickle; concurrent starts build once."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from api.labels import (
    HEADER,
    LabelsSpec,
    ModeArrays,
    open_labels,
    read_labels,
    state_labels,
)
from api.state import ServicePoints
from geo import TravelMode
from geo.engine import NearestIndex
from geo.engine.nearest import NodeLabels

MODES = (TravelMode.WALK, TravelMode.EBIKE)
K_MAX = 4


@pytest.fixture(scope="module")
def points(city):
    return ServicePoints.from_frame(city.service_points())


def _indices(root, network, points, *, lon=None):
    return state_labels(
        root,
        network,
        MODES,
        points.lon if lon is None else lon,
        points.lat,
        points.groups(),
        k_max=K_MAX,
        max_snap_m=2000.0,
    )


def _queries(city, n=300, seed=5):
    rng = np.random.default_rng(seed)
    span = (city.N - 1) * city.STEP_DEG
    return (
        city.LON0 + rng.uniform(-0.05, 1.05, n) * span,
        city.LAT0 + rng.uniform(-0.05, 1.05, n) * span,
    )


def _only_folder(root: Path) -> Path:
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    return folder


def test_mapped_answers_equal_freshly_computed(tmp_path, network, points, city, caplog):
    caplog.set_level(logging.INFO, logger="api.labels")
    built = _indices(tmp_path, network, points)
    assert "building them" in caplog.text
    caplog.clear()
    mapped = _indices(tmp_path, network, points)  # a second worker: maps, builds nothing
    assert "building" not in caplog.text
    lon, lat = _queries(city)
    for mode in MODES:
        fresh = NearestIndex(
            network, mode, points.lon, points.lat, groups=points.groups(), k_max=K_MAX
        )
        for key, lab in mapped[mode].labels.items():
            # Read-only views of the files, not private copies.
            assert not lab.facility.flags.writeable and not lab.time_s.flags.writeable
            np.testing.assert_array_equal(lab.facility, fresh.labels[key].facility)
            np.testing.assert_array_equal(lab.time_s, fresh.labels[key].time_s)
            np.testing.assert_array_equal(lab.length_m, fresh.labels[key].length_m)
        seg = mapped[mode].segments
        assert not seg.tree.data.flags.writeable and not seg.seg_a.flags.writeable
        for name, arr in seg.arrays().items():
            np.testing.assert_array_equal(arr, fresh.segments.arrays()[name])
        for group in (None, "textile", "food"):
            for k in (1, K_MAX):
                want = fresh.query(lon, lat, k=k, group=group)
                for index in (built[mode], mapped[mode]):
                    got = index.query(lon, lat, k=k, group=group)
                    np.testing.assert_array_equal(got.facility, want.facility)
                    np.testing.assert_array_equal(got.time_s, want.time_s)
                    np.testing.assert_array_equal(got.length_m, want.length_m)
                    one = index.query(lon[:1], lat[:1], k=k, group=group)
                    np.testing.assert_array_equal(one.facility[0], want.facility[0])


def test_other_points_get_their_own_folder(tmp_path, network, points):
    _indices(tmp_path, network, points)
    moved = points.lon.copy()
    moved[0] += 0.001
    _indices(tmp_path, network, points, lon=moved)
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 2


def _corrupt_header(folder: Path, **changes) -> None:
    header = json.loads((folder / HEADER).read_text())
    header.update(changes)
    (folder / HEADER).write_text(json.dumps(header))


def _flip_bytes(folder: Path) -> None:
    path = folder / "m0_g0_time_s.npy"
    data = bytearray(path.read_bytes())
    data[-20:-12] = np.array([1234.5]).tobytes()  # a plausible, wrong time
    path.write_bytes(bytes(data))


def _flip_segment(folder: Path) -> None:
    path = folder / "m1_seg_sample_xy.npy"
    data = bytearray(path.read_bytes())
    data[-8:] = np.array([5.0]).tobytes()
    path.write_bytes(bytes(data))


def _truncate(folder: Path) -> None:
    path = folder / "m1_g2_length_m.npy"
    path.write_bytes(path.read_bytes()[:-100])


def _out_of_range(folder: Path) -> None:
    path = folder / "m0_g0_facility.npy"
    arr = np.load(path)
    arr[3, 0] = 999
    np.save(path, arr)
    # Also fix the checksum, so that only the range check can catch it.
    header = json.loads((folder / HEADER).read_text())
    from api.labels import array_checksum

    header["arrays"][path.name]["crc32"] = array_checksum(arr)
    (folder / HEADER).write_text(json.dumps(header))


def _pickled(folder: Path) -> None:
    path = folder / "m0_g0_facility.npy"
    np.save(path, np.array([{"boom": 1}], dtype=object), allow_pickle=True)


BREAKS = {
    "stale version": (lambda f: _corrupt_header(f, version=0), "stale or foreign"),
    "foreign format": (lambda f: _corrupt_header(f, format="other"), "stale or foreign"),
    "other key": (lambda f: _corrupt_header(f, key="0" * 24), "stale or foreign"),
    "header not JSON": (lambda f: (f / HEADER).write_text("{"), "unreadable"),
    "no header": (lambda f: (f / HEADER).unlink(), "has no header.json"),
    "flipped bytes": (_flip_bytes, "checksum"),
    "flipped snapping sample": (_flip_segment, "checksum"),
    "truncated array": (_truncate, "unreadable"),
    "index out of range": (_out_of_range, "facility index outside"),
    "pickled array": (_pickled, "unreadable"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_broken_folder_is_rebuilt_with_a_log_line(tmp_path, network, points, city, caplog, name):
    breaker, reason = BREAKS[name]
    first = _indices(tmp_path, network, points)
    lon, lat = _queries(city, n=50)
    want = first[TravelMode.WALK].query(lon, lat, k=2)
    breaker(_only_folder(tmp_path))
    caplog.set_level(logging.INFO, logger="api.labels")
    again = _indices(tmp_path, network, points)
    assert reason in caplog.text and "building them" in caplog.text
    got = again[TravelMode.WALK].query(lon, lat, k=2)
    np.testing.assert_array_equal(got.facility, want.facility)
    np.testing.assert_array_equal(got.time_s, want.time_s)
    # The rebuilt folder is whole again: the next start maps it without building.
    caplog.clear()
    _indices(tmp_path, network, points)
    assert "building" not in caplog.text


def test_files_hold_no_objects(tmp_path, network, points):
    _indices(tmp_path, network, points)
    folder = _only_folder(tmp_path)
    for path in folder.glob("*.npy"):
        arr = np.load(path, allow_pickle=False)
        assert arr.dtype.kind in "if"


def test_index_refuses_labels_that_do_not_fit(network, points):
    index = NearestIndex(network, "walk", points.lon, points.lat, k_max=2)
    lab = index.labels[""]
    short = NodeLabels(lab.facility[:-1], lab.time_s[:-1], lab.length_m[:-1])
    with pytest.raises(ValueError, match="do not fit"):
        index.use_labels({"": short})
    with pytest.raises(ValueError, match="groups"):
        index.use_labels({"": lab, "textile": lab})


WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np
    from api.labels import LabelsSpec, ModeArrays, open_labels
    from geo import TravelMode
    from geo.engine.nearest import NodeLabels

    root, log = Path(sys.argv[1]), Path(sys.argv[2])
    spec = LabelsSpec("k" * 24, (TravelMode.WALK,), ("",), 1000, 3, 7)

    def build():
        with log.open("a") as fh:
            fh.write("built\\n")
        time.sleep(1.0)  # long enough for the other process to reach the lock
        fac = np.tile(np.arange(3, dtype=np.int32), (1000, 1))
        tim = np.tile(np.arange(3.0), (1000, 1))
        return {TravelMode.WALK: ModeArrays({"": NodeLabels(fac, tim, tim * 10)}, {})}

    labels, built = open_labels(root, spec, build)
    print(int(built), float(labels[TravelMode.WALK].labels[""].length_m.sum()))
    """
)


def test_concurrent_starts_build_once(tmp_path):
    log = tmp_path / "builds.log"
    root = tmp_path / "labels"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(root), str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert log.read_text().count("built") == 1
    assert sorted(o[0] for o in outs) == ["0", "1"]
    assert outs[0][1] == outs[1][1] == str(float(1000 * 30))
    spec = LabelsSpec("k" * 24, (TravelMode.WALK,), ("",), 1000, 3, 7)
    got = read_labels(root / spec.key, spec)[TravelMode.WALK]
    assert got.labels[""].facility.shape == (1000, 3)


def test_open_labels_builds_when_missing(tmp_path):
    spec = LabelsSpec("a" * 24, (TravelMode.CAR,), ("", "x"), 10, 1, 2)
    lab = NodeLabels(np.zeros((10, 1), np.int32), np.ones((10, 1)), np.ones((10, 1)))
    calls = []

    def build():
        calls.append(1)
        return {TravelMode.CAR: ModeArrays({"": lab, "x": lab}, {})}

    _, built = open_labels(tmp_path, spec, build)
    _, again = open_labels(tmp_path, spec, build)
    assert (built, again, len(calls)) == (True, False, 1)


def test_unwritable_folder_serves_from_memory(tmp_path, network, points, city, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    caplog.set_level(logging.WARNING, logger="api.labels")
    got = _indices(blocker / "labels", network, points)
    assert "built in memory" in caplog.text
    fresh = NearestIndex(
        network, "walk", points.lon, points.lat, groups=points.groups(), k_max=K_MAX
    )
    lon, lat = _queries(city, n=40)
    want = fresh.query(lon, lat, k=2)
    np.testing.assert_array_equal(got[TravelMode.WALK].query(lon, lat, k=2).facility, want.facility)
