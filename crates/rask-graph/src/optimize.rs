//! Optimizations: pure passes that rewrite a graph into a smaller one whose
//! kept keys compute exactly the same values, as Dask's `cull`, `inline`,
//! `inline_functions` and `fuse_linear` do.
//!
//! | pass | what it removes |
//! | --- | --- |
//! | [`cull`](fn@cull) | every task the requested keys do not need |
//! | [`inline`](fn@inline) | constants, aliases and calls of [cheap](crate::Function::cheap) functions, copied into the tasks that use them |
//! | [`fuse`](fn@fuse) | the inner tasks of linear chains `a -> b -> c`, nested into the last task |
//!
//! Each pass takes a graph and returns a new one (the input is untouched)
//! in which the remaining keys keep their insertion order. The keys asked
//! for (`keys` of [`cull`](fn@cull), `keep` of [`inline`](fn@inline) and
//! [`fuse`](fn@fuse)) are never removed. The passes are iterative over the
//! tasks of a graph (a chain of ten million tasks needs no deep stack);
//! they recurse only into the nesting of one task, which they bound:
//! [`inline`](fn@inline) makes no task deeper than [`MAX_INLINE_DEPTH`]
//! and copies no task of more than [`MAX_INLINE_NODES`] nodes (copying
//! every cheap task into each of its dependents could otherwise double
//! sizes at each level), and [`fuse`](fn@fuse) nests at most
//! [`MAX_FUSED_TASKS`] tasks into one.
//!
//! Substitution keeps meaning: a reference (a [`Task::Key`](crate::Task::Key)
//! or a string literal equal to a key) is replaced by the task it names,
//! and a string literal put in place of a reference is quoted
//! ([`Task::Quote`](crate::Task::Quote)) so it is never read as a key.
//!
//! A worked example, Dask's `x = 1; y = inc(x); z = double(y); w = inc(z)`
//! asking for `w`, with `inc` cheap and `double` not:
//!
//! ```text
//! graph     {x: 1, y: (inc, x), z: (double, y), w: (inc, z), u: (inc, w)}
//! cull [w]  {x: 1, y: (inc, x), z: (double, y), w: (inc, z)}       u unused
//! inline    {z: (double, (inc, 1)), w: (inc, z)}                   x, y cheap
//! fuse      {w: (inc, (double, (inc, 1)))}        z's only dependent is w
//! ```
//!
//! ```
//! use rask::{optimize, Function, Graph, Key, Registry, Task};
//! let builtins = Registry::with_builtins();
//! let inc = builtins.get("inc").unwrap();
//! let double = Function::new("double", |x: i64| 2 * x);
//! let mut g = Graph::new();
//! g.insert("x", 1);
//! g.insert("y", Task::call(inc, ["x"]));
//! g.insert("z", Task::call(&double, ["y"]));
//! g.insert("w", Task::call(inc, ["z"]));
//! g.insert("u", Task::call(inc, ["w"]));
//! let keep = [Key::from("w")];
//! let g = optimize::cull(&g, &keep).unwrap();
//! assert_eq!(g.len(), 4);
//! let g = optimize::inline(&g, &keep).unwrap();
//! assert_eq!(format!("{g:?}"), r#"{"z": (double, (inc, 1)), "w": (inc, "z")}"#);
//! let fused = optimize::fuse(&g, &keep).unwrap();
//! assert_eq!(format!("{:?}", fused.graph), r#"{"w": (inc, (double, (inc, 1)))}"#);
//! assert_eq!(fused.absorbed, vec![(Key::from("z"), Key::from("w"))]);
//! ```

mod cull;
mod fuse;
mod inline;
mod subs;

pub use cull::cull;
pub use fuse::{fuse, Fused, MAX_FUSED_TASKS};
pub use inline::{inline, MAX_INLINE_DEPTH, MAX_INLINE_NODES};

use crate::deps::{self, Adjacency};
use crate::error::GraphError;
use crate::graph::{Graph, TaskId};
use crate::key::Key;

/// A flag per task of `graph`, set for `keys`; a key not in the graph is
/// an error.
fn flags_of(graph: &Graph, keys: &[Key]) -> Result<Vec<bool>, GraphError> {
    let mut flags = vec![false; graph.len()];
    for key in keys {
        let id = graph.id(key).ok_or_else(|| GraphError::MissingKey {
            key: key.clone(),
            needed_by: None,
        })?;
        flags[id as usize] = true;
    }
    Ok(flags)
}

/// A topological order of `graph` given its dependencies, or the cycle.
fn check_acyclic(graph: &Graph, deps: &Adjacency) -> Result<Vec<TaskId>, GraphError> {
    deps::toposort_ids(deps).map_err(|cycle| GraphError::Cycle {
        keys: cycle.iter().map(|&i| graph.key(i).clone()).collect(),
    })
}

#[cfg(test)]
mod tests;
