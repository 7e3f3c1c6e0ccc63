#!/usr/bin/env python3
"""Time Dask (and plain Python) on a rask JSON graph file.

    python bench/dask_run.py FILE [--scheduler threads|sync|processes] [--workers N] [--get KEY]...
                                  [--leaf-tasks]

Loads FILE with dask_graph.load, then times one Dask get of the requested keys
(default: the keys nothing depends on) with dask.threaded.get, dask.get (sync) or
dask.multiprocessing.get, and a plain sequential Python evaluation of the same
graph (topological order, no Dask). --leaf-tasks turns top-level literals into
(identity, V) tasks: Dask 2026.8's local scheduler is quadratic in the number of
literal (data) keys, e.g. ~1.4 ms/task on fan-100000 instead of ~70 us.
Prints two JSON lines on stdout:

    {"tasks": KEYS_IN_GRAPH, "load_s": .., "run_s": .., "plain_s": .., "workers": .., ...}
    {"result": VALUE}          (one key asked: its value; several: a list)

Exits 1 with a message on stderr on a bad file, an unknown key, a failing task,
or if Dask and plain Python disagree.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dask_graph  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--scheduler", choices=("threads", "sync", "processes"), default="threads")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--get", action="append", metavar="KEY", help="key to compute (repeatable)")
    ap.add_argument("--leaf-tasks", action="store_true", help="make literal leaves (identity, V) tasks")
    a = ap.parse_args(argv)
    if a.workers < 1:
        ap.error("--workers must be at least 1")
    import dask
    import dask.multiprocessing
    import dask.threaded

    try:
        t0 = time.perf_counter()
        dsk = dask_graph.load(a.file, a.leaf_tasks)
        load_s = time.perf_counter() - t0
        deps = dask_graph.dependencies(dsk)
        keys = a.get or dask_graph.sinks(dsk, deps)
        for k in keys:
            if k not in dsk:
                raise dask_graph.GraphError(f"--get {k!r}: no such key in {a.file}")
        t0 = time.perf_counter()
        plain = dask_graph.evaluate(dsk, keys, deps)
        plain_s = time.perf_counter() - t0
    except (dask_graph.GraphError, RuntimeError) as e:
        sys.exit(f"dask_run: {e}")

    if a.scheduler == "sync":
        get, kw, workers = dask.get, {}, 1
    elif a.scheduler == "threads":
        get, kw, workers = dask.threaded.get, {"num_workers": a.workers}, a.workers
    else:
        get, kw, workers = dask.multiprocessing.get, {"num_workers": a.workers}, a.workers
    t0 = time.perf_counter()
    try:
        out = list(get(dsk, keys, **kw))
    except Exception as e:
        sys.exit(f"dask_run: dask {a.scheduler} failed: {type(e).__name__}: {e}")
    run_s = time.perf_counter() - t0
    if out != plain:
        sys.exit("dask_run: dask and plain Python results differ")

    print(json.dumps({"tasks": len(dsk), "load_s": round(load_s, 6), "run_s": round(run_s, 6),
                      "plain_s": round(plain_s, 6), "workers": workers, "scheduler": a.scheduler,
                      "leaf_tasks": a.leaf_tasks,
                      "dask": dask.__version__, "file": os.path.basename(a.file)}), flush=True)
    try:
        print(json.dumps({"result": out[0] if len(keys) == 1 else out}, default=repr), flush=True)
    except BrokenPipeError:  # e.g. piped into `head -1`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
