"""rask: Dask's graphs executed by rask's scheduler.

Dask's collections build graphs; ``rask.get`` executes them, following
Dask's ``get`` specification, on rask's scheduler (written in Rust, run
without holding the GIL)::

    import dask, dask.array as da, rask
    x = da.arange(1_000_000, chunks=100_000)
    dask.compute((x ** 2).sum(), scheduler=rask.get)

It works without Dask too, on Dask-style graphs of tuples::

    from operator import add
    rask.get({"x": 1, "y": (add, "x", 10)}, "y")   # 11
"""

from __future__ import annotations

import os
import threading

from . import _rask
from ._get import get

# A run that Ctrl-C interrupted leaves its worker threads to end as their
# current tasks return. The interpreter waits for them when it exits, as
# it waits for a ThreadPoolExecutor's tasks (this is the hook
# concurrent.futures uses): a worker waking after the interpreter is gone
# would abort the process.
_register_atexit = getattr(threading, "_register_atexit", None)
if _register_atexit is not None:
    _register_atexit(_rask.wait_for_runs)
else:  # pragma: no cover - every CPython from 3.9 has it
    import atexit

    atexit.register(_rask.wait_for_runs)

# A child forked while a run was live (by a task, or a profiler's tracker
# process) has none of the run's threads: it forgets the run, or it would
# wait for it for ever when it exits.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_rask.forget_runs)

__all__ = ["get"]
