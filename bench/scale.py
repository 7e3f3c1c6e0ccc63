#!/usr/bin/env python3
"""rask at scale: graph files of 10^5 to 10^7 tasks, with and without the cache.

    python3 bench/scale.py [--sizes 100000,1000000,10000000] [--shapes chain,fan,tree]
                           [--cache-sizes 100000,1000000] [--repeat 1] [--dask-sizes 100000]
                           [--workers 2] [--dir DIR] [--skip-build] [--skip-dask]

Builds rask (release), writes the files with bench/make_graphs.py into DIR
(default bench/.scale; kept between runs, they are large: about 2.5 GB at
10^7), and for each shape and size runs

  rask run FILE --stats --workers W                 (uncached)
  rask run FILE --stats --workers W --cache C       (cold: C empty)
  rask run FILE --stats --workers W --cache C       (warm: C as the cold run left it)

under GNU time (wall seconds, user + system CPU seconds and peak RSS). It
prints one JSON line per run and a Markdown table: wall time per task, CPU
time per task (steadier than the wall time on a loaded machine, where a
run waits for a core), load / plan / run per task (the
figures of --stats: load_s counts from the start, so it holds plan_s),
peak memory in bytes per task above that of a run of a tiny file, the
cached runs' wall time as a multiple of the uncached one, and the cache's
disk use per stored entry (du of the directory after the cold run, over
the tasks it executed). Cached runs only for --cache-sizes. For reference,
Dask's dask.threaded.get on the --dask-sizes files (bench/dask_run.py in
the virtualenv of bench/venv.sh, literal leaves as tasks).

Each figure is the best of --repeat runs (the wall time also shows the worst
in parentheses); the machine is shared and noisy:
compare ratios, and repeat.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RASK = os.path.join(ROOT, "target", "release", "rask")


def sizes(text):
    return [int(s) for s in text.split(",") if s]


def timed(cmd):
    """Runs cmd under GNU time; (wall s, CPU s, peak RSS bytes, stderr, stdout)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        p = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name] + cmd,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"scale.py: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
        wall, user, system, kb = t.read().split()[-4:]
    return float(wall), float(user) + float(system), int(kb) * 1024, p.stderr, p.stdout


def rask_run(path, workers, cache=None):
    cmd = [RASK, "run", path, "--stats", "--workers", str(workers)]
    if cache:
        cmd += ["--cache", cache]
    wall, cpu, rss, err, _ = timed(cmd)
    stats = [json.loads(l) for l in err.splitlines() if l.startswith("{")][-1]
    return dict(stats, wall_s=wall, cpu_s=cpu, rss=rss)


def best(runs):
    return min(runs, key=lambda r: r["wall_s"])


def disk_use(path):
    out = subprocess.run(["du", "-s", "--block-size=1", path], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def emit(obj):
    print(json.dumps(obj), flush=True)
    return obj


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=sizes, default=sizes("100000,1000000,10000000"))
    ap.add_argument("--shapes", default="chain,fan,tree")
    ap.add_argument("--cache-sizes", type=sizes, default=sizes("100000,1000000"))
    ap.add_argument("--dask-sizes", type=sizes, default=sizes("100000"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", default=os.path.join(HERE, ".scale"))
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    a = ap.parse_args()
    shapes = a.shapes.split(",")

    if not a.skip_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "rask-cli"], cwd=ROOT, check=True)
    os.makedirs(a.dir, exist_ok=True)
    want = sorted(set(a.sizes) | {10})
    missing = [n for n in want for s in shapes
               if not os.path.exists(os.path.join(a.dir, f"{s}-{n}.json"))]
    if missing:
        subprocess.run([sys.executable, os.path.join(HERE, "make_graphs.py"), a.dir,
                        "--sizes", ",".join(map(str, sorted(set(missing)))), "--spin-sizes", "1"],
                       check=True, capture_output=True)

    tiny = best([rask_run(os.path.join(a.dir, "chain-10.json"), a.workers) for _ in range(a.repeat)])
    emit({"tiny_rss": tiny["rss"]})
    rows = []
    for shape in shapes:
        for n in a.sizes:
            path = os.path.join(a.dir, f"{shape}-{n}.json")
            runs = [rask_run(path, a.workers) for _ in range(a.repeat)]
            plain = dict(best(runs), cpu_s=min(r["cpu_s"] for r in runs),
                         wall_range=[min(r["wall_s"] for r in runs), max(r["wall_s"] for r in runs)])
            row = {"shape": shape, "n": n, "tasks": plain["tasks"], "plain": plain}
            if n in a.cache_sizes:
                colds, warms, disks = [], [], []
                for _ in range(a.repeat):
                    cache = tempfile.mkdtemp(prefix="rask-scale-cache-", dir=a.dir)
                    try:
                        colds.append(rask_run(path, a.workers, cache))
                        disks.append(disk_use(cache))
                        warms.append(rask_run(path, a.workers, cache))
                    finally:
                        shutil.rmtree(cache)
                row["cold"], row["warm"] = best(colds), best(warms)
                row["disk"] = min(disks)
            emit(dict(row, tiny_rss=tiny["rss"]))
            rows.append(row)

    dask = {}
    if not a.skip_dask and a.dask_sizes:
        py = subprocess.run(["bash", os.path.join(HERE, "venv.sh")], capture_output=True,
                            text=True, check=True).stdout.strip()
        for shape in shapes:
            for n in a.dask_sizes:
                path = os.path.join(a.dir, f"{shape}-{n}.json")
                runs = []
                for _ in range(a.repeat):
                    out = subprocess.run([py, os.path.join(HERE, "dask_run.py"), path, "--workers",
                                          str(a.workers), "--leaf-tasks"],
                                         capture_output=True, text=True, check=True)
                    runs.append(json.loads(out.stdout.splitlines()[0]))
                dask[(shape, n)] = emit(dict(min(runs, key=lambda r: r["run_s"]), shape=shape, n=n, dask=True))

    us = lambda s, n: f"{s / n * 1e6:.2f}"
    print()
    print(f"| file | tasks | wall/task (us) | CPU/task (us) | load / plan / run per task (us) "
          f"| peak memory (B/task above tiny) "
          f"| cold cached (x uncached) | warm cached (x uncached) | cache disk (B/entry) | Dask get/task (us) |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        p, n = r["plain"], r["tasks"]
        mem = (p["rss"] - tiny["rss"]) / n
        lo, hi = p["wall_range"]
        wall = us(lo, n) if lo == hi else f"{us(lo, n)} ({us(hi, n)})"
        cells = [f"{r['shape']}", f"10^{len(str(r['n'])) - 1}", wall, us(p["cpu_s"], n),
                 f"{us(p['load_s'] - p['plan_s'], n)} / {us(p['plan_s'], n)} / {us(p['run_s'], n)}",
                 f"{mem:.0f}"]
        if "cold" in r:
            stored = max(r["cold"].get("executed", 0), 1)
            cells += [f"{r['cold']['wall_s'] / p['wall_s']:.1f}", f"{r['warm']['wall_s'] / p['wall_s']:.1f}",
                      f"{r['disk'] / stored:.0f}"]
        else:
            cells += ["", "", ""]
        d = dask.get((r["shape"], r["n"]))
        cells.append(us(d["run_s"], d["tasks"]) if d else "")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
