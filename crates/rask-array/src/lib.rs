//! rask-array: chunked n-dimensional arrays on `ndarray` that build rask
//! task graphs, in the spirit of `dask.array`.
//!
//! An [`Array<T>`] is a name, a shape, a chunk grid and the lazy graph
//! that computes its chunks; NumPy-style operations make new arrays and
//! never run anything. [`Array::compute`] hands the graph to any
//! executor and assembles an `ndarray::ArrayD<T>`. The seed's example:
//!
//! ```
//! use rask_array::arange;
//! use rask_scheduler::Threads;
//! let x = arange(15, 5).named("x");
//! assert_eq!(x.to_string(), "rask.array<x, shape=(15,), chunks=((5, 5, 5)), dtype=f64>");
//! let keys: Vec<String> = x.graph().keys().iter().map(|k| k.to_string()).collect();
//! assert_eq!(keys.len(), 3);
//! assert!(keys.contains(&"('x', 0)".to_string()));
//! let y = ((2.0 * &x + 1.0).powi(3)).sum();
//! assert_eq!(y.compute_scalar(&Threads::new(2)).unwrap(), (0..15).map(|i| ((2 * i + 1) as f64).powi(3)).sum::<f64>());
//! ```
//!
//! - **Elementwise** operations (`+ - * / %` with scalars and arrays,
//!   broadcast as in NumPy; `powi`, `powf`, `sqrt`, `exp`, `abs`,
//!   comparisons, `select`, `map`, `astype`) stay lazy expressions that
//!   the next operation fuses into its own tasks: `((2*x + 1)**3).sum()`
//!   is one task per chunk that generates `x`, evaluates the expression
//!   tile by tile in cache and sums, plus the tree of partial sums.
//! - **Reductions** (`sum prod min max mean var std argmin argmax`) over
//!   one, several or all axes, as trees of configurable fan-in
//!   ([`Reduce`]).
//! - **Shape**: slicing with steps and negative indices, integer
//!   indexing, `transpose`, `reshape`, `rechunk`, `concatenate`, `stack`,
//!   `matmul` by blocks.
//! - **Storage**: Zarr v3 (the `zarrs` crate) and `.npy`, read and written
//!   chunk by chunk; [`Array::store`] streams any array into a
//!   [`ChunkSink`].
//!
//! Keys are `(name, i, j, ...)` with names `op-<token>`, tokens of the
//! operation and its inputs: deterministic, so every run (and every MPI
//! rank) builds the same graph. The collection never names an executor.
#![deny(missing_docs, missing_debug_implementations)]

mod array;
mod blocks;
mod chunks;
mod creation;
mod element;
mod elementwise;
mod error;
mod expr;
mod node;
mod rechunk;
mod reduction;
mod shape;
mod simd;
mod slicing;
mod storage;
mod token;

pub use array::{compute_many, Array};
pub use chunks::{ChunkSpec, FULL};
pub use creation::{arange, from_ndarray, full, linspace, ones, zeros, BlockInfo, RandomState};
pub use element::{Cast, Element, Float, Number};
pub use elementwise::Operand;
pub use error::ArrayError;
pub use reduction::{Reduce, SPLIT_EVERY};
pub use shape::{concatenate, stack};
pub use storage::{ChunkSink, NpySink};
