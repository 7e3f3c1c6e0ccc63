//! rask-array: chunked n-dimensional arrays on `ndarray` that build rask
//! task graphs, in the spirit of `dask.array`.
//!
//! An [`Array<T>`] is a name, a shape, a chunk grid and the lazy graph
//! that computes its chunks; NumPy-style operations make new arrays and
//! never run anything. [`Array::compute`] hands the graph to any
//! executor and assembles an `ndarray::ArrayD<T>`. The seed's example:
//!
//! ```
//! use rask::array::arange;
//! use rask::Threads;
//! let x = arange(15, 5).named("x");
//! assert_eq!(x.to_string(), "rask.array<x, shape=(15,), chunks=((5, 5, 5)), chunksize=(5,), dtype=i64>");
//! let keys: Vec<String> = x.graph().keys().iter().map(|k| k.to_string()).collect();
//! assert_eq!(keys.len(), 3);
//! assert!(keys.contains(&"('x', 0)".to_string()));
//! let y = ((2 * &x + 1).powi(3)).sum();
//! assert_eq!(y.compute_scalar(&Threads::new(2)).unwrap(), (0..15_i64).map(|i| (2 * i + 1).pow(3)).sum::<i64>());
//! ```
//!
//! - **Elementwise** operations (`+ - * / %` with arrays, broadcast as in
//!   NumPy, and with scalars of any numeric type on either side: `&x +
//!   100`, `2 * &x`; NumPy's ufuncs `sin cos tan arcsin arccos arctan
//!   sinh cosh tanh exp expm1 log log1p log2 log10 sqrt cbrt floor ceil
//!   round trunc sign abs clip isnan isinf isfinite`, `maximum`/`minimum`
//!   and [`where_`] with scalars or arrays, `powi`, `powf`, comparisons,
//!   `map`, `astype`) stay lazy expressions that
//!   the next operation fuses into its own tasks: `((2*x + 1)**3).sum()`
//!   is one task per chunk that generates `x`, evaluates the expression
//!   tile by tile in cache and sums, plus the tree of partial sums.
//! - **Reductions** (`sum prod min max mean var std argmin argmax`, the
//!   NaN-skipping `nansum nanmean nanmin nanmax nanvar nanstd`, `any all
//!   count_nonzero`, `norm`) over one, several or all axes, as trees of
//!   configurable fan-in ([`Reduce`]); along one axis, `cumsum`,
//!   `cumprod` and `diff` across chunks; [`histogram`], `topk` and
//!   `argtopk` (one task per chunk and one merging them).
//! - **Boolean masks** ([`Array::mask`], Dask's `x[x > 0.5]`) and
//!   [`Array::unique`], whose sizes are unknown until computed (Dask's
//!   `nan` chunks): [`Array::dims`] shows them, elementwise operations and
//!   reductions work on them, and [`Array::compute_chunk_sizes`] makes
//!   them known for the operations that need them.
//! - **Shape**: slicing with steps and negative indices, integer
//!   indexing (slices past the ends clamped, as NumPy's), `transpose`,
//!   `reshape`, `squeeze`, `expand_dims`, `broadcast_to`, `rechunk`,
//!   `concatenate`, `stack`, `eye`, `diag`, `tril`, `triu`,
//!   `matmul` by blocks, [`tensordot`] and [`einsum`] of two operands,
//!   `map_blocks` and `map_overlap` (with a [`Boundary`]). Block products
//!   run on `faer`'s GEMM (`f64`, `f32`).
//! - **Linear algebra** ([`linalg`]): `qr` and `svd` of tall-and-skinny
//!   matrices (TSQR, as Dask's), `solve`, `lstsq`, and NumPy's vector and
//!   matrix `norm`s; **FFTs** ([`fft`]) along one axis, into
//!   [`Complex64`] arrays.
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
mod complex;
mod contract;
mod creation;
mod cumulative;
mod delayed;
mod element;
mod elementwise;
mod error;
mod expr;
pub mod fft;
mod kernel;
pub mod linalg;
mod mask;
mod matrix;
mod node;
mod overlap;
mod percentile;
mod rechunk;
mod reduction;
mod shape;
mod simd;
mod slicing;
mod source;
mod stats;
mod storage;
mod token;
mod ufunc;
mod unique;
mod unknown;

/// The `ndarray` crate this one is built on, re-exported so that users
/// name the same version (`use rask::ndarray::s;`).
pub use ndarray;

pub use array::{compute_many, Array};
pub use blocks::blockwise;
pub use chunks::{ChunkSpec, FULL};
pub use complex::Complex64;
pub use contract::{einsum, tensordot};
pub use creation::{arange, from_ndarray, full, linspace, ones, zeros, BlockInfo, RandomState};
pub use delayed::from_delayed;
pub use element::{Cast, Element, Float, Number};
pub use elementwise::{Operand, Scalar};
pub use error::ArrayError;
pub use matrix::{diag, eye};
pub use overlap::Boundary;
pub use percentile::percentile;
pub use reduction::{Reduce, SPLIT_EVERY};
pub use shape::{concatenate, stack};
pub use source::{from_array, ChunkedSource, SourceError};
pub use stats::histogram;
pub use storage::{ChunkSink, NpySink};
pub use ufunc::where_;
