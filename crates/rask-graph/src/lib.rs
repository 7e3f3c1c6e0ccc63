//! The rask task graph: keys, tasks, values and functions, graph files,
//! and the pure algorithms over graphs (dependencies, topological sort,
//! cycle detection, cull, inline, fuse, order). No threads here: the
//! schedulers live in `rask-scheduler`.
//!
//! A graph is a map from keys to tasks, as in Dask:
//!
//! ```
//! use rask::{graph, deps};
//! fn inc(x: i64) -> i64 { x + 1 }
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! // x = 1; y = inc(x); z = add(y, 10)
//! let g = graph! {
//!     "x" => 1,
//!     "y" => (inc, "x"),
//!     "z" => (add, "y", 10),
//! };
//! assert_eq!(deps::toposort(&g).unwrap(), vec![0, 1, 2]);
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub mod builtins;
pub mod codec;
pub mod deps;
mod error;
pub mod file;
mod function;
mod graph;
mod key;
pub mod optimize;
pub mod order;
mod plan;
pub mod programs;
mod task;
mod value;

pub use error::GraphError;
pub use function::{Arity, CallError, Function, IntoFallible, IntoFunction, Registry};
pub use graph::{Graph, TaskId};
pub use key::{Key, KeyPart};
pub use plan::Plan;
pub use task::{EvalError, Task};
pub use value::{AnyValue, ToJsonError, Value, Visit, MAX_JSON_DEPTH};
