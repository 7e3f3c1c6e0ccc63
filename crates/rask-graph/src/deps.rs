//! Dependencies, dependents, topological sort and cycle detection — all
//! iterative, over dense ids, so that a chain of ten million tasks needs no
//! deep stack.
//!
//! Dependencies are kept in an [`Adjacency`]: one flat vector of ids with
//! an offset per task (compressed sparse rows). A task's dependencies are
//! listed in the order in which its evaluation consumes them, with repeats
//! (`add(x, x)` lists `x` twice), so executors can pass input values
//! positionally; [`Adjacency::unique`] drops the repeats.
//!
//! ```
//! use rask::{deps, graph};
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! let g = graph! { "x" => 1, "y" => (add, "x", "x"), "z" => (add, "y", "x") };
//! let d = deps::dependencies(&g).unwrap();
//! assert_eq!(d.of(2), &[1, 0]);
//! assert_eq!(d.of(1), &[0, 0]);
//! assert_eq!(deps::toposort(&g).unwrap(), vec![0, 1, 2]);
//! ```

use crate::error::GraphError;
use crate::graph::{Graph, TaskId};
use crate::key::Key;

/// For each task, a list of task ids (compressed sparse rows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Adjacency {
    offsets: Vec<u32>,
    targets: Vec<TaskId>,
}

impl Adjacency {
    /// An empty adjacency, to fill with [`push_row`](Adjacency::push_row).
    pub fn new() -> Adjacency {
        Adjacency {
            offsets: vec![0],
            targets: Vec::new(),
        }
    }

    /// An empty adjacency with room for `rows` rows and `edges` entries.
    pub fn with_capacity(rows: usize, edges: usize) -> Adjacency {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Adjacency {
            offsets,
            targets: Vec::with_capacity(edges),
        }
    }

    /// Appends the row of the next task.
    pub fn push_row(&mut self, row: impl IntoIterator<Item = TaskId>) -> Result<(), GraphError> {
        self.targets.extend(row);
        let end = u32::try_from(self.targets.len())
            .map_err(|_| GraphError::TooLarge("more than 2^32 edges".into()))?;
        self.offsets.push(end);
        Ok(())
    }

