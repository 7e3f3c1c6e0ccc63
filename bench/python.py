#!/usr/bin/env python3
"""rask.get against Dask's own schedulers, from Python, side by side.

    python3 bench/python.py [--tasks 100000] [--repeat 3] [--quick]

Makes a virtualenv (bench/.venv-python) with Dask, pandas and the rask
package built from ./python (as `pip install ./python` builds it), then, in
one run, with 2 workers:

1. scheduling overhead per task on Dask graphs of legacy tuples: a fan (N
   `inc` leaves into one `sum`), a chain (N `inc`) and a binary `add` tree
   over N leaves, through `rask.get`, `dask.threaded.get`, `dask.get`
   (sync), and a plain Python loop that calls the same functions in a
   topological order (the floor: one Python call per task, nothing else);
2. collections: `((2*x + 1)**3).sum()` on `da.arange(2e8, chunks=1e7)`, a
   dask.bag `frequencies` of 2*10^6 words in memory, and a dask.dataframe
   groupby-mean of 10^7 rows, each under `rask.get` and
   `dask.threaded.get`.

Each figure is the best of --repeat runs (Dask's threaded and sync gets on
the task graphs: of one run, they take minutes); the collection workloads
take turns, rask's run and Dask's alternating, at least 5 times each, so
that a slow spell of the machine falls on both. Prints a JSON line per
measurement and a Markdown table at the end. The machine is noisy: compare
the ratios.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv-python")
PACKAGES = ["dask[array,bag,dataframe]==2026.11.0", "pandas", "pyarrow", "numpy"]


def venv_python():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", *PACKAGES], check=True)
    # the package as a user builds it, from this checkout
    subprocess.run(
        [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--force-reinstall", "--no-deps",
         os.path.join(ROOT, "python")],
        check=True,
    )
    return py


# ---------------------------------------------------------------- in the venv


def inc(x):
    return x + 1


def add(a, b):
    return a + b


def fan(n):
    d = {("x", i): (inc, i) for i in range(n)}
    d["total"] = (sum, [("x", i) for i in range(n)])
    return d, "total"


def chain(n):
    d = {"c-0": (inc, 0)}
    d.update({f"c-{i}": (inc, f"c-{i - 1}") for i in range(1, n)})
    return d, f"c-{n - 1}"


def tree(n):
    d = {("t", 0, i): (inc, i) for i in range(n)}
    level, width = 0, n
    while width > 1:
        for i in range((width + 1) // 2):
            if 2 * i + 1 < width:
                d[("t", level + 1, i)] = (add, ("t", level, 2 * i), ("t", level, 2 * i + 1))
            else:
                d[("t", level + 1, i)] = (inc, ("t", level, 2 * i))
        level += 1
        width = (width + 1) // 2
    return d, ("t", level, 0)


def plain_loop(dsk, key):
    """The floor: each task's function called once, in the graph's own
    (topological) order, arguments looked up in a dict of results."""
    cache = {}
    for k, t in dsk.items():
        args = []
        for a in t[1:]:
            if type(a) is list:
                args.append([cache[x] for x in a])
            else:
                try:
                    args.append(cache[a] if a in cache else a)
                except TypeError:
                    args.append(a)
        cache[k] = t[0](*args)
    return cache[key]


def best_of(repeat, f):
    import time

    best = float("inf")
    value = None
    for _ in range(repeat):
        t = time.perf_counter()
        value = f()
        best = min(best, time.perf_counter() - t)
    return best, value


def side_by_side(repeat, runs):
    """Best time of each of `runs` (name -> function), the runs taking
    turns `repeat` times so that a slow spell of the machine falls on
    all of them alike; also checks that they agree."""
    import gc
    import time

    best = {name: float("inf") for name in runs}
    values = {}
    for _ in range(repeat):
        for name, f in runs.items():
            gc.collect()
            t = time.perf_counter()
            values[name] = f()
            best[name] = min(best[name], time.perf_counter() - t)
    return best, values


def measure(args):
    import dask
    import dask.threaded
    import numpy as np

    import rask

    rows = []

    def emit(row):
        print(json.dumps(row), flush=True)
        rows.append(row)

    n = args.tasks
    for name, make in [("fan", fan), ("chain", chain), ("tree", tree)]:
        dsk, key = make(n)
        tasks = len(dsk)
        want = plain_loop(dsk, key)
        row = {"workload": name, "tasks": tasks}
        for who, run, repeat in [
            ("rask", lambda: rask.get(dsk, key, num_workers=2), args.repeat),
            ("loop", lambda: plain_loop(dsk, key), args.repeat),
            ("dask_threaded", lambda: dask.threaded.get(dsk, key, num_workers=2), 1),
            ("dask_sync", lambda: dask.get(dsk, key), 1),
        ]:
            seconds, got = best_of(repeat, run)
            assert got == want, (who, got, want)
            row[who + "_us"] = seconds / tasks * 1e6
        emit(row)

    import dask.array as da

    # the collection workloads take a second or two and vary most between
    # runs: more turns, taken in alternation
    collection_repeat = max(args.repeat, 5) if not args.quick else 1

    x = da.arange(args.array_n, chunks=args.array_n // 20)
    y = ((2 * x + 1) ** 3).sum()
    (t, v) = side_by_side(collection_repeat, {
        "rask": lambda: y.compute(scheduler=rask.get, num_workers=2),
        "dask": lambda: y.compute(scheduler="threads", num_workers=2),
    })
    t_rask, t_dask = t["rask"], t["dask"]
    assert v["rask"] == v["dask"]
    emit({"workload": f"array ((2x+1)**3).sum(), n={args.array_n:.0e}", "rask_s": t_rask, "dask_threaded_s": t_dask})

    import dask.bag as db

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in rng.integers(0, 50_000, args.bag_n)]
    b = db.from_sequence(words, npartitions=20)
    f = b.frequencies()
    (t, v) = side_by_side(collection_repeat, {
        "rask": lambda: dict(f.compute(scheduler=rask.get, num_workers=2)),
        "dask": lambda: dict(f.compute(scheduler="threads", num_workers=2)),
    })
    t_rask, t_dask = t["rask"], t["dask"]
    assert v["rask"] == v["dask"]
    emit({"workload": f"bag frequencies, {args.bag_n:.0e} words", "rask_s": t_rask, "dask_threaded_s": t_dask})

    try:
        import dask.dataframe as dd
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        df = pd.DataFrame({"k": rng.integers(0, 1000, args.df_n), "v": rng.random(args.df_n)})
        ddf = dd.from_pandas(df, npartitions=20)
        m = ddf.groupby("k").v.mean()
        (t, v) = side_by_side(collection_repeat, {
            "rask": lambda: m.compute(scheduler=rask.get, num_workers=2),
            "dask": lambda: m.compute(scheduler="threads", num_workers=2),
        })
        t_rask, t_dask = t["rask"], t["dask"]
        assert np.allclose(v["rask"].sort_index().values, v["dask"].sort_index().values)
        emit({"workload": f"dataframe groupby-mean, {args.df_n:.0e} rows", "rask_s": t_rask, "dask_threaded_s": t_dask})

    print()
    print(f"| graph ({n} tasks) | rask.get us/task | plain loop | dask.threaded.get | dask.get (sync) | vs threaded | vs loop |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        if "rask_us" in r:
            print(
                f"| {r['workload']} | {r['rask_us']:.2f} | {r['loop_us']:.2f} | {r['dask_threaded_us']:.1f} | "
                f"{r['dask_sync_us']:.1f} | {r['dask_threaded_us'] / r['rask_us']:.0f}x faster | "
                f"{r['rask_us'] / r['loop_us']:.2f}x |"
            )
    print()
    print("| collection workload | rask.get | dask.threaded.get | speedup |")
    print("| --- | ---: | ---: | ---: |")
    for r in rows:
        if "rask_s" in r:
            print(f"| {r['workload']} | {r['rask_s']:.3f} s | {r['dask_threaded_s']:.3f} s | "
                  f"{r['dask_threaded_s'] / r['rask_s']:.2f}x |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--array-n", type=int, default=200_000_000)
    p.add_argument("--bag-n", type=int, default=2_000_000)
    p.add_argument("--df-n", type=int, default=10_000_000)
    p.add_argument("--quick", action="store_true", help="small sizes, to check that it runs")
    p.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.tasks, args.repeat, args.array_n, args.bag_n, args.df_n = 2000, 1, 2_000_000, 20_000, 100_000
    if args.inside:
        measure(args)
        return
    py = venv_python()
    os.execv(py, [py, os.path.abspath(__file__), "--inside", *sys.argv[1:]])


if __name__ == "__main__":
    main()
