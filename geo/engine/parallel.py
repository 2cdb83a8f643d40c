"""Worker processes for big batches of independent searches.

scipy.sparse.csgraph's Dijkstra holds the GIL for the whole search, so threads give no
speed-up (measured); processes do. The design:

* **fork, per call.** The graph of a matrix call is built for that call (its points are
  virtual nodes), so a persistent pool would have to be sent every graph anyway. With the
  ``fork`` start method the workers inherit the graph (and everything else the job needs)
  from the parent's memory without pickling it; only the source ranges go in and compact
  result arrays come back. Forking a pool from a process holding the Dongcao city (1-2 GB)
  takes 25-50 ms (measured under load), so calls below :data:`PARALLEL_MIN_WORK` stay in
  the process (see :func:`use_processes`).
* **This process works too.** With `n` processes, ``n - 1`` workers are forked; they take
  blocks of sources from the front while the caller takes not-yet-started blocks from the
  back, instead of waiting: on two CPUs one fork per call, not two.
* **Safe fall-backs.** Where ``fork`` is not available (Windows, and macOS defaults to
  ``spawn``: its system libraries are not fork-safe), inside a daemonic process (which may
  not have children) or with one worker, the searches run in the process. If a worker dies
  (e.g. killed for memory) the blocks not yet delivered are run in the process, with a
  warning, so the result is the same.
* **Deterministic.** Each source's search is independent of the others; the blocks are
  collected in source order, so the results are identical to the serial ones, bit for bit.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

PARALLEL_MIN_WORK = 4_000_000
"""Searches x graph nodes below which a batch runs in the process (about 80 full
searches on a 50,000-node graph, ~0.1 s: more than the worker start-up)."""

T = TypeVar("T")

_STATE: dict[str, Any] = {}
"""The job of a worker process, set once by :func:`_init` (inherited, not pickled, with fork)."""


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def check_workers(workers: int | None) -> int:
    """The number of worker processes to use: `workers`, or every available CPU for None.

    Raises
    ------
    ValueError
        If `workers` is not a whole number >= 1 (or None).
    """
    if workers is None:
        return available_cpus()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        msg = f"`workers` must be a whole number >= 1 or None (all CPUs), got {workers!r}"
        raise ValueError(msg)
    return int(workers)


def fork_available() -> bool:
    """True where worker processes may be forked: POSIX systems other than macOS (whose
    system libraries are not fork-safe), outside daemonic processes (which may not have
    children)."""
    if "fork" not in multiprocessing.get_all_start_methods() or sys.platform == "darwin":
        return False
    return not multiprocessing.current_process().daemon


def use_processes(workers: int, n_tasks: int, work: int) -> int:
    """How many processes a batch of `n_tasks` searches of total size `work` should use
    (1: run in the process)."""
    if workers <= 1 or n_tasks < 2 or work < PARALLEL_MIN_WORK or not fork_available():
        return 1
    return min(workers, n_tasks)


def _init(state: dict[str, Any]) -> None:
    _STATE.clear()
    _STATE.update(state)


def _call(task: Any) -> Any:
    fn = _STATE["fn"]
    return fn(_STATE, task)


def run_tasks(
    fn: Callable[[dict[str, Any], Any], T],
    state: dict[str, Any],
    tasks: Sequence[Any],
    *,
    processes: int,
) -> Iterator[T]:
    """``fn(state, task)`` for every task, yielded in task order, on `processes` processes:
    this one and ``processes - 1`` forked workers.

    `state` reaches the workers by fork (no pickling); tasks and results are pickled, so
    keep them small. The workers take tasks from the front; this process, instead of
    waiting, takes not-yet-started tasks from the back (so two CPUs need one fork, not two).
    With ``processes <= 1`` everything runs in this process.
    """
    if processes <= 1 or len(tasks) < 2:
        for task in tasks:
            yield fn(state, task)
        return
    ctx = multiprocessing.get_context("fork")
    own: dict[int, T] = {}
    done = 0
    try:
        with ProcessPoolExecutor(
            max_workers=processes - 1,
            mp_context=ctx,
            initializer=_init,
            initargs=({**state, "fn": fn},),
        ) as pool:
            futures = [pool.submit(_call, task) for task in tasks]
            try:
                tail = len(tasks)  # tasks[tail:] are this process's
                for i, future in enumerate(futures):
                    while i < tail - 1 and not future.done():
                        if not futures[tail - 1].cancel():
                            break  # already with a worker: nothing left to take
                        tail -= 1
                        own[tail] = fn(state, tasks[tail])
                    result = own.pop(i) if i >= tail else future.result()
                    done += 1
                    yield result
            finally:
                for future in futures:
                    future.cancel()
    except BrokenProcessPool as exc:
        logger.warning(
            "a search worker died (%s); running the last %d task(s) in process",
            exc,
            len(tasks) - done,
        )
        for k in range(done, len(tasks)):
            yield own.pop(k) if k in own else fn(state, tasks[k])
