//! The scheduling state machine that every executor drives.
//!
//! It knows nothing of threads or processes. An executor asks it for the
//! next task to start ([`State::pop_ready`]), runs the task wherever it
//! likes, and reports the result ([`State::complete`]). The state keeps:
//!
//! - `waiting[t]`: how many of `t`'s inputs are not computed yet; `t` is
//!   ready when it reaches 0;
//! - `ready`: the ready tasks, ranked by [`order`](rask_graph::order)
//!   priority (lowest first), so the walk is depth first; a plan numbers
//!   its tasks in priority order, so this is the lowest id;
//! - `holders[t]`: how many tasks still need `t`'s value (plus one if `t`
//!   was requested); when it reaches 0 the value is released;
//! - the values (or, for executors whose values live elsewhere, handles
//!   to them: the state is generic over `V`), in a slab sized by the peak
//!   number of live values, with a 4-byte slot number per task.
//!
//! A worked example, `y = inc(x); z = add(y, x)`, requested `[z]`:
//!
//! ```text
//!              waiting        holders        ready   values
//! start        x0 y1 z2       x2 y1 z1       [x]     {}
//! complete x   x0 y0 z1       x2 y1 z1       [y]     {x}
//! complete y   x0 y0 z0       x1 y1 z1       [z]     {x, y}
//! complete z   -              x0 y0 z1       []      {z}      (x, y released)
//! ```
//!
//! Failure is not the state's business beyond [`State::fail`]: after it,
//! no task is handed out, and the executor returns the first error once
//! its running tasks are back.
//!
//! ```
//! use rask::{graph, Plan};
//! use rask::State;
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x") };
//! let plan = Plan::for_keys(&g, &["y".into()]).unwrap();
//! let mut s: State<i64> = State::new(&plan);
//! let x = s.pop_ready().unwrap();
//! s.complete(x, 1, &mut |_| {});
//! let y = s.pop_ready().unwrap();
//! assert_eq!(s.inputs(y).copied().collect::<Vec<_>>(), vec![1]);
//! s.complete(y, 2, &mut |released| assert_eq!(released, x));
//! assert!(s.is_finished());
//! assert_eq!(s.into_outputs(), vec![2]);
//! ```

use rask_graph::{Plan, TaskId};

use crate::ready::ReadySet;

/// The state of one computation of a [`Plan`].
#[derive(Debug)]
pub struct State<'p, V> {
    plan: &'p Plan,
    waiting: Vec<u32>,
    holders: Vec<u32>,
    /// The slab slot of each task's value (`EMPTY`: none held).
    slots: Vec<u32>,
    store: Vec<Option<V>>,
    free: Vec<u32>,
    ready: ReadySet,
    running: usize,
    completed: usize,
    failed: bool,
}

impl<'p, V> State<'p, V> {
    /// The state before any task ran: the tasks without inputs are ready.
    pub fn new(plan: &'p Plan) -> State<'p, V> {
        let n = plan.len();
        let deps = plan.deps();
        let dependents = plan.dependents();
        let waiting: Vec<u32> = (0..n as TaskId).map(|i| deps.of(i).len() as u32).collect();
        let mut holders: Vec<u32> = (0..n as TaskId)
            .map(|i| dependents.of(i).len() as u32)
            .collect();
        for &o in plan.outputs() {
            holders[o as usize] = holders[o as usize].saturating_add(1);
        }
        // local ids are priorities: the ready set holds ids
        let mut ready = ReadySet::new(n);
        for (i, &w) in waiting.iter().enumerate() {
            if w == 0 {
                ready.insert(i as TaskId);
            }
        }
        State {
            plan,
            waiting,
            holders,
            slots: vec![EMPTY; n],
            store: Vec::new(),
            free: Vec::new(),
            ready,
            running: 0,
            completed: 0,
            failed: false,
        }
    }

    /// The plan being run.
    pub fn plan(&self) -> &'p Plan {
        self.plan
    }

    /// The ready task of lowest priority, now counted as running; `None`
    /// when nothing is ready or after [`fail`](State::fail).
    pub fn pop_ready(&mut self) -> Option<TaskId> {
        if self.failed {
            return None;
        }
        let id = self.ready.pop_min()?;
        self.running += 1;
        Some(id)
    }

