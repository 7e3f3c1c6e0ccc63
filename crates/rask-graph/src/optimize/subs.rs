//! Substituting tasks for references (Dask's `subs`), shared by
//! [`inline`](fn@super::inline) and [`fuse`](fn@super::fuse).
//!
//! A reference is a [`Task::Key`] or a string literal equal to a key of
//! the graph ([`Graph::is_ref`]). A task put in place of a reference must
//! keep its meaning there: a string literal that is not a reference becomes
//! a [`Task::Quote`], so that it is never read as a key.
//!
//! These functions recurse over the nesting of one task (bounded by the
//! passes), never over the tasks of a graph.

use crate::graph::{Graph, TaskId};
use crate::task::Task;
use crate::value::Value;

/// The id of the key `task` refers to, if it is a reference.
pub(super) fn ref_of(graph: &Graph, task: &Task) -> Option<TaskId> {
    match task {
        Task::Key(k) => graph.id(k),
        Task::Value(v @ Value::Str(_)) => graph.ref_id(v),
        _ => None,
    }
}

/// `task`, written so that it means the same in place of a reference: a
/// string literal that is not a reference is quoted.
pub(super) fn as_argument(graph: &Graph, task: Task) -> Task {
    match task {
        Task::Value(v @ Value::Str(_)) if !graph.is_ref(&v) => Task::Quote(v),
        other => other,
    }
}

/// A copy of `task` (at nesting `level`, 1 for a whole task) in which each
/// reference for which `replace(id, level)` gives a task is replaced by
/// that task (made an [`as_argument`]); `level` is the nesting level of the
/// reference itself.
pub(super) fn substitute(
    graph: &Graph,
    task: &Task,
    level: usize,
    replace: &mut impl FnMut(TaskId, usize) -> Option<Task>,
) -> Task {
    if let Some(id) = ref_of(graph, task) {
        return match replace(id, level) {
            Some(t) => as_argument(graph, t),
            None => task.clone(),
        };
    }
    match task {
        Task::List(items) => Task::List(
            items
                .iter()
                .map(|t| substitute(graph, t, level + 1, replace))
                .collect(),
        ),
        Task::Call(f, args) => Task::Call(
            f.clone(),
            args.iter()
                .map(|t| substitute(graph, t, level + 1, replace))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What [`inline`](fn@super::inline) needs to know of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    /// Every call in the task is of a [cheap](crate::Function::cheap)
    /// function (true for literals, references and lists of them).
    pub(super) cheap: bool,
    /// The number of nodes: literals, references, lists and calls.
    pub(super) nodes: usize,
    /// [`Task::depth`].
    pub(super) depth: usize,
}

/// The [`Shape`] of `task`.
pub(super) fn shape(task: &Task) -> Shape {
    match task {
        Task::List(items) | Task::Call(_, items) => {
            let mut s = Shape {
                cheap: !matches!(task, Task::Call(f, _) if !f.is_cheap()),
                nodes: 1,
                depth: 1,
            };
            for item in items.iter() {
                let i = shape(item);
                s.cheap &= i.cheap;
                s.nodes += i.nodes;
                s.depth = s.depth.max(1 + i.depth);
            }
            s
        }
        _ => Shape {
            cheap: true,
            nodes: 1,
            depth: 1,
        },
    }
}
