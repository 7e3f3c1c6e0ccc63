//! A graph in figures, for `rask show`: its size, shape and cost.
//!
//! - **tasks**: every key (literals, aliases and lists count, as in Dask);
//!   **edges**: distinct (dependency, task) pairs, the edges a picture
//!   draws; **outputs**: keys nothing depends on.
//! - **depth**: the number of tasks on a longest path. A task's *level* is
//!   1 for a task without dependencies, else one more than its deepest
//!   dependency; the depth is the highest level. A chain of 3 has depth 3.
//! - **width**: the most tasks on one level: how many could run at once if
//!   every task took the same time.
//! - **critical path**: the keys of one longest path, from an input to an
//!   output (the first found, by id, when several tie).
//! - **functions**: how often each function is called, nested calls
//!   included, most called first.
//! - **peak live**: the peak number of values alive when one worker runs
//!   every output's tasks in [`order`](rask_graph::order) priority
//!   ([`Plan::peak_live`]).
//!
//! All of it iterative over dense ids (no recursion): fine for 10^7 tasks.
//!
//! ```
//! use rask::graph;
//! use rask::diagnostics::summary::summarize;
//! fn inc(x: i64) -> i64 { x + 1 }
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! // a diamond: a -> (b, c) -> d
//! let g = graph! { "a" => 1, "b" => (inc, "a"), "c" => (inc, "a"), "d" => (add, "b", "c") };
//! let s = summarize(&g).unwrap();
//! assert_eq!((s.tasks, s.edges, s.depth, s.width), (4, 4, 3, 2));
//! assert_eq!(s.critical_path, vec!["a".into(), "b".into(), "d".into()]);
//! assert_eq!(s.functions, vec![("inc".to_string(), 2), ("add".to_string(), 1)]);
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;

use rask_graph::{deps, Graph, GraphError, Key, Plan, Task, TaskId};
use serde_json::{json, Value as Json};

/// The figures of one graph; see the [module docs](self) for what each
/// means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Keys in the graph.
    pub tasks: usize,
    /// Call tasks among them.
    pub calls: usize,
    /// Distinct (dependency, task) pairs.
    pub edges: usize,
    /// Keys nothing depends on.
    pub outputs: usize,
    /// Tasks on a longest path.
    pub depth: usize,
    /// The most tasks on one level.
    pub width: usize,
    /// The keys of a longest path, input first.
    pub critical_path: Vec<Key>,
    /// Calls per function name, most first (then by name).
    pub functions: Vec<(String, usize)>,
    /// Peak live values in `order` priority with one worker.
    pub peak_live: usize,
}

/// The figures of `graph`. A missing key or a cycle is an error naming
/// the keys.
pub fn summarize(graph: &Graph) -> Result<Summary, GraphError> {
    let deps = deps::dependencies(graph)?.unique();
    let topo = deps::toposort_ids(&deps).map_err(|cycle| GraphError::Cycle {
        keys: cycle.iter().map(|&i| graph.key(i).clone()).collect(),
    })?;
    let n = graph.len();
    let mut level = vec![0_u32; n];
    // the dependency a task's level comes from (NONE: an input)
    const NONE: TaskId = TaskId::MAX;
    let mut from = vec![NONE; n];
    for &t in &topo {
        let mut best = 0;
        for &d in deps.of(t) {
            if level[d as usize] > best {
                best = level[d as usize];
                from[t as usize] = d;
            }
        }
        level[t as usize] = best + 1;
    }
    let depth = level.iter().copied().max().unwrap_or(0) as usize;
    let mut per_level = vec![0_usize; depth + 1];
    for &l in &level {
        per_level[l as usize] += 1;
    }
    let width = per_level.iter().copied().max().unwrap_or(0);
    let mut critical_path = Vec::with_capacity(depth);
    if let Some(end) = (0..n).find(|&i| level[i] as usize == depth) {
        let mut at = end as TaskId;
        loop {
            critical_path.push(graph.key(at).clone());
            match from[at as usize] {
                NONE => break,
                d => at = d,
            }
        }
        critical_path.reverse();
    }
    let dependents = deps.reverse();
    let outputs: Vec<TaskId> = (0..n as TaskId)
        .filter(|&i| dependents.of(i).is_empty())
        .collect();
    let peak_live = Plan::new(graph, &outputs)?.peak_live();
    let (calls, functions) = count_functions(graph);
    Ok(Summary {
        tasks: n,
        calls,
        edges: deps.edges(),
        outputs: outputs.len(),
        depth,
        width,
        critical_path,
        functions,
        peak_live,
    })
}