    /// How many tasks are ready and not started.
    pub fn ready_len(&self) -> usize {
        if self.failed {
            0
        } else {
            self.ready.len()
        }
    }

    /// How many tasks were handed out and not completed.
    pub fn running(&self) -> usize {
        self.running
    }

    /// How many tasks completed.
    pub fn completed(&self) -> usize {
        self.completed
    }

    /// The values of task `id`'s inputs, in evaluation order (with
    /// repeats).
    ///
    /// # Panics
    ///
    /// When an input is not computed (the task was not handed out by
    /// [`pop_ready`](State::pop_ready)).
    pub fn inputs(&self, id: TaskId) -> impl ExactSizeIterator<Item = &V> + '_ {
        self.plan.deps().of(id).iter().map(|&d| {
            self.store
                .get(self.slots[d as usize] as usize)
                .and_then(Option::as_ref)
                .expect("inputs of a ready task are computed")
        })
    }

    /// Appends the values of task `id`'s inputs to `out`, in evaluation
    /// order (with repeats), as [`inputs`](State::inputs) gives them, except
    /// that an input `id` is the last task to need is moved out instead of
    /// cloned: its value is dropped where the task consumes it, outside
    /// whatever lock guards the state, and its slot is freed when `id`
    /// completes. The values are gone if `id` fails, so an executor that
    /// retries a task ([`requeue`](State::requeue)) must use `inputs`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rask::{graph, Plan};
    /// use rask::State;
    /// fn inc(x: i64) -> i64 { x + 1 }
    /// fn add(a: i64, b: i64) -> i64 { a + b }
    /// let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (add, "x", "y") };
    /// let plan = Plan::for_keys(&g, &["z".into()]).unwrap();
    /// let mut s: State<Arc<i64>> = State::new(&plan);
    /// let x = s.pop_ready().unwrap();
    /// s.complete(x, Arc::new(1), &mut |_| {});
    /// let (y, mut inputs) = (s.pop_ready().unwrap(), Vec::new());
    /// s.take_inputs(y, &mut inputs); // z needs x too: shared
    /// assert_eq!(Arc::strong_count(&inputs[0]), 2);
    /// inputs.clear();
    /// s.complete(y, Arc::new(2), &mut |_| {});
    /// let z = s.pop_ready().unwrap();
    /// s.take_inputs(z, &mut inputs); // z is the last to need x and y: moved
    /// assert_eq!(inputs.iter().map(Arc::strong_count).collect::<Vec<_>>(), [1, 1]);
    /// ```
    ///
    /// # Panics
    ///
    /// When an input is not computed (the task was not handed out by
    /// [`pop_ready`](State::pop_ready)).
    pub fn take_inputs(&mut self, id: TaskId, out: &mut Vec<V>)
    where
        V: Clone,
    {
        let deps = self.plan.deps().of(id);
        out.reserve(deps.len());
        for &d in deps {
            let slot = self
                .store
                .get_mut(self.slots[d as usize] as usize)
                .expect("inputs of a ready task are computed");
            // a holder count of 1 is `id`'s only reference to `d`
            let value = if self.holders[d as usize] == 1 {
                slot.take()
            } else {
                slot.clone()
            };
            out.push(value.expect("inputs of a ready task are computed"));
        }
    }

    /// The value of task `id`, which must be computed and not released.
    ///
    /// # Panics
    ///
    /// When it is not.
    pub fn value(&self, id: TaskId) -> &V {
        self.store
            .get(self.slots[id as usize] as usize)
            .and_then(Option::as_ref)
            .expect("the value is computed and held")
    }

    /// Records the value of task `id`: dependents whose inputs are now all
    /// computed become ready, and inputs nobody needs any more are released
    /// (`released` is called with each, after its value was dropped).
    pub fn complete(&mut self, id: TaskId, value: V, released: &mut impl FnMut(TaskId)) {
        self.running -= 1;
        self.completed += 1;
        let i = id as usize;
        for &d in self.plan.dependents().of(id) {
            let w = &mut self.waiting[d as usize];
            *w -= 1;
            if *w == 0 {
                self.ready.insert(d);
            }
        }
        for &d in self.plan.deps().of(id) {
            let h = &mut self.holders[d as usize];
            *h -= 1;
            if *h == 0 {
                let slot = std::mem::replace(&mut self.slots[d as usize], EMPTY);
                self.store[slot as usize] = None;
                self.free.push(slot);
                released(d);
            }
        }
        if self.holders[i] > 0 {
            let slot = match self.free.pop() {
                Some(slot) => {
                    self.store[slot as usize] = Some(value);
                    slot
                }
                None => {
                    self.store.push(Some(value));
                    (self.store.len() - 1) as u32
                }
            };
            self.slots[i] = slot;
        } else {
            drop(value);
            released(id);
        }
    }

    /// Records that task `id` failed: nothing more is handed out.
    pub fn fail(&mut self, _id: TaskId) {
        self.running -= 1;
        self.failed = true;
    }

    /// Claims the task that task `id` (handed out, not completed) leads
    /// to, when it is the only dependent of `id` and every other input of
    /// it is computed: it will be ready as soon as `id` completes, so an
    /// executor can run it right after `id` in the same place, without a
    /// round trip. The claimed task counts as running; complete it (after
    /// `id`) with [`complete`](State::complete).
    pub fn claim_next(&mut self, id: TaskId) -> Option<TaskId> {
        if self.failed {
            return None;
        }
        let dependents = self.plan.dependents().of(id);
        let &d = dependents.first()?;
        if dependents.iter().any(|&x| x != d) {
            return None;
        }
        // `d` waits on `id` once per time it names it (its repeats in
        // `dependents`): if it waits on nothing more, the rest is computed
        if self.waiting[d as usize] as usize != dependents.len() {
            return None;
        }
        // `complete(id)` counts this down without ever reaching zero, so
        // the claimed task is never put among the ready ones
        self.waiting[d as usize] = CLAIMED;
        self.running += 1;
        Some(d)
    }

    /// Puts running task `id` back, to run again (its worker died and the
    /// executor retries it elsewhere): among the ready tasks when its
    /// inputs are computed, else (a task [claimed](State::claim_next)
    /// behind one lost with it) back to waiting for the inputs that are
    /// not, which make it ready when they complete. Requeue every task the
    /// worker held, in any order; none of them may be completed.
    pub fn requeue(&mut self, id: TaskId) {
        self.running -= 1;
        // an input that completed is held while `id` needs it, so a task
        // whose value has a slot is computed (once per time `id` names it)
        let missing = self
            .plan
            .deps()
            .of(id)
            .iter()
            .filter(|&&d| self.slots[d as usize] == EMPTY)
            .count() as u32;
        self.waiting[id as usize] = missing;
        if missing == 0 {
            self.ready.insert(id);
        }
    }

    /// Stops handing out tasks (an executor-level failure).
    pub fn stop(&mut self) {
        self.failed = true;
    }

    /// Whether [`fail`](State::fail) or [`stop`](State::stop) was called.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Whether every task completed.
    pub fn is_finished(&self) -> bool {
        self.completed == self.plan.len()
    }

    /// Whether no task can make progress any more: finished, or failed
    /// with nothing running.
    pub fn is_over(&self) -> bool {
        self.is_finished() || (self.failed && self.running == 0)
    }

    /// How many values are held right now.
    pub fn live_values(&self) -> usize {
        self.store.len() - self.free.len()
    }

    /// The values of the requested keys, in the order asked.
    ///
    /// # Panics
    ///
    /// When the computation is not finished.
    pub fn into_outputs(self) -> Vec<V>
    where
        V: Clone,
    {
        self.plan
            .outputs()
            .iter()
            .map(|&o| {
                self.store[self.slots[o as usize] as usize]
                    .clone()
                    .expect("outputs are computed")
            })
            .collect()
    }
}

const EMPTY: u32 = u32::MAX;
/// The `waiting` count of a claimed task: far from zero.
const CLAIMED: u32 = u32::MAX / 2;