    /// The row of task `id`.
    pub fn of(&self, id: TaskId) -> &[TaskId] {
        let i = id as usize;
        &self.targets[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// The number of rows (tasks).
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of entries over all rows.
    pub fn edges(&self) -> usize {
        self.targets.len()
    }

    /// The transposed relation: row `j` of the result lists every `i` whose
    /// row lists `j` (as often as it lists it), in increasing `i`.
    pub fn reverse(&self) -> Adjacency {
        let n = self.len();
        let mut counts = vec![0_u32; n + 1];
        for &t in &self.targets {
            counts[t as usize + 1] += 1;
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let offsets = counts.clone();
        let mut fill = counts;
        let mut targets = vec![0; self.targets.len()];
        for i in 0..n {
            for &t in self.of(i as TaskId) {
                let slot = &mut fill[t as usize];
                targets[*slot as usize] = i as TaskId;
                *slot += 1;
            }
        }
        Adjacency { offsets, targets }
    }

    /// The same relation with repeats within a row removed (first
    /// occurrence kept).
    pub fn unique(&self) -> Adjacency {
        let mut out = Adjacency::new();
        let mut seen: Vec<TaskId> = Vec::new();
        for i in 0..self.len() {
            seen.clear();
            for &t in self.of(i as TaskId) {
                if !seen.contains(&t) {
                    seen.push(t);
                }
            }
            if seen.len() > 16 {
                // long rows: the quadratic `contains` above would not scale
                seen.clear();
                let mut sorted: Vec<TaskId> = self.of(i as TaskId).to_vec();
                sorted.sort_unstable();
                sorted.dedup();
                let mut first: Vec<TaskId> = Vec::with_capacity(sorted.len());
                let mut taken = vec![false; sorted.len()];
                for &t in self.of(i as TaskId) {
                    if let Ok(p) = sorted.binary_search(&t) {
                        if !taken[p] {
                            taken[p] = true;
                            first.push(t);
                        }
                    }
                }
                seen = first;
            }
            // `push_row` cannot overflow: the rows only shrink
            let _ = out.push_row(seen.iter().copied());
        }
        out
    }
}

/// The keys each task refers to, for every task of the graph, in
/// evaluation order with repeats. A reference to a key that is not in the
/// graph ([`Task::Key`](crate::Task::Key)) is an error naming both keys.
pub fn dependencies(graph: &Graph) -> Result<Adjacency, GraphError> {
    let mut adj = Adjacency::new();
    let mut row = Vec::new();
    for id in 0..graph.len() as TaskId {
        task_refs(graph, id, &mut row)?;
        adj.push_row(row.iter().copied())?;
    }
    Ok(adj)
}

/// The references of task `id` into `row` (cleared first), and whether
/// the task has a string literal that is not a reference (a plain string
/// argument).
pub fn task_refs(graph: &Graph, id: TaskId, row: &mut Vec<TaskId>) -> Result<bool, GraphError> {
    row.clear();
    let plain = std::cell::Cell::new(false);
    let mut missing: Option<Key> = None;
    graph.task(id).visit_refs(
        &|v| {
            let r = graph.ref_id(v);
            if r.is_none() {
                plain.set(true);
            }
            r
        },
        &|k| graph.id(k),
        &mut |r| match r {
            Ok(d) => row.push(d),
            Err(k) => {
                if missing.is_none() {
                    missing = Some(k.clone());
                }
            }
        },
    );
    match missing {
        Some(key) => Err(GraphError::MissingKey {
            key,
            needed_by: Some(graph.key(id).clone()),
        }),
        None => Ok(plain.get()),
    }
}

/// Every task's dependents (the reverse of [`dependencies`]).
pub fn dependents(graph: &Graph) -> Result<Adjacency, GraphError> {
    Ok(dependencies(graph)?.reverse())
}

/// The tasks in an order where each comes after its dependencies (Kahn's
/// algorithm, ties by id); a cycle is an error naming its keys.
pub fn toposort(graph: &Graph) -> Result<Vec<TaskId>, GraphError> {
    let deps = dependencies(graph)?;
    toposort_ids(&deps).map_err(|cycle| GraphError::Cycle {
        keys: cycle.iter().map(|&i| graph.key(i).clone()).collect(),
    })
}

/// [`toposort`] on an adjacency of dependencies; `Err` holds the ids on
/// one cycle, each depending on the next and the last on the first.
pub fn toposort_ids(deps: &Adjacency) -> Result<Vec<TaskId>, Vec<TaskId>> {
    let n = deps.len();
    let dependents = deps.reverse();
    let mut waiting: Vec<u32> = (0..n).map(|i| deps.of(i as TaskId).len() as u32).collect();
    let mut order: Vec<TaskId> = (0..n as TaskId)
        .filter(|&i| waiting[i as usize] == 0)
        .collect();
    let mut next = 0;
    while next < order.len() {
        let t = order[next];
        next += 1;
        for &d in dependents.of(t) {
            let w = &mut waiting[d as usize];
            *w -= 1;
            if *w == 0 {
                order.push(d);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    Err(find_cycle(deps, &waiting))
}

/// A cycle among the tasks left with `waiting > 0` by Kahn's algorithm:
/// each has a dependency that is also left, so walking dependencies from
/// any of them must come back to a task already on the walk.
fn find_cycle(deps: &Adjacency, waiting: &[u32]) -> Vec<TaskId> {
    let Some(start) = (0..deps.len()).find(|&i| waiting[i] > 0) else {
        return Vec::new();
    };
    let mut step_of = vec![u32::MAX; deps.len()];
    let mut walk: Vec<TaskId> = Vec::new();
    let mut at = start as TaskId;
    loop {
        if step_of[at as usize] != u32::MAX {
            return walk[step_of[at as usize] as usize..].to_vec();
        }
        step_of[at as usize] = walk.len() as u32;
        walk.push(at);
        match deps.of(at).iter().find(|&&d| waiting[d as usize] > 0) {
            Some(&d) => at = d,
            None => return walk,
        }
    }
}

#[cfg(test)]
mod tests;