/// (call tasks, calls per function with nested calls, most first).
fn count_functions(graph: &Graph) -> (usize, Vec<(String, usize)>) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut calls = 0;
    let mut stack: Vec<&Task> = Vec::new();
    for task in graph.tasks() {
        if matches!(task, Task::Call(..)) {
            calls += 1;
        }
        stack.push(task);
        while let Some(t) = stack.pop() {
            match t {
                Task::Call(f, args) => {
                    *counts.entry(f.name()).or_default() += 1;
                    stack.extend(args.iter());
                }
                Task::List(items) => stack.extend(items.iter()),
                _ => {}
            }
        }
    }
    let mut functions: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(name, c)| (name.to_string(), c))
        .collect();
    functions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    (calls, functions)
}

/// The longest critical path [`Summary::to_text`] prints whole; longer
/// ones keep their first and last few keys.
const PATH_SHOWN: usize = 12;

impl Summary {
    /// The figures for people, one per line.
    ///
    /// ```
    /// use rask::graph;
    /// fn inc(x: i64) -> i64 { x + 1 }
    /// let g = graph! { "a" => 1, "b" => (inc, "a") };
    /// let text = rask::diagnostics::summary::summarize(&g).unwrap().to_text();
    /// assert!(text.contains("critical path  2 tasks: a -> b"), "{text}");
    /// ```
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let data = self.tasks - self.calls;
        let _ = writeln!(
            s,
            "tasks          {} ({} calls, {} data)",
            self.tasks, self.calls, data
        );
        let _ = writeln!(s, "edges          {}", self.edges);
        let _ = writeln!(s, "outputs        {}", self.outputs);
        let _ = writeln!(s, "depth          {} (tasks on a longest path)", self.depth);
        let _ = writeln!(s, "widest level   {} tasks", self.width);
        let _ = writeln!(
            s,
            "peak live      {} values (one worker in order priority)",
            self.peak_live
        );
        let keys: Vec<String> = self.critical_path.iter().map(Key::to_text).collect();
        let shown = if keys.len() > PATH_SHOWN {
            let head = PATH_SHOWN / 2;
            let tail = PATH_SHOWN - head;
            format!(
                "{} -> ... ({} more) ... -> {}",
                keys[..head].join(" -> "),
                keys.len() - PATH_SHOWN,
                keys[keys.len() - tail..].join(" -> ")
            )
        } else {
            keys.join(" -> ")
        };
        let _ = writeln!(s, "critical path  {} tasks: {shown}", keys.len());
        let functions: Vec<String> = self
            .functions
            .iter()
            .map(|(f, c)| format!("{f} x{c}"))
            .collect();
        let _ = writeln!(
            s,
            "functions      {}",
            if functions.is_empty() {
                "(none)".to_string()
            } else {
                functions.join(", ")
            }
        );
        s
    }

    /// The figures as one JSON object (the critical path whole).
    ///
    /// ```
    /// use rask::graph;
    /// fn inc(x: i64) -> i64 { x + 1 }
    /// let g = graph! { "a" => 1, "b" => (inc, "a") };
    /// let j = rask::diagnostics::summary::summarize(&g).unwrap().to_json();
    /// assert_eq!(j["depth"], 2);
    /// assert_eq!(j["functions"]["inc"], 1);
    /// ```
    pub fn to_json(&self) -> Json {
        let functions: serde_json::Map<String, Json> = self
            .functions
            .iter()
            .map(|(f, c)| (f.clone(), Json::from(*c)))
            .collect();
        json!({
            "tasks": self.tasks,
            "calls": self.calls,
            "edges": self.edges,
            "outputs": self.outputs,
            "depth": self.depth,
            "width": self.width,
            "critical_path": self.critical_path.iter().map(Key::to_text).collect::<Vec<_>>(),
            "functions": functions,
            "peak_live": self.peak_live,
        })
    }
}

#[cfg(test)]
mod tests;
