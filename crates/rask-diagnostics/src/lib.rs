//! rask's diagnostics: what people look at to see a computation.
//!
//! Each diagnostic of a run is a [`Callback`](rask_scheduler::Callback),
//! passed to [`get_with`](rask_scheduler::get_with) or
//! [`compute`](rask_scheduler::compute) with any executor:
//!
//! - [`ProgressBar`]: tasks done of total, rate, elapsed time and ETA; a
//!   bar on a terminal, plain lines elsewhere.
//! - [`Profiler`]: each task's start, end and worker, written as a Chrome
//!   trace ([`trace`], for Perfetto) or a self-contained HTML timeline
//!   ([`timeline`]).
//! - [`ResourceMonitor`]: CPU and memory of the process, sampled on its
//!   own thread during the run.
//!
//! And for a graph, before running it:
//!
//! - [`visualize`]: Graphviz DOT pictures, coloured by `order` priority
//!   or by measured duration.
//! - [`summary`]: tasks, edges, depth, width, critical path, functions
//!   and the peak number of live values.
//!
//! ```
//! use std::time::Duration;
//! use rask::graph;
//! use rask::{get_with, Threads};
//! use rask::diagnostics::{Profiler, ResourceMonitor};
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (inc, "y") };
//! let profiler = Profiler::new();
//! let monitor = ResourceMonitor::new(Duration::from_millis(20));
//! get_with(&Threads::new(2), &g, "z", &[&profiler, &monitor]).unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("profile.html");
//! profiler.profile().write(&path, Some(&monitor.resources())).unwrap();
//! assert!(std::fs::read_to_string(&path).unwrap().contains("\"z\""));
//! ```
//!
//! The progress bar's ticker and the resource monitor's sampler are
//! threads that live from a run's `start` to its `finish`; see DESIGN's
//! fork hazard: no computation with them may run while a process pool
//! forks.
#![deny(missing_docs, missing_debug_implementations)]

mod error;
mod profile;
mod progress;
mod resources;
pub mod summary;
pub mod timeline;
pub mod trace;
pub mod visualize;

pub use error::DiagnosticsError;
pub use profile::{Profile, ProfileFormat, Profiler, TaskRecord};
pub use progress::ProgressBar;
pub use resources::{ResourceMonitor, Resources, Sample};
pub use summary::{summarize, Summary};
pub use visualize::{to_dot, Coloring, DotOptions};
