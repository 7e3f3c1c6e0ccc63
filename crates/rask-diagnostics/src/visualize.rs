//! Graph pictures: a graph as Graphviz DOT, drawn as in Dask's pictures.
//!
//! One node per key: a call task is a box labelled by its function (with
//! the key in small print under it), any other task (a literal, an alias,
//! a list) is an ellipse labelled by its key. One edge per distinct
//! dependency, from the dependency to the task that needs it, and inputs
//! at the bottom, outputs at the top (`rankdir=BT`, as Dask draws). Node
//! ids are `n<id>`, so keys of any text are fine: labels and tooltips
//! are escaped.
//!
//! Nodes can be coloured by [`order`](rask_graph::order) priority (dark
//! purple runs first, yellow last) or by measured duration from a profile
//! (pale yellow short, dark red long; keys the profile lacks stay white).
//! [`write`] writes DOT text (`.dot`, `.gv`) or runs Graphviz's `dot` for
//! `.svg`, `.png` and `.pdf`.
//!
//! ```
//! use rask::graph;
//! use rask::diagnostics::visualize::{to_dot, Coloring, DotOptions};
//! fn inc(x: i64) -> i64 { x + 1 }
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (add, "y", "x") };
//! let dot = to_dot(&g, &DotOptions::default()).unwrap();
//! assert!(dot.starts_with("digraph rask {"));
//! assert!(dot.contains("n1 [shape=box"));      // y = inc(x): a box
//! assert!(dot.contains("n0 [shape=ellipse"));  // x = 1: an ellipse
//! assert_eq!(dot.matches(" -> ").count(), 3); // x->y, y->z, x->z
//! let colored = to_dot(&g, &DotOptions { coloring: Coloring::Order }).unwrap();
//! assert!(colored.contains("fillcolor="));
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rask_graph::{deps, order, Graph, GraphError, Task, TaskId};

use crate::error::DiagnosticsError;

/// How to colour the nodes.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Coloring {
    /// No colour by measure: calls light blue, data white.
    #[default]
    Plain,
    /// By `order` priority: dark purple runs first, yellow last.
    Order,
    /// By measured duration, per key text (from
    /// [`trace::read_durations`](crate::trace::read_durations)): pale
    /// yellow short, dark red long.
    Duration(HashMap<String, Duration>),
}

/// Options of [`to_dot`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DotOptions {
    /// How to colour the nodes.
    pub coloring: Coloring,
}

/// Escapes `s` for a double-quoted DOT string.
///
/// ```
/// use rask::diagnostics::visualize::escape;
/// assert_eq!(escape("a \"b\"\\c\nd"), "a \\\"b\\\"\\\\c\\nd");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes `s` for a Graphviz HTML-like label.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Shortens long labels to `max` characters, with an ellipsis.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// A colour of a sequential map at `t` in `0..=1`, and whether text on it
/// should be white.
fn colormap(stops: &[[u8; 3]], t: f64) -> (String, bool) {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (stops.len() - 1) as f64;
    let i = (pos.floor() as usize).min(stops.len() - 2);
    let f = pos - i as f64;
    let c: Vec<u8> = (0..3)
        .map(|k| {
            (stops[i][k] as f64 + (stops[i + 1][k] as f64 - stops[i][k] as f64) * f).round() as u8
        })
        .collect();
    let luma = 0.299 * c[0] as f64 + 0.587 * c[1] as f64 + 0.114 * c[2] as f64;
    (
        format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]),
        luma < 140.0,
    )
}

/// `250 us`, `12.5 ms`, `1.5s`: short durations readable too.
fn short_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} us")
    } else if us < 1e6 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        crate::progress::duration_text(d)
    }
}

/// viridis, dark purple to yellow.
const VIRIDIS: [[u8; 3]; 5] = [
    [0x44, 0x01, 0x54],
    [0x3b, 0x52, 0x8b],
    [0x21, 0x91, 0x8c],
    [0x5e, 0xc9, 0x62],
    [0xfd, 0xe7, 0x25],
];

