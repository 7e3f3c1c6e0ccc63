"""``rask.get``: Dask's ``get`` on rask's scheduler.

A plain run hands the graph to the native module as it is: the legacy
tuples are read in Rust, rask's ``order`` gives the priorities, and the
worker threads call the tasks, each attached to the interpreter once for
the run. A run with Dask callbacks, a ``cache`` or worker processes is
*instrumented*: each task goes through a Python runner
(``rask._runner.Runner``) that keeps Dask's ``state`` dict, calls the
callbacks and writes the cache, as ``dask.local.get_async`` does.
"""

from __future__ import annotations

import contextvars
import os
import sys
from collections.abc import Mapping

from . import _rask
from ._runner import Runner, flatten_keys, nest_values

SCHEDULERS = ("threads", "sync", "processes")
_CORES = os.cpu_count() or 1


def get(
    dsk,
    keys,
    cache=None,
    num_workers=None,
    callbacks=None,
    scheduler=None,
    profile=None,
    pool=None,
    **kwargs,
):
    """Compute ``keys`` of the Dask graph ``dsk`` on rask's scheduler.

    Parameters
    ----------
    dsk : Mapping
        A Dask graph: a dict, a ``HighLevelGraph``, or any object with
        ``__dask_graph__()``. Tasks are Dask's legacy tuples
        (``(func, *args)``) or its task-spec objects.
    keys : key or (nested) list of keys
        What to compute. The result has the same nesting, lists becoming
        tuples, as Dask's ``get`` returns it.
    cache : MutableMapping, optional
        Values taken as computed; results are written to it while the run
        goes on, and intermediate values removed when no task needs them.
    num_workers : int, optional
        Worker threads (or processes). Default: ``num_workers`` from
        Dask's config, else one per core.
    callbacks : list of Dask callback tuples, optional
        Default: the active ``dask.callbacks.Callback`` objects.
    scheduler : "threads" (default), "sync" or "processes"
        Where tasks run: a pool of threads, the calling thread, or a pool
        of spawned worker processes (tasks and values pickled across).
    profile : str or path, optional
        Write rask's profile of the run: an ``.html`` timeline or a
        ``.json`` Chrome trace.
    **kwargs
        Other keywords that Dask passes to a scheduler are accepted.

    Examples
    --------
    >>> from operator import add
    >>> get({"x": 1, "y": (add, "x", 10)}, "y")
    11
    >>> get({"x": 1, "y": (add, "x", 10)}, [["x"], "y"])
    ((1,), 11)
    """
    if not isinstance(dsk, Mapping):
        dsk = dsk.__dask_graph__()
    dsk = _as_dict(dsk)
    scheduler = _scheduler(scheduler)
    num_workers = _num_workers(num_workers, pool, scheduler)
    flat = flatten_keys(keys)
    callbacks, restore = _callbacks(callbacks)
    try:
        if cache is None:
            cache = _config("cache")
        for k in flat:
            if k not in dsk and (cache is None or k not in cache):
                raise KeyError(k)
        context = contextvars.copy_context()
        if len(context) == 0:
            context = None
        if callbacks or cache is not None or scheduler == "processes":
            runner = Runner(dsk, flat, cache, callbacks, scheduler, num_workers)
            values = runner.run(context, profile)
        else:
            values = _rask.run(
                dsk,
                flat,
                None,
                num_workers,
                scheduler,
                node_types(),
                None,
                context,
                _path(profile),
            )
    finally:
        restore()
    return nest_values(keys, iter(values))


def _as_dict(dsk):
    if type(dsk) is dict:
        return dsk
    to_dict = getattr(dsk, "to_dict", None)
    if to_dict is not None:
        try:
            d = to_dict()
        except TypeError:
            d = None
        if isinstance(d, dict):
            return d
    return dict(dsk)


def _scheduler(scheduler):
    if scheduler is None or callable(scheduler):
        # dask passes its own choice by name only when asked to
        scheduler = "threads"
    if scheduler not in SCHEDULERS:
        raise ValueError(
            f"unknown scheduler {scheduler!r}: expected one of {', '.join(SCHEDULERS)}"
        )
    return scheduler


def _config(name, default=None):
    if "dask" not in sys.modules:
        return default
    try:
        import dask.config

        return dask.config.get(name, default)
    except Exception:
        return default


def _num_workers(num_workers, pool, scheduler):
    if scheduler == "sync":
        return 1
    if num_workers is None and pool is not None:
        num_workers = getattr(pool, "_max_workers", None) or getattr(pool, "_processes", None)
    if num_workers is None:
        num_workers = _config("num_workers")
    if num_workers is None:
        num_workers = _CORES
    try:
        num_workers = int(num_workers)
    except (TypeError, ValueError):
        raise TypeError(f"num_workers must be an integer, got {num_workers!r}") from None
    if num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, got {num_workers}")
    return num_workers


def _callbacks(callbacks):
    """Dask's callbacks for this run, and what restores the active ones.

    As ``dask.callbacks.local_callbacks``: with no ``callbacks=``, the
    active ``Callback`` objects are used and deactivated for the run, so
    that a compute nested in a task sees none."""
    if "dask" not in sys.modules:
        return list(callbacks or ()), lambda: None
    try:
        from dask.callbacks import Callback, normalize_callback
    except ImportError:
        return list(callbacks or ()), lambda: None
    if callbacks is None:
        active = Callback.active
        if not active:
            return [], lambda: None
        Callback.active = set()

        def restore():
            Callback.active = active

        return [normalize_callback(c) for c in active], restore
    if not isinstance(callbacks, (list, tuple, set)) or (
        isinstance(callbacks, tuple) and len(callbacks) == 5 and not isinstance(callbacks[0], tuple)
    ):
        callbacks = [callbacks]
    return [normalize_callback(c) for c in callbacks], lambda: None


_NODE_TYPES = None


def node_types():
    """Dask's task-spec classes, once Dask is imported."""
    global _NODE_TYPES
    if _NODE_TYPES is None and "dask" in sys.modules:
        try:
            from dask._task_spec import Alias, DataNode, GraphNode, TaskRef

            _NODE_TYPES = (GraphNode, DataNode, Alias, TaskRef)
        except ImportError:
            _NODE_TYPES = False
    return _NODE_TYPES or None


def _path(profile):
    return None if profile is None else os.fspath(profile)
