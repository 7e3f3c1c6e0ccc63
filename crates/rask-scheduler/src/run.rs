//! Running one task where it is: evaluation with panics caught and turned
//! into errors naming the key. Every executor runs tasks through
//! [`run_task`], on whatever thread or process holds the inputs.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rask_graph::{Graph, Plan, TaskId, Value};

use crate::error::ComputeError;

/// Evaluates local task `id` of `plan` on `inputs` (its input values, in
/// [`Task::visit_refs`](rask_graph::Task::visit_refs) order). An error or
/// a panic becomes a [`ComputeError`] naming the task's key.
pub fn run_task(
    graph: &Graph,
    plan: &Plan,
    id: TaskId,
    inputs: impl Iterator<Item = Value>,
) -> Result<Value, ComputeError> {
    let gid = plan.graph_id(id);
    let evaluate = || {
        if let Some(f) = plan.direct_call(id) {
            // a call on references alone: the graph is not read at all
            f.call_on(inputs)
        } else if plan.literals_are_refs(id) {
            // the usual case: no key is read, no string compared
            graph.evaluate_resolved(gid, inputs)
        } else {
            let keys = plan
                .deps()
                .of(id)
                .iter()
                .map(|&d| graph.key(plan.graph_id(d)));
            graph.evaluate_keyed(gid, keys.zip(inputs))
        }
    };
    match catch_unwind(AssertUnwindSafe(evaluate)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(error)) => Err(ComputeError::Task {
            key: graph.key(gid).clone(),
            error,
        }),
        Err(payload) => Err(ComputeError::Panic {
            key: graph.key(gid).clone(),
            message: panic_message(payload.as_ref()),
        }),
    }
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
