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
    /// The worker process or rank running a task died.
    #[error("task {key:?}: worker {worker} died ({how})")]
    WorkerDied {
        /// The key of the task it was running.
        key: Key,
        /// Which worker (its number and process id or rank).
        worker: String,
        /// How it died: the signal or exit status.
        how: String,
    },
    /// A value cannot cross to another process: its type has no codec, or
    /// its bytes did not decode.
    #[error("task {key:?}: {message}")]
    Codec {
        /// The key of the task whose value or input it is.
        key: Key,
        /// What went wrong, naming the type.
        message: String,
    },
    /// The run was cancelled from outside (see
    /// [`Threads::cancel_on`](crate::Threads::cancel_on)).
    #[error("the computation was cancelled")]
    Cancelled,
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
            ComputeError::Task { key, .. }
            | ComputeError::Panic { key, .. }
            | ComputeError::WorkerDied { key, .. }
            | ComputeError::Codec { key, .. } => Some(key),
            _ => None,
        }
    }
}
