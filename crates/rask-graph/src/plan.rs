//! The plan of one computation: the tasks that the requested keys need
//! (culled), renumbered densely, with their dependencies and dependents
//! and the priorities of [`order`](crate::order). Every executor runs a
//! plan; making one validates the graph (missing keys, cycles, argument
//! counts) before anything runs.
//!
//! ```
//! use rask_graph::{graph, Plan};
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x"), "unused" => (inc, "x") };
//! let plan = Plan::new(&g, &[g.id(&"y".into()).unwrap()]).unwrap();
//! assert_eq!(plan.len(), 2); // y and x; "unused" is culled
//! ```

use crate::deps::{self, Adjacency};
use crate::error::GraphError;
use crate::graph::{Graph, TaskId};
use crate::key::Key;
use crate::order;
use crate::task::Task;

/// The culled, validated and ordered tasks of one computation. Ids in a
/// plan are *local*: `0..len()`, mapped to graph ids by
/// [`graph_id`](Plan::graph_id).
#[derive(Debug, Clone)]
pub struct Plan {
    tasks: Vec<TaskId>,
    deps: Adjacency,
    dependents: Adjacency,
    outputs: Vec<TaskId>,
    priority: Vec<u32>,
}

impl Plan {
    /// The plan for computing the graph tasks `outputs`.
    pub fn new(graph: &Graph, outputs: &[TaskId]) -> Result<Plan, GraphError> {
        const NONE: TaskId = TaskId::MAX;
        let mut local = vec![NONE; graph.len()];
        let mut tasks: Vec<TaskId> = Vec::new();
        let mut local_outputs = Vec::with_capacity(outputs.len());
        for &o in outputs {
            if local[o as usize] == NONE {
                local[o as usize] = tasks.len() as TaskId;
                tasks.push(o);
            }
            local_outputs.push(local[o as usize]);
        }
        let mut deps = Adjacency::new();
        let mut row = Vec::new();
        let mut next = 0;
        while next < tasks.len() {
            let g = tasks[next];
            next += 1;
            check_arity(graph, g)?;
            deps::task_refs(graph, g, &mut row)?;
            for r in row.iter_mut() {
                let l = &mut local[*r as usize];
                if *l == NONE {
                    *l = tasks.len() as TaskId;
                    tasks.push(*r);
                }
                *r = *l;
            }
            deps.push_row(row.iter().copied())?;
        }
        drop(local);
        let dependents = deps.reverse();
        let Ok(priority) = order::order(&deps, &dependents, &local_outputs) else {
            let cycle = deps::toposort_ids(&deps).err().unwrap_or_default();
            return Err(GraphError::Cycle {
                keys: cycle
                    .iter()
                    .map(|&i| graph.key(tasks[i as usize]).clone())
                    .collect(),
            });
        };
        Ok(Plan {
            tasks,
            deps,
            dependents,
            outputs: local_outputs,
            priority,
        })
    }

    /// The plan for computing `keys`; a key not in the graph is an error.
    pub fn for_keys(graph: &Graph, keys: &[Key]) -> Result<Plan, GraphError> {
        let ids = keys
            .iter()
            .map(|k| {
                graph.id(k).ok_or_else(|| GraphError::MissingKey {
                    key: k.clone(),
                    needed_by: None,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Plan::new(graph, &ids)
    }

    /// The number of tasks in the plan.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the plan has no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The graph id of local task `id`.
    pub fn graph_id(&self, id: TaskId) -> TaskId {
        self.tasks[id as usize]
    }

    /// The local dependencies, in evaluation order with repeats.
    pub fn deps(&self) -> &Adjacency {
        &self.deps
    }

    /// The local dependents, with repeats.
    pub fn dependents(&self) -> &Adjacency {
        &self.dependents
    }

    /// The local ids of the requested keys, in the order asked (repeats
    /// kept).
    pub fn outputs(&self) -> &[TaskId] {
        &self.outputs
    }

    /// The priority of each local task (lower runs first).
    pub fn priority(&self) -> &[u32] {
        &self.priority
    }

    /// The peak number of values alive when one worker follows the
    /// priorities.
    pub fn peak_live(&self) -> usize {
        order::peak_live(&self.dependents, &self.deps, &self.priority, &self.outputs)
    }
}

/// Checks that every call in task `id` has an accepted number of arguments.
fn check_arity(graph: &Graph, id: TaskId) -> Result<(), GraphError> {
    let mut stack: Vec<&Task> = vec![graph.task(id)];
    while let Some(t) = stack.pop() {
        match t {
            Task::Call(f, args) => {
                if !f.arity().accepts(args.len()) {
                    return Err(GraphError::ArgCount {
                        key: graph.key(id).clone(),
                        function: f.name().to_string(),
                        expected: f.arity(),
                        got: args.len(),
                    });
                }
                stack.extend(args.iter());
            }
            Task::List(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    Ok(())
}
