#!/usr/bin/env python3
"""Peak live values of dask.order.order on standard graph shapes.

    python bench/dask_order.py [--n 1000] [--write DIR]

Builds each shape with N leaves (the builders of make_graphs.py, converted in
memory by dask_graph.convert, so the Dask graph and the rask file are the same
graph by construction):
  chain           c-0 .. c-(N-1), each inc of the previous
  fan             N leaves, N incs, one sum of all incs
  tree            binary add reduction of N leaves
  two-reductions  N leaves, each feeding both an add tree and a mul tree
                  (both roots requested)
and prints one JSON line per shape:
  {"shape": .., "tasks": KEYS, "peak_live_dask_order": ..}
With --write DIR it also writes DIR/order-SHAPE-N.json in rask's format so the
Rust side can compute its own order on identical graphs.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dask_graph  # noqa: E402
import make_graphs  # noqa: E402

SHAPES = {
    "chain": make_graphs.chain,
    "fan": make_graphs.fan,
    "tree": make_graphs.tree,
    "two-reductions": make_graphs.two_reductions,
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="leaves per shape (default 1000)")
    ap.add_argument("--write", metavar="DIR", help="also write the shapes as rask JSON files here")
    a = ap.parse_args(argv)
    if a.n < 2:
        ap.error("--n must be at least 2")
    from dask.order import order

    if a.write:
        try:
            os.makedirs(a.write, exist_ok=True)
        except OSError as e:
            sys.exit(f"dask_order: cannot create {a.write}: {e}")
    for shape, build in SHAPES.items():
        graph = build(a.n)
        if a.write:
            make_graphs.write_graph(graph, os.path.join(a.write, f"order-{shape}-{a.n}.json"))
        dsk = dask_graph.convert(graph)
        peak = dask_graph.peak_live(dsk, order(dsk))
        print(json.dumps({"shape": shape, "tasks": len(dsk), "peak_live_dask_order": peak}))


if __name__ == "__main__":
    main()
