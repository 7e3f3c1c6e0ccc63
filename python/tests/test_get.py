"""rask.get against Dask's contract for a scheduler, and what a Python
user expects of errors, interrupts and threads."""

from __future__ import annotations

import contextvars
import os
import signal
import sys
import threading
import time
import traceback
from operator import add

import pytest

import rask

dask = pytest.importorskip("dask")
from dask.utils_test import GetFunctionTestMixin  # noqa: E402


def inc(x):
    return x + 1


def os_threads():
    """How many threads this process has, Rust's included."""
    return len(os.listdir("/proc/self/task"))


def settle(expected, limit=5.0):
    """Waits until the process has at most ``expected`` threads."""
    deadline = time.monotonic() + limit
    while os_threads() > expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return os_threads()


class TestThreads(GetFunctionTestMixin):
    get = staticmethod(rask.get)


class TestSync(GetFunctionTestMixin):
    get = staticmethod(lambda dsk, keys, **kw: rask.get(dsk, keys, scheduler="sync", **kw))


class TestProcesses(GetFunctionTestMixin):
    get = staticmethod(
        lambda dsk, keys, **kw: rask.get(dsk, keys, scheduler="processes", num_workers=2, **kw)
    )

    def test_get_stack_limit(self):
        # a 10^4 chain is 10^4 round trips to a worker process: 10^3 here
        d = {f"x{i + 1}": (inc, f"x{i}") for i in range(1000)}
        d["x0"] = 0
        assert self.get(d, "x1000") == 1000


