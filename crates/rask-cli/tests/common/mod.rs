//! What the CLI test files share: running the `rask` binary and writing
//! graph files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `rask` binary with `args`.
pub(crate) fn rask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rask"))
        .args(args)
        .output()
        .expect("the rask binary runs")
}

/// Writes `text` to `dir/name`.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("temp file is writable");
    p
}

/// What a run printed on stdout.
pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a run printed on stderr.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
