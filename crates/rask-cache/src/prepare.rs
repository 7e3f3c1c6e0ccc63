//! The transform: a graph in which cached results are loaded and the other
//! results are stored as they finish.
//!
//! See [`prepare`] for a worked example and for where entries are
//! verified.

use std::sync::Arc;

use rask_graph::deps::Adjacency;
use rask_graph::{Arity, CallError, EvalError, Function, Graph, Key, Plan, Task, TaskId};

use crate::store::{Cache, CacheError, Inner};
use crate::token::{calls_a_function, tokens, Token};

/// A graph rewritten to use a cache, and what it will do.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The graph to run instead of the original: the same keys that the
    /// requested keys need, minus those needed only by cached tasks.
    pub graph: Graph,
    /// The dependencies of every task of `graph`, by its ids, as
    /// [`deps::dependencies`](rask_graph::deps::dependencies) finds them:
    /// [`Plan::with_dependencies`] plans the graph without looking its
    /// keys up again.
    pub dependencies: Adjacency,
    /// Tasks calling a function that will run.
    pub executed: usize,
    /// Tasks calling a function that will not run: their result is in
    /// the cache, or every task that needs it is. `executed + cached` is
    /// the number of calls of a run without the cache.
    pub cached: usize,
    /// Tasks that will load their result from the cache (part of
    /// `cached`).
    pub loaded: usize,
    /// Tasks that will run but cannot be cached: they hold, or depend on,
    /// a literal with no codec (part of `executed`).
    pub uncacheable: usize,
}

/// The graph that computes `keys` of `graph` using `cache`.
///
/// Worked example. The graph asks for `out`; an earlier run finished `a`
/// and `b` but failed in `c` (so `c`, `d`, `out` have no entry):
///
/// ```text
///   x ── a ── b ── c ── d ── out      x = 1            a literal: never cached
///         \                 /         a = inc(x)       entry ✓
///          e ──────────────┘          b = inc(a)       entry ✓
///                                     c = flaky(b)     no entry
///                                     d = inc(c)       no entry
///                                     e = inc(a)       entry ✓
///                                     out = add(d, e)  no entry
/// ```
///
/// [`prepare`] walks back from `out` (with a stack, not recursion). A call
/// task with a verified entry becomes a *load* task and its inputs are not
/// walked: `b` and `e` load, and `a` and `x`, needed only by them, drop
/// out. A call task without an entry becomes a *store* task that evaluates
/// the original task on the same inputs and stores its result before
/// returning it: `c`, `d`, `out`. The prepared graph is
///
/// ```text
///   b = cache_load()    c = flaky(b) + store    d = inc(c) + store
///   e = cache_load()    out = add(d, e) + store
/// ```
///
/// with `executed = 3` (c, d, out) and `cached = 3` (a, b, e): together
/// the six calls a run without the cache makes. Any executor runs it;
/// loads and stores happen inside the tasks, so in parallel.
///
/// **Where entries are verified.** A load task cannot recompute (its
/// inputs were culled), so `prepare` reads every entry it is about to use
/// and verifies it in full (header, checksum, decoding); one that fails is
/// treated as missing, its task recomputes and its entry is rewritten. A
/// load task verifies again as it loads, so an entry changed during the
/// run fails that task with an error naming the entry: a wrong value is
/// never returned. The cost is one extra read of each entry used.
///
/// ```
/// use rask::cache::{prepare, Cache};
/// use rask::{graph, Value};
/// use rask::{Executor, Threads};
/// fn inc(x: i64) -> i64 { x + 1 }
/// fn add(a: i64, b: i64) -> i64 { a + b }
/// let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (add, "y", 10) };
/// let dir = tempfile::tempdir().unwrap();
/// let cache = Cache::open(dir.path()).unwrap();
///
/// let first = prepare(&g, &["z".into()], &cache).unwrap();
/// assert_eq!((first.executed, first.cached), (2, 0));
/// assert_eq!(Threads::new(2).get(&first.graph, "z").unwrap(), Value::Int(12));
///
/// let again = prepare(&g, &["z".into()], &cache).unwrap();
/// assert_eq!((again.executed, again.cached), (0, 2));
/// assert_eq!(again.graph.len(), 1); // z loads; y and x are not needed
/// assert_eq!(Threads::new(2).get(&again.graph, "z").unwrap(), Value::Int(12));
/// ```
pub fn prepare(graph: &Graph, keys: &[Key], cache: &Cache) -> Result<Prepared, CacheError> {
    let plan = Plan::for_keys(graph, keys)?;
    Ok(prepare_plan(graph, &plan, cache))
}

