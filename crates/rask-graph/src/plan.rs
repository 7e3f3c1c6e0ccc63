//! The plan of one computation: the tasks that the requested keys need
//! (culled), renumbered densely, with their dependencies and dependents
//! and the priorities of [`order`](crate::order). Every executor runs a
//! plan; making one validates the graph (missing keys, cycles, argument
//! counts) before anything runs.
//!
//! ```
//! use rask::{graph, Plan};
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x"), "unused" => (inc, "x") };
//! let plan = Plan::new(&g, &[g.id(&"y".into()).unwrap()]).unwrap();
//! assert_eq!(plan.len(), 2); // y and x; "unused" is culled
//! ```

use crate::deps::{self, Adjacency};
use crate::error::GraphError;
use crate::function::Function;
use crate::graph::{Graph, TaskId};
use crate::key::Key;
use crate::order;
use crate::task::Task;
use crate::value::Value;

/// The culled, validated and ordered tasks of one computation. Ids in a
/// plan are *local*: `0..len()`, mapped to graph ids by
/// [`graph_id`](Plan::graph_id), and numbered in [`order`] priority: local
/// id `i` is the `i`-th task a single worker runs, so a scheduler walks its
/// per-task arrays front to back instead of jumping around them (at ten
/// million tasks, the difference between a cache hit and a miss per task).
#[derive(Debug, Clone)]
pub struct Plan {
    tasks: Vec<TaskId>,
    deps: Adjacency,
    dependents: Adjacency,
    outputs: Vec<TaskId>,
    /// Bit `i`: task `i` has a string literal that is not a reference.
    plain_strings: Vec<u64>,
    /// For each task that is a call on references alone, the index of its
    /// function in `functions` (`NO_CALL` for the others): 4 bytes a task,
    /// where an `Option<Function>` would take 8.
    calls: Vec<u32>,
    /// The distinct functions of `calls`.
    functions: Vec<Function>,
}

/// In `Plan::calls`: the task is not a call on references alone.
const NO_CALL: u32 = u32::MAX;

impl Plan {
    /// The plan for computing the graph tasks `outputs`.
    pub fn new(graph: &Graph, outputs: &[TaskId]) -> Result<Plan, GraphError> {
        Plan::build(graph, outputs, |g, row| deps::task_refs(graph, g, row))
    }

    /// [`Plan::new`] for a graph whose dependencies are already resolved
    /// (`dependencies`, from [`deps::dependencies`] of the same graph), so
    /// that no key is looked up again: a caller that needed them anyway
    /// (to find the keys nothing depends on) saves a pass over every
    /// reference, the largest part of planning a large graph. Dependencies
    /// of another graph (a different number of rows) are ignored. They are
    /// freed once the needed tasks are found, before ordering, so that
    /// they add nothing to the peak memory of planning.
    ///
    /// ```
    /// use rask_graph::{deps, graph, Plan};
    /// fn add(a: i64, b: i64) -> i64 { a + b }
    /// let g = graph! { "x" => 1, "y" => (add, "x", "x"), "z" => (add, "y", "label") };
    /// let d = deps::dependencies(&g).unwrap();
    /// let z = [g.id(&"z".into()).unwrap()];
    /// let (a, b) = (Plan::new(&g, &z).unwrap(), Plan::with_dependencies(&g, d, &z).unwrap());
    /// assert_eq!((0..3).map(|i| a.graph_id(i)).collect::<Vec<_>>(), (0..3).map(|i| b.graph_id(i)).collect::<Vec<_>>());
    /// assert_eq!(a.deps().of(2), b.deps().of(2));
    /// // z has a string that is not a key: both plans know it
    /// assert!(!a.literals_are_refs(2) && !b.literals_are_refs(2));
    /// assert!(a.literals_are_refs(1) && b.literals_are_refs(1));
    /// ```
    pub fn with_dependencies(
        graph: &Graph,
        dependencies: Adjacency,
        outputs: &[TaskId],
    ) -> Result<Plan, GraphError> {
        if dependencies.len() != graph.len() {
            return Plan::new(graph, outputs);
        }
        // (moved into the closure: dropped as soon as the tasks are found,
        // before ordering, the peak of planning)
        Plan::build(graph, outputs, move |g, row| {
            row.clear();
            row.extend_from_slice(dependencies.of(g));
            // a string that is not a reference: more strings and keys
            // than references (a key not in the graph was an error of
            // `deps::dependencies`)
            let mut candidates = 0;
            graph
                .task(g)
                .visit_refs(&|_| Some(()), &|_| Some(()), &mut |_| candidates += 1);
            Ok(candidates > row.len())
        })
    }

