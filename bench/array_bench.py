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
3. (a @ b).sum() of two random (2000, 2000) arrays in (500, 500) chunks,
   made and persisted first (examples/array_bench.rs matmul): rask-array
   (faer's GEMM in each block task), dask.array, and NumPy's single a @ b
   on OpenBLAS (which kernel ran, and on how many threads, is printed,
   from threadpoolctl);
4. a tall-and-skinny QR (TSQR) of a persisted random (10^6, 50) array in
   row chunks of 10^5, timed as q.sum() + r.sum(), against dask.array;
5. percentile(x, [10, 50, 90]) and histogram(x, 100, (0, 1)) of 10^8
   persisted random values in chunks of 10^7, against dask.array (whose
   percentile is approximate, merged from per-chunk percentiles; rask's is
   exact).

Seconds are of the compute alone (graph building excluded, as for Dask
where the graph is built before the timer). The Python commands run
without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set, they select a slower
OpenBLAS kernel); only those commands' environment is changed.
--only picks sections (seed, mean0, matmul, tsqr, stats). Prints JSON
lines as it goes and a Markdown table with the ratios at the end.
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

NUMPY_MATMUL = """
import json, time, numpy as np
from threadpoolctl import threadpool_info
rng = np.random.default_rng(1)
a = rng.random(({n}, {n}))
b = rng.random(({n}, {n}))
t = time.perf_counter()
r = float((a @ b).sum())
s = time.perf_counter() - t
blas = [{{k: d.get(k) for k in ("internal_api", "version", "architecture", "threading_layer", "num_threads")}}
        for d in threadpool_info() if d.get("user_api") == "blas"]
print(json.dumps({{"result": r, "seconds": s, "blas": blas}}))
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
    ap.add_argument("--only", default="seed,mean0,matmul,tsqr,stats",
                    help="comma-separated sections: seed, mean0, matmul, tsqr, stats")
    ap.add_argument("--quick", action="store_true", help="small sizes, one run")
    a = ap.parse_args()
    only = set(a.only.split(","))
    n, chunk, repeat = a.n, a.chunk, a.repeat
    rows, cols, rchunk, mn, mchunk = 20_000, 5_000, 1_000, 2_000, 500
    qrows, qcols, qchunk, sn, schunk = 1_000_000, 50, 100_000, 100_000_000, 10_000_000
    if a.quick:
        n, chunk, repeat = 10_000_000, 1_000_000, 1
        rows, cols, rchunk, mn, mchunk = 2_000, 500, 100, 400, 100
        qrows, qchunk, sn, schunk = 100_000, 10_000, 1_000_000, 100_000

    sh(["cargo", "build", "--release", "-q", "-p", "rask-array", "--examples"], cwd=ROOT)
    py = sh(["bash", os.path.join(HERE, "venv.sh")]).stdout.strip()
    for module in ("numpy", "threadpoolctl"):
        if subprocess.run([py, "-c", f"import {module}"], capture_output=True).returncode != 0:
            sh([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", module])

    rows_out = []

    def report(name, r, base=None):
        """A result; `base` is the rask-array row it is compared with."""
        line = {"bench": name, **r}
        print(json.dumps(line), flush=True)
        rows_out.append((name, r["seconds"], base))
        return len(rows_out) - 1

    def dask(setup):
        return python(py, DASK.format(setup=textwrap.dedent(setup)), repeat)

    if "seed" in only:
        i = report("rask-array ((2*x+1)**3).sum()", rust("array_expr", [n, chunk], repeat))
        report("hand-written 2-thread Rust loop", rust("array_loop", [n], repeat), i)
        report("dask.array ((2*x+1)**3).sum()",
               dask(f"x = da.arange({n}, chunks={chunk}) / {n}\nexpr = ((2 * x + 1) ** 3).sum()"), i)
        report("NumPy ((2*x+1)**3).sum()", python(py, NUMPY.format(n=n), repeat), i)

    if "mean0" in only:
        i = report(f"rask-array random(({rows}, {cols})).mean(axis=0)",
                   rust("array_bench", ["mean0", rows, cols, rchunk], repeat))
        report(f"dask.array random(({rows}, {cols})).mean(axis=0)",
               dask(f"x = da.random.random(({rows}, {cols}), chunks=({rchunk}, {cols}))\nexpr = x.mean(axis=0).sum()"), i)

    if "matmul" in only:
        i = report(f"rask-array (a @ b).sum() ({mn}, {mn}) in {mchunk}-chunks",
                   rust("array_bench", ["matmul", mn, mchunk], repeat))
        npmm = python(py, NUMPY_MATMUL.format(n=mn), repeat)
        kernel = ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']} kernel, {b['num_threads']} threads"
                           for b in npmm["blas"]) or "BLAS not reported"
        report(f"NumPy (a @ b).sum() ({mn}, {mn}), {kernel}", npmm, i)
        report(f"dask.array (a @ b).sum() ({mn}, {mn}) in {mchunk}-chunks",
               dask(f"""
                    a = da.random.random(({mn}, {mn}), chunks={mchunk}).persist()
                    b = da.random.random(({mn}, {mn}), chunks={mchunk}).persist()
                    expr = (a @ b).sum()"""), i)

    if "tsqr" in only:
        i = report(f"rask-array qr ({qrows}, {qcols}) in {qchunk}-row chunks",
                   rust("array_bench", ["tsqr", qrows, qcols, qchunk], repeat))
        report(f"dask.array qr ({qrows}, {qcols}) in {qchunk}-row chunks",
               dask(f"""
                    x = da.random.random(({qrows}, {qcols}), chunks=({qchunk}, {qcols})).persist()
                    q, r = da.linalg.qr(x)
                    expr = q.sum() + r.sum()"""), i)

    if "stats" in only:
        i = report(f"rask-array percentile of {sn} in {schunk}-chunks",
                   rust("array_bench", ["percentile", sn, schunk], repeat))
        report(f"dask.array percentile of {sn} in {schunk}-chunks (approximate)",
               dask(f"""
                    x = da.random.random({sn}, chunks={schunk}).persist()
                    expr = da.percentile(x, [10, 50, 90]).sum()"""), i)
        i = report(f"rask-array histogram of {sn} in {schunk}-chunks",
                   rust("array_bench", ["histogram", sn, schunk], repeat))
        report(f"dask.array histogram of {sn} in {schunk}-chunks",
               dask(f"""
                    x = da.random.random({sn}, chunks={schunk}).persist()
                    expr = da.histogram(x, bins=100, range=(0, 1))[0].sum()"""), i)

    print()
    print(f"N = {n}, CHUNK = {chunk}, best of {repeat}, 2 workers")
    print()
    print("| benchmark | seconds | vs rask-array |")
    print("| --- | ---: | ---: |")
    for name, secs, base in rows_out:
        ratio = "" if base is None else f"{secs / rows_out[base][1]:.2f}x"
        print(f"| {name} | {secs:.3f} | {ratio} |")


if __name__ == "__main__":
    sys.exit(main())
