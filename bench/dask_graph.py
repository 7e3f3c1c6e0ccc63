"""Load rask JSON graph files as Dask graphs, plus graph helpers for benchmarks.

    import dask_graph
    dsk = dask_graph.load("fan-1000.json")      # {key: (func, *args) | literal | alias}
    dask_graph.convert({"a": 1, "b": {"call": "inc", "args": ["a"]}})
    dask_graph.evaluate(dsk, ["b"])             # plain sequential Python, no Dask
    dask_graph.peak_live(dsk, dask.order.order(dsk))

Conversion (rask format -> Dask): {"call": NAME, "args": [...]} -> (FUNCTIONS[NAME], *args);
a string equal to a key stays a string (Dask reads it as a key); an array -> a list
of converted args; {"quote": V}, and any other object, -> a task returning V
untouched (dask.core.literal); every other JSON value is a literal.

Builtins (FUNCTIONS): inc dec add sub mul div(true division) neg sum min max len
concat identity sleep_ms(value, ms) spin_ms(value, ms) fail(msg). sum/min/max/concat
take either one list argument or several arguments; concat joins lists or strings.
"""
import json
import time

try:
    from dask.core import literal as _literal
except ImportError:  # very old or very new Dask: our own constant callable
    class _literal:
        __slots__ = ("data",)

        def __init__(self, data):
            self.data = data

        def __reduce__(self):
            return (_literal, (self.data,))

        def __call__(self):
            return self.data


def _items(args):
    return args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args


def _spin_ms(value, ms):
    end = time.perf_counter() + ms / 1000.0
    while time.perf_counter() < end:
        pass
    return value


def _sleep_ms(value, ms):
    time.sleep(ms / 1000.0)
    return value


def _concat(*args):
    parts = _items(args)
    if all(isinstance(p, str) for p in parts):
        return "".join(parts)
    out = []
    for p in parts:
        if not isinstance(p, (list, tuple)):
            raise TypeError(f"concat: expected lists or strings, got {type(p).__name__}")
        out.extend(p)
    return out


def _fail(msg="fail"):
    raise RuntimeError(msg)


def inc(x): return x + 1
def dec(x): return x - 1
def add(a, b): return a + b
def sub(a, b): return a - b
def mul(a, b): return a * b
def div(a, b): return a / b
def neg(x): return -x
def identity(x): return x
def sum_(*args): return sum(_items(args))
def min_(*args): return min(_items(args))
def max_(*args): return max(_items(args))


FUNCTIONS = {
    "inc": inc, "dec": dec, "add": add, "sub": sub, "mul": mul, "div": div, "neg": neg,
    "sum": sum_, "min": min_, "max": max_, "len": len, "concat": _concat,
    "identity": identity, "sleep_ms": _sleep_ms, "spin_ms": _spin_ms, "fail": _fail,
}


class GraphError(ValueError):
    """Malformed graph file or graph; the message names the key."""


def _conv(x, key):
    t = type(x)
    if t is list:
        return [_conv(a, key) for a in x]
    if t is dict:
        if "call" in x:
            name, args = x["call"], x.get("args", [])
            if set(x) - {"call", "args"}:
                raise GraphError(f"key {key!r}: call object has unknown members {sorted(set(x) - {'call', 'args'})}")
            if type(name) is not str or name not in FUNCTIONS:
                raise GraphError(f"key {key!r}: unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))})")
            if type(args) is not list:
                raise GraphError(f"key {key!r}: 'args' of {name!r} must be an array, got {type(args).__name__}")
            return (FUNCTIONS[name], *[_conv(a, key) for a in args])
        if "quote" in x:
            if len(x) != 1:
                raise GraphError(f"key {key!r}: quote object must have exactly one member, got {sorted(x)}")
            x = x["quote"]
        return x if x is None or type(x) in (int, float, bool) else (_literal(x),)
    return x  # str (key or literal string), number, bool, null


def convert(graph, leaf_tasks=False):
    """Convert a rask graph (a dict parsed from JSON) to a Dask graph dict.

    leaf_tasks=True makes each top-level literal a task (identity, V) instead of
    data: Dask 2026.8's local scheduler spends O(#data keys) per task in
    start_state_from_dask (`set(cache)` per task), quadratic on fan and tree.
    """
    if not isinstance(graph, dict):
        raise GraphError(f"a graph must be a JSON object, got {type(graph).__name__}")
    dsk = {k: _conv(v, k) for k, v in graph.items()}
    if leaf_tasks:
        for k, v in dsk.items():
            if type(v) is not tuple and not (type(v) is str and v in dsk) and type(v) is not list:
                dsk[k] = (identity, v)
    return dsk


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise GraphError(f"duplicate key {k!r}")
        d[k] = v
    return d


