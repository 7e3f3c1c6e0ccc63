//! The errors of building and computing arrays.

use rask_scheduler::ComputeError;

/// What went wrong with an array. Most are found when the expression is
/// built (shapes, chunks, axes, slices, files); [`ArrayError::Compute`]
/// comes from running it.
#[derive(Debug, thiserror::Error)]
pub enum ArrayError {
    /// A chunk specification does not fit the shape.
    #[error("array {array}: bad chunks: {message}")]
    Chunks {
        /// The array's name.
        array: String,
        /// What is wrong.
        message: String,
    },
    /// Two shapes cannot be broadcast together.
    #[error("arrays {left} {left_shape:?} and {right} {right_shape:?} cannot be broadcast together (axis lengths must be equal or 1, aligned from the last axis)")]
    Broadcast {
        /// The left operand's name.
        left: String,
        /// Its shape.
        left_shape: Vec<usize>,
        /// The right operand's name.
        right: String,
        /// Its shape.
        right_shape: Vec<usize>,
    },
    /// A shape is wrong for the operation.
    #[error("array {array}: {message}")]
    Shape {
        /// The array's name.
        array: String,
        /// What is wrong.
        message: String,
    },
    /// An axis does not exist.
    #[error("array {array}: axis {axis} out of range for {ndim} dimension(s)")]
    Axis {
        /// The array's name.
        array: String,
        /// The axis asked for.
        axis: isize,
        /// How many axes the array has.
        ndim: usize,
    },
    /// A slice or an index is out of range.
    #[error("array {array}: {message}")]
    Index {
        /// The array's name.
        array: String,
        /// What is wrong.
        message: String,
    },
    /// A reduction without an identity over an empty axis.
    #[error("array {array}: {op} of an empty axis (length 0) has no value")]
    EmptyReduction {
        /// The array's name.
        array: String,
        /// The reduction.
        op: &'static str,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file holds something other than what was expected.
    #[error("{path}: {message}")]
    Format {
        /// The file or store.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A Zarr store could not be opened, read or written.
    #[error("zarr store {path}: {message}")]
    Zarr {
        /// The store's path.
        path: String,
        /// What zarrs said.
        message: String,
    },
    /// An operation needs chunk sizes that are unknown (after a boolean
    /// mask or `unique`), as Dask's "chunk sizes are unknown" error.
    #[error("array {array} has unknown chunk sizes (from a boolean mask or unique) and {op} needs them: call compute_chunk_sizes() on it first (or persist it)")]
    UnknownChunks {
        /// The array whose sizes are unknown.
        array: String,
        /// The operation that needs them.
        op: String,
    },
    /// The computation failed.
    #[error(transparent)]
    Compute(#[from] ComputeError),
}
