//! rask's result cache: lose no finished work.
//!
//! With a cache directory, every finished task's result is stored under a
//! [`Token`] of its task and its inputs' tokens, and a later run of the
//! same graph loads it instead of computing it again. A run that failed
//! or was killed (an MPI job aborts as a whole when one rank dies) is
//! simply run again: only what did not finish runs. A changed task or
//! input changes the tokens of exactly the tasks downstream of it, so
//! exactly those run again.
//!
//! The cache is a graph transform, not an executor: [`prepare`] turns the
//! graph into one in which cached results are loaded and the others are
//! stored as they finish, and any executor runs that graph.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
//! use std::sync::Arc;
//! use rask::cache::{prepare, Cache};
//! use rask::{Function, Graph, Task, Value};
//! use rask::{Executor, Sync, Threads};
//!
//! // a slow step that counts its calls, and a step that fails the first time
//! let calls = Arc::new(AtomicUsize::new(0));
//! let counted = calls.clone();
//! let slow = Function::new("slow", move |x: i64| { counted.fetch_add(1, SeqCst); x * 10 });
//! let failed_once = Arc::new(AtomicUsize::new(0));
//! let flaky = Function::fallible("flaky", move |x: i64| {
//!     if failed_once.fetch_add(1, SeqCst) == 0 { Err("node lost") } else { Ok(x + 1) }
//! });
//! let mut g = Graph::new();
//! g.insert("x", 1);
//! g.insert("a", Task::call(&slow, ["x"]));
//! g.insert("b", Task::call(&flaky, ["a"]));
//!
//! let dir = tempfile::tempdir().unwrap();
//! let cache = Cache::open(dir.path().join("cache")).unwrap();
//! let run = prepare(&g, &["b".into()], &cache).unwrap();
//! assert_eq!((run.executed, run.cached), (2, 0));
//! assert!(Threads::new(2).get(&run.graph, "b").is_err()); // a finished, b failed
//!
//! let rerun = prepare(&g, &["b".into()], &cache).unwrap();
//! assert_eq!((rerun.executed, rerun.cached), (1, 1)); // only b runs
//! assert_eq!(Sync.get(&rerun.graph, "b").unwrap(), Value::Int(11));
//! assert_eq!(calls.load(SeqCst), 1); // slow ran once in all
//! ```
//!
//! What is cached: every task that calls a function (a call, or a list
//! holding one). Literals, aliases and lists of keys are cheap and are
//! kept as they are. A result whose value has no [codec](rask_graph::codec)
//! is returned but not stored ([`CacheStats::unencodable`]); a task with a
//! literal that has no codec has no token and is never cached
//! ([`Prepared::uncacheable`]).
//!
//! Safety of entries: small results are appended as checksummed records
//! to a log file of the process that computed them (`DIR/log/`), one
//! `write` each before the task returns, flushed to disk in groups; large
//! ones are written to a temporary file, flushed and renamed into place
//! (`DIR/ab/…`). An entry that does not verify is never returned, its
//! task is computed again and the entry written again (see
//! [`prepare`](crate::prepare()) for where verifying happens). Several
//! runs may share a directory: each process writes only its own log. A
//! function is identified by its name: rename it (`clean_v2`) when what it
//! computes changes, or clear the directory. A writer killed mid-write
//! leaves at most a torn record at the end of its log, which is skipped,
//! or a `.….tmp` file beside the large entries, which can be deleted when
//! no run is using the directory. [`Cache`] has the details.
//!
//! Executors: loads and stores run inside the tasks, wherever the executor
//! runs them: on the pool's threads, in the forked workers of a process
//! pool (whose [`Cache::stats`] are their own), or on the ranks of an MPI
//! job. For MPI every rank prepares the graph (as every rank runs the same
//! program), so the directory must be one that all ranks see, such as a
//! directory on the cluster's shared file system.
#![deny(missing_docs, missing_debug_implementations)]

mod log;
mod prepare;
mod store;
mod token;

pub use prepare::{prepare, prepare_plan, Prepared};
pub use store::{Cache, CacheError, CacheStats, EntryLocation, StoreError};
pub use token::{tokens, Token};