def read(path):
    """Parse a rask JSON graph file (no conversion); errors name the file."""
    try:
        with open(path) as f:
            return json.load(f, object_pairs_hook=_no_duplicates)
    except OSError as e:
        raise GraphError(f"{path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise GraphError(f"{path}: invalid JSON: {e}") from None
    except GraphError as e:
        raise GraphError(f"{path}: {e}") from None


def load(path, leaf_tasks=False):
    """Read a rask JSON graph file and return the equivalent Dask graph dict."""
    try:
        return convert(read(path), leaf_tasks)
    except GraphError as e:
        raise GraphError(str(e) if str(e).startswith(str(path)) else f"{path}: {e}") from None


def _refs(x, dsk, out):
    """Collect the keys referenced by task/argument x into out (nested lists only)."""
    stack = [x]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is str:
            if x in dsk:
                out.append(x)
        elif t is list:
            stack.extend(reversed(x))
        elif t is tuple and x and callable(x[0]):
            stack.extend(reversed(x[1:]))
    return out


def dependencies(dsk):
    """{key: [keys it depends on]} (deduplicated, in argument order)."""
    return {k: list(dict.fromkeys(_refs(v, dsk, []))) for k, v in dsk.items()}


def sinks(dsk, deps=None):
    """Keys nothing depends on, in graph order."""
    deps = deps or dependencies(dsk)
    used = {d for ds in deps.values() for d in ds}
    return [k for k in dsk if k not in used]


def toposort(dsk, keys, deps=None):
    """Keys needed for `keys`, dependencies first (iterative DFS; errors on a cycle)."""
    deps = deps or dependencies(dsk)
    order, state = [], {}  # state: 1 = on the stack, 2 = done
    for root in keys:
        if root not in dsk:
            raise GraphError(f"requested key {root!r} is not in the graph")
        if state.get(root) == 2:
            continue
        state[root] = 1
        stack = [(root, iter(deps[root]))]
        while stack:
            k, it = stack[-1]
            for d in it:
                s = state.get(d)
                if s == 1:
                    cyc = [k2 for k2, _ in stack]
                    raise GraphError(f"cycle: {' -> '.join(map(repr, cyc[cyc.index(d):] + [d]))}")
                if s is None:
                    state[d] = 1
                    stack.append((d, iter(deps[d])))
                    break
            else:
                stack.pop()
                state[k] = 2
                order.append(k)
    return order


def _eval(x, cache):
    t = type(x)
    if t is tuple and x and callable(x[0]):
        return x[0](*[_eval(a, cache) for a in x[1:]])
    if t is list:
        return [_eval(a, cache) for a in x]
    if t is str and x in cache:
        return cache[x]
    return x


def evaluate(dsk, keys, deps=None):
    """Plain sequential evaluation, no Dask: returns [value of each key in keys]."""
    cache = {}
    for k in toposort(dsk, keys, deps):
        try:
            cache[k] = _eval(dsk[k], cache)
        except Exception as e:
            raise RuntimeError(f"task {k!r} failed: {type(e).__name__}: {e}") from e
    return [cache[k] for k in keys]


def peak_live(graph, order_dict, keys=None):
    """Peak number of live values when the tasks run one at a time by ascending priority.

    A value is live from its task's run until its last dependent has run; values
    of `keys` (default: the sinks) stay live to the end. The peak is counted while a
    task runs: its inputs and its output are live together. Raises GraphError if
    the order runs a task before one of its dependencies or misses a key.
    """
    deps = dependencies(graph)
    keep = set(sinks(graph, deps) if keys is None else keys)
    missing = [k for k in graph if k not in order_dict]
    if missing:
        raise GraphError(f"order has no priority for {len(missing)} keys, e.g. {missing[0]!r}")
    waiting = {k: 0 for k in graph}
    for ds in deps.values():
        for d in ds:
            waiting[d] += 1
    done, live, peak = set(), 0, 0
    for k in sorted(graph, key=order_dict.__getitem__):
        for d in deps[k]:
            if d not in done:
                raise GraphError(f"order runs {k!r} before its dependency {d!r}")
        done.add(k)
        live += 1
        peak = max(peak, live)
        for d in deps[k]:
            waiting[d] -= 1
            if waiting[d] == 0 and d not in keep:
                live -= 1
        if waiting[k] == 0 and k not in keep:
            live -= 1
    return peak
