"""rask: Dask's graphs executed by rask's scheduler.

Dask's collections build graphs; ``rask.get`` executes them, following
Dask's ``get`` specification, on rask's scheduler (written in Rust, run
without holding the GIL)::

    import dask, dask.array as da, rask
    x = da.arange(1_000_000, chunks=100_000)
    dask.compute((x ** 2).sum(), scheduler=rask.get)

It works without Dask too, on Dask-style graphs of tuples::

    from operator import add
    rask.get({"x": 1, "y": (add, "x", 10)}, "y")   # 11
"""

from __future__ import annotations

from ._get import get

__all__ = ["get"]
