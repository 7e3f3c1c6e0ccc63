#!/usr/bin/env python3
"""A fault soak of `rask run`: kills cached runs and workers at random, counts.

    python3 bench/soak.py [--seconds 300] [--seed 13] [--skip-build] [--keep]

For --seconds, picks a fault at random (see docs/soak.md) and checks every
answer against the one a plain `rask run --scheduler sync` (no cache, no
fault) printed. Prints one JSON line and a table of: faults injected, runs,
wrong answers, damaged values returned, unexpected errors, leftover
processes, elapsed seconds. Exit 1 if any count but the first two (and the
time) is non-zero. Python 3 standard library only; Linux (/proc, prctl).
"""
import argparse
import ctypes
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RASK = os.path.join(ROOT, "target", "release", "rask")
RUN_TIMEOUT = 60.0

LIVE = set()  # PIDs of rask processes this script started and has not reaped


def set_subreaper():
    """Orphans of rask (workers, `sh`) become our children, so none escapes the count."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("warning: prctl(PR_SET_CHILD_SUBREAPER) failed", file=sys.stderr)


def proc_stat(pid):
    """(state, ppid) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1])


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[1] == ppid and st[0] != "Z":
                out.append(int(d))
    return out


def reap_orphans():
    """Reap exited children that subprocess does not know (reparented orphans)."""
    for pid in list(children_any(os.getpid())):
        if pid in LIVE:
            continue
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def children_any(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[1] == ppid:
                out.append(int(d))
    return out


def leftovers(wait=1.0):
    """Processes still alive under this script or a rask it started, once
    every run has ended (given `wait` seconds to go); they are killed."""
    deadline = time.time() + wait
    while True:
        reap_orphans()
        left = [p for p in children(os.getpid()) if p not in LIVE]
        for p in LIVE:
            left += children(p)
        if not left or time.time() > deadline:
            break
        time.sleep(0.05)
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(0.05)
    reap_orphans()
    return left


def start(args):
    p = subprocess.Popen([RASK, "run"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    LIVE.add(p.pid)
    return p


def finish(p):
    try:
        out, err = p.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        err += f"\n(soak: killed after {RUN_TIMEOUT} s)"
    LIVE.discard(p.pid)
    return p.returncode, out, err


def run(args):
    return finish(start(args))


# ---------------------------------------------------------------- graphs

def random_graph(rng, n, shell=False):
    """A random DAG of int tasks; some sleep so that a kill lands mid-run."""
    g = {}
    keys = []
    for i in range(n):
        k = f"k{i}"
        if i < 3 or rng.random() < 0.1:
            g[k] = rng.randint(-50, 50)
        else:
            a, b = rng.sample(keys, 2)
            r = rng.random()
            if r < 0.25:
                g[k] = {"call": "inc", "args": [a]}
            elif r < 0.45:
                g[k] = {"call": "add", "args": [a, b]}
            elif r < 0.55:
                g[k] = {"call": "sub", "args": [a, b]}
            elif r < 0.65:
                g[k] = {"call": "min", "args": [rng.sample(keys, min(len(keys), rng.randint(2, 5)))]}
            elif r < 0.72:
                g[k] = {"call": "max", "args": [[a, b]]}
            else:
                g[k] = {"call": "sleep_ms", "args": [a, rng.randint(5, 40)]}
        keys.append(k)
        if shell and rng.random() < 0.05:  # outputs only: their strings feed no number
            g[f"sh{i}"] = [k, {"call": "shell", "args": ["sh", "-c", f"sleep 0.0{rng.randint(1, 9)}; echo {i}"]}]
    return g


def suicide_graph(rng, n, markers):
    """A random graph with len(markers) shell tasks that kill their worker
    (`$PPID`) the first time (while their marker exists)."""
    g = random_graph(rng, n)
    keys = list(g)
    for j, m in enumerate(markers):
        k = f"die{j}"
        script = f"if rm {m} 2>/dev/null; then kill -9 $PPID; sleep 5; fi; echo {j}"
        g[k] = {"call": "shell", "args": ["sh", "-c", script]}
        g[f"after{j}"] = [k, rng.choice(keys)]
    return g


# ---------------------------------------------------------------- checks

class Counts:
    def __init__(self):
        self.faults = 0
        self.runs = 0
        self.wrong = 0
        self.damaged = 0
        self.errors = 0
        self.leftover = 0
        self.by_kind = {}
        self.notes = []

    def check(self, kind, rc, out, err, expected):
        """One run that must print `expected`."""
        self.runs += 1
        if rc != 0:
            self.errors += 1
            self.note(kind, f"exit {rc}: {err.strip()[-300:]}")
            return
        try:
            got = json.loads(out)
        except ValueError:
            self.wrong += 1
            self.note(kind, f"exit 0 with unparsable output {out[:200]!r}")
            return
        if got != expected:
            self.wrong += 1
            bad = [k for k in expected if k in got and got[k] != expected[k]]
            self.damaged += len(bad)
            self.note(kind, f"wrong answer: keys {sorted(set(got) ^ set(expected))[:5]} differ in presence, "
                            f"values differ at {bad[:5]}")

    def note(self, kind, msg):
        if len(self.notes) < 20:
            self.notes.append(f"{kind}: {msg}")
        print(f"soak: {kind}: {msg}", file=sys.stderr)

    def left(self, kind):
        left = leftovers()
        if left:
            self.leftover += len(left)
            self.note(kind, f"{len(left)} leftover processes: {left}")


# ---------------------------------------------------------------- faults

def fault_killed_cached(rng, c, case, cache):
    """1: a cached run killed with SIGKILL at a random moment, then run again."""
    sched = rng.choice(["sync", "threads", "processes"])
    args = [case["path"], "--cache", cache, "--scheduler", sched, "--allow", "shell"]
    p = start(args)
    time.sleep(rng.uniform(0, case["secs"] * 1.2))
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
        c.faults += 1
    finish(p)  # killed or finished: either way not checked
    c.left("killed-cached")
    rc, out, err = run(args)
    c.check("killed-cached", rc, out, err, case["expected"])
    c.left("killed-cached")


def fault_concurrent_cached(rng, c, case, cache):
    """2: 2-4 cached runs at once on the same directory."""
    ps = []
    for _ in range(rng.randint(2, 4)):
        sched = rng.choice(["sync", "threads", "processes"])
        ps.append(start([case["path"], "--cache", cache, "--scheduler", sched, "--allow", "shell"]))
    for p in ps:
        rc, out, err = finish(p)
        c.check("concurrent-cached", rc, out, err, case["expected"])
    c.left("concurrent-cached")


def fault_suicide(rng, c, case, _cache):
    """3: shell tasks kill their own worker once; --retries 2 must recover."""
    for m in case["markers"]:
        open(m, "w").close()
    args = [case["path"], "--scheduler", "processes", "--workers", str(rng.randint(1, 3)),
            "--retries", "2", "--allow", "shell"]
    rc, out, err = run(args)
    c.faults += sum(not os.path.exists(m) for m in case["markers"])
    for m in case["markers"]:
        if os.path.exists(m):
            os.remove(m)
    c.check("worker-suicide", rc, out, err, case["expected"])
    c.left("worker-suicide")


def fault_worker_killed(rng, c, case, _cache):
    """4: a worker of a running processes run killed from outside."""
    args = [case["path"], "--scheduler", "processes", "--workers", str(rng.randint(1, 3)),
            "--retries", "2", "--allow", "shell"]
    p = start(args)
    time.sleep(rng.uniform(0, case["secs"]))
    ws = children(p.pid) if p.poll() is None else []
    if ws:
        try:
            os.kill(rng.choice(ws), signal.SIGKILL)
            c.faults += 1
        except ProcessLookupError:
            pass
    rc, out, err = finish(p)
    c.check("worker-killed", rc, out, err, case["expected"])
    c.left("worker-killed")


FAULTS = {
    "killed-cached": fault_killed_cached,
    "concurrent-cached": fault_concurrent_cached,
    "worker-suicide": fault_suicide,
    "worker-killed": fault_worker_killed,
}


# ---------------------------------------------------------------- main

def expected_of(path):
    t = time.time()
    rc, out, err = run([path, "--scheduler", "sync", "--allow", "shell"])
    if rc != 0:
        sys.exit(f"soak: the plain run of {path} failed: {err}")
    return json.loads(out), time.time() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--graphs", type=int, default=4)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    if not a.skip_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "rask-cli"], check=True, cwd=ROOT)
    set_subreaper()
    rng = random.Random(a.seed)
    tmp = tempfile.mkdtemp(prefix="rask-soak-")
    c = Counts()
    t0 = time.time()
    try:
        cases = {"cached": [], "suicide": []}
        for i in range(a.graphs):
            path = os.path.join(tmp, f"g{i}.json")
            with open(path, "w") as f:
                json.dump(random_graph(rng, rng.randint(30, 80), shell=True), f)
            exp, secs = expected_of(path)
            cases["cached"].append({"path": path, "expected": exp, "secs": secs})
            markers = [os.path.join(tmp, f"g{i}-m{j}") for j in range(rng.randint(1, 2))]
            path = os.path.join(tmp, f"die{i}.json")
            with open(path, "w") as f:
                json.dump(suicide_graph(rng, rng.randint(20, 50), markers), f)
            exp, secs = expected_of(path)
            cases["suicide"].append({"path": path, "expected": exp, "secs": secs, "markers": markers})
        c.left("setup")
        t0 = time.time()
        n = 0
        while time.time() - t0 < a.seconds:
            kind = rng.choice(list(FAULTS))
            pool = cases["suicide"] if kind == "worker-suicide" else cases["cached"]
            if kind == "worker-killed":
                pool = cases["cached"] + cases["suicide"]
                case = rng.choice(pool)
                if "markers" in case:
                    for m in case["markers"]:
                        if os.path.exists(m):
                            os.remove(m)
            else:
                case = rng.choice(pool)
            # one cache directory per graph, shared by every run of it
            cache = os.path.join(tmp, "cache-" + os.path.basename(case["path"]))
            FAULTS[kind](rng, c, case, cache)
            c.by_kind[kind] = c.by_kind.get(kind, 0) + 1
            n += 1
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
    finally:
        for pid in list(LIVE):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(LIVE):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        LIVE.clear()
        leftovers(0.2)
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"soak: kept {tmp}", file=sys.stderr)
    elapsed = round(time.time() - t0, 1)
    res = {"seed": a.seed, "faults": c.faults, "runs": c.runs, "wrong_answers": c.wrong,
           "damaged_values": c.damaged, "unexpected_errors": c.errors,
           "leftover_processes": c.leftover, "elapsed_s": elapsed, "rounds": c.by_kind}
    print(json.dumps(res))
    print()
    print("| faults injected | runs | wrong answers | damaged values | unexpected errors | leftover processes | seconds |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {c.faults} | {c.runs} | {c.wrong} | {c.damaged} | {c.errors} | {c.leftover} | {elapsed} |")
    for n in c.notes:
        print("  " + n)
    sys.exit(1 if (c.wrong or c.damaged or c.errors or c.leftover) else 0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    main()
