#!/usr/bin/env python3
"""Write benchmark graphs in rask's JSON graph format.

    python3 bench/make_graphs.py OUTDIR [--sizes 10000,100000] [--spin-sizes 200]

For each N in --sizes it writes into OUTDIR:
  fan-N.json    "x-i": i; "inc-i": inc(x-i); "total": sum([inc-0 .. inc-(N-1)])
  chain-N.json  "c-0": 0; "c-i": inc(c-(i-1)) for i in 1..N   (N keys)
  tree-N.json   "l-i": i; binary add reduction "t-LEVEL-j" (LEVEL from 1); at
                a level with an odd count the last node is referenced directly
                by the next level (no extra task); the root is the last key
and for each N in --spin-sizes:
  spin-N.json   "x-i": i; "spin-i": spin_ms(x-i, 1); "total": sum([spin-*])

Key order in every file: leaves first, then dependents (deterministic), one
member per line. The shape builders (fan, chain, tree, two_reductions, spin)
return plain dicts in the same format and are imported by dask_order.py.
"""
import argparse
import json
import os
import sys


def call(name, *args):
    return {"call": name, "args": list(args)}


def fan(n, fn="inc"):
    g = {f"x-{i}": i for i in range(n)}
    g.update({f"{fn}-{i}": call(fn, f"x-{i}") for i in range(n)})
    g["total"] = call("sum", [f"{fn}-{i}" for i in range(n)])
    return g


def spin(n, ms=1):
    g = {f"x-{i}": i for i in range(n)}
    g.update({f"spin-{i}": call("spin_ms", f"x-{i}", ms) for i in range(n)})
    g["total"] = call("sum", [f"spin-{i}" for i in range(n)])
    return g


def chain(n):
    g = {"c-0": 0}
    g.update({f"c-{i}": call("inc", f"c-{i - 1}") for i in range(1, n)})
    return g


def reduce_tree(g, names, prefix="t", fn="add"):
    """Add a binary `fn` reduction of `names` to g; return the root's key."""
    level = 0
    while len(names) > 1:
        level += 1
        nxt = []
        for j in range(0, len(names) - 1, 2):
            key = f"{prefix}-{level}-{j // 2}"
            g[key] = call(fn, names[j], names[j + 1])
            nxt.append(key)
        if len(names) % 2:
            nxt.append(names[-1])  # odd one out: carried up by reference
        names = nxt
    return names[0]


def tree(n):
    g = {f"l-{i}": i for i in range(n)}
    reduce_tree(g, list(g))
    return g


def two_reductions(n):
    """N leaves, each feeding both an add tree ("a-...") and a mul tree ("m-...")."""
    g = {f"l-{i}": i for i in range(n)}
    leaves = list(g)
    reduce_tree(g, leaves, "a", "add")
    reduce_tree(g, leaves, "m", "mul")
    return g


def write_graph(graph, path):
    """One member per line, in insertion order."""
    with open(path, "w") as f:
        f.write("{\n")
        f.write(",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in graph.items()))
        f.write("\n}\n")


def sizes(text):
    try:
        out = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not out or any(n < 1 for n in out):
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--sizes", type=sizes, default=[10000, 100000])
    ap.add_argument("--spin-sizes", type=sizes, default=[200])
    a = ap.parse_args(argv)
    try:
        os.makedirs(a.outdir, exist_ok=True)
    except OSError as e:
        sys.exit(f"make_graphs: cannot create {a.outdir}: {e}")
    jobs = [(f"{s}-{n}.json", f, n) for n in a.sizes
            for s, f in (("fan", fan), ("chain", chain), ("tree", tree))]
    jobs += [(f"spin-{n}.json", spin, n) for n in a.spin_sizes]
    for name, make, n in jobs:
        path = os.path.join(a.outdir, name)
        write_graph(make(n), path)
        print(path)


if __name__ == "__main__":
    main()
