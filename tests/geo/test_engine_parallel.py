"""Worker processes and sparse batches of the engine's searches (geo.engine.parallel/search).

The parallel and sparse paths must give exactly (bit for bit) what the serial dense path
gives, and that must match networkx.
"""

from __future__ import annotations

import logging
import multiprocessing
import os

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.engine import Engine, TravelTimes, parallel
from geo.engine.parallel import check_workers, run_tasks, use_processes
from geo.engine.search import many_to_many
from geo.engine.synthetic import grid_graph
from geo.network import network_from_graph

needs_fork = pytest.mark.skipif(
    not parallel.fork_available(), reason="worker processes need the fork start method"
)


@pytest.fixture(scope="module")
def net():
    return network_from_graph(grid_graph(9, 11, seed=7, geometry=True, oneway=0.3))


@pytest.fixture
def always_parallel(monkeypatch):
    """Fork workers even for tiny searches (the production threshold keeps them serial)."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_WORK", 0)


def points(net, n, seed):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(net.x.min(), net.x.max(), n), rng.uniform(net.y.min(), net.y.max(), n)]
    )


def assert_same_matrix(a, b):
    """Identical values, storage and sparsity pattern (no tolerance)."""
    assert a.is_sparse == b.is_sparse
    for x, y in ((a.time_s, b.time_s), (a.length_m, b.length_m)):
        if x is None or y is None:
            assert x is None and y is None
        elif a.is_sparse:
            np.testing.assert_array_equal(x.indptr, y.indptr)
            np.testing.assert_array_equal(x.indices, y.indices)
            np.testing.assert_array_equal(x.data, y.data)
        else:
            np.testing.assert_array_equal(x, y)


# -- workers argument ----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2", np.nan])
def test_bad_workers_are_rejected(net, bad):
    with pytest.raises(ValueError, match="`workers` must be a whole number >= 1"):
        check_workers(bad)
    with pytest.raises(ValueError, match="`workers`"):
        TravelTimes(net, "walk", workers=bad)
    with pytest.raises(ValueError, match="`workers`"):
        Engine(net, workers=bad)
    with pytest.raises(ValueError, match="`workers`"):
        TravelTimes(net, "walk").matrix(points(net, 3, 0), workers=bad)


def test_workers_default_is_every_cpu():
    assert check_workers(None) == parallel.available_cpus() >= 1
    assert check_workers(3) == 3
    assert use_processes(1, 1000, 10**9) == 1  # one worker: in process
    assert use_processes(8, 1, 10**9) == 1  # one search: in process
    assert use_processes(8, 1000, 10) == 1  # too little work to pay the start-up


@needs_fork
def test_processes_capped_by_tasks():
    assert use_processes(8, 3, 10**9) == 3


def test_no_fork_runs_in_process(monkeypatch):
    monkeypatch.setattr(parallel, "fork_available", lambda: False)
    assert use_processes(4, 1000, 10**9) == 1


# -- equality: parallel == serial, sparse == dense, both == networkx ------------------------


@needs_fork
@pytest.mark.usefixtures("always_parallel")
@pytest.mark.parametrize("mode", ["walk", "car"])
@pytest.mark.parametrize(("n_o", "n_d"), [(9, 40), (40, 9)])  # both search directions
@pytest.mark.parametrize("sparse", [False, True])
def test_parallel_point_matrix_identical_to_serial(net, mode, n_o, n_d, sparse):
    tt = TravelTimes(net, mode)
    o, d = tt.snap(points(net, n_o, 1)), tt.snap(points(net, n_d, 2))
    full = tt.matrix(o, d, workers=1).time_s
    cutoff = float(np.median(full[np.isfinite(full)]))
    serial = tt.matrix(o, d, cutoff_s=cutoff, lengths=True, sparse=sparse, workers=1)
    forked = tt.matrix(o, d, cutoff_s=cutoff, lengths=True, sparse=sparse, workers=2)
    assert_same_matrix(serial, forked)
    assert not multiprocessing.active_children()  # no worker left behind


@needs_fork
@pytest.mark.usefixtures("always_parallel")
@pytest.mark.parametrize("mode", ["walk", "car"])
def test_parallel_node_matrix_matches_networkx(net, mode):
    tt = TravelTimes(net, mode, workers=2)
    graph = net.to_networkx(mode)
    nodes = np.flatnonzero(net.mode(mode).in_component)
    rng = np.random.default_rng(11)
    o, d = rng.choice(nodes, 12, replace=False), rng.choice(nodes, 30, replace=False)
    m = tt.node_matrix(o, d, lengths=True, sparse=True)
    t, ln = m.dense_time(), m.dense_length()
    for i, a in enumerate(o.tolist()):
        times, paths = nx.single_source_dijkstra(graph, a, weight="time_s")
        for j, b in enumerate(d.tolist()):
            assert t[i, j] == pytest.approx(times[b], abs=1e-9)
            length = sum(
                graph[x][y]["length_m"] for x, y in zip(paths[b][:-1], paths[b][1:], strict=True)
            )
            assert ln[i, j] == pytest.approx(length, rel=1e-9, abs=1e-9)
    assert_same_matrix(m, tt.node_matrix(o, d, lengths=True, sparse=True, workers=1))


def test_sparse_identical_to_dense_serial(net):
    """The sparse path (finite entries per batch) stores exactly the dense finite entries."""
    tt = TravelTimes(net, "car", workers=1)
    o, d = tt.snap(points(net, 30, 5)), tt.snap(points(net, 14, 6))
    dense = tt.matrix(o, d, cutoff_s=400, lengths=True)
    sparse = tt.matrix(o, d, cutoff_s=400, lengths=True, sparse=True)
    np.testing.assert_array_equal(sparse.dense_time(), dense.time_s)
    np.testing.assert_array_equal(sparse.dense_length(), dense.length_m)
    assert sparse.time_s.nnz == np.isfinite(dense.time_s).sum()
    assert sparse.time_s.has_canonical_format


@needs_fork
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 10_000),
    n_src=st.integers(0, 25),
    n_tgt=st.integers(0, 25),
    limit=st.one_of(st.just(np.inf), st.floats(0, 900)),
    lengths=st.booleans(),
    sparse=st.booleans(),
    workers=st.integers(2, 3),
)
def test_search_parallel_equals_serial_property(
    net, monkeypatch, seed, n_src, n_tgt, limit, lengths, sparse, workers
):
    monkeypatch.setattr(parallel, "PARALLEL_MIN_WORK", 0)
    tt = TravelTimes(net, "car")
    rng = np.random.default_rng(seed)
    n = tt.base.n_nodes
    src, tgt = rng.integers(0, n, n_src), rng.integers(0, n, n_tgt)
    csr = tt.base.base_csr(reverse=False)
    kw = {"limit": limit, "lengths": lengths, "sparse": sparse}
    one = many_to_many(csr, tt.base.arcs, src, tgt, workers=1, **kw)
    many = many_to_many(csr, tt.base.arcs, src, tgt, workers=workers, **kw)
    a, b = one.dense(), many.dense()
    np.testing.assert_array_equal(a[0], b[0])
    if lengths:
        np.testing.assert_array_equal(a[1], b[1])
    if sparse:
        np.testing.assert_array_equal(one.row, many.row)
        np.testing.assert_array_equal(one.col, many.col)
    assert (a[0][np.isfinite(a[0])] <= limit).all()


# -- the pool itself -----------------------------------------------------------------------


def _square(state, task):
    return state["k"] * task * task


def _fail_on_three(state, task):
    if task == 3:
        msg = f"task {task} is bad"
        raise ValueError(msg)
    return task


def _die_in_worker(state, task):
    if os.getpid() != state["parent"]:
        os._exit(3)  # a worker killed, e.g. by the OOM killer
    return task + 1


@needs_fork
def test_run_tasks_in_order():
    out = list(run_tasks(_square, {"k": 2}, list(range(20)), processes=2))
    assert out == [2 * i * i for i in range(20)]
    assert not multiprocessing.active_children()


@needs_fork
def test_worker_error_reaches_the_caller():
    with pytest.raises(ValueError, match="task 3 is bad"):
        list(run_tasks(_fail_on_three, {}, list(range(8)), processes=2))
    assert not multiprocessing.active_children()


@needs_fork
def test_dead_worker_falls_back_to_in_process(caplog):
    with caplog.at_level(logging.WARNING, logger="geo.engine.parallel"):
        out = list(run_tasks(_die_in_worker, {"parent": os.getpid()}, [1, 2, 3], processes=2))
    assert out == [2, 3, 4]
    assert "worker died" in caplog.text
    assert not multiprocessing.active_children()


@needs_fork
def test_big_enough_searches_do_fork(net, monkeypatch):
    """The equality tests above really exercise the workers (not a silent serial run)."""
    from geo.engine import search

    seen = []

    def spy(fn, state, tasks, *, processes):
        seen.append((processes, len(tasks)))
        return run_tasks(fn, state, tasks, processes=processes)

    monkeypatch.setattr(search, "run_tasks", spy)
    tt = TravelTimes(net, "walk", workers=2)
    o = points(net, 30, 1)
    tt.matrix(o, o[:5])
    assert seen[-1] == (1, 1)  # tiny: in process
    monkeypatch.setattr(parallel, "PARALLEL_MIN_WORK", 0)
    tt.matrix(o, o[:5], sparse=True)
    assert seen[-1][0] == 2 and seen[-1][1] >= 2


def _slow_pid(state, task):
    import time

    time.sleep(0.02)
    return task, os.getpid()


@needs_fork
def test_this_process_takes_tasks_from_the_back():
    out = list(run_tasks(_slow_pid, {}, list(range(12)), processes=2))
    assert [t for t, _ in out] == list(range(12))
    pids = [p for _, p in out]
    assert os.getpid() in pids  # the caller works instead of waiting
    mine = [t for t, p in out if p == os.getpid()]
    assert mine == list(range(12 - len(mine), 12))  # a tail of the tasks
