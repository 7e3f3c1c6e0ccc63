"""A pytest plugin that runs Dask's own tests on rask's scheduler.

Loaded with ``-p rask_dask_plugin`` (this folder on ``sys.path``), it
makes ``rask.get`` Dask's scheduler for every test: the default scheduler
in Dask's config, each of Dask's named local schedulers (``"sync"``,
``"threads"``, ``"processes"``, ...) mapped to rask's of the same kind,
and the ``get`` functions Dask's test modules import from
``dask.threaded``, ``dask.local`` and ``dask.multiprocessing`` rebound to
rask's.
"""

from __future__ import annotations

import functools

import pytest

import rask


def _get_as(scheduler):
    @functools.wraps(rask.get)
    def get(dsk, keys, **kwargs):
        kwargs.setdefault("scheduler", scheduler)
        return rask.get(dsk, keys, **kwargs)

    get.__name__ = f"rask_get_{scheduler}"
    return get


rask_threads = _get_as("threads")
rask_sync = _get_as("sync")
rask_processes = _get_as("processes")

#: what each of Dask's get functions becomes in its test modules
_REBIND = {
    ("dask.threaded", "get"): rask_threads,
    ("dask.local", "get_sync"): rask_sync,
    ("dask.multiprocessing", "get"): rask_processes,
}


def pytest_configure(config):
    import dask
    import dask.base

    for name, get in {
        "sync": rask_sync,
        "synchronous": rask_sync,
        "single-threaded": rask_sync,
        "threads": rask_threads,
        "threading": rask_threads,
        "processes": rask_processes,
        "multiprocessing": rask_processes,
    }.items():
        dask.base.named_schedulers[name] = get
    dask.config.set(scheduler=rask_threads)


@pytest.fixture(autouse=True)
def _rask_scheduler():
    import dask

    # some tests reset the config; every test starts on rask
    with dask.config.set(scheduler=rask_threads):
        yield


def pytest_collection_modifyitems(session, config, items):
    seen = set()
    for item in items:
        module = getattr(item, "module", None)
        if module is None or id(module) in seen:
            continue
        seen.add(id(module))
        for name, value in list(vars(module).items()):
            origin = (getattr(value, "__module__", None), getattr(value, "__name__", None))
            if callable(value) and origin in _REBIND:
                setattr(module, name, _REBIND[origin])
