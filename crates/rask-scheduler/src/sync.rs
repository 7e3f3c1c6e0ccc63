//! The `sync` executor: every task on the calling thread, one at a time,
//! in priority order. Deterministic; the reference the other executors
//! are tested against, and the one to debug a task with. The programs its
//! `shell` tasks started, and left in their process groups, are ended when
//! the run is over (see [`rask_graph::programs`]).

use std::time::Instant;

use rask_graph::programs::{self, Programs};
use rask_graph::{Graph, Plan, Value};

use crate::callbacks::{Callback, TaskEvent};
use crate::error::ComputeError;
use crate::executor::Executor;
use crate::run::run_task;
use crate::state::State;

/// Runs tasks on the calling thread.
///
/// ```
/// use rask::{graph, Value};
/// use rask::{Executor, Sync};
/// fn inc(x: i64) -> i64 { x + 1 }
/// let g = graph! { "x" => 1, "y" => (inc, "x") };
/// assert_eq!(Sync.get(&g, "y").unwrap(), Value::Int(2));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Sync;

impl Executor for Sync {
    fn name(&self) -> &str {
        "sync"
    }

    fn workers(&self) -> usize {
        1
    }

    fn execute(
        &self,
        graph: &Graph,
        plan: &Plan,
        callbacks: &[&dyn Callback],
    ) -> Result<Vec<Value>, ComputeError> {
        let programs = Programs::new();
        let result = programs.scope(|| run(graph, plan, callbacks));
        programs.end(programs::GRACE);
        result
    }
}

/// The run: every task in priority order, until one fails.
fn run(
    graph: &Graph,
    plan: &Plan,
    callbacks: &[&dyn Callback],
) -> Result<Vec<Value>, ComputeError> {
    let mut state: State<Value> = State::new(plan);
    let mut inputs: Vec<Value> = Vec::new();
    while let Some(id) = state.pop_ready() {
        inputs.clear();
        state.take_inputs(id, &mut inputs);
        let key = graph.key(plan.graph_id(id));
        let start = if callbacks.is_empty() {
            None
        } else {
            Some(Instant::now())
        };
        if let Some(start) = start {
            let ev = TaskEvent {
                id,
                key,
                worker: 0,
                start,
                end: start,
            };
            callbacks.iter().for_each(|c| c.task_started(&ev));
        }
        let result = run_task(graph, plan, id, inputs.drain(..));
        if let Some(start) = start {
            let ev = TaskEvent {
                id,
                key,
                worker: 0,
                start,
                end: Instant::now(),
            };
            match &result {
                Ok(_) => callbacks.iter().for_each(|c| c.task_finished(&ev)),
                Err(_) => callbacks.iter().for_each(|c| c.task_failed(&ev)),
            }
        }
        let value = result?;
        state.complete(id, value, &mut |_| {});
    }
    Ok(state.into_outputs())
}
