"""Boolean masks and unique: rask-array's example mask_bench against
dask.array, side by side in one run (each the best of REPEAT runs).

    python bench/mask_bench.py [N] [CHUNK] [REPEAT]

Needs dask (bench/venv.sh) and the example built:
    cargo build --release -p rask-array --example mask_bench
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import dask
import dask.array as da

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
CHUNK = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
REPEAT = int(sys.argv[3]) if len(sys.argv) > 3 else 3
EXE = Path(__file__).resolve().parent.parent / "target/release/examples/mask_bench"


def dask_case(what):
    if what == "mask":
        x = da.random.random(N, chunks=CHUNK)
        expr = lambda: x[x > 0.5].sum().compute()
    elif what == "sizes":
        x = da.random.random(N, chunks=CHUNK)
        expr = lambda: x[x > 0.5].compute_chunk_sizes().shape[0]
    else:
        x = da.random.randint(0, 1000, N, chunks=CHUNK)
        expr = lambda: len(da.unique(x).compute())
    best = None
    for _ in range(REPEAT):
        t = time.perf_counter()
        expr()
        s = time.perf_counter() - t
        best = s if best is None else min(best, s)
    return best


def rask_case(what):
    runs = [
        json.loads(subprocess.run([str(EXE), what, str(N), str(CHUNK)], check=True,
                                  capture_output=True, text=True).stdout)["seconds"]
        for _ in range(REPEAT)
    ]
    return min(runs), max(runs)


with dask.config.set(scheduler="threads"):
    for what in ["mask", "sizes", "unique"]:
        (lo, hi), d = rask_case(what), dask_case(what)
        print(f"{what:7s} N={N} chunk={CHUNK}: rask {lo:.3f}-{hi:.3f} s, dask.array {d:.3f} s (best of {REPEAT}), {d / lo:.1f}x")
