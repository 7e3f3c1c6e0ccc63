//! Bags: lazy, partitioned sequences of records, the bag of Dask.
//!
//! A [`Bag<T>`] is a sequence split into partitions, built from memory
//! ([`from_sequence`]) or from files ([`read_text`]: globs of plain, gzip,
//! bzip2 or zstd text, JSON lines with [`Bag::json`]). Operations make new
//! bags and build a graph; nothing runs until [`Bag::compute`] (or
//! [`Item::compute`]) hands the graph to an executor. Bags never name an
//! executor: pass the one you want.
//!
//! ```
//! use rask::bag::from_sequence;
//! use rask::Threads;
//! let words = from_sequence(vec!["apple", "bob", "cat", "apple", "bob", "apple"], 2);
//! let counts = words.frequencies_sorted().compute(&Threads::new(2)).unwrap();
//! assert_eq!(counts, [("apple", 3), ("bob", 2), ("cat", 1)]);
//! ```
//!
//! The seed of Dask's bag, in Rust: events from gzip'd JSON lines, grouped
//! by user:
//!
//! ```no_run
//! # use rask::Threads;
//! let events = rask::bag::read_text("data/2014-*.json.gz")?.json::<serde_json::Value>();
//! let by_user = events.groupby("username");
//! for (user, records) in by_user.compute(&Threads::default()).unwrap() {
//!     println!("{user}: {}", records.len());
//! }
//! # Ok::<(), rask::bag::BagError>(())
//! ```
//!
//! # The graph of a bag
//!
//! Partition `i` of a bag named `NAME` is the key `(NAME, i)`. Element-wise
//! operations are fused: the bag keeps a *pipe* (see the `pipe` module)
//! that a single task per partition runs, so
//!
//! ```text
//! read_text("logs/*.gz").json::<Event>().filter(f).map(g).frequencies()
//! ```
//!
//! over 3 files is the graph
//!
//! ```text
//! ('frequencies-part-…', 0) = (frequencies-part, 0)   read, parse, filter, map, count file 0
//! ('frequencies-part-…', 1) = (frequencies-part, 1)
//! ('frequencies-part-…', 2) = (frequencies-part, 2)
//! ('frequencies-…', 0)      = (frequencies, ('frequencies-part-…', 0), ('frequencies-part-…', 1), ('frequencies-part-…', 2))
//! ```
//!
//! and no task ever holds a file's lines or records in a `Vec`. Keys are
//! deterministic (see the `token` module): the same program builds the
//! same keys.
//!
//! # Errors
//!
//! Sources return [`BagError`]s for what they find while the graph is
//! built (no file matches). A task that fails (an unreadable file, a
//! corrupt gzip stream, a line that is not JSON) fails the computation
//! with a [`ComputeError`](rask_scheduler::ComputeError) naming its key,
//! whose cause is the `BagError`: [`BagError::find`] gets it back.
#![deny(missing_docs, missing_debug_implementations)]

mod bag;
mod error;
mod fragment;
mod item;
mod json;
mod pipe;
mod project;
mod reduce;
mod shuffle;
mod sink;
mod strings;
mod tally;
mod text;
mod token;
mod wire;

pub use bag::{from_partitions, from_sequence, range, Bag, Element};
pub use error::{BagError, Location, Skipped};
pub use item::Item;
pub use json::Field;
/// JSON values: the records of [`Bag::json`] when no type is given.
pub type Json = serde_json::Value;
pub use reduce::{Number, SPLIT_EVERY};
pub use shuffle::{GroupKey, Shuffle, DEFAULT_MEMORY_BUDGET};
pub use strings::StrMethods;
pub use text::{from_filenames, read_text, Compression, Paths, ReadText, DEFAULT_BLOCKSIZE};

#[cfg(test)]
mod tests;
