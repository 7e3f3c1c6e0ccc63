//! `order`: a static priority for every task, so that a scheduler which
//! always starts the ready task of lowest priority walks the graph depth
//! first and releases intermediate values early.
//!
//! # What it optimizes
//!
//! The number of values alive at once (a value lives from the end of its
//! task until the last task that needs it has run). Running a tree
//! reduction breadth first keeps all leaves alive; depth first keeps one
//! value per level. Running two reductions over the same inputs one after
//! the other keeps every input alive; interleaving them releases each
//! input as soon as both of its consumers ran.
//!
//! # How
//!
//! One sequential walk simulates a single worker, with an explicit stack
//! (no recursion, so chains of 10^7 tasks are fine):
//!
//! 1. Start from the requested keys (the *roots*), in the order asked.
//! 2. A task whose dependencies are all done gets the next priority.
//!    Then each dependent of it that has just become ready is pushed on
//!    top of the stack, so it runs right away and frees its inputs
//!    ("finish what you can": this is what interleaves the two
//!    reductions).
//! 3. Otherwise the task is pushed back under its unfinished dependencies,
//!    the first argument on top, so the walk goes down the first argument
//!    first (post-order depth first).
//!
//! Ties are broken by argument position and by the order of the requested
//! keys, never by how keys sort, so renaming keys does not change the
//! order. The walk is O(tasks + edges).
//!
//! A worked example, `z = add(y, w); y = inc(x); w = inc(v)`, roots `[z]`:
//!
//! ```text
//! stack [z]      z waits: push z, w, y      -> [z w y]
//! pop y          y waits on x: push y, x     -> [z w y x]
//! pop x          ready: x=0; y becomes ready -> [z w y y]
//! pop y          ready: y=1                  -> [z w y]
//! pop y          done, skip; pop w: push w,v -> [z w v]
//! pop v          v=2; w ready                -> [z w w]
//! pop w          w=3; z ready                -> [z z]
//! pop z          z=4
//! ```
//!
//! ```
//! use rask::{graph, order};
//! fn inc(x: i64) -> i64 { x + 1 }
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! let g = graph! { "x" => 1, "v" => 2, "y" => (inc, "x"), "w" => (inc, "v"), "z" => (add, "y", "w") };
//! let p = order::order_graph(&g).unwrap();
//! // x, y, v, w, z
//! assert_eq!(p, vec![0, 2, 1, 3, 4]);
//! ```

use crate::deps::{self, Adjacency};
use crate::error::GraphError;
use crate::graph::{Graph, TaskId};

/// A task that is not ordered (not needed by any root).
pub const UNORDERED: u32 = u32::MAX;

/// Priorities for the tasks of `graph` (lower runs first), with every key
/// that nothing depends on as a root, in id order.
pub fn order_graph(graph: &Graph) -> Result<Vec<u32>, GraphError> {
    let deps = deps::dependencies(graph)?;
    if let Err(cycle) = deps::toposort_ids(&deps) {
        return Err(GraphError::Cycle {
            keys: cycle.iter().map(|&i| graph.key(i).clone()).collect(),
        });
    }
    // (with no cycle, `order` below cannot fail)
    let dependents = deps.reverse();
    let roots: Vec<TaskId> = (0..graph.len() as TaskId)
        .filter(|&i| dependents.of(i).is_empty())
        .collect();
    order(&deps, &dependents, &roots).map_err(|_| GraphError::Cycle { keys: Vec::new() })
}

/// Priorities (a permutation of `0..n` over the tasks the roots need;
/// [`UNORDERED`] for the others) for `deps` with its reverse `dependents`.
/// `Err(HasCycle)` when the roots need a task on a cycle (the walk finds a
/// task it started that still waits on an unfinished dependency); find
/// the cycle with [`deps::toposort_ids`].
pub fn order(
    deps: &Adjacency,
    dependents: &Adjacency,
    roots: &[TaskId],
) -> Result<Vec<u32>, HasCycle> {
    const NEW: u8 = 0;
    const EXPANDED: u8 = 1;
    const DONE: u8 = 2;
    let n = deps.len();
    let mut priority = vec![UNORDERED; n];
    let mut state = vec![NEW; n];
    let mut waiting: Vec<u32> = (0..n).map(|i| deps.of(i as TaskId).len() as u32).collect();
    let mut next = 0_u32;
    let mut stack: Vec<TaskId> = Vec::new();
    for &root in roots.iter().rev() {
        stack.push(root);
    }
    // roots are walked first-asked first; `stack` holds them in reverse
    while let Some(t) = stack.pop() {
        let ti = t as usize;
        if state[ti] == DONE {
            continue;
        }
        if waiting[ti] == 0 {
            priority[ti] = next;
            next += 1;
            state[ti] = DONE;
            let base = stack.len();
            for &d in dependents.of(t) {
                let w = &mut waiting[d as usize];
                *w -= 1;
                if *w == 0 && state[d as usize] != DONE {
                    stack.push(d);
                }
            }
            // the first dependent to become ready runs first
            stack[base..].reverse();
        } else if state[ti] == NEW {
            state[ti] = EXPANDED;
            stack.push(t);
            let base = stack.len();
            stack.extend(
                deps.of(t)
                    .iter()
                    .copied()
                    .filter(|&d| state[d as usize] != DONE),
            );
            stack[base..].reverse();
        } else {
            // expanded, and every dependency was walked since, yet one is
            // unfinished: it waits (through others) on `t` itself
            return Err(HasCycle);
        }
    }
    Ok(priority)
}

/// The graph has a cycle among the tasks [`order`] was asked to order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasCycle;

/// The peak number of values alive when one worker runs the tasks in the
/// order of `priority`: a value lives from its task's end until its last
/// dependent ran; the `outputs` live to the end.
pub fn peak_live(
    dependents: &Adjacency,
    deps: &Adjacency,
    priority: &[u32],
    outputs: &[TaskId],
) -> usize {
    let n = deps.len();
    let mut sequence: Vec<TaskId> = (0..n as TaskId)
        .filter(|&i| priority[i as usize] != UNORDERED)
        .collect();
    sequence.sort_unstable_by_key(|&i| priority[i as usize]);
    let mut holders: Vec<u32> = (0..n)
        .map(|i| dependents.of(i as TaskId).len() as u32)
        .collect();
    for &o in outputs {
        holders[o as usize] += 1;
    }
    let (mut live, mut peak) = (0_usize, 0_usize);
    for t in sequence {
        live += 1;
        peak = peak.max(live);
        for &d in deps.of(t) {
            let h = &mut holders[d as usize];
            *h -= 1;
            if *h == 0 {
                live -= 1;
            }
        }
        if holders[t as usize] == 0 {
            live -= 1;
        }
    }
    peak
}

#[cfg(test)]
mod tests;
