"""The ``processes`` scheduler's pool: spawned worker processes.

rask's scheduler runs in the calling process; each task, with its
dependencies' values, is pickled (with cloudpickle where installed, as
Dask does, so lambdas and closures travel) to a worker process, and its
result pickled back, as ``dask.multiprocessing.get`` does. Workers are
spawned, not forked: a fork of a process with threads (rask's own, or
the caller's) can inherit a lock held by a thread that does not exist in
the child. An interrupted or failed run kills its workers.
"""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

try:
    import cloudpickle as _pickler
except ImportError:  # pragma: no cover - dask brings cloudpickle
    _pickler = pickle


class TaskPickleError(TypeError):
    """A task or one of its inputs cannot be pickled for ``processes``."""


def _execute_pickled(payload):
    from ._runner import execute

    task, data = _pickler.loads(payload)
    return _pickler.dumps(execute(task, data))


class Pool:
    """``num_workers`` spawned processes that execute pickled tasks."""

    def __init__(self, num_workers):
        self.executor = ProcessPoolExecutor(
            max_workers=num_workers, mp_context=multiprocessing.get_context("spawn")
        )

    def run(self, key, task, data):
        try:
            payload = _pickler.dumps((task, data))
        except Exception as e:
            raise TaskPickleError(
                f"task {key!r} cannot be pickled for the processes scheduler: {e}"
            ) from e
        return _pickler.loads(self.executor.submit(_execute_pickled, payload).result())

    def close(self, kill=False):
        if kill:
            for p in list(getattr(self.executor, "_processes", {}).values()):
                p.kill()
        self.executor.shutdown(wait=True, cancel_futures=True)
