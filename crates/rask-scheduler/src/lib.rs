//! The rask scheduler: one state machine ([`State`]) that every executor
//! drives, and the local executors [`Sync`] (the calling thread) and
//! [`Threads`] (a pool, the default).
//!
//! ```
//! use rask::{graph, Value};
//! use rask::{get, Executor, Sync, Threads};
//! fn inc(x: i64) -> i64 { x + 1 }
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (add, "y", 10) };
//! assert_eq!(get(&g, "z").unwrap(), Value::Int(12));
//! assert_eq!(Sync.get(&g, "z").unwrap(), Threads::new(2).get(&g, "z").unwrap());
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod callbacks;
mod error;
mod executor;
mod ready;
mod run;
mod state;
mod sync;
mod threads;

pub use callbacks::{Callback, RunInfo, TaskEvent, Watch};
pub use error::ComputeError;
pub use executor::{compute, get, get_with, Executor, Keys};
pub use run::{panic_message, run_task};
pub use state::State;
pub use sync::Sync;
pub use threads::{BatchHook, Threads, WorkerHook};
