//! `cull`: keep only what the requested keys need.

use crate::deps;
use crate::error::GraphError;
use crate::graph::{Graph, TaskId};
use crate::key::Key;

/// A new graph with only the tasks that `keys` need, themselves included
/// and transitively, in the original insertion order (so ids keep their
/// relative order).
///
/// A requested key that is not in the graph is
/// [`GraphError::MissingKey`] with `needed_by: None`; a needed task that
/// refers to a missing key is the same error naming that task. Cycles are
/// not looked for (a culled cycle stays a cycle).
///
/// ```
/// use rask::{graph, optimize::cull, Key};
/// fn inc(x: i64) -> i64 { x + 1 }
/// let g = graph! {
///     "x" => 1,
///     "y" => (inc, "x"),
///     "unused" => (inc, "y"),
///     "z" => (inc, "y"),
/// };
/// let culled = cull(&g, &["z".into()]).unwrap();
/// assert_eq!(culled.keys(), &[Key::from("x"), Key::from("y"), Key::from("z")]);
/// assert!(cull(&g, &["nope".into()]).is_err());
/// ```
pub fn cull(graph: &Graph, keys: &[Key]) -> Result<Graph, GraphError> {
    let mut needed = vec![false; graph.len()];
    let mut stack: Vec<TaskId> = Vec::new();
    for key in keys {
        let id = graph.id(key).ok_or_else(|| GraphError::MissingKey {
            key: key.clone(),
            needed_by: None,
        })?;
        if !needed[id as usize] {
            needed[id as usize] = true;
            stack.push(id);
        }
    }
    let mut count = stack.len();
    let mut row = Vec::new();
    while let Some(t) = stack.pop() {
        deps::task_refs(graph, t, &mut row)?;
        for &d in &row {
            if !needed[d as usize] {
                needed[d as usize] = true;
                count += 1;
                stack.push(d);
            }
        }
    }
    let mut out = Graph::with_capacity(count);
    for (id, (key, task)) in graph.iter().enumerate() {
        if needed[id] {
            out.insert(key.clone(), task.clone());
        }
    }
    Ok(out)
}
