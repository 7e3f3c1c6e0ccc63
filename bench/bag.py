#!/usr/bin/env python3
"""The bag benchmark: three questions about GitHub Archive events, by rask,
dask.bag and Polars, against only decompressing the files.

    python3 bench/bag.py [--events 800000] [--files 8] [--rich] [--repeat 3] [--dask-repeat 1]

Builds the example `bag_events` (crates/rask-bag/examples), generates
deterministic gzip'd JSON-lines events into target/bench-data/ (kept for the
next run), makes the virtualenv of bench/venv.sh (Dask) and installs Polars into
it if missing, then measures, in one run, on the same files:

- `decompress`: only decompressing the files, one file per thread on every
  core, with the decompressor rask's `read_text` uses (the physical floor);
- the three questions, each reading and parsing the files itself:
  `top_actors` (the 10 most frequent actor.login, ties by login),
  `by_type` (per type, the number of events and the sum of payload.size),
  `actors` (the number of distinct logins, with a groupby);
- by rask (`bag_events`, threads executor on every core), by dask.bag
  (json.loads per line; `frequencies`, `foldby`, `groupby(...).count()`;
  with its threads and its processes schedulers), and by Polars
  (`read_ndjson` of the projected fields, then `group_by`).

The answers of the three engines must agree (the script fails otherwise).
Each time is the best of --repeat runs (--dask-repeat for Dask, whose
groupby takes tens of seconds): the machine is shared and noisy, compare
ratios. Prints JSON lines as it goes and a Markdown table at the end.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "target", "release", "examples", "bag_events")
QUESTIONS = ["top_actors", "by_type", "actors"]


# engines run as `python -P bench/bag.py --engine ...`: -P keeps bench/ off
# sys.path, where bench/array.py would shadow the standard `array` module


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def emit(obj):
    print(json.dumps(obj), flush=True)
    return obj


# --- the engines, run in the virtualenv's python: --engine NAME ------------


def dask_questions(pattern, scheduler):
    import dask
    import dask.bag as db

    def events():
        return db.read_text(pattern).map(json.loads)

    def size(e):
        p = e.get("payload")
        return (p.get("size") or 0) if p else 0

    out, seconds = {}, {}
    with dask.config.set(scheduler=scheduler):
        t = time.perf_counter()
        freq = events().map(lambda e: e["actor"]["login"]).frequencies().compute()
        top = sorted(freq, key=lambda kv: (-kv[1], kv[0]))[:10]
        out["top_actors"] = [{"login": k, "count": n} for k, n in top]
        seconds["top_actors"] = time.perf_counter() - t

        t = time.perf_counter()
        by_type = events().foldby(
            lambda e: e["type"],
            lambda acc, e: (acc[0] + 1, acc[1] + size(e)),
            (0, 0),
            lambda a, b: (a[0] + b[0], a[1] + b[1]),
            (0, 0),
        ).compute()
        out["by_type"] = {k: {"count": c, "size": s} for k, (c, s) in sorted(by_type)}
        seconds["by_type"] = time.perf_counter() - t

        t = time.perf_counter()
        out["actors"] = events().groupby(lambda e: e["actor"]["login"]).count().compute()
        seconds["actors"] = time.perf_counter() - t
    out["seconds"] = seconds
    return out


def polars_questions(pattern):
    import polars as pl

    files = sorted(glob.glob(pattern))
    schema = {
        "type": pl.String,
        "actor": pl.Struct({"login": pl.String}),
        "payload": pl.Struct({"size": pl.Int64}),
    }

    def events(columns):
        # each question reads and parses the files itself, on every core
        return pl.concat(
            [pl.read_ndjson(f, schema={c: schema[c] for c in columns}) for f in files]
        )

    out, seconds = {}, {}
    t = time.perf_counter()
    top = (
        events(["actor"])
        .select(pl.col("actor").struct.field("login"))
        .group_by("login")
        .len()
        .sort(["len", "login"], descending=[True, False])
        .head(10)
    )
    out["top_actors"] = [{"login": r[0], "count": r[1]} for r in top.iter_rows()]
    seconds["top_actors"] = time.perf_counter() - t

    t = time.perf_counter()
    by_type = (
        events(["type", "payload"])
        .group_by("type")
        .agg(
            pl.len().alias("count"),
            pl.col("payload").struct.field("size").fill_null(0).sum().alias("size"),
        )
        .sort("type")
    )
    out["by_type"] = {r[0]: {"count": r[1], "size": r[2]} for r in by_type.iter_rows()}
    seconds["by_type"] = time.perf_counter() - t

    t = time.perf_counter()
    out["actors"] = (
        events(["actor"]).select(pl.col("actor").struct.field("login")).group_by("login").len().height
    )
    seconds["actors"] = time.perf_counter() - t
    out["seconds"] = seconds
    return out


# --- the driver ---------------------------------------------------------------


def venv_python():
    py = sh(["bash", os.path.join(HERE, "venv.sh")]).stdout.strip()
    if subprocess.run([py, "-c", "import polars"], capture_output=True).returncode != 0:
        sh([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "polars"])
    return py


def run_json(cmd):
    return json.loads(sh(cmd).stdout.strip().splitlines()[-1])


def best_of(runs):
    """Per question, the smallest time of the runs."""
    return {q: min(r["seconds"][q] for r in runs) for q in QUESTIONS}


def answers(r):
    return {q: r[q] for q in QUESTIONS}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=800_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument(
        "--rich",
        action="store_true",
        help="fuller events (URLs, push events with commits), about 860 bytes each",
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dask-repeat", type=int, default=1)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--pattern", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.engine:
        if a.engine == "polars":
            print(json.dumps(polars_questions(a.pattern)))
        else:
            print(json.dumps(dask_questions(a.pattern, a.engine.split(":")[1])))
        return

    sh(["cargo", "build", "--release", "-q", "-p", "rask-bag", "--example", "bag_events"], cwd=ROOT)
    kind = "rich" if a.rich else "events"
    data = os.path.join(ROOT, "target", "bench-data", f"{kind}-{a.events}-{a.files}")
    pattern = os.path.join(data, "*.json.gz")
    if len(glob.glob(pattern)) != a.files:
        generate = [EXAMPLE, "generate", data, str(a.events), str(a.files)] + (["rich"] if a.rich else [])
        emit({"generate": run_json(generate)})
    py = venv_python()
    versions = run_json([py, "-c", "import json, dask, polars; print(json.dumps({'dask': dask.__version__, 'polars': polars.__version__}))"])
    emit({"versions": versions, "cores": os.cpu_count()})

    decompress = [run_json([EXAMPLE, "decompress", pattern]) for _ in range(a.repeat)]
    emit({"engine": "decompress", "runs": decompress})
    floor = min(r["seconds"] for r in decompress)

    results = {}
    rask = [run_json([EXAMPLE, pattern]) for _ in range(a.repeat)]
    results["rask"] = rask
    emit({"engine": "rask", "seconds": [r["seconds"] for r in rask]})
    polars = [run_json([py, "-P", __file__, "--engine", "polars", "--pattern", pattern]) for _ in range(a.repeat)]
    results["polars"] = polars
    emit({"engine": "polars", "seconds": [r["seconds"] for r in polars]})
    for sched in ["threads", "processes"]:
        runs = [
            run_json([py, "-P", __file__, "--engine", f"dask:{sched}", "--pattern", pattern])
            for _ in range(a.dask_repeat)
        ]
        results[f"dask.bag ({sched})"] = runs
        emit({"engine": f"dask.bag ({sched})", "seconds": [r["seconds"] for r in runs]})

    reference = answers(rask[0])
    for engine, runs in results.items():
        for r in runs:
            if answers(r) != reference:
                sys.exit(f"bag.py: {engine} disagrees with rask:\n{json.dumps(answers(r))}\n{json.dumps(reference)}")
    emit({"agree": True, "actors": reference["actors"]})

    best = {engine: best_of(runs) for engine, runs in results.items()}
    r = best["rask"]
    dask_best = {
        q: min(best[e][q] for e in best if e.startswith("dask")) for q in QUESTIONS
    }
    print()
    what = "rich events" if a.rich else "events"
    print(f"{a.events:,} {what} in {a.files} gzip'd files; decompressing only: {floor:.3f} s")
    print()
    print("| question | rask | Polars | dask.bag (threads) | dask.bag (processes) | vs dask.bag | vs Polars | vs decompressing |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for q in QUESTIONS:
        print(
            f"| {q} | {r[q]:.3f} s | {best['polars'][q]:.3f} s "
            f"| {best['dask.bag (threads)'][q]:.2f} s | {best['dask.bag (processes)'][q]:.2f} s "
            f"| {dask_best[q] / r[q]:.1f}x | {best['polars'][q] / r[q]:.1f}x | {r[q] / floor:.1f}x |"
        )


if __name__ == "__main__":
    main()
