#!/usr/bin/env python3
"""The core benchmark of rask against Dask: scheduling overhead per task.

    python3 bench/core.py [--sizes 100000] [--repeat 3] [--flat-samples 5] [--quick] [--skip-dask]

Builds rask (release), makes a virtualenv with Dask (bench/venv.sh), writes
the graph files (bench/make_graphs.py) and measures, in one run:

1. per-task time of `rask run --scheduler threads --workers 2 --stats` and of
   `dask.threaded.get` (bench/dask_run.py) on the same files: a fan of N
   `inc` tasks summed, a chain of N `inc`, a binary `add` tree over N leaves.
   rask's figures are `run_s` (the scheduler's run), `plan_s + run_s`
   (culling, validating and ordering included, as Dask's `get` does) and
   `load_s + run_s` (parsing the file too); Dask's is its whole `get`, on
   the file as written and with literal leaves turned into tasks (Dask's
   local scheduler is quadratic in the number of literal keys). The ratio
   is the faster Dask over rask's plan+run.
2. flatness: per-task run time of Rust-built chain/fan/tree graphs from
   10^4 to 10^7 tasks (crates/rask-scheduler/examples/overhead.rs), the
   median of --flat-samples samples for every size (a sample runs at least
   10^6 tasks: small graphs several times over);
3. memory: peak RSS of a Rust-built chain at 10^6 and 10^7 tasks
   (crates/rask/examples/chain_memory.rs), in bytes per task between them;
4. speedup of 2 workers over 1 on a fan of 200 `spin_ms(1)` tasks;
5. peak live values under rask's `order` and `dask.order` on the chain,
   fan, tree and two-reductions shapes (bench/dask_order.py).

Prints JSON lines as it goes and a Markdown table at the end. Each timing of
parts 1 and 4 is the best of --repeat runs, each flatness figure the median
of its samples (the machine is noisy: compare ratios).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = os.path.join(ROOT, "target", "release")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def best(runs, key):
    return min(runs, key=lambda r: r[key])


def rask_run(path, workers, repeat):
    runs = []
    for _ in range(repeat):
        out = sh([os.path.join(TARGET, "rask"), "run", path, "--stats", "--workers", str(workers)])
        s = json.loads(out.stderr.strip().splitlines()[-1])
        s["total_s"] = s["load_s"] + s["run_s"]
        runs.append(s)
    return best(runs, "total_s")


def dask_run(py, path, workers, repeat, leaf_tasks=False):
    runs = []
    extra = ["--leaf-tasks"] if leaf_tasks else []
    for _ in range(repeat):
        out = sh([py, os.path.join(HERE, "dask_run.py"), path, "--workers", str(workers)] + extra)
        runs.append(json.loads(out.stdout.splitlines()[0]))
    return best(runs, "run_s")


def emit(obj):
    print(json.dumps(obj), flush=True)
    return obj


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100000", help="graph-file sizes for the Dask comparison")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="skip the 10^7 flatness and memory points")
    ap.add_argument("--flat-samples", type=int, default=5,
                    help="samples per size for flatness (the median is reported)")
    ap.add_argument("--skip-dask", action="store_true",
                    help="only rask's own figures (flatness, memory, speedup, order): no Dask runs of part 1")
    a = ap.parse_args()

    sh(["cargo", "build", "--release", "-q", "-p", "rask-cli",
        "-p", "rask", "--example", "chain_memory"], cwd=ROOT)
    sh(["cargo", "build", "--release", "-q", "-p", "rask-scheduler", "--example", "overhead"], cwd=ROOT)
    py = sh(["bash", os.path.join(HERE, "venv.sh")]).stdout.strip()
    dask_version = sh([py, "-c", "import dask; print(dask.__version__)"]).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sh([sys.executable, os.path.join(HERE, "make_graphs.py"), tmp, "--sizes", a.sizes, "--spin-sizes", "200"])

        # 1. rask vs dask on graph files
        for n in ([] if a.skip_dask else a.sizes.split(",")):
            for shape in ("fan", "chain", "tree"):
                path = os.path.join(tmp, f"{shape}-{n}.json")
                r = rask_run(path, 2, a.repeat)
                # Dask on the file as written: once (its local scheduler is
                # quadratic in literal keys, minutes per run at 10^5)
                d = dask_run(py, path, 2, 1)
                # and with literal leaves made (identity, v) tasks, which
                # avoids that: the fairer figure, used for the ratio
                dl = dask_run(py, path, 2, a.repeat, leaf_tasks=True)
                rows.append(emit({
                    "bench": "overhead", "shape": shape, "n": int(n), "tasks": r["tasks"],
                    "rask_run_us": 1e6 * r["run_s"] / r["tasks"],
                    "rask_plan_run_us": 1e6 * (r["plan_s"] + r["run_s"]) / r["tasks"],
                    "rask_total_us": 1e6 * r["total_s"] / r["tasks"],
                    "dask_us": 1e6 * d["run_s"] / d["tasks"],
                    "dask_leaf_us": 1e6 * dl["run_s"] / dl["tasks"],
                    "python_loop_us": 1e6 * d["plain_s"] / d["tasks"],
                }))

        # 4. speedup on spin tasks
        spin = os.path.join(tmp, "spin-200.json")
        one = rask_run(spin, 1, a.repeat)
        two = rask_run(spin, 2, a.repeat)
        speed = emit({"bench": "spin_speedup", "tasks": one["tasks"], "run_s_1": one["run_s"],
                      "run_s_2": two["run_s"], "speedup": one["run_s"] / two["run_s"]})

        # 5. order
        orders = []
        out = sh([py, os.path.join(HERE, "dask_order.py"), "--n", "1000", "--write", tmp])
        for line in out.stdout.splitlines():
            d = json.loads(line)
            path = os.path.join(tmp, f"order-{d['shape']}-1000.json")
            check = sh([os.path.join(TARGET, "rask"), "check", path]).stdout
            peak = int(re.search(r"peak (\d+) live values", check).group(1))
            orders.append(emit({"bench": "order", "shape": d["shape"], "tasks": d["tasks"],
                                "peak_live_rask": peak, "peak_live_dask": d["peak_live_dask_order"]}))

    # 2. flatness: one statistic for every size, the median of
    # --flat-samples samples. A sample is one process running every shape;
    # small graphs are planned and run several times in it (10^6 tasks at
    # least, total time over total tasks) so that a sample is never a
    # millisecond run that a quiet instant flatters. Sizes are interleaved
    # sample by sample, so a change of the machine's load hits all alike.
    sizes = [10_000, 100_000, 1_000_000] + ([] if a.quick else [10_000_000])
    samples = {}
    for _ in range(a.flat_samples):
        for n in sizes:
            runs = max(1, 1_000_000 // n)
            out = sh([os.path.join(TARGET, "examples", "overhead"), str(n), "2", "all", str(runs)])
            for line in out.stdout.splitlines():
                j = json.loads(line)
                samples.setdefault((j["shape"], n), []).append(j)
    flat = []
    for n in sizes:
        for shape in ("chain", "fan", "tree"):
            js = samples[(shape, n)]
            flat.append(emit({"bench": "flatness", "shape": shape, "n": n, "tasks": js[0]["tasks"],
                              "runs": js[0]["runs"], "samples": len(js),
                              "run_us": statistics.median(j["run_us_per_task"] for j in js),
                              "plan_us": statistics.median(j["plan_us_per_task"] for j in js),
                              "run_us_all": [j["run_us_per_task"] for j in js]}))

    # 3. memory
    mem = None
    if not a.quick:
        m6 = json.loads(sh([os.path.join(TARGET, "examples", "chain_memory"), "1000000"]).stdout)
        m7 = json.loads(sh([os.path.join(TARGET, "examples", "chain_memory"), "10000000"]).stdout)
        mem = emit({"bench": "memory", "rss_1e6": m6["peak_rss_bytes"], "rss_1e7": m7["peak_rss_bytes"],
                    "bytes_per_task": (m7["peak_rss_bytes"] - m6["peak_rss_bytes"]) / 9e6})

    print()
    print(f"Dask {dask_version}, 2 workers each, best of {a.repeat}; per-task microseconds.")
    print()
    print("| graph | tasks | rask run | rask plan+run | rask load+run | Dask, file as is | Dask, leaves as tasks "
          "| Python loop | Dask / rask (plan+run) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        fair = min(r["dask_us"], r["dask_leaf_us"])
        print(f"| {r['shape']}-{r['n']} | {r['tasks']} | {r['rask_run_us']:.3f} | {r['rask_plan_run_us']:.3f} "
              f"| {r['rask_total_us']:.3f} | {r['dask_us']:.1f} | {r['dask_leaf_us']:.1f} "
              f"| {r['python_loop_us']:.2f} | {fair / r['rask_plan_run_us']:.0f}x |")
    print()
    print(f"Flatness: run us per task, median of {a.flat_samples} samples per size.")
    print()
    print("| Rust-built graph | " + " | ".join(f"{n:.0e} tasks" for n in sizes) + " | max/min |")
    print("| --- |" + " ---: |" * (len(sizes) + 1))
    for shape in ("chain", "fan", "tree"):
        us = [f["run_us"] for f in flat if f["shape"] == shape]
        print(f"| {shape} (run, us/task) | " + " | ".join(f"{u:.3f}" for u in us) + f" | {max(us) / min(us):.2f} |")
    print()
    if mem:
        print(f"Peak memory growth from a 10^6- to a 10^7-task chain: {mem['bytes_per_task']:.0f} bytes per task.")
    print(f"Fan of 200 x spin_ms(1): 1 worker {speed['run_s_1']:.3f} s, 2 workers {speed['run_s_2']:.3f} s, "
          f"speedup {speed['speedup']:.2f}x.")
    print()
    print("| shape (1000 leaves) | tasks | peak live, rask order | peak live, dask.order |")
    print("| --- | ---: | ---: | ---: |")
    for o in orders:
        print(f"| {o['shape']} | {o['tasks']} | {o['peak_live_rask']} | {o['peak_live_dask']} |")


if __name__ == "__main__":
    main()
