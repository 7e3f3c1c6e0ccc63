#!/usr/bin/env python3
"""Benchmark of the MPI executor: per-task overhead and rank-to-rank transfers.

    python3 bench/mpi.py [--sizes 10000] [--ranks 1,2,4] [--mb 100] [--reps 10]

Builds the `mpi_bench` example of rask-mpi (cargo feature `mpi`), writes
the fan, chain and tree graphs of bench/make_graphs.py, and runs:

  * per-task overhead: each graph with `mpirun -np R` for each R of
    --ranks (R = 1 is a one-rank world, which runs on the local thread
    pool: the baseline); the best of 5 runs, divided by the number of
    tasks (every key counts, as in `rask run --stats`);
  * transfer: a value of --mb megabytes moved from rank 1 to rank 0 by
    the executor (a string and a Vec<f64>, each sent from and received
    into the value's own memory), against raw MPI_Send/MPI_Recv of the
    same number of bytes between the same two ranks, measured by the same
    program: into a buffer allocated and touched beforehand (the raw
    bandwidth, 100%), into a new buffer per message (as an arriving value
    must be), and both on transparent huge pages (as rask-mpi receives a
    large value); --reps rounds of one of each, the best and the median of
    each, and their ratios to raw MPI's (bandwidth, not time: higher is
    faster).

mpirun runs with --bind-to none (each rank has a communication thread and
a task pool), and with --oversubscribe (plus --allow-run-as-root as root)
under Open MPI. Prints two Markdown tables.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import make_graphs  # noqa: E402

EXE = os.path.join(ROOT, "target", "release", "examples", "mpi_bench")


def mpirun(np, args):
    version = subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout
    cmd = ["mpirun"]
    if "Open MPI" in version:
        cmd += ["--oversubscribe", "--bind-to", "none"]
        if os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
    cmd += ["-np", str(np), EXE] + args
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        sys.exit(f"mpi bench: {' '.join(cmd)} failed:\n{out.stderr}")
    return [line.split() for line in out.stdout.splitlines() if line.strip()]


def overhead(a, ranks):
    """The per-task overhead table."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for n in a.sizes:
            for name, make in (("fan", make_graphs.fan), ("chain", make_graphs.chain),
                               ("tree", make_graphs.tree)):
                path = os.path.join(tmp, f"{name}-{n}.json")
                make_graphs.write_graph(make(n), path)
                files.append(path)
        per = {}  # (file, ranks) -> (tasks, seconds)
        for r in ranks:
            for _, path, tasks, size, secs in mpirun(r, ["overhead"] + files):
                per[(os.path.basename(path), int(size))] = (int(tasks), float(secs))
    print("| graph | tasks | " + " | ".join(
        "1 rank (threads)" if r == 1 else f"{r} ranks" for r in ranks) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in ranks) + " |")
    for path in files:
        name = os.path.basename(path)
        tasks = per[(name, ranks[0])][0]
        cells = [f"{per[(name, r)][1] / per[(name, r)][0] * 1e6:.2f} us" for r in ranks]
        print(f"| {name[:-5]} | {tasks} | " + " | ".join(cells) + " |")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=make_graphs.sizes, default=[10000])
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--transfer-only", action="store_true",
                    help="only the transfer table")
    a = ap.parse_args()
    ranks = [int(r) for r in a.ranks.split(",")]
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "rask-mpi", "--features", "mpi",
         "--example", "mpi_bench"],
        cwd=ROOT, check=True)
    if not a.transfer_only:
        overhead(a, ranks)
    rows = {kind: (int(b), float(s), float(m))
            for _, kind, b, s, m in mpirun(2, ["transfer", str(a.mb), str(a.reps)])}
    _, raw_s, raw_m = rows["raw-mpi"]
    print(f"| {a.mb} MB from rank 1 to rank 0 | best seconds | GB/s | of raw MPI "
          "| median seconds | of raw MPI |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    labels = {
        "raw-mpi": "raw MPI_Send/MPI_Recv into a reused buffer (the raw bandwidth)",
        "raw-mpi-new": "raw MPI_Send/MPI_Recv into a new buffer",
        "raw-mpi-huge": "raw MPI_Send/MPI_Recv into a reused buffer on huge pages",
        "raw-mpi-new-huge": "raw MPI_Send/MPI_Recv into a new buffer on huge pages",
        "string": "rask-mpi, a string",
        "Vec<f64>": "rask-mpi, a Vec<f64>",
    }
    for kind, label in labels.items():
        b, s, m = rows[kind]
        print(f"| {label} | {s:.4f} | {b / s / 1e9:.2f} | {raw_s / s * 100:.0f}% "
              f"| {m:.4f} | {raw_m / m * 100:.0f}% |")


if __name__ == "__main__":
    main()
