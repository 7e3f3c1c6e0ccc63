//! Errors in a graph itself, found before anything runs.

use crate::key::Key;

/// What is wrong with a graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// A task refers to a key that is not in the graph, or a key was asked
    /// for that is not in the graph (`needed_by` is `None`).
    #[error("{}", missing_message(.key, .needed_by))]
    MissingKey {
        /// The key that is missing.
        key: Key,
        /// The task that refers to it, if any.
        needed_by: Option<Key>,
    },
    /// The tasks depend on each other in a circle.
    #[error("cycle in the graph: {}", cycle_message(.keys))]
    Cycle {
        /// The keys on the cycle, each depending on the next, the last on
        /// the first.
        keys: Vec<Key>,
    },
    /// A call has the wrong number of arguments for its function.
    #[error("task {key:?}: {function} takes {expected} argument(s), got {got}")]
    ArgCount {
        /// The task.
        key: Key,
        /// The function's name.
        function: String,
        /// What the function takes.
        expected: crate::Arity,
        /// How many the task gives it.
        got: usize,
    },
    /// The graph has more edges or tasks than the dense ids can count.
    #[error("the graph is too large: {0}")]
    TooLarge(String),
}

fn missing_message(key: &Key, needed_by: &Option<Key>) -> String {
    match needed_by {
        Some(by) => format!("task {by:?} refers to missing key {key:?}"),
        None => format!("key {key:?} is not in the graph"),
    }
}

fn cycle_message(keys: &[Key]) -> String {
    let mut parts: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
    if let Some(first) = parts.first().cloned() {
        parts.push(first);
    }
    parts.join(" -> ")
}
