//! The [`Executor`] trait (where tasks run) and [`get`], which computes
//! keys of a graph in the nesting they were asked in.

use rask_graph::{Graph, Key, Plan, Value};

use crate::callbacks::{Callback, RunInfo, Watch};
use crate::error::ComputeError;
use crate::threads::Threads;

/// Where tasks run. Every executor drives the same [`State`](crate::State)
/// and differs only in where a task runs and how its inputs get there.
pub trait Executor {
    /// A short name: `sync`, `threads`, ...
    fn name(&self) -> &str;

    /// How many tasks may run at once.
    fn workers(&self) -> usize;

    /// Runs every task of `plan`, calling the per-task hooks of
    /// `callbacks`, and returns the values of `plan.outputs()` in order.
    /// The first task error stops the run and is returned.
    fn execute(
        &self,
        graph: &Graph,
        plan: &Plan,
        callbacks: &[&dyn Callback],
    ) -> Result<Vec<Value>, ComputeError>;

    /// Called by [`compute`] before any callback starts, so before a
    /// progress bar or a resource monitor starts a thread of its own: an
    /// executor that forks its workers does it here, while the process
    /// has one thread. The default does nothing.
    fn prepare(&self, _graph: &Graph, _plan: &Plan) -> Result<(), ComputeError> {
        Ok(())
    }

    /// The values of `keys` (one key, or nested lists of keys), in the
    /// same nesting.
    fn get(&self, graph: &Graph, keys: impl Into<Keys>) -> Result<Value, ComputeError>
    where
        Self: Sized,
    {
        get_with(self, graph, keys, &[])
    }
}

/// The keys to compute: one key, or a (nested) list of them.
///
/// ```
/// use rask::Keys;
/// let k: Keys = vec![Keys::from("a"), Keys::from(vec!["b", "c"])].into();
/// assert_eq!(k.flatten().len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Keys {
    /// One key: its value.
    One(Key),
    /// A list: a list of values in the same nesting.
    Many(Vec<Keys>),
}

impl Keys {
    /// All keys, depth first.
    pub fn flatten(&self) -> Vec<Key> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(k) = stack.pop() {
            match k {
                Keys::One(k) => out.push(k.clone()),
                Keys::Many(ks) => stack.extend(ks.iter().rev()),
            }
        }
        out
    }

    /// Nests `values` (one per key of [`flatten`](Keys::flatten), in that
    /// order) as the keys are nested.
    pub fn nest(&self, values: Vec<Value>) -> Value {
        let mut it = values.into_iter();
        self.nest_from(&mut it)
    }

    fn nest_from(&self, values: &mut impl Iterator<Item = Value>) -> Value {
        match self {
            Keys::One(_) => values.next().unwrap_or_default(),
            Keys::Many(ks) => {
                Value::list(ks.iter().map(|k| k.nest_from(values)).collect::<Vec<_>>())
            }
        }
    }
}

impl From<Key> for Keys {
    fn from(k: Key) -> Keys {
        Keys::One(k)
    }
}
impl From<&Key> for Keys {
    fn from(k: &Key) -> Keys {
        Keys::One(k.clone())
    }
}
impl From<&str> for Keys {
    fn from(k: &str) -> Keys {
        Keys::One(k.into())
    }
}
impl From<String> for Keys {
    fn from(k: String) -> Keys {
        Keys::One(k.into())
    }
}
impl<A: Into<rask_graph::KeyPart>, B: Into<rask_graph::KeyPart>> From<(A, B)> for Keys {
    fn from(k: (A, B)) -> Keys {
        Keys::One(k.into())
    }
}
impl<T: Into<Keys>> From<Vec<T>> for Keys {
    fn from(ks: Vec<T>) -> Keys {
        Keys::Many(ks.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Keys>, const N: usize> From<[T; N]> for Keys {
    fn from(ks: [T; N]) -> Keys {
        Keys::Many(ks.into_iter().map(Into::into).collect())
    }
}

/// Computes `keys` of `graph` with the default executor ([`Threads`], one
/// worker per core).
///
/// ```
/// use rask::{graph, Value};
/// fn inc(x: i64) -> i64 { x + 1 }
/// fn add(a: i64, b: i64) -> i64 { a + b }
/// let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (add, "y", 10) };
/// assert_eq!(rask::get(&g, "z").unwrap(), Value::Int(12));
/// let both = rask::get(&g, vec!["y", "z"]).unwrap();
/// assert_eq!(both, Value::list([Value::Int(2), Value::Int(12)]));
/// ```
pub fn get(graph: &Graph, keys: impl Into<Keys>) -> Result<Value, ComputeError> {
    Threads::default().get(graph, keys)
}

/// Computes `keys` with `executor`, calling `callbacks`.
pub fn get_with(
    executor: &dyn Executor,
    graph: &Graph,
    keys: impl Into<Keys>,
    callbacks: &[&dyn Callback],
) -> Result<Value, ComputeError> {
    let keys = keys.into();
    let plan = Plan::for_keys(graph, &keys.flatten())?;
    let values = compute(executor, graph, &plan, callbacks)?;
    Ok(keys.nest(values))
}

/// Runs a prepared plan with `executor`, calling `start` and `finish` of
/// `callbacks` around it (`finish` also on error and panic).
pub fn compute(
    executor: &dyn Executor,
    graph: &Graph,
    plan: &Plan,
    callbacks: &[&dyn Callback],
) -> Result<Vec<Value>, ComputeError> {
    executor.prepare(graph, plan)?;
    let info = RunInfo {
        graph,
        plan,
        executor: executor.name(),
        workers: executor.workers(),
    };
    let watch = Watch::start(callbacks, &info);
    let result = executor.execute(graph, plan, callbacks);
    watch.finish(result.as_ref().err());
    result
}
