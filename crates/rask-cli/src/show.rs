//! `rask show FILE`: a graph file in figures — tasks, edges, depth, widest
//! level, critical path, functions and the peak number of live values
//! that `order` predicts (see [`rask::diagnostics::summary`]). For people
//! by default, one JSON object with `--json`.

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
    crate::print(text.as_bytes())
}