/// [`prepare`] for a plan already made (the plan's outputs are the keys
/// computed), so that a caller that validated the graph by planning it
/// does not plan it twice.
///
/// ```
/// use rask::cache::{prepare_plan, Cache};
/// use rask::{graph, Plan, Value};
/// use rask::{compute, Sync};
/// fn inc(x: i64) -> i64 { x + 1 }
/// let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (inc, "y") };
/// let keys = ["z".into()];
/// let dir = tempfile::tempdir().unwrap();
/// let cache = Cache::open(dir.path()).unwrap();
/// let plan = Plan::for_keys(&g, &keys).unwrap(); // validates the graph
/// let prepared = prepare_plan(&g, &plan, &cache);
/// let plan = Plan::for_keys(&prepared.graph, &keys).unwrap();
/// assert_eq!(compute(&Sync, &prepared.graph, &plan, &[]).unwrap(), [Value::Int(3)]);
/// assert_eq!(cache.stats().stored, 2);
/// ```
pub fn prepare_plan(graph: &Graph, plan: &Plan, cache: &Cache) -> Prepared {
    let n = plan.len();
    let tokens = tokens(graph, plan);
    let calls: Vec<bool> = (0..n as TaskId)
        .map(|l| calls_a_function(graph.task(plan.graph_id(l))))
        .collect();
    let shared = cache.shared();
    // what other runs stored since the cache was opened
    shared.refresh();

    // walk back from the outputs; a verified entry stops the walk
    let mut needed = vec![false; n];
    let mut hit = vec![false; n];
    let mut stack: Vec<TaskId> = Vec::new();
    for &o in plan.outputs() {
        if !std::mem::replace(&mut needed[o as usize], true) {
            stack.push(o);
        }
    }
    while let Some(l) = stack.pop() {
        if calls[l as usize] {
            if let Some(t) = &tokens[l as usize] {
                if shared.read(t).is_ok() {
                    hit[l as usize] = true;
                    continue;
                }
            }
        }
        for &d in plan.deps().of(l) {
            if !std::mem::replace(&mut needed[d as usize], true) {
                stack.push(d);
            }
        }
    }

    // the needed tasks, in the original graph's order
    let mut kept: Vec<(TaskId, TaskId)> = (0..n as TaskId)
        .filter(|&l| needed[l as usize])
        .map(|l| (plan.graph_id(l), l))
        .collect();
    kept.sort_unstable();
    // the dependencies of the new graph, by its ids (the order of `kept`):
    // a load task has none, every other task those it had
    let mut new_id = vec![TaskId::MAX; n];
    for (i, &(_, l)) in kept.iter().enumerate() {
        new_id[l as usize] = i as TaskId;
    }
    let mut dependencies = Adjacency::with_capacity(kept.len(), plan.deps().edges());
    for &(_, l) in &kept {
        let li = l as usize;
        let row = plan.deps().of(l).iter().map(|&d| new_id[d as usize]);
        // (an error, more than 2^32 edges, cannot happen: the plan has
        // them; a short adjacency would only make planning look again)
        let _ = if calls[li] && hit[li] {
            dependencies.push_row([])
        } else {
            dependencies.push_row(row)
        };
    }
    let mut out = Graph::with_capacity(kept.len());
    let (mut executed, mut loaded, mut uncacheable) = (0, 0, 0);
    for (g, l) in kept {
        let key = graph.key(g).clone();
        let task = graph.task(g);
        let li = l as usize;
        let new = match (calls[li], hit[li], &tokens[li]) {
            (true, true, Some(token)) => {
                loaded += 1;
                load_task(&shared, *token, &key)
            }
            (true, _, Some(token)) => {
                executed += 1;
                let inputs = plan
                    .deps()
                    .of(l)
                    .iter()
                    .map(|&d| graph.key(plan.graph_id(d)).clone())
                    .collect();
                store_task(&shared, *token, &key, task.clone(), inputs)
            }
            (true, _, None) => {
                executed += 1;
                uncacheable += 1;
                task.clone()
            }
            (false, ..) => task.clone(),
        };
        out.insert(key, new);
    }
    let total = calls.iter().filter(|&&c| c).count();
    Prepared {
        graph: out,
        dependencies,
        executed,
        cached: total - executed,
        loaded,
        uncacheable,
    }
}

/// `cache_load()`: the value stored under `token`, verified again.
fn load_task(cache: &Arc<Inner>, token: Token, key: &Key) -> Task {
    let cache = cache.clone();
    let key = key.clone();
    let f = Function::dynamic("cache_load", Arity::exactly(0), move |_| {
        cache.load(&token).map_err(|why| {
            CallError::msg(format!(
                "the cache entry {} of task {key:?} changed during the run ({why}); \
                 run again to recompute it",
                cache.describe(&token)
            ))
        })
    });
    Task::Call(f, Box::new([]))
}

/// A call of the original `task` on its inputs (the keys it refers to, in
/// [`Task::visit_refs`] order), whose result is stored before it is
/// returned. It is named after the task's function, so that an error in
/// it reads as it would without the cache.
fn store_task(cache: &Arc<Inner>, token: Token, key: &Key, task: Task, inputs: Box<[Key]>) -> Task {
    let args: Box<[Task]> = inputs.iter().cloned().map(Task::Key).collect();
    let cache = cache.clone();
    let key = key.clone();
    let name = task.function().map_or("list", |f| f.name()).to_string();
    let f = Function::dynamic(&name, Arity::exactly(args.len()), move |values| {
        let mut keyed = inputs.iter().zip(values.iter().cloned()).peekable();
        let value = task.evaluate(&mut keyed).map_err(|e| match e {
            EvalError::Call { function, error }
                if function == task.function().map_or("list", |f| f.name()) =>
            {
                error
            }
            other => CallError::Failed(other.into()),
        })?;
        cache.store_result(&key, &token, &value);
        Ok(value)
    });
    Task::Call(f, args)
}
