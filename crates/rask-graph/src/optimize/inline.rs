//! `inline`: substitute constants, aliases and calls of cheap functions
//! into the tasks that use them (Dask's `inline` and `inline_functions`).

use super::subs::{shape, substitute};
use super::{check_acyclic, flags_of};
use crate::deps;
use crate::error::GraphError;
use crate::graph::{Graph, TaskId};
use crate::key::Key;
use crate::task::Task;

/// The deepest nesting ([`Task::depth`]) that inlining makes: a task is not
/// inlined at a place where the task receiving it would become deeper than
/// this (it stays a key there). A literal or an alias, which never deepens
/// a task, is always inlined.
pub const MAX_INLINE_DEPTH: usize = 32;

/// The most nodes (literals, references, lists and calls) a task may have
/// to be inlined. Copying a task into each of its dependents can otherwise
/// double sizes at every level of a lattice of cheap calls.
pub const MAX_INLINE_NODES: usize = 64;

/// A new graph where cheap tasks are substituted into every task that
/// refers to them and removed.
///
/// A task is inlined when it is not in `keep`, at least one task refers to
/// it, and it is cheap: a literal, an alias (a reference to another key),
/// a call of functions all marked [cheap](crate::Function::cheap) (nested
/// calls, lists, literals and references allowed), or a list of those;
/// and it has at most [`MAX_INLINE_NODES`] nodes. Tasks are visited in
/// topological order, so a cheap task is inlined with its own cheap
/// dependencies already inlined (`inc(inc(x))`).
///
/// Each reference is replaced by the task itself; a string literal put in
/// place of a reference becomes a [`Task::Quote`], so it is never read as a
/// key. A reference stays a reference where the substitution would make the
/// receiving task deeper than [`MAX_INLINE_DEPTH`]; a task that is still
/// referred to somewhere stays in the graph. Every key left in the graph
/// (`keep` and everything not inlined) computes the same value as before;
/// the remaining keys keep their insertion order.
///
/// Errors: a key of `keep` not in the graph ([`GraphError::MissingKey`]
/// with `needed_by: None`), a reference to a missing key, a cycle.
///
/// ```
/// use rask::{optimize::inline, Function, Graph, Registry, Task};
/// let builtins = Registry::with_builtins();
/// let inc = builtins.get("inc").unwrap(); // marked cheap
/// let double = Function::new("double", |x: i64| 2 * x); // not cheap
/// let mut g = Graph::new();
/// g.insert("x", 1);
/// g.insert("y", Task::call(inc, ["x"]));
/// g.insert("z", Task::call(&double, ["y"]));
/// g.insert("w", Task::call(inc, ["z"]));
/// g.insert("label", Task::quote("z")); // the string "z", not the key z
/// g.insert("n", Task::call(builtins.get("len").unwrap(), ["label"]));
/// let out = inline(&g, &["w".into(), "n".into()]).unwrap();
/// assert_eq!(
///     format!("{out:?}"),
///     r#"{"z": (double, (inc, 1)), "w": (inc, "z"), "n": (len, quote("z"))}"#
/// );
/// ```
pub fn inline(graph: &Graph, keep: &[Key]) -> Result<Graph, GraphError> {
    let n = graph.len();
    let keep = flags_of(graph, keep)?;
    let deps = deps::dependencies(graph)?;
    let order = check_acyclic(graph, &deps)?;
    // references to each task not yet substituted or refused
    let mut remaining = vec![0_u32; n];
    for id in 0..n as TaskId {
        for &d in deps.of(id) {
            remaining[d as usize] += 1;
        }
    }
    let has_dependents: Vec<bool> = remaining.iter().map(|&r| r > 0).collect();

    // In topological order: each task with the inlinable tasks it refers
    // to substituted, then whether it is inlinable itself. An inlinable
    // task is moved into its last reference, so a chain costs no copies;
    // one that a reference refused (too deep) stays in the graph.
    let mut tasks: Vec<Option<Task>> = (0..n).map(|_| None).collect();
    let mut inlinable = vec![false; n];
    let mut refused = vec![false; n];
    let mut depth = vec![0_usize; n];
    for &t in &order {
        let ti = t as usize;
        let original = graph.task(t);
        let task = if deps.of(t).iter().any(|&d| inlinable[d as usize]) {
            substitute(graph, original, 1, &mut |d, level| {
                let d = d as usize;
                remaining[d] -= 1;
                if !inlinable[d] {
                    return None;
                }
                // a reference at `level` replaced by a task of depth
                // `depth[d]` reaches `level - 1 + depth[d]`
                if level - 1 + depth[d] > MAX_INLINE_DEPTH.max(level) {
                    refused[d] = true;
                    return None;
                }
                if remaining[d] == 0 && !refused[d] {
                    tasks[d].take()
                } else {
                    tasks[d].clone()
                }
            })
        } else {
            original.clone()
        };
        if !keep[ti] && has_dependents[ti] {
            let s = shape(&task);
            inlinable[ti] = s.cheap && s.nodes <= MAX_INLINE_NODES && s.depth <= MAX_INLINE_DEPTH;
            depth[ti] = s.depth;
        }
        tasks[ti] = Some(task);
    }

    let stays = |id: usize| !inlinable[id] || refused[id];
    let mut out = Graph::with_capacity((0..n).filter(|&id| stays(id)).count());
    for (id, task) in tasks.into_iter().enumerate() {
        if stays(id) {
            let task = task.expect("a task that stays is kept");
            out.insert(graph.key(id as TaskId).clone(), task);
        }
    }
    Ok(out)
}