    /// The plan, given how to find the references of a graph task (into
    /// the row, cleared first) and whether it has a plain string.
    fn build(
        graph: &Graph,
        outputs: &[TaskId],
        mut refs: impl FnMut(TaskId, &mut Vec<TaskId>) -> Result<bool, GraphError>,
    ) -> Result<Plan, GraphError> {
        const NONE: TaskId = TaskId::MAX;
        // 1. cull: the tasks the outputs need, numbered as found
        let mut local = vec![NONE; graph.len()];
        let mut found: Vec<TaskId> = Vec::new();
        let mut found_outputs = Vec::with_capacity(outputs.len());
        for &o in outputs {
            if local[o as usize] == NONE {
                local[o as usize] = found.len() as TaskId;
                found.push(o);
            }
            found_outputs.push(local[o as usize]);
        }
        let mut deps = Adjacency::new();
        let mut row = Vec::new();
        let mut with_plain_strings: Vec<TaskId> = Vec::new();
        let mut next = 0;
        while next < found.len() {
            let g = found[next];
            check_arity(graph, g)?;
            let plain = refs(g, &mut row)?;
            if plain {
                with_plain_strings.push(next as TaskId);
            }
            next += 1;
            for r in row.iter_mut() {
                let l = &mut local[*r as usize];
                if *l == NONE {
                    *l = found.len() as TaskId;
                    found.push(*r);
                }
                *r = *l;
            }
            deps.push_row(row.iter().copied())?;
        }
        drop(refs);
        drop(local);
        // 2. order
        let dependents = deps.reverse();
        let Ok(priority) = order::order(&deps, &dependents, &found_outputs) else {
            let cycle = deps::toposort_ids(&deps).err().unwrap_or_default();
            return Err(GraphError::Cycle {
                keys: cycle
                    .iter()
                    .map(|&i| graph.key(found[i as usize]).clone())
                    .collect(),
            });
        };
        drop(dependents);
        // 3. renumber in priority order (every task found is needed, so
        // the priorities are a permutation of the found ids)
        let n = found.len();
        let mut by_priority: Vec<TaskId> = vec![0; n];
        for (i, &p) in priority.iter().enumerate() {
            by_priority[p as usize] = i as TaskId;
        }
        let tasks: Vec<TaskId> = by_priority.iter().map(|&i| found[i as usize]).collect();
        drop(found);
        let mut renumbered = Adjacency::with_capacity(n, deps.edges());
        for &i in &by_priority {
            renumbered.push_row(deps.of(i).iter().map(|&d| priority[d as usize]))?;
        }
        drop(deps);
        let dependents = renumbered.reverse();
        let outputs = found_outputs
            .iter()
            .map(|&o| priority[o as usize])
            .collect();
        let mut plain_strings = vec![0_u64; n.div_ceil(64)];
        for &i in &with_plain_strings {
            let p = priority[i as usize] as usize;
            plain_strings[p / 64] |= 1 << (p % 64);
        }
        drop(by_priority);
        drop(priority);
        // (found last, in the final order: no second vector to permute)
        let mut functions: Vec<Function> = Vec::new();
        let mut index: rustc_hash::FxHashMap<usize, u32> = Default::default();
        let calls = tasks
            .iter()
            .enumerate()
            .map(|(p, &g)| {
                let plain = plain_strings[p / 64] & (1 << (p % 64)) != 0;
                direct_call(graph.task(g), plain).map_or(NO_CALL, |f| {
                    *index.entry(f.addr()).or_insert_with(|| {
                        functions.push(f.clone());
                        (functions.len() - 1) as u32
                    })
                })
            })
            .collect();
        Ok(Plan {
            tasks,
            deps: renumbered,
            dependents,
            outputs,
            plain_strings,
            calls,
            functions,
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

    /// The priority of local task `id` (lower runs first): local ids are
    /// numbered in priority order, so it is `id` itself (no table is kept).
    pub fn priority(&self, id: TaskId) -> u32 {
        id
    }

    /// The function of task `id` when the task is a call whose arguments
    /// are all references to keys (`(add, "x", "y")`): it runs on the input
    /// values as they are, so an executor can call it without reading the
    /// task from the graph.
    ///
    /// ```
    /// use rask::{graph, Plan};
    /// fn add(a: i64, b: i64) -> i64 { a + b }
    /// let g = graph! { "x" => 1, "y" => (add, "x", "x"), "z" => (add, "y", 10) };
    /// let plan = Plan::for_keys(&g, &["z".into()]).unwrap();
    /// // local ids are priorities: x, y, z
    /// assert_eq!(plan.graph_id(1), g.id(&"y".into()).unwrap());
    /// assert_eq!(plan.direct_call(1).map(|f| f.name()), Some("add"));
    /// assert!(plan.direct_call(2).is_none()); // z has a literal argument
    /// assert!(plan.direct_call(0).is_none()); // x is a literal
    /// ```
    pub fn direct_call(&self, id: TaskId) -> Option<&Function> {
        match self.calls.get(id as usize) {
            Some(&f) if f != NO_CALL => self.functions.get(f as usize),
            _ => None,
        }
    }

    /// Whether every string literal in task `id` is a reference to a key,
    /// so that it can be evaluated from its input values alone
    /// ([`Graph::evaluate_resolved`]), without comparing strings with the
    /// keys of its inputs. False for a task with a plain string argument.
    pub fn literals_are_refs(&self, id: TaskId) -> bool {
        let i = id as usize;
        self.plain_strings
            .get(i / 64)
            .is_none_or(|w| w & (1 << (i % 64)) == 0)
    }

    /// The peak number of values alive when one worker follows the
    /// priorities.
    pub fn peak_live(&self) -> usize {
        let priority: Vec<u32> = (0..self.len() as u32).collect();
        order::peak_live(&self.dependents, &self.deps, &priority, &self.outputs)
    }
}

/// The function of a call on references alone (`plain`: the task has a
/// string that is not a reference).
fn direct_call(task: &Task, plain: bool) -> Option<&Function> {
    match task {
        Task::Call(f, args)
            if !plain
                && args
                    .iter()
                    .all(|a| matches!(a, Task::Key(_) | Task::Value(Value::Str(_)))) =>
        {
            Some(f)
        }
        _ => None,
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
