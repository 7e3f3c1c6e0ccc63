#!/usr/bin/env python3
"""The array benchmark: rask-array against dask.array, NumPy and a
hand-written Rust loop. (Not named array.py, which would shadow Python's
array module for the other scripts of bench/.)

    python3 bench/array_bench.py [--n 200000000] [--chunk 10000000] [--repeat 3] [--quick]

Builds the rask-array examples (release), makes the virtualenv with Dask
(bench/venv.sh) and adds NumPy to it if missing, then measures, each the
best of --repeat runs, on 2 workers:

1. the seed's expression ((2*x + 1)**3).sum() for x = arange(N)/N in chunks
   of CHUNK: rask-array (crates/rask-array/examples/array_expr.rs),
   dask.array (threaded scheduler), NumPy (one thread, whole arrays), and
   a hand-written two-thread Rust loop generating x on the fly
   (examples/array_loop.rs), the physical reference;
2. a 2-D mean(axis=0) of a random (20000, 5000) array in row chunks of
   1000, then summed (examples/array_bench.rs mean0), against dask.array;
3. a chunked matmul of two random (2000, 2000) arrays in (500, 500) chunks,
   then summed (examples/array_bench.rs matmul), against dask.array.

Seconds are of the compute alone (graph building excluded, as for Dask
where the graph is built before the timer). NumPy's BLAS runs without
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (they slow a current NumPy).
Prints JSON lines as it goes and a Markdown table at the end.
"""
import argparse
import json
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLES = os.path.join(ROOT, "target", "release", "examples")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def best(runs):
    return min(runs, key=lambda r: r["seconds"])


def rust(example, args, repeat):
    return best([json.loads(sh([os.path.join(EXAMPLES, example)] + [str(a) for a in args]).stdout)
                 for _ in range(repeat)])


def python(py, code, repeat):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    runs = []
    for _ in range(repeat):
        out = sh([py, "-c", textwrap.dedent(code)], env=env).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return best(runs)


DASK = """
import json, time, dask, dask.array as da
dask.config.set(scheduler="threads", num_workers=2)
{setup}
t = time.perf_counter()
r = float(expr.compute())
print(json.dumps({{"result": r, "seconds": time.perf_counter() - t}}))
"""

NUMPY = """
import json, time, numpy as np
t = time.perf_counter()
x = np.arange({n}) / {n}
r = float(((2 * x + 1) ** 3).sum())
print(json.dumps({{"result": r, "seconds": time.perf_counter() - t}}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000_000)
    ap.add_argument("--chunk", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes, one run")
    a = ap.parse_args()
    n, chunk, repeat = a.n, a.chunk, a.repeat
    rows, cols, rchunk, mn, mchunk = 20_000, 5_000, 1_000, 2_000, 500
    if a.quick:
        n, chunk, repeat = 10_000_000, 1_000_000, 1
        rows, cols, rchunk, mn, mchunk = 2_000, 500, 100, 400, 100

    sh(["cargo", "build", "--release", "-q", "-p", "rask-array", "--examples"], cwd=ROOT)
    py = sh(["bash", os.path.join(HERE, "venv.sh")]).stdout.strip()
    if subprocess.run([py, "-c", "import numpy"], capture_output=True).returncode != 0:
        sh([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "numpy"])

    rows_out = []

    def report(name, r, ref=None):
        line = {"bench": name, **r}
        print(json.dumps(line), flush=True)
        rows_out.append((name, r["seconds"], ref))

    # 1. the seed's expression
    expr = rust("array_expr", [n, chunk], repeat)
    report("rask-array ((2*x+1)**3).sum()", expr)
    loop = rust("array_loop", [n], repeat)
    report("hand-written 2-thread Rust loop", loop)
    dexpr = python(py, DASK.format(setup=f"x = da.arange({n}, chunks={chunk}) / {n}\nexpr = ((2 * x + 1) ** 3).sum()"), repeat)
    report("dask.array ((2*x+1)**3).sum()", dexpr)
    npy = python(py, NUMPY.format(n=n), repeat)
    report("NumPy ((2*x+1)**3).sum()", npy)

    # 2. 2-D mean(axis=0)
    mean = rust("array_bench", ["mean0", rows, cols, rchunk], repeat)
    report(f"rask-array random(({rows}, {cols})).mean(axis=0)", mean)
    dmean = python(py, DASK.format(setup=f"x = da.random.random(({rows}, {cols}), chunks=({rchunk}, {cols}))\nexpr = x.mean(axis=0).sum()"), repeat)
    report(f"dask.array random(({rows}, {cols})).mean(axis=0)", dmean)

    # 3. chunked matmul
    mm = rust("array_bench", ["matmul", mn, mchunk], repeat)
    report(f"rask-array matmul ({mn}, {mn}) in {mchunk}-chunks", mm)
    dmm = python(py, DASK.format(setup=f"a = da.random.random(({mn}, {mn}), chunks={mchunk})\nb = da.random.random(({mn}, {mn}), chunks={mchunk})\nexpr = (a @ b).sum()"), repeat)
    report(f"dask.array matmul ({mn}, {mn}) in {mchunk}-chunks", dmm)

    print()
    print(f"N = {n}, CHUNK = {chunk}, best of {repeat}, 2 workers")
    print()
    print("| benchmark | seconds | vs rask-array |")
    print("| --- | ---: | ---: |")
    pairs = {0: 0, 1: 0, 2: 0, 3: 0, 4: 4, 5: 4, 6: 6, 7: 6}
    for i, (name, secs, _) in enumerate(rows_out):
        base = rows_out[pairs[i]][1]
        ratio = "" if pairs[i] == i else f"{secs / base:.1f}x"
        print(f"| {name} | {secs:.3f} | {ratio} |")


if __name__ == "__main__":
    sys.exit(main())
