#!/usr/bin/env python3
"""rask's processes executor against dask.multiprocessing.get.

    python3 bench/processes.py [--sizes 10000] [--repeat 3]

Per-task time, with 2 workers, of `rask run --scheduler processes` (its
`plan_s + run_s`: the pool is forked inside the run, so start-up is
included) and of `dask.multiprocessing.get` (bench/dask_run.py, whole
`get`, its pool start-up included) on the fan, chain and tree files of
bench/make_graphs.py. Prints JSON lines and a Markdown table.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RASK = os.path.join(ROOT, "target", "release", "rask")


def sh(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    sh(["cargo", "build", "--release", "-q", "-p", "rask-cli"])
    py = sh(["bash", os.path.join(HERE, "venv.sh")]).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sh([sys.executable, os.path.join(HERE, "make_graphs.py"), tmp, "--sizes", a.sizes, "--spin-sizes", "10"])
        for n in a.sizes.split(","):
            for shape in ("fan", "chain", "tree"):
                path = os.path.join(tmp, f"{shape}-{n}.json")
                best_rask = None
                for _ in range(a.repeat):
                    out = sh([RASK, "run", path, "--scheduler", "processes", "--workers", "2", "--stats"])
                    s = json.loads(out.stderr.strip().splitlines()[-1])
                    t = s["plan_s"] + s["run_s"]
                    best_rask = t if best_rask is None else min(best_rask, t)
                best_dask, dask_error = None, None
                for _ in range(a.repeat):
                    try:
                        out = sh([py, os.path.join(HERE, "dask_run.py"), path, "--scheduler", "processes",
                                  "--workers", "2", "--leaf-tasks"])
                    except subprocess.CalledProcessError as e:
                        # e.g. a RecursionError pickling a long chain
                        dask_error = (e.stderr or "").strip().splitlines()[-1:] or ["failed"]
                        break
                    d = json.loads(out.stdout.splitlines()[0])
                    best_dask = d["run_s"] if best_dask is None else min(best_dask, d["run_s"])
                row = {"shape": shape, "n": int(n), "tasks": s["tasks"],
                       "rask_us": 1e6 * best_rask / s["tasks"],
                       "dask_us": None if best_dask is None else 1e6 * best_dask / d["tasks"],
                       "dask_error": dask_error and dask_error[0]}
                rows.append(row)
                print(json.dumps(row), flush=True)
    print()
    print("| graph | tasks | rask processes (us/task) | dask.multiprocessing.get (us/task) | Dask / rask |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        if r["dask_us"] is None:
            print(f"| {r['shape']}-{r['n']} | {r['tasks']} | {r['rask_us']:.2f} | fails: {r['dask_error']} | - |")
        else:
            print(f"| {r['shape']}-{r['n']} | {r['tasks']} | {r['rask_us']:.2f} | {r['dask_us']:.1f} "
                  f"| {r['dask_us'] / r['rask_us']:.0f}x |")


if __name__ == "__main__":
    main()
