//! The values one rank holds, and the tasks it was given that wait for
//! inputs still on their way from other ranks.

use std::collections::HashMap;

use rask_graph::{Plan, TaskId, Value};

const UNASSIGNED: u32 = u32::MAX;

/// The values of one rank and its waiting tasks.
#[derive(Debug)]
pub(crate) struct Store<'p> {
    plan: &'p Plan,
    values: Vec<Option<Value>>,
    /// Per task given to this rank: how many distinct inputs are not here.
    missing: Vec<u32>,
    /// Per absent input: the tasks waiting for it.
    waiters: HashMap<TaskId, Vec<TaskId>>,
}

impl<'p> Store<'p> {
    pub(crate) fn new(plan: &'p Plan) -> Store<'p> {
        Store {
            plan,
            values: vec![None; plan.len()],
            missing: vec![UNASSIGNED; plan.len()],
            waiters: HashMap::new(),
        }
    }

    /// Takes task `id` to run here: true when its inputs are all here.
    pub(crate) fn assign(&mut self, id: TaskId) -> bool {
        let mut missing = 0;
        for &d in self.plan.deps().of(id) {
            if self.values[d as usize].is_none() {
                let w = self.waiters.entry(d).or_default();
                if w.last() != Some(&id) {
                    w.push(id);
                    missing += 1;
                }
            }
        }
        self.missing[id as usize] = missing;
        missing == 0
    }

    /// When every input of task `id` is here but `prev` (which this rank
    /// is about to make), takes `id` to run right after `prev`: its inputs,
    /// `None` where `prev`'s value goes.
    pub(crate) fn assign_after(&mut self, id: TaskId, prev: TaskId) -> Option<Vec<Option<Value>>> {
        let deps = self.plan.deps().of(id);
        if self.values[prev as usize].is_some()
            || !deps.contains(&prev)
            || deps
                .iter()
                .any(|&d| d != prev && self.values[d as usize].is_none())
        {
            return None;
        }
        self.missing[id as usize] = 0;
        Some(
            deps.iter()
                .map(|&d| {
                    if d == prev {
                        None
                    } else {
                        self.values[d as usize].clone()
                    }
                })
                .collect(),
        )
    }

    /// Stores the value of task `id` (computed here or received); returns
    /// the tasks that it made runnable.
    pub(crate) fn insert(&mut self, id: TaskId, value: Value, ready: &mut Vec<TaskId>) {
        self.values[id as usize] = Some(value);
        if let Some(ws) = self.waiters.remove(&id) {
            for t in ws {
                let m = &mut self.missing[t as usize];
                *m -= 1;
                if *m == 0 {
                    ready.push(t);
                }
            }
        }
    }

    /// The inputs of task `id` (all here), in evaluation order.
    pub(crate) fn inputs(&self, id: TaskId) -> Vec<Value> {
        self.plan
            .deps()
            .of(id)
            .iter()
            .map(|&d| {
                self.values[d as usize]
                    .clone()
                    .expect("the inputs of a runnable task are here")
            })
            .collect()
    }

    /// The value of task `id`, if it is here.
    pub(crate) fn get(&self, id: TaskId) -> Option<&Value> {
        self.values[id as usize].as_ref()
    }

    /// Drops the value of task `id`.
    pub(crate) fn free(&mut self, id: TaskId) {
        self.values[id as usize] = None;
    }

    /// Drops every value and forgets every waiting task.
    pub(crate) fn clear(&mut self) {
        self.values.iter_mut().for_each(|v| *v = None);
        self.waiters.clear();
    }
}
