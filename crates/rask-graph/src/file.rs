//! Graph files: graphs as JSON, to run from the `rask` command line and to
//! exchange with other tools.
//!
//! # Format
//!
//! The file is one JSON object; each member is `"key": task`. A task (and
//! each argument, recursively) is written as:
//!
//! | JSON | meaning |
//! | --- | --- |
//! | `{"call": "NAME", "args": [ ... ]}` | a call of the registered function `NAME` on the arguments (`args` may be omitted for none) |
//! | a string equal to a key of the file | a reference to that key (at top level: an alias) |
//! | an array | a list of arguments, each again of any form; its value is the list of their values |
//! | `{"quote": V}` | `V` taken literally: never a reference, never a call (the only way to write an object value) |
//! | anything else | a literal (numbers, other strings, `true`, `false`, `null`) |
//!
//! An object is a call or a quote and nothing else: any other member
//! (`{"cal": "inc"}`), `args` without `call`, or `{}` is an error naming
//! the key and the member, with the member meant when one is near
//! ("did you mean `call`?"). Dask's tuple form, `["inc", "x"]`, is a plain
//! list here (of the string `"inc"` and the value of `x`); `rask check`
//! warns where a list starts with the name of a built-in function.
//!
//! Integers are 64-bit (`i64`): an integer literal beyond that range is an
//! error naming the key, never silently a float (write `1e20` or
//! `100000000000000000000.0` for the float). Floats are finite, as JSON's
//! are: a value that is not (`inf`, `NaN`) is never written as `null`;
//! [`to_json`] of a graph holding one, and `rask run` printing one, fail
//! naming the key ([`ToJsonError::NotFinite`](crate::ToJsonError)).
//!
//! Tuple keys are written in Python's notation, `"('x', 0)"` (strings in
//! single or double quotes with Python's backslash escapes, `("it's", 0)`,
//! integers, separated by commas), both as member names and as
//! references. A string key whose text would read as a tuple or as a
//! quoted string is written quoted as Python writes a string,
//! `"\"('x', 0)\""` (see [`Key::to_text`]), so every key reads back as
//! itself and no two keys are written the same.
//!
//! ```json
//! {
//!   "x": 1,
//!   "y": {"call": "inc", "args": ["x"]},
//!   "z": {"call": "add", "args": ["y", 10]},
//!   "('part', 0)": {"call": "sum", "args": [["x", "y", "z"]]},
//!   "label": {"quote": "x"}
//! }
//! ```
//!
//! A graph made of registered functions and literals round-trips:
//! [`read`] then [`write`] gives back the same JSON.
//!
//! ```
//! use rask::{file, Registry};
//! let text = r#"{"x": 1, "y": {"call": "inc", "args": ["x"]}, "s": {"quote": "x"}}"#;
//! let g = file::from_str(text, &Registry::with_builtins()).unwrap();
//! assert_eq!(g.len(), 3);
//! let back = file::to_json(&g).unwrap();
//! assert_eq!(back, serde_json::from_str::<serde_json::Value>(text).unwrap());
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use crate::deps::Adjacency;
use crate::function::Registry;
use crate::graph::{Graph, TaskId};
use crate::key::Key;
use crate::task::Task;
use crate::value::Value;

/// What is wrong with a graph file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file cannot be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("{path}:{line}:{column}: not valid JSON: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser says.
        message: String,
    },
    /// The top level is not an object.
    #[error("{path}: a graph file is a JSON object of \"key\": task members, not {found}")]
    NotAnObject {
        /// The file.
        path: PathBuf,
        /// What the top level is.
        found: &'static str,
    },
    /// A call names a function that is not registered.
    #[error("{path}: task {key:?} calls unknown function {name:?}{}", suggest(.known))]
    UnknownFunction {
        /// The file.
        path: PathBuf,
        /// The task.
        key: Key,
        /// The function name.
        name: String,
        /// Registered names close to it.
        known: Vec<String>,
    },
    /// A call names a function that reaches outside the process and is
    /// not allowed by the registry.
    #[error(
        "{path}: task {key:?} calls {function}, which reaches outside rask: it runs only \
         when allowed (rask run --allow {needs}; Registry::allow({needs:?}))"
    )]
    NotAllowed {
        /// The file.
        path: PathBuf,
        /// The task.
        key: Key,
        /// The function.
        function: String,
        /// What it needs allowed.
        needs: &'static str,
    },
    /// A task is malformed (a bad `call` or `quote` object).
    #[error("{path}: task {key:?}: {message}")]
    Task {
        /// The file.
        path: PathBuf,
        /// The task.
        key: Key,
        /// What is wrong.
        message: String,
    },
    /// A value of the graph cannot be written as JSON.
    #[error("task {key:?}: {source}")]
    Value {
        /// The task.
        key: Key,
        /// Why.
        #[source]
        source: crate::value::ToJsonError,
    },
}

fn suggest(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", known.join(" or "))
    }
}

/// Reads a graph file, looking functions up in `registry`. Strings that
/// name keys of the file are references ([`Task::Key`]) in the graph.
pub fn read(path: &Path, registry: &Registry) -> Result<Graph, FileError> {
    read_with_dependencies(path, registry).map(|(graph, _)| graph)
}

