//! Rank 0's scheduler: the one scheduler core ([`State`]) over value
//! *locations*, plus where each value has copies and where each ready task
//! goes.
//!
//! The state holds a [`Location`] (the rank that produced a value and its
//! size) where the threads executor holds the value itself; ready order,
//! release of values nobody needs and the first-error stop are the core's.
//! On top of it this module keeps, per task, the ranks holding a copy of
//! its value, and per rank how many tasks it was given and has not
//! finished (its *load*). It only produces messages; the rank loop sends
//! them.
//!
//! Placement: a ready task goes to the rank holding most of its input
//! bytes; ties (no inputs, or inputs split evenly) go to the least loaded
//! rank (per thread), then to the lowest rank. One escape from locality:
//! when the chosen rank has more than [`OVERLOAD`] tasks per thread queued
//! while another rank has less than one per thread, and the inputs to move
//! there are under [`CHEAP_MOVE`] bytes, the task goes there, so that the
//! dependents of one small value do not all queue on the rank that made
//! it. Inputs held elsewhere are pushed by their holder (the scheduler
//! orders the push when it places the task), and the target is recorded
//! as holding a copy from then on, so a value moves to a rank once.
//!
//! A worked example on 2 ranks, `a = 1; b = 2; c = add(a, b)`, `[c]`:
//!
//! ```text
//!                       ready    copies          load   messages
//! start                 [a b]    {}              0 0
//! dispatch              []       {}              1 1    Run a → 0, Run b → 1
//! done a on 0, b on 1   [c]      a:0 b:1         0 0
//! dispatch (tie: 9 B    []       a:0 b:1,0       1 0    Run c → 0, Push b 1 → 0
//!   each, same load)
//! done c on 0           []       c:0             0 0    Free a → 0, Free b → 1, 0
//! ```

use rask_graph::{Plan, TaskId};
use rask_scheduler::State;

use crate::wire::{Done, Failure, Msg};

/// Where a value lives, as the scheduler core holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    /// The rank that produced it.
    pub(crate) rank: u32,
    /// Its approximate size.
    pub(crate) bytes: u64,
}

/// Queued tasks per thread above which a rank is overloaded.
pub(crate) const OVERLOAD: usize = 4;

/// Inputs smaller than this may move away from an overloaded rank.
pub(crate) const CHEAP_MOVE: u64 = 1 << 20;

/// Rank 0's view of a computation.
#[derive(Debug)]
pub(crate) struct Scheduler<'p> {
    state: State<'p, Location>,
    threads: Vec<u32>,
    /// The ranks holding a copy of each task's value (empty: none).
    copies: Vec<Vec<u32>>,
    load: Vec<usize>,
    /// Where each running task runs.
    running_on: Vec<u32>,
    is_output: Vec<bool>,
    /// Per rank: tasks to run, values to push (to, id), values to free.
    run: Vec<Vec<TaskId>>,
    push: Vec<Vec<(u32, TaskId)>>,
    free: Vec<Vec<TaskId>>,
    failure: Option<Failure>,
    /// Scratch for placement: input bytes per rank, and a stamp per task
    /// to count each distinct input once.
    score: Vec<u64>,
    stamp: Vec<u32>,
    /// Tasks handed out by the last dispatch, with their rank.
    dispatched: Vec<(TaskId, u32)>,
}

