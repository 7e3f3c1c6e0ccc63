//! `rask show FILE`: a graph file in figures — tasks, edges, depth, widest
//! level, critical path, functions and the peak number of live values
//! that `order` predicts (see [`rask::diagnostics::summary`]). For people
//! by default, one JSON object with `--json`.

use std::io::Write;
use std::path::Path;

use rask::diagnostics::summarize;

use crate::commands::{in_file, load};
use crate::Failure;

pub(crate) fn show(path: &Path, json: bool) -> Result<(), Failure> {
    let graph = load(path)?;
    let summary = summarize(&graph).map_err(|e| in_file(path, e))?;
    let text = if json {
        let mut j = summary.to_json();
        j["file"] = path.display().to_string().into();
        format!("{j}\n")
    } else {
        format!("{}\n{}", path.display(), summary.to_text())
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Input(format!("cannot write to stdout: {e}")))
}