/// [`read`], with the dependencies of every task, as
/// [`deps::dependencies`](crate::deps::dependencies) would find them: the
/// references are resolved while the file is read, so a caller that needs
/// them (to find the sinks, or to [plan](crate::Plan::with_dependencies))
/// looks no key up again.
///
/// ```
/// use rask::{deps, file, Registry};
/// let text = r#"{"x": 1, "y": {"call": "add", "args": ["x", "z"]}, "z": 2}"#;
/// let path = std::env::temp_dir().join(format!("rask-doc-{}.json", std::process::id()));
/// std::fs::write(&path, text).unwrap();
/// let (g, d) = file::read_with_dependencies(&path, &Registry::with_builtins()).unwrap();
/// std::fs::remove_file(&path).unwrap();
/// assert_eq!(d.of(1), &[0, 2]); // "z" is read after "y", and still found
/// assert_eq!(d, deps::dependencies(&g).unwrap());
/// ```
pub fn read_with_dependencies(
    path: &Path,
    registry: &Registry,
) -> Result<(Graph, Adjacency), FileError> {
    stream::parse_file(path, registry)
}

/// Reads a graph from JSON text.
pub fn from_str(text: &str, registry: &Registry) -> Result<Graph, FileError> {
    stream::parse(text, Path::new("<string>"), registry).map(|(graph, _)| graph)
}

/// Builds a graph from parsed JSON; `path` only names the source in errors.
pub fn from_json(json: &Json, path: &Path, registry: &Registry) -> Result<Graph, FileError> {
    stream::from_json(json, path, registry).map(|(graph, _)| graph)
}

/// The task a string literal of a file refers to, if any: a tuple key in
/// any spelling, or a string key quoted as [`Key::to_text`] writes it
/// (`"'x'"` is not the key `x`), or else a string key equal to it.
pub(crate) fn reference(graph: &Graph, s: &str) -> Option<TaskId> {
    if s.starts_with(['(', '\'', '"']) {
        let k = Key::parse(s);
        let names = match &k {
            Key::Tuple(_) => true,
            Key::Str(t) => t != s && k.to_text() == s,
        };
        if let Some(id) = graph.id(&k).filter(|_| names) {
            return Some(id);
        }
    }
    graph.id_of_str(s)
}

/// Turns the string literals of tasks `ids` that name keys of the graph
/// into references ([`Task::Key`]); whether any did.
pub(crate) fn resolve_refs(graph: &mut Graph, ids: &[TaskId]) -> bool {
    let mut any = false;
    for &id in ids {
        let mut task = graph.task(id).clone();
        let mut changed = false;
        let mut stack: Vec<&mut Task> = vec![&mut task];
        while let Some(t) = stack.pop() {
            match t {
                Task::Value(Value::Str(s)) => {
                    if let Some(r) = reference(graph, s) {
                        *t = Task::Key(graph.key(r).clone());
                        changed = true;
                    }
                }
                Task::List(items) | Task::Call(_, items) => stack.extend(items.iter_mut()),
                _ => {}
            }
        }
        if changed {
            any = true;
            let key = graph.key(id).clone();
            graph.insert(key, task);
        }
    }
    any
}

/// Registered names close to `name`: within one edit (two for names
/// longer than four characters), a swap of neighbours counting as one.
fn close_names(name: &str, registry: &Registry) -> Vec<String> {
    let limit = if name.chars().count() > 4 { 2 } else { 1 };
    registry
        .names()
        .filter(|n| edit_distance(n, name) <= limit)
        .map(str::to_string)
        .collect()
}

/// Optimal string alignment distance (Levenshtein plus transpositions).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0_usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1)
                    .min(d[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * w + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * w + b.len()]
}

/// The graph as JSON in the file format.
pub fn to_json(graph: &Graph) -> Result<Json, FileError> {
    let mut out = Map::with_capacity(graph.len());
    for (key, task) in graph.iter() {
        let json = task_json(task).map_err(|source| FileError::Value {
            key: key.clone(),
            source,
        })?;
        out.insert(key.to_text(), json);
    }
    Ok(Json::Object(out))
}

/// Writes the graph as pretty JSON to `path`.
pub fn write(graph: &Graph, path: &Path) -> Result<(), FileError> {
    let json = to_json(graph)?;
    let text = serde_json::to_string_pretty(&json).map_err(|e| FileError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    std::fs::write(path, text + "\n").map_err(|source| FileError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn quote(j: Json) -> Json {
    let mut m = Map::new();
    m.insert("quote".into(), j);
    Json::Object(m)
}

fn task_json(task: &Task) -> Result<Json, crate::value::ToJsonError> {
    Ok(match task {
        Task::Value(v) => {
            let j = v.to_json()?;
            match &j {
                Json::Array(_) | Json::Object(_) => quote(j),
                _ => j,
            }
        }
        Task::Quote(v) => quote(v.to_json()?),
        Task::Key(k) => Json::String(k.to_text()),
        Task::List(items) => Json::Array(items.iter().map(task_json).collect::<Result<_, _>>()?),
        Task::Call(f, args) => {
            let mut m = Map::new();
            m.insert("call".into(), Json::String(f.name().to_string()));
            m.insert(
                "args".into(),
                Json::Array(args.iter().map(task_json).collect::<Result<_, _>>()?),
            );
            Json::Object(m)
        }
    })
}

mod stream;
#[cfg(test)]
mod tests;
