"""The prepared-network cache: plain arrays, validated on load, rebuilt when unusable."""

from __future__ import annotations

import json
import logging
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from geo.errors import CacheError
from geo.network import load_network, load_network_cached, read_network, save_network
from geo.network.cache import CACHE_VERSION, file_sha256, network_arrays

TINY = Path(__file__).resolve().parents[1] / "data" / "networks" / "tiny.osm"


def _assert_same_network(a, b):
    assert a.summary() == b.summary()
    for name in ("node_id", "x", "y", "lon", "lat", "edge_u", "edge_v", "edge_length_m"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.edge_highway, b.edge_highway)
    for mode in a.modes:
        for name in ("src", "dst", "time_s", "length_m", "edge", "reverse", "in_component"):
            np.testing.assert_array_equal(getattr(a.mode(mode), name), getattr(b.mode(mode), name))


@pytest.fixture
def cached(tmp_path):
    """A fresh cache of the tiny network: (network, cache file, cache folder)."""
    folder = tmp_path / "cache"
    net = load_network_cached(TINY, cache_dir=folder)
    (path,) = folder.glob("network-*.npz")
    return net, path, folder


def test_cache_holds_plain_arrays_only(cached):
    _, path, _ = cached
    with np.load(path, allow_pickle=False) as data:  # would raise on any object array
        kinds = {name: data[name].dtype.kind for name in data.files}
        header = json.loads(data["header"].tobytes())
    assert "O" not in kinds.values()
    assert header["version"] == CACHE_VERSION
    assert header["source_sha256"] == file_sha256(TINY)
    assert set(header["arrays"]) == set(kinds) - {"header"}


def test_cache_round_trip_equals_fresh_load(cached):
    net, path, _ = cached
    again = read_network(path, source_sha256=file_sha256(TINY))
    _assert_same_network(net, again)
    _assert_same_network(load_network(TINY), again)


def _pickle_npz(path: Path) -> None:
    """An .npz whose header is fine but one array is a pickled object (runs code if loaded)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["edge_highway"] = np.array([object()] * 1, dtype=object)
    np.savez(path.with_suffix(".tmp.npz"), **arrays)
    path.with_suffix(".tmp.npz").replace(path)


def _wrong_shape(path: Path) -> None:
    """Header and arrays agree with each other, but edges index nodes that do not exist."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(arrays.pop("header").tobytes())
    arrays["edge_u"] = arrays["edge_u"] + 1000
    arrays["x"] = arrays["x"][:-1]
    header["arrays"]["x"]["shape"] = [arrays["x"].size]
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path.with_suffix(".tmp.npz"), header=blob, **arrays)
    path.with_suffix(".tmp.npz").replace(path)


def _old_format(path: Path) -> None:
    """A version-1 cache (pickled object arrays, no header)."""
    np.savez(
        path.with_suffix(".tmp.npz"),
        allow_pickle=True,
        meta=np.array(json.dumps({"crs": "EPSG:32649"})),
        geom_wkb=np.array([b"\x01"], dtype=object),
    )
    path.with_suffix(".tmp.npz").replace(path)


def _other_version(path: Path) -> None:
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(arrays.pop("header").tobytes())
    header["version"] = CACHE_VERSION + 1
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path.with_suffix(".tmp.npz"), header=blob, **arrays)
    path.with_suffix(".tmp.npz").replace(path)


class _Boom:
    def __reduce__(self):
        return (Path("/nonexistent-boom").touch, ())


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda p: p.write_bytes(b"torn"), id="random-bytes"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:200]), id="truncated"),
        pytest.param(lambda p: p.write_bytes(pickle.dumps(_Boom())), id="pickle-file"),
        pytest.param(_pickle_npz, id="pickle-bearing-npz"),
        pytest.param(_wrong_shape, id="wrong-shapes-and-indices"),
        pytest.param(_old_format, id="old-format"),
        pytest.param(_other_version, id="other-version"),
        pytest.param(
            lambda p: zipfile.ZipFile(p, "w").writestr("readme.txt", "hello"), id="foreign-zip"
        ),
    ],
)
def test_unusable_cache_is_logged_and_rebuilt(cached, spoil, caplog):
    net, path, folder = cached
    spoil(path)
    with pytest.raises(CacheError):
        read_network(path)
    with caplog.at_level(logging.WARNING, logger="geo.network.load"):
        again = load_network_cached(TINY, cache_dir=folder)
    assert "rebuilding network cache" in caplog.text
    _assert_same_network(net, again)
    assert not Path("/nonexistent-boom").exists()
    # The rebuilt file is valid again.
    _assert_same_network(net, read_network(path, source_sha256=file_sha256(TINY)))


def test_cache_of_another_source_is_refused(cached, tmp_path):
    _, path, _ = cached
    with pytest.raises(CacheError, match="another source"):
        read_network(path, source_sha256="0" * 64)


def test_network_arrays_have_no_object_dtype(cached):
    net, _, _ = cached
    assert all(a.dtype.kind != "O" for a in network_arrays(net).values())


def test_save_and_read_with_source_digest(tmp_path, cached):
    net, _, _ = cached
    out = tmp_path / "x.npz"
    save_network(net, out, source_sha256="abc")
    assert read_network(out, source_sha256="abc").n_nodes == net.n_nodes