/// Yellow-orange-red, pale to dark.
const HEAT: [[u8; 3]; 5] = [
    [0xff, 0xff, 0xcc],
    [0xfe, 0xd9, 0x76],
    [0xfd, 0x8d, 0x3c],
    [0xe3, 0x1a, 0x1c],
    [0x80, 0x00, 0x26],
];

/// The DOT text of `graph`. A task that refers to a missing key is an
/// error naming both; colouring by order needs a graph without cycles.
pub fn to_dot(graph: &Graph, options: &DotOptions) -> Result<String, GraphError> {
    let deps = deps::dependencies(graph)?.unique();
    let n = graph.len();
    // (fill colour, white text) per task, and the caption saying what
    // the colours mean
    let (fills, caption): (Vec<Option<(String, bool)>>, Option<String>) = match &options.coloring {
        Coloring::Plain => (vec![None; n], None),
        Coloring::Order => {
            let priority = order::order_graph(graph)?;
            let last = priority
                .iter()
                .filter(|&&p| p != order::UNORDERED)
                .max()
                .copied()
                .unwrap_or(0)
                .max(1) as f64;
            (
                priority
                    .iter()
                    .map(|&p| Some(colormap(&VIRIDIS, p as f64 / last)))
                    .collect(),
                Some("colour: order priority (dark purple runs first, yellow last)".into()),
            )
        }
        Coloring::Duration(durations) => {
            let of = |id: usize| durations.get(&graph.key(id as TaskId).to_text()).copied();
            let max = (0..n).filter_map(of).max().unwrap_or_default();
            let max_s = max.as_secs_f64().max(1e-9);
            (
                (0..n)
                    .map(|i| of(i).map(|d| colormap(&HEAT, d.as_secs_f64() / max_s)))
                    .collect(),
                Some(format!(
                    "colour: measured duration (pale yellow short, dark red {}; white: not in the profile)",
                    short_duration(max)
                )),
            )
        }
    };
    let mut out = String::with_capacity(96 * n + 32 * deps.edges() + 256);
    out.push_str("digraph rask {\n");
    out.push_str("  graph [rankdir=BT, fontname=\"Helvetica\", fontsize=11");
    if let Some(c) = &caption {
        let _ = write!(out, ", label=\"{}\", labelloc=t", escape(c));
    }
    out.push_str("];\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=12, style=filled, fillcolor=\"#ffffff\", color=\"#5b6474\"];\n");
    out.push_str("  edge [color=\"#7b8494\", arrowsize=0.7];\n");
    for (i, (key, task)) in graph.iter().enumerate() {
        let key_text = key.to_text();
        let fill = &fills[i];
        match task {
            Task::Call(f, _) => {
                let small = if fill.as_ref().is_some_and(|c| c.1) {
                    "#e8e8e8"
                } else {
                    "#5b6474"
                };
                let _ = write!(
                    out,
                    "  n{i} [shape=box, label=<{}<br/><font point-size=\"9\" color=\"{small}\">{}</font>>, tooltip=\"{}\"",
                    escape_html(&clip(f.name(), 40)),
                    escape_html(&clip(&key_text, 40)),
                    escape(&format!("{key_text} = {}(...)", f.name())),
                );
                match fill {
                    None if options.coloring == Coloring::Plain => {
                        out.push_str(", fillcolor=\"#dce9f7\"");
                    }
                    _ => {}
                }
            }
            _ => {
                let _ = write!(
                    out,
                    "  n{i} [shape=ellipse, label=\"{}\", tooltip=\"{}\"",
                    escape(&clip(&key_text, 40)),
                    escape(&key_text),
                );
            }
        }
        match fill {
            Some((color, white)) => {
                let _ = write!(out, ", fillcolor=\"{color}\"");
                if *white {
                    out.push_str(", fontcolor=\"#ffffff\"");
                }
            }
            None if matches!(options.coloring, Coloring::Duration(_)) => {
                out.push_str(", style=\"filled,dashed\"");
            }
            None => {}
        }
        out.push_str("];\n");
    }
    for t in 0..n as TaskId {
        for &d in deps.of(t) {
            let _ = writeln!(out, "  n{d} -> n{t};");
        }
    }
    out.push_str("}\n");
    Ok(out)
}