impl<'p> Scheduler<'p> {
    /// A scheduler for `plan` over ranks with `threads[r]` task threads.
    pub(crate) fn new(plan: &'p Plan, threads: Vec<u32>) -> Scheduler<'p> {
        let n = plan.len();
        let ranks = threads.len();
        let mut is_output = vec![false; n];
        for &o in plan.outputs() {
            is_output[o as usize] = true;
        }
        Scheduler {
            state: State::new(plan),
            threads: threads.into_iter().map(|t| t.max(1)).collect(),
            copies: vec![Vec::new(); n],
            load: vec![0; ranks],
            running_on: vec![u32::MAX; n],
            is_output,
            run: vec![Vec::new(); ranks],
            push: vec![Vec::new(); ranks],
            free: vec![Vec::new(); ranks],
            failure: None,
            score: vec![0; ranks],
            stamp: vec![u32::MAX; n],
            dispatched: Vec::new(),
        }
    }

    /// Places every ready task, and with each the chain of tasks that
    /// only wait for it (see [`State::claim_next`]): they run on the same
    /// rank as soon as their input is made there, without a round trip to
    /// rank 0.
    pub(crate) fn dispatch(&mut self) {
        while let Some(id) = self.state.pop_ready() {
            let rank = self.place(id);
            self.assign(id, rank, None);
            let mut prev = id;
            while let Some(next) = self.state.claim_next(prev) {
                self.assign(next, rank, Some(prev));
                prev = next;
            }
        }
    }

    /// Gives task `id` to `rank`, ordering the pushes of its inputs held
    /// elsewhere (but `made_there`, which `rank` will make).
    fn assign(&mut self, id: TaskId, rank: u32, made_there: Option<TaskId>) {
        let plan = self.state.plan();
        for &d in plan.deps().of(id) {
            if Some(d) == made_there {
                continue;
            }
            let copies = &mut self.copies[d as usize];
            if !copies.contains(&rank) {
                // the producer pushes (it is there until every dependent
                // finished, so it is there now)
                let holder = copies[0];
                copies.push(rank);
                self.push[holder as usize].push((rank, d));
            }
        }
        self.load[rank as usize] += 1;
        self.running_on[id as usize] = rank;
        self.run[rank as usize].push(id);
        self.dispatched.push((id, rank));
    }

    /// The rank task `id` runs on (see the module docs).
    fn place(&mut self, id: TaskId) -> u32 {
        let plan = self.state.plan();
        let mut any_input = false;
        for (&d, loc) in plan.deps().of(id).iter().zip(self.state.inputs(id)) {
            if self.stamp[d as usize] == id {
                continue;
            }
            self.stamp[d as usize] = id;
            any_input = true;
            for &r in &self.copies[d as usize] {
                self.score[r as usize] += loc.bytes.max(1);
            }
        }
        // lighter: fewer queued tasks per thread (cross-multiplied)
        let lighter = |a: usize, b: usize, load: &[usize], threads: &[u32]| {
            load[a] as u64 * u64::from(threads[b]) < load[b] as u64 * u64::from(threads[a])
        };
        let mut best = 0;
        for r in 1..self.score.len() {
            if self.score[r] > self.score[best]
                || (self.score[r] == self.score[best]
                    && lighter(r, best, &self.load, &self.threads))
            {
                best = r;
            }
        }
        if any_input && self.load[best] > OVERLOAD * self.threads[best] as usize {
            let mut idle = best;
            for r in 0..self.load.len() {
                if self.load[r] < self.threads[r] as usize
                    && (idle == best || lighter(r, idle, &self.load, &self.threads))
                {
                    idle = r;
                }
            }
            let total: u64 = self.score.iter().copied().max().unwrap_or(0);
            if idle != best && total.saturating_sub(self.score[idle]) < CHEAP_MOVE {
                best = idle;
            }
        }
        self.score.iter_mut().for_each(|s| *s = 0);
        best as u32
    }

    /// The tasks handed out since the last call, with their ranks.
    pub(crate) fn take_dispatched(&mut self) -> std::vec::Drain<'_, (TaskId, u32)> {
        self.dispatched.drain(..)
    }

    /// Records that `rank` finished a task: dependents may become ready,
    /// values nobody needs are freed on every rank holding them, and an
    /// output is pushed to rank 0 at once.
    pub(crate) fn done(&mut self, rank: u32, d: &Done) {
        let id = d.id;
        if self.running_on[id as usize] != rank {
            return; // not a task this rank was given (a bug elsewhere); ignore
        }
        self.running_on[id as usize] = u32::MAX;
        self.load[rank as usize] -= 1;
        self.copies[id as usize].push(rank);
        let loc = Location {
            rank,
            bytes: d.bytes,
        };
        let copies = &mut self.copies;
        let free = &mut self.free;
        self.state.complete(id, loc, &mut |released| {
            for r in copies[released as usize].drain(..) {
                free[r as usize].push(released);
            }
        });
        if self.is_output[id as usize] && rank != 0 && !self.copies[id as usize].contains(&0) {
            self.copies[id as usize].push(0);
            self.push[rank as usize].push((0, id));
        }
    }

    /// Records that a task of `rank` failed (the first failure is the
    /// run's error); nothing more is handed out.
    pub(crate) fn failed(&mut self, rank: u32, failure: Failure) {
        let id = match &failure {
            Failure::Task { id, .. } | Failure::Panic { id, .. } | Failure::Codec { id, .. } => {
                Some(*id)
            }
            Failure::Run { .. } => None,
        };
        match id {
            Some(id) if self.running_on[id as usize] == rank => {
                self.running_on[id as usize] = u32::MAX;
                self.load[rank as usize] -= 1;
                self.state.fail(id);
            }
            _ => self.state.stop(),
        }
        if self.failure.is_none() {
            self.failure = Some(failure);
        }
    }

    /// The first failure, if any.
    pub(crate) fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// Whether every task finished.
    pub(crate) fn is_finished(&self) -> bool {
        self.state.is_finished()
    }

    /// The ranks holding a copy of task `id`'s value.
    #[cfg(test)]
    pub(crate) fn copies(&self, id: TaskId) -> &[u32] {
        &self.copies[id as usize]
    }

    /// The messages produced since the last call, per rank, in the order
    /// they must be sent: runs, pushes, frees.
    pub(crate) fn take_messages(&mut self, out: &mut impl FnMut(u32, Msg)) {
        for r in 0..self.run.len() {
            if !self.run[r].is_empty() {
                let ids = std::mem::take(&mut self.run[r]);
                out(r as u32, Msg::Run { ids });
            }
            if !self.push[r].is_empty() {
                let mut pushes = std::mem::take(&mut self.push[r]);
                pushes.sort_unstable_by_key(|&(to, _)| to);
                let mut start = 0;
                while start < pushes.len() {
                    let to = pushes[start].0;
                    let end = start + pushes[start..].partition_point(|&(t, _)| t == to);
                    let ids = pushes[start..end].iter().map(|&(_, id)| id).collect();
                    out(r as u32, Msg::Push { to, ids });
                    start = end;
                }
            }
            if !self.free[r].is_empty() {
                let ids = std::mem::take(&mut self.free[r]);
                out(r as u32, Msg::Free { ids });
            }
        }
    }
}

#[cfg(test)]
mod tests;
