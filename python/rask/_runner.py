"""Instrumented runs: Dask's callbacks, ``state`` and ``cache`` around each task.

rask's scheduler decides what runs when; for each task it calls
``Runner.__call__(key, data, worker_id)`` on a worker thread, with the
values of the task's dependencies. The runner does there what
``dask.local.get_async`` does around a task: ``pretask`` callbacks, the
task (here, or in a worker process), the result into ``state["cache"]``,
the ``state`` bookkeeping (``ready``, ``waiting``, ``running``,
``finished``, ``released``, ``waiting_data``), then ``posttask``.
``start``, ``start_state`` and ``finish`` run in the calling thread, and
``finish`` runs on error too, for every callback whose ``start`` ran.
"""

from __future__ import annotations

import os
import threading

from . import _rask


def flatten_keys(keys):
    """The keys of a (nested) list of keys, in order; a tuple is a key."""
    if not isinstance(keys, list):
        return [keys]
    out = []
    stack = [iter(keys)]
    while stack:
        for k in stack[-1]:
            if isinstance(k, list):
                stack.append(iter(k))
                break
            out.append(k)
        else:
            stack.pop()
    return out


def nest_values(keys, values):
    """``values`` (an iterator, one per flattened key) nested as ``keys``,
    lists becoming tuples, as Dask's ``get`` returns them."""
    if not isinstance(keys, list):
        return next(values)
    return tuple(nest_values(k, values) for k in keys)


def _is_key(x, keys):
    try:
        return isinstance(x, (int, float, str, tuple)) and x in keys
    except TypeError:
        return False


def legacy_dependencies(task, keys):
    """The keys a legacy task refers to (without Dask installed)."""
    deps = set()
    stack = [task]
    while stack:
        t = stack.pop()
        if type(t) is tuple and t and callable(t[0]):
            stack.extend(t[1:])
        elif _is_key(t, keys):
            deps.add(t)
        elif isinstance(t, (list, tuple, set, frozenset)):
            stack.extend(t)
        elif isinstance(t, dict):
            stack.extend(t.values())
    return deps


def execute(task, data):
    """Runs a task on its dependencies' values ``data``: a task-spec node
    is called on ``data``; a legacy task is evaluated as Dask evaluates it."""
    if hasattr(task, "dependencies") and callable(task):
        return task(data)
    return _legacy(task, data)


def _legacy(t, data):
    if type(t) is tuple and t and callable(t[0]):
        return t[0](*[_legacy(a, data) for a in t[1:]])
    if _is_key(t, data):
        return data[t]
    if isinstance(t, list):
        return [_legacy(a, data) for a in t]
    if isinstance(t, (tuple, set, frozenset)):
        return type(t)(_legacy(a, data) for a in t)
    if isinstance(t, dict):
        return {k: _legacy(v, data) for k, v in t.items()}
    return t


class Runner:
    """One instrumented run of a graph."""

    def __init__(self, dsk, keys, cache, callbacks, scheduler, num_workers):
        self.dsk = dsk
        self.keys = keys
        self.results = set(keys)
        self.cache = {} if cache is None else cache
        self.callbacks = callbacks
        self.scheduler = scheduler
        self.num_workers = num_workers
        self.pool = None
        self.lock = threading.Lock()
        self.pretask = [c[2] for c in callbacks if c[2]]
        self.posttask = [c[3] for c in callbacks if c[3]]
        self.state = {}

    def run(self, context, profile):
        started = []
        succeeded = False
        try:
            try:
                from dask._task_spec import convert_legacy_graph

                self.dsk = convert_legacy_graph(
                    self.dsk, all_keys=set(self.dsk) | set(self.cache)
                )
                from ._get import node_types

                nodes = node_types()
            except ImportError:
                self.dsk = dict(self.dsk)
                nodes = None
            for cb in self.callbacks:
                if cb[0]:
                    cb[0](self.dsk)
                started.append(cb)
            # a start callback may have written values into the graph
            # (dask.cache.Cache does): the state is built after it
            self.state = self._start_state(nodes)
            for cb in self.callbacks:
                if cb[1]:
                    cb[1](self.dsk, self.state)
            if self.scheduler == "processes":
                from ._processes import Pool

                self.pool = Pool(self.num_workers)
            values = _rask.run(
                self.dsk,
                self.keys,
                {k: self.cache[k] for k in self.cache.keys() if k in self.state["dependents"]},
                self.num_workers,
                "sync" if self.scheduler == "sync" else "threads",
                nodes,
                self,
                context,
                None if profile is None else os.fspath(profile),
            )
            succeeded = True
            return values
        finally:
            if self.pool is not None:
                self.pool.close(kill=not succeeded)
            for cb in started:
                if cb[4]:
                    cb[4](self.dsk, self.state, not succeeded)

    def _start_state(self, nodes):
        dsk, cache = self.dsk, self.cache
        all_keys = set(dsk) | set(cache)
        dependencies, dependents = {}, {}
        waiting, waiting_data = {}, {}
        ready = set()
        stack = list(self.keys)
        seen = set()
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            dependents.setdefault(key, set())
            waiting_data.setdefault(key, set())
            deps = dependencies.setdefault(key, set())
            if key in cache or key not in dsk:
                continue
            task = dsk[key]
            if nodes is not None and isinstance(task, nodes[1]):
                # a DataNode is a value, not a task (Dask fires no callback)
                cache[key] = task()
                continue
            if nodes is not None and isinstance(task, nodes[0]):
                task_deps = task.dependencies
            else:
                task_deps = legacy_dependencies(task, all_keys)
            wait = {d for d in task_deps if d not in cache}
            if wait:
                waiting[key] = wait
            else:
                ready.add(key)
            for dep in task_deps:
                deps.add(dep)
                dependents.setdefault(dep, set()).add(key)
                waiting_data.setdefault(dep, set()).add(key)
                stack.append(dep)
        return {
            "dependencies": dependencies,
            "dependents": dependents,
            "waiting": waiting,
            "waiting_data": waiting_data,
            "cache": cache,
            "ready": ready,
            "running": set(),
            "finished": set(),
            "released": set(),
        }

    def __call__(self, key, data, worker_id):
        state = self.state
        with self.lock:
            state["ready"].discard(key)
            state["running"].add(key)
        for f in self.pretask:
            f(key, self.dsk, state)
        task = self.dsk[key]
        if self.pool is not None:
            result = self.pool.run(key, task, data)
        else:
            result = execute(task, data)
        with self.lock:
            state["cache"][key] = result
            self._finish(key)
        for f in self.posttask:
            f(key, result, self.dsk, state, worker_id)
        return result

    def _finish(self, key):
        state = self.state
        for dep in state["dependents"].get(key, ()):
            s = state["waiting"].get(dep)
            if s is not None:
                s.discard(key)
                if not s:
                    del state["waiting"][dep]
                    state["ready"].add(dep)
        for dep in state["dependencies"].get(key, ()):
            s = state["waiting_data"].get(dep)
            if s is not None:
                s.discard(key)
                if not s and dep not in self.results:
                    del state["waiting_data"][dep]
                    state["released"].add(dep)
                    state["cache"].pop(dep, None)
        state["finished"].add(key)
        state["running"].discard(key)