/// The picture formats of [`write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureFormat {
    /// DOT text (`.dot`, `.gv`).
    Dot,
    /// SVG, drawn by `dot -Tsvg`.
    Svg,
    /// PNG, drawn by `dot -Tpng`.
    Png,
    /// PDF, drawn by `dot -Tpdf`.
    Pdf,
}

impl PictureFormat {
    /// The format a file name asks for, by its extension.
    ///
    /// ```
    /// use std::path::Path;
    /// use rask::diagnostics::visualize::PictureFormat;
    /// assert_eq!(PictureFormat::from_path(Path::new("g.svg")).unwrap(), PictureFormat::Svg);
    /// assert!(PictureFormat::from_path(Path::new("g.jpeg")).is_err());
    /// ```
    pub fn from_path(path: &Path) -> Result<PictureFormat, DiagnosticsError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("dot" | "gv") => Ok(PictureFormat::Dot),
            Some("svg") => Ok(PictureFormat::Svg),
            Some("png") => Ok(PictureFormat::Png),
            Some("pdf") => Ok(PictureFormat::Pdf),
            _ => Err(DiagnosticsError::Extension {
                path: path.to_path_buf(),
                what: "picture",
                expected: ".dot or .gv (DOT text), .svg, .png or .pdf (drawn by Graphviz)",
            }),
        }
    }
}

/// Writes the DOT text `dot` to `path`: as is for `.dot` and `.gv`, drawn
/// by Graphviz's `dot` for `.svg`, `.png` and `.pdf`. Without Graphviz
/// the error says how to install it.
///
/// ```
/// use rask::graph;
/// use rask::diagnostics::visualize::{graphviz_installed, to_dot, write, DotOptions};
/// let g = graph! { "x" => 1, "y" => "x" };
/// let dot = to_dot(&g, &DotOptions::default()).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// write(&dot, &dir.path().join("g.dot")).unwrap();
/// if graphviz_installed() {
///     write(&dot, &dir.path().join("g.svg")).unwrap();
/// }
/// ```
pub fn write(dot: &str, path: &Path) -> Result<(), DiagnosticsError> {
    let format = PictureFormat::from_path(path)?;
    let flag = match format {
        PictureFormat::Dot => {
            return std::fs::write(path, dot).map_err(|e| DiagnosticsError::write(path, e));
        }
        PictureFormat::Svg => "-Tsvg",
        PictureFormat::Png => "-Tpng",
        PictureFormat::Pdf => "-Tpdf",
    };
    run_dot(dot, flag, path)
}

fn run_dot(dot: &str, flag: &str, path: &Path) -> Result<(), DiagnosticsError> {
    // fail on an unwritable output before drawing, with the usual message
    std::fs::File::create(path).map_err(|e| DiagnosticsError::write(path, e))?;
    let child = Command::new("dot")
        .arg(flag)
        .arg("-o")
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _ = std::fs::remove_file(path);
            return Err(DiagnosticsError::GraphvizMissing {
                path: path.to_path_buf(),
            });
        }
        Err(e) => {
            return Err(DiagnosticsError::Graphviz {
                path: path.to_path_buf(),
                status: "could not start".into(),
                stderr: e.to_string(),
            })
        }
    };
    // feed stdin from another thread while this one drains stderr, so a
    // chatty `dot` cannot block on a full pipe
    let stdin = child.stdin.take();
    let output = std::thread::scope(|s| {
        s.spawn(move || {
            if let Some(mut stdin) = stdin {
                // a `dot` that exits early reports why on stderr
                let _ = stdin.write_all(dot.as_bytes());
            }
        });
        child.wait_with_output()
    })
    .map_err(|e| DiagnosticsError::Graphviz {
        path: path.to_path_buf(),
        status: "did not finish".into(),
        stderr: e.to_string(),
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(DiagnosticsError::Graphviz {
            path: path.to_path_buf(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// Whether Graphviz's `dot` can be run here.
pub fn graphviz_installed() -> bool {
    Command::new("dot")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests;
