//! The errors of bags: each names the file (and line) or the operation
//! that failed, and what to do about it.
//!
//! Errors found while the graph is built (a glob that matches nothing, a
//! file that does not exist) are returned by the source functions. Errors
//! found while a task runs (an unreadable file, a corrupt gzip stream, a
//! line that is not valid JSON) fail the task: the scheduler's
//! [`ComputeError`] then carries the `BagError` as the cause of the call
//! ([`CallError::Failed`]), and [`BagError::find`] digs it out.

use std::error::Error;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rask_graph::{CallError, EvalError};
use rask_scheduler::ComputeError;

/// Where a record came from: a file and a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// The line, counting from 1.
    pub line: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// Why a bag could not be built or computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BagError {
    /// A glob pattern, a directory or a list of paths matched no file.
    #[error("no file matches {pattern:?}")]
    NoMatch {
        /// The pattern, directory or list as given.
        pattern: String,
    },
    /// A glob pattern is not valid.
    #[error("invalid glob pattern {pattern:?}: {message}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A file could not be opened or read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The error of the operating system.
        source: std::io::Error,
    },
    /// A compressed file is not a valid stream of its format.
    #[error("{}: corrupt {format} stream: {source}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// `gzip`, `bzip2` or `zstd`.
        format: &'static str,
        /// The decompressor's error.
        source: std::io::Error,
    },
    /// A line is not valid UTF-8.
    #[error("{}line is not valid UTF-8", at_prefix(.at))]
    Utf8 {
        /// Where the line is.
        at: Option<Location>,
    },
    /// A line is not valid JSON, or not JSON of the type asked for.
    #[error("{}invalid JSON: {source}", at_prefix(.at))]
    Json {
        /// Where the line is (none for records that came from memory).
        at: Option<Location>,
        /// The parser's error (its column is within the line).
        source: serde_json::Error,
    },
    /// A record lacks the field that `pluck` asked for.
    #[error("{}record has no field {field:?}", at_prefix(.at))]
    MissingField {
        /// The field's path, `actor.login`.
        field: String,
        /// Where the record came from, if it came from a file.
        at: Option<Location>,
    },
    /// A field read by [`Bag::json_field`](crate::Bag::json_field) or
    /// [`Bag::json_fields`](crate::Bag::json_fields) is not of the type
    /// asked for.
    #[error("{}field {field:?}: {source}", at_prefix(.at))]
    FieldType {
        /// The field's path, `actor.login`.
        field: String,
        /// Where the record came from, if it came from a file.
        at: Option<Location>,
        /// The parser's error (its column is within the field's value).
        source: serde_json::Error,
    },
    /// A record made a fallible function (`try_map`) fail.
    #[error("{}{source}", at_prefix(.at))]
    Record {
        /// Where the record came from, if it came from a file.
        at: Option<Location>,
        /// The function's error.
        source: Box<dyn Error + Send + Sync>,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The error of the operating system.
        source: std::io::Error,
    },
    /// The shuffle of a `groupby` could not spill to or read back from
    /// its temporary files.
    #[error("groupby spill file {}: {message}", .path.display())]
    Spill {
        /// The temporary file (or its directory).
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// `zip` of bags whose partitions have different lengths.
    #[error("zip: partition {partition} has {left} items on the left and {right} on the right; zip bags partitioned alike")]
    ZipLengths {
        /// The partition.
        partition: usize,
        /// Items on the left.
        left: usize,
        /// Items on the right.
        right: usize,
    },
    /// A partition held a value of another type than the bag's items
    /// (a graph edited by hand, or a bug).
    #[error("partition value is a {got}, not a Vec<{expected}>")]
    PartitionType {
        /// The item type the bag expects.
        expected: &'static str,
        /// What the value was.
        got: &'static str,
    },
}

fn at_prefix(at: &Option<Location>) -> String {
    match at {
        Some(at) => format!("{at}: "),
        None => String::new(),
    }
}

impl BagError {
    /// The `BagError` that made a computation fail, if one did.
    ///
    /// ```
    /// # use rask::bag::{from_sequence, BagError};
    /// let b = from_sequence(vec!["1".to_string(), "x".to_string()], 1).json::<i64>();
    /// let err = b.compute(&rask::Sync).unwrap_err();
    /// assert!(matches!(BagError::find(&err), Some(BagError::Json { .. })));
    /// ```
    pub fn find(error: &ComputeError) -> Option<&BagError> {
        match error {
            ComputeError::Task {
                error:
                    EvalError::Call {
                        error: CallError::Failed(cause),
                        ..
                    },
                ..
            } => cause.downcast_ref::<BagError>(),
            _ => None,
        }
    }

    /// The location of the record, if the error is about one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            BagError::Utf8 { at }
            | BagError::Json { at, .. }
            | BagError::Record { at, .. }
            | BagError::MissingField { at, .. }
            | BagError::FieldType { at, .. } => at.as_ref(),
            _ => None,
        }
    }

    /// The error with its record located at `at`, unless it already is.
    pub(crate) fn located(mut self, here: impl FnOnce() -> Option<Location>) -> BagError {
        if let BagError::Utf8 { at }
        | BagError::Json { at, .. }
        | BagError::Record { at, .. }
        | BagError::MissingField { at, .. }
        | BagError::FieldType { at, .. } = &mut self
        {
            if at.is_none() {
                *at = here();
            }
        }
        self
    }

    pub(crate) fn record(source: impl Into<Box<dyn Error + Send + Sync>>) -> BagError {
        BagError::Record {
            at: None,
            source: source.into(),
        }
    }
}

impl From<BagError> for CallError {
    fn from(e: BagError) -> CallError {
        CallError::Failed(Box::new(e))
    }
}

/// Counts the malformed records that a skipping parser
/// ([`Bag::json_skipping`](crate::Bag::json_skipping),
/// [`Bag::try_map_skipping`](crate::Bag::try_map_skipping)) dropped, and
/// keeps the first few messages (with file and line) to show.
///
/// A `Skipped` is shared by its clones and by the tasks that use it;
/// counts add up over every computation that ran them (make a new one per
/// run, or [`reset`](Skipped::reset) it).
#[derive(Clone, Default)]
pub struct Skipped(Arc<Mutex<SkippedState>>);

#[derive(Default)]
struct SkippedState {
    count: u64,
    examples: Vec<String>,
}

/// How many messages a [`Skipped`] keeps.
const EXAMPLES: usize = 10;

impl Skipped {
    /// A counter at zero.
    pub fn new() -> Skipped {
        Skipped::default()
    }

    /// How many records were skipped.
    pub fn count(&self) -> u64 {
        self.lock().count
    }

    /// The messages of the first skipped records (at most 10), such as
    /// `logs/a.json:17: invalid JSON: expected value at line 1 column 1`.
    pub fn examples(&self) -> Vec<String> {
        self.lock().examples.clone()
    }

    /// Sets the count back to zero and forgets the messages.
    pub fn reset(&self) {
        *self.lock() = SkippedState::default();
    }

    pub(crate) fn add(&self, error: &BagError) {
        let mut s = self.lock();
        s.count += 1;
        if s.examples.len() < EXAMPLES {
            s.examples.push(error.to_string());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SkippedState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl fmt::Debug for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Skipped({})", self.count())
    }
}
