//! The errors of the diagnostics: every one names the file it is about
//! and says what to do.

use std::path::PathBuf;

/// What went wrong writing or reading a diagnostics file, or drawing a
/// picture with Graphviz.
#[derive(Debug, thiserror::Error)]
pub enum DiagnosticsError {
    /// A file cannot be created or written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file cannot be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file name's extension does not say which format to write.
    #[error("{path}: cannot tell the {what} format from the file name: use {expected}")]
    Extension {
        /// The file.
        path: PathBuf,
        /// What the file was to hold (`profile`, `picture`).
        what: &'static str,
        /// The extensions that work, for the message.
        expected: &'static str,
    },
    /// A profile file is not a Chrome trace that rask wrote.
    #[error("{path}: not a rask profile (Chrome trace JSON with \"traceEvents\"): {message}")]
    Profile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Graphviz's `dot` is not installed.
    #[error(
        "{path}: drawing a picture needs Graphviz's `dot` program, which is not installed: \
         install it with `apt-get install graphviz` (Debian, Ubuntu), `brew install graphviz` \
         (macOS), or write DOT text instead with `-o FILE.dot`"
    )]
    GraphvizMissing {
        /// The picture that was to be drawn.
        path: PathBuf,
    },
    /// Graphviz's `dot` ran and failed.
    #[error("{path}: `dot` failed ({status}): {stderr}")]
    Graphviz {
        /// The picture that was to be drawn.
        path: PathBuf,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
}

impl DiagnosticsError {
    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> DiagnosticsError {
        DiagnosticsError::Write {
            path: path.into(),
            source,
        }
    }
}