class Boom(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code

    def __reduce__(self):
        return (Boom, (self.args[0], self.code))


def explode(x):
    raise Boom("no good", code=x)


@pytest.mark.parametrize("scheduler", ["threads", "sync", "processes"])
def test_task_exception_is_raised_as_itself(scheduler):
    dsk = {"x": 41, "y": (inc, "x"), "z": (explode, "y")}
    with pytest.raises(Boom) as info:
        rask.get(dsk, "z", scheduler=scheduler)
    assert info.value.code == 42
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    if scheduler != "processes":
        assert "explode" in frames


def test_missing_key_is_a_key_error():
    with pytest.raises(KeyError):
        rask.get({"x": 1}, "nope")
    with pytest.raises(KeyError):
        rask.get({"x": 1}, [["x"], ["nope"]])


def test_missing_dependency_of_a_task_spec_node():
    from dask._task_spec import Task, TaskRef

    dsk = {"y": Task("y", inc, TaskRef("x"))}
    with pytest.raises(ValueError, match="Missing dependency"):
        rask.get(dsk, "y")


def test_cycle_names_its_keys():
    dsk = {"a": (inc, "b"), "b": (inc, "c"), "c": (inc, "a"), "d": 1}
    with pytest.raises(RuntimeError, match="Cycle detected") as info:
        rask.get(dsk, "a")
    for k in "abc":
        assert k in str(info.value)


def test_plain_graph_without_dask_objects():
    dsk = {("x", 0): 1, ("x", 1): 2, "s": (sum, [("x", 0), ("x", 1)]), 1.5: (add, "s", 1)}
    assert rask.get(dsk, [1.5, "s"]) == (4, 3)


def test_literals_are_passed_as_the_objects_themselves():
    marker = object()
    dsk = {"x": (lambda o: o, marker), "y": (lambda d: d, {"a": "x", "b": 2})}
    assert rask.get(dsk, "x") is marker
    assert rask.get(dsk, "y") == {"a": marker, "b": 2}


def test_large_graphs():
    n = 100_000
    dsk = {("leaf", i): (inc, i) for i in range(n)}
    dsk["total"] = (sum, list(dsk))
    assert rask.get(dsk, "total") == sum(range(1, n + 1))
    chain = {"c0": 0}
    chain.update({f"c{i}": (inc, f"c{i - 1}") for i in range(1, 10_001)})
    assert rask.get(chain, "c10000") == 10_000


def test_no_thread_left_behind():
    before = os_threads()
    dsk = {("x", i): (inc, i) for i in range(100)}
    dsk["s"] = (sum, list(dsk))
    for _ in range(20):
        rask.get(dsk, "s", num_workers=4)
    with pytest.raises(Boom):
        rask.get({"x": (explode, 1), **dsk}, ["x", "s"], num_workers=4)
    assert settle(before) == before


def test_interrupt_raises_at_once_and_starts_no_new_task():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    before = os_threads()
    main = threading.get_ident()
    release = threading.Event()
    started = []

    def block(i):
        started.append(i)
        release.wait(30)
        return i

    dsk = {("b", i): (block, i) for i in range(20)}
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        rask.get(dsk, list(dsk), num_workers=3)
    assert time.monotonic() - t0 < 5
    timer.join()
    running = len(started)
    assert running <= 3
    release.set()
    time.sleep(0.3)
    assert len(started) == running, "a task started after the interrupt"
    assert settle(before) == before


INTERRUPTED_THEN_EXIT = """
import _thread, threading, time
import rask

def busy(i):
    # wakes up (and takes the GIL back) every half millisecond
    for _ in range(600):
        time.sleep(0.0005)
    return i

dsk = {("b", i): (busy, i) for i in range(8)}
threading.Timer(0.2, _thread.interrupt_main).start()
try:
    rask.get(dsk, list(dsk), num_workers=2)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_exit_after_an_interrupt_waits_for_the_running_tasks():
    # the interpreter exits while the interrupted run's workers still run
    # tasks; it waits for them (as for a thread pool's) instead of
    # finalizing under them, which aborted the process
    import subprocess

    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", INTERRUPTED_THEN_EXIT],
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == "interrupted\n"


FORK_FROM_A_TASK = """
import multiprocessing
import rask

def exit_at_once():
    pass

def fork_a_child(_):
    child = multiprocessing.get_context("fork").Process(target=exit_at_once)
    child.start()
    child.join(20)
    return child.exitcode

if __name__ == "__main__":
    dsk = {("f", i): (fork_a_child, i) for i in range(2)}
    print(rask.get(dsk, list(dsk), num_workers=2), flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_during_a_run_exits(tmp_path):
    # the child inherits the parent's count of live runs, not their
    # threads: it must not wait for them when it exits. In an interpreter
    # of its own, as a user's script runs (pytest's own state makes a
    # forked child of this process exit 1)
    import subprocess

    script = tmp_path / "fork_from_a_task.py"
    script.write_text(FORK_FROM_A_TASK)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "(0, 0)\n", done.stdout + done.stderr


def test_contextvars_reach_tasks():
    var = contextvars.ContextVar("var", default="unset")

    def read():
        return var.get()

    token = var.set("set")
    try:
        dsk = {("r", i): (read,) for i in range(8)}
        assert set(rask.get(dsk, list(dsk), num_workers=2)) == {"set"}
    finally:
        var.reset(token)


def test_nested_and_concurrent_gets():
    def nested(x):
        return rask.get({"a": x, "b": (inc, "a")}, "b", num_workers=2)

    dsk = {("n", i): (nested, i) for i in range(20)}
    results = []

    def caller():
        results.append(rask.get(dsk, list(dsk), num_workers=2))

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [tuple(range(1, 21))] * 4


def test_cache_seeds_and_receives_values():
    cache = {"x": 10}
    seen = {}

    def check(y):
        seen["y in cache"] = "y" in cache
        return y * 2

    dsk = {"x": (explode, 0), "y": (inc, "x"), "z": (check, "y")}
    assert rask.get(dsk, "z", cache=cache) == 22
    assert seen["y in cache"]
    assert cache["z"] == 22 and "y" not in cache


def test_dask_callbacks_see_every_task():
    from dask.callbacks import Callback

    events = {"start": 0, "pre": [], "post": [], "finish": []}

    def start(dsk):
        events["start"] += 1

    def start_state(dsk, state):
        events["state"] = sorted(state)

    def pretask(key, dsk, state):
        events["pre"].append(key)

    def posttask(key, result, dsk, state, worker_id):
        events["post"].append((key, result))

    def finish(dsk, state, errored):
        events["finish"].append(errored)

    dsk = {"x": 1, "y": (inc, "x"), "z": (add, "y", "x")}
    with Callback(start, start_state, pretask, posttask, finish):
        assert rask.get(dsk, "z") == 3
    assert events["start"] == 1
    assert {"ready", "waiting", "running", "finished", "released", "cache"} <= set(events["state"])
    # "x" is data, not a task: Dask fires no callback for it either
    assert sorted(events["pre"]) == ["y", "z"]
    assert sorted(events["post"]) == [("y", 2), ("z", 3)]
    assert events["finish"] == [False]
    with Callback(finish=finish):
        with pytest.raises(Boom):
            rask.get({"e": (explode, 1)}, "e")
    assert events["finish"] == [False, True]


def test_progress_bar_counts_every_task(capsys):
    from dask.diagnostics import ProgressBar

    dsk = {("x", i): (inc, i) for i in range(50)}
    dsk["s"] = (sum, list(dsk))
    with ProgressBar(out=sys.stdout, dt=0.001):
        assert rask.get(dsk, "s") == sum(range(1, 51))
    out = capsys.readouterr().out
    assert "100%" in out


def test_profile_writes_a_timeline(tmp_path):
    path = tmp_path / "run.html"
    dsk = {("x", i): (inc, i) for i in range(10)}
    rask.get(dsk, list(dsk), profile=path)
    assert path.read_text().lstrip().lower().startswith("<!doctype html")


def test_processes_name_an_unpicklable_task():
    from rask._processes import TaskPickleError

    lock = threading.Lock()
    dsk = {"x": 1, "bad": (lambda l, x: x, lock, "x")}
    with pytest.raises(TaskPickleError, match="'bad'"):
        rask.get(dsk, "bad", scheduler="processes", num_workers=1)


def test_unknown_scheduler_and_bad_workers():
    with pytest.raises(ValueError, match="unknown scheduler"):
        rask.get({"x": 1}, "x", scheduler="gpu")
    with pytest.raises(ValueError, match="num_workers"):
        rask.get({"x": 1}, "x", num_workers=0)


def test_dask_collections_compute_on_rask():
    import numpy as np

    da = pytest.importorskip("dask.array")
    db = pytest.importorskip("dask.bag")
    x = da.arange(1000, chunks=100)
    assert int(((2 * x + 1) ** 2).sum().compute(scheduler=rask.get)) == int(
        ((2 * np.arange(1000) + 1) ** 2).sum()
    )
    b = db.from_sequence(list("abracadabra"), npartitions=3)
    assert dict(b.frequencies().compute(scheduler=rask.get)) == {
        "a": 5, "b": 2, "r": 2, "c": 1, "d": 1
    }
    with dask.config.set(scheduler=rask.get):
        assert float(x.mean().compute()) == 499.5


def sleep_a_while(i):
    time.sleep(30)
    return i


def test_interrupt_kills_worker_processes():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    dsk = {("s", i): (sleep_a_while, i) for i in range(4)}
    main = threading.get_ident()
    # late enough for the spawned workers to be running their tasks
    timer = threading.Timer(3.0, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        rask.get(dsk, list(dsk), scheduler="processes", num_workers=2)
    timer.join()
    assert time.monotonic() - t0 < 20
    def workers():
        # multiprocessing's resource tracker lives as long as this process
        return [p for p in me.children() if "resource_tracker" not in " ".join(p.cmdline())]

    deadline = time.monotonic() + 10
    while workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers() == []
