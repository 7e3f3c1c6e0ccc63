"""Runs Dask's own shipped test files on rask's scheduler.

    python python/tests/run_dask_suite.py [pytest args...]

1. Runs the test files below (they ship inside the installed ``dask``
   package) with the ``rask_dask_plugin``, which makes ``rask.get`` Dask's
   scheduler for every test.
2. Runs each test that failed there again on Dask's own scheduler (no
   plugin): a test that fails there too is not rask's to answer for.
3. Every test that passes on Dask's scheduler and fails on rask's must be
   listed, with its reason, in ``dask_accepted_failures.txt`` beside this
   file; any other such test fails this script. So does a listed test that
   now passes, so that the list stays true.

Prints pytest's output, then one closing line: ``N passed, N failed``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))

MODULES = [
    "dask.tests.test_threaded",
    "dask.tests.test_local",
    "dask.tests.test_base",
    "dask.tests.test_delayed",
    "dask.tests.test_callbacks",
    "dask.tests.test_cache",
    "dask.diagnostics.tests.test_progress",
    "dask.diagnostics.tests.test_profiler",
    "dask.array.tests.test_array_core",
    "dask.array.tests.test_reductions",
    "dask.array.tests.test_slicing",
    "dask.array.tests.test_rechunk",
    "dask.bag.tests.test_bag",
    "dask.dataframe.tests.test_shuffle",
    "dask.dataframe.tests.test_reshape",
]


def site_packages():
    """The folder that holds the installed ``dask`` package."""
    import dask

    return os.path.dirname(os.path.dirname(os.path.abspath(dask.__file__)))


def pytest(args, plugin, junit):
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
    # from the installed package's folder, with no configuration file, so
    # that tests are named by their path in the package
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir=.",
           "-c", os.devnull, "--timeout=300", f"--junitxml={junit}", "-o", "junit_family=xunit1"]
    if plugin:
        cmd += ["-p", "rask_dask_plugin"]
    return subprocess.run(cmd + args, env=env, cwd=site_packages()).returncode


def failures(junit):
    """The pytest ids of the failed or errored tests, and how many passed."""
    failed, passed = set(), 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        bad = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        path = case.get("file", "")
        module = path[:-3].replace("/", ".")
        cls = case.get("classname", "")[len(module) + 1:]
        test = "::".join(p for p in (path, cls, case.get("name", "")) if p)
        if bad:
            failed.add(test)
        elif not skipped:
            passed += 1
    return failed, passed


def accepted():
    """The accepted failures: pytest id -> reason."""
    out = {}
    with open(os.path.join(HERE, "dask_accepted_failures.txt")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            test, _, reason = line.partition(" # ")
            out[test.strip()] = reason.strip()
    return out


def main():
    extra = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        junit = os.path.join(tmp, "rask.xml")
        pytest(["--pyargs", *MODULES, *extra], plugin=True, junit=junit)
        on_rask, passed = failures(junit)
        on_dask = set()
        if on_rask:
            print(f"\n{len(on_rask)} failed on rask's scheduler; running them on Dask's own:", flush=True)
            junit2 = os.path.join(tmp, "dask.xml")
            pytest(sorted(on_rask), plugin=False, junit=junit2)
            on_dask, _ = failures(junit2)
    # a test run by file path is named by its file's module (the same)
    ours = {t for t in on_rask if t not in on_dask}
    allowed = accepted()
    unexpected = sorted(t for t in ours if t not in allowed)
    stale = sorted(t for t in allowed if t not in ours)
    print()
    for t in sorted(on_rask & on_dask):
        print(f"fails on Dask's own scheduler too: {t}")
    for t in sorted(ours):
        if t in allowed:
            print(f"accepted: {t} ({allowed[t]})")
    for t in unexpected:
        print(f"FAILS ON RASK ONLY: {t}")
    for t in stale:
        print(f"listed as an accepted failure but did not fail: {t}")
    bad = len(unexpected) + len(stale)
    # the closing line, in the plain form CI reads: one word, a colon, the counts
    # (a stale entry of the list counts as a failure, not as a test run)
    print(f"dask-suite: {passed + len(on_rask) - len(unexpected)} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
