//! The errors of a computation.

use rask_graph::{EvalError, GraphError, Key};

/// Why a computation failed.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// The graph is invalid (found before any task ran).
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A task returned an error.
    #[error("task {key:?} failed: {error}")]
    Task {
        /// The key of the task.
        key: Key,
        /// What went wrong (its text is part of this error's message).
        error: EvalError,
    },
    /// A task panicked.
    #[error("task {key:?} panicked: {message}")]
    Panic {
        /// The key of the task.
        key: Key,
        /// The panic message.
        message: String,
    },
    /// An executor could not run (a worker could not start or died).
    #[error("executor {executor}: {message}")]
    Executor {
        /// The executor's name.
        executor: String,
        /// What went wrong.
        message: String,
    },
}

impl ComputeError {
    /// The key of the task that failed, if a task failed.
    pub fn key(&self) -> Option<&Key> {
        match self {
            ComputeError::Task { key, .. } | ComputeError::Panic { key, .. } => Some(key),
            _ => None,
        }
    }
}
