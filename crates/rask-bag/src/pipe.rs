//! Pipes: how one partition of a bag is produced, item by item.
//!
//! A bag does not make a task per operation. `read_text(..).map(f)
//! .filter(g).frequencies()` is one task per partition that reads the
//! lines, applies `f` and `g` and counts, in one pass with no `Vec` in
//! between: the bag keeps a [`Pipe`] (here: a text source, a map and a
//! filter stage) and only the operations that need the partition as a
//! whole (an aggregation, a shuffle, `zip`, computing the bag) make tasks
//! that run it.
//!
//! A pipe *pushes* items into a sink, a closure that returns a [`Flow`]:
//! `Ok` for more, [`Stop::Done`] when the consumer has what it needs (so
//! that `take(5)` stops reading the file), [`Stop::Failed`] to fail, and
//! [`Stop::Skip`] for a malformed record that a skipping stage drops.
//! Sources [`settle`] what comes back: they give failed and skipped
//! records their location (file and line), count the skipped ones and go
//! on.
//!
//! Items flow by value ([`Pipe::run`]); [`Pipe::run_ref`] lends them
//! instead, which saves a clone per item when the source is a computed
//! partition (a `Vec` shared with other tasks) and the consumer only looks
//! (`count`, `frequencies`).

use std::marker::PhantomData;
use std::sync::Arc;

use rask_graph::Value;

use crate::error::{BagError, Location, Skipped};

/// Why a pipe stopped before its end.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The consumer has what it needs: not an error.
    Done,
    /// The computation fails.
    Failed(BagError),
    /// A malformed record to drop and count.
    Skip(Box<SkipRecord>),
}

/// A dropped record and where to count it.
#[derive(Debug)]
pub(crate) struct SkipRecord {
    pub(crate) error: BagError,
    pub(crate) skipped: Skipped,
}

impl From<BagError> for Stop {
    fn from(e: BagError) -> Stop {
        Stop::Failed(e)
    }
}

/// What a sink tells its source.
pub(crate) type Flow = Result<(), Stop>;

/// A sink of items.
pub(crate) type Sink<'a, T> = dyn FnMut(T) -> Flow + 'a;

/// A sink of borrowed items.
pub(crate) type RefSink<'a, T> = dyn FnMut(&T) -> Flow + 'a;

/// Produces one partition's items, given the partition's number and the
/// values of its input keys.
pub(crate) trait Pipe<T>: Send + Sync + 'static {
    /// Pushes the items of partition `part` into `sink`, by value.
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow;

    /// Pushes the items of partition `part` into `sink` by reference.
    fn run_ref(&self, part: usize, inputs: &[Value], sink: &mut RefSink<'_, T>) -> Flow {
        self.run(part, inputs, &mut |x| sink(&x))
    }

    /// Whether [`run_ref`](Pipe::run_ref) saves copies that
    /// [`run`](Pipe::run) makes (true when the items come from a computed
    /// partition).
    fn lends(&self) -> bool {
        false
    }
}

/// A shared pipe.
pub(crate) type SharedPipe<T> = Arc<dyn Pipe<T>>;

/// What a source does with its sink's answer for the record it just
/// pushed: locates a failure at `here`, counts a skipped record, and
/// passes everything else on.
pub(crate) fn settle(flow: Flow, here: impl FnOnce() -> Option<Location>) -> Flow {
    match flow {
        Ok(()) => Ok(()),
        Err(Stop::Failed(e)) => Err(Stop::Failed(e.located(here))),
        Err(Stop::Skip(s)) => {
            let SkipRecord { error, skipped } = *s;
            skipped.add(&error.located(here));
            Ok(())
        }
        Err(Stop::Done) => Err(Stop::Done),
    }
}

/// The end of a whole run: `Done` is success.
pub(crate) fn finish(flow: Flow) -> Result<(), BagError> {
    match flow {
        Ok(()) | Err(Stop::Done) => Ok(()),
        Err(Stop::Failed(e)) => Err(e),
        Err(Stop::Skip(s)) => {
            let SkipRecord { error, skipped } = *s;
            skipped.add(&error);
            Ok(())
        }
    }
}

/// The items of a computed partition.
pub(crate) fn items<T: 'static>(value: &Value) -> Result<&Vec<T>, BagError> {
    value
        .downcast_ref::<Vec<T>>()
        .ok_or_else(|| BagError::PartitionType {
            expected: std::any::type_name::<T>(),
            got: value.type_name(),
        })
}

/// The source over computed partitions: the items of each input value
/// (a `Vec<T>`), in order.
pub(crate) struct Partitions<T>(PhantomData<fn() -> T>);

impl<T> Partitions<T> {
    pub(crate) fn new() -> Partitions<T> {
        Partitions(PhantomData)
    }
}

impl<T: Clone + Send + Sync + 'static> Pipe<T> for Partitions<T> {
    fn run(&self, _part: usize, inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow {
        for v in inputs {
            for x in items::<T>(v)? {
                settle(sink(x.clone()), || None)?;
            }
        }
        Ok(())
    }

    fn run_ref(&self, _part: usize, inputs: &[Value], sink: &mut RefSink<'_, T>) -> Flow {
        for v in inputs {
            for x in items::<T>(v)? {
                settle(sink(x), || None)?;
            }
        }
        Ok(())
    }

    fn lends(&self) -> bool {
        true
    }
}

/// `map(f)`.
pub(crate) struct Map<T, F> {
    pub(crate) inner: SharedPipe<T>,
    pub(crate) f: F,
}

impl<T: 'static, U, F> Pipe<U> for Map<T, F>
where
    F: Fn(T) -> U + Send + Sync + 'static,
{
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, U>) -> Flow {
        self.inner.run(part, inputs, &mut |x| sink((self.f)(x)))
    }
}

/// `filter(f)`.
pub(crate) struct Filter<T, F> {
    pub(crate) inner: SharedPipe<T>,
    pub(crate) f: F,
}

impl<T: 'static, F> Pipe<T> for Filter<T, F>
where
    F: Fn(&T) -> bool + Send + Sync + 'static,
{
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow {
        self.inner.run(part, inputs, &mut |x| {
            if (self.f)(&x) {
                sink(x)
            } else {
                Ok(())
            }
        })
    }

    fn run_ref(&self, part: usize, inputs: &[Value], sink: &mut RefSink<'_, T>) -> Flow {
        self.inner.run_ref(part, inputs, &mut |x| {
            if (self.f)(x) {
                sink(x)
            } else {
                Ok(())
            }
        })
    }

    fn lends(&self) -> bool {
        self.inner.lends()
    }
}

/// `flat_map(f)`.
pub(crate) struct FlatMap<T, F> {
    pub(crate) inner: SharedPipe<T>,
    pub(crate) f: F,
}

impl<T: 'static, I, F> Pipe<I::Item> for FlatMap<T, F>
where
    I: IntoIterator,
    F: Fn(T) -> I + Send + Sync + 'static,
{
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, I::Item>) -> Flow {
        self.inner.run(part, inputs, &mut |x| {
            for y in (self.f)(x) {
                sink(y)?;
            }
            Ok(())
        })
    }
}

/// `try_map(f)`: an error fails the computation, or, with `skipped`, drops
/// the record and counts it.
pub(crate) struct TryMap<T, F> {
    pub(crate) inner: SharedPipe<T>,
    pub(crate) f: F,
    pub(crate) skipped: Option<Skipped>,
}

/// What a failed record becomes: a failure, or a skip counted in `skipped`.
pub(crate) fn reject(error: BagError, skipped: &Option<Skipped>) -> Stop {
    match skipped {
        Some(s) => Stop::Skip(Box::new(SkipRecord {
            error,
            skipped: s.clone(),
        })),
        None => Stop::Failed(error),
    }
}

impl<T: 'static, U, F> Pipe<U> for TryMap<T, F>
where
    F: Fn(T) -> Result<U, BagError> + Send + Sync + 'static,
{
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, U>) -> Flow {
        self.inner.run(part, inputs, &mut |x| match (self.f)(x) {
            Ok(y) => sink(y),
            Err(e) => Err(reject(e, &self.skipped)),
        })
    }
}

/// `map_partitions(f)`: the whole partition at once.
pub(crate) struct MapPartitions<T, F> {
    pub(crate) inner: SharedPipe<T>,
    pub(crate) f: F,
}

impl<T: 'static, I, F> Pipe<I::Item> for MapPartitions<T, F>
where
    I: IntoIterator,
    F: Fn(Vec<T>) -> I + Send + Sync + 'static,
{
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, I::Item>) -> Flow {
        let mut all = Vec::new();
        finish(self.inner.run(part, inputs, &mut |x| {
            all.push(x);
            Ok(())
        }))?;
        for y in (self.f)(all) {
            settle(sink(y), || None)?;
        }
        Ok(())
    }
}

/// Partitions made of several partitions of `inner`, one after the
/// other: `groups[part]` lists `(inner partition, number of its inputs)`.
pub(crate) struct Concat<T> {
    pub(crate) inner: SharedPipe<T>,
    pub(crate) groups: Vec<Vec<(usize, usize)>>,
}

impl<T: 'static> Pipe<T> for Concat<T> {
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow {
        let mut at = 0;
        for &(p, n) in &self.groups[part] {
            self.inner.run(p, &inputs[at..at + n], sink)?;
            at += n;
        }
        Ok(())
    }

    fn run_ref(&self, part: usize, inputs: &[Value], sink: &mut RefSink<'_, T>) -> Flow {
        let mut at = 0;
        for &(p, n) in &self.groups[part] {
            self.inner.run_ref(p, &inputs[at..at + n], sink)?;
            at += n;
        }
        Ok(())
    }

    fn lends(&self) -> bool {
        self.inner.lends()
    }
}

/// A slice of a computed partition: `pieces[part] = (piece, of)` takes
/// the `piece`-th of `of` equal parts of the one input.
pub(crate) struct Slices<T> {
    pub(crate) pieces: Vec<(usize, usize)>,
    pub(crate) _items: PhantomData<fn() -> T>,
}

impl<T: Clone + Send + Sync + 'static> Slices<T> {
    fn range<'v>(&self, part: usize, inputs: &'v [Value]) -> Result<&'v [T], BagError> {
        let all = items::<T>(&inputs[0])?;
        let (piece, of) = self.pieces[part];
        Ok(&all[piece * all.len() / of..(piece + 1) * all.len() / of])
    }
}

impl<T: Clone + Send + Sync + 'static> Pipe<T> for Slices<T> {
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow {
        for x in self.range(part, inputs)? {
            settle(sink(x.clone()), || None)?;
        }
        Ok(())
    }

    fn run_ref(&self, part: usize, inputs: &[Value], sink: &mut RefSink<'_, T>) -> Flow {
        for x in self.range(part, inputs)? {
            settle(sink(x), || None)?;
        }
        Ok(())
    }

    fn lends(&self) -> bool {
        true
    }
}

/// `zip`: the left partition is collected, the right one streamed
/// against it. `split` is the number of inputs of the left side.
pub(crate) struct Zip<A, B> {
    pub(crate) left: SharedPipe<A>,
    pub(crate) right: SharedPipe<B>,
    pub(crate) left_inputs: Vec<usize>,
}

impl<A: 'static, B: 'static> Pipe<(A, B)> for Zip<A, B> {
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, (A, B)>) -> Flow {
        let (li, ri) = inputs.split_at(self.left_inputs[part]);
        let mut left = Vec::new();
        finish(self.left.run(part, li, &mut |x| {
            left.push(x);
            Ok(())
        }))?;
        let n = left.len();
        let mut left = left.into_iter();
        let mut right_len = 0;
        self.right.run(part, ri, &mut |y| {
            right_len += 1;
            match left.next() {
                Some(x) => sink((x, y)),
                None => Ok(()),
            }
        })?;
        if right_len != n {
            return Err(Stop::Failed(BagError::ZipLengths {
                partition: part,
                left: n,
                right: right_len,
            }));
        }
        Ok(())
    }
}

/// `product`: every pair of an item of the left partition and one of the
/// right (both computed partitions).
pub(crate) struct Product<A, B> {
    pub(crate) _items: PhantomData<fn() -> (A, B)>,
}

impl<A, B> Pipe<(A, B)> for Product<A, B>
where
    A: Clone + Send + Sync + 'static,
    B: Clone + Send + Sync + 'static,
{
    fn run(&self, _part: usize, inputs: &[Value], sink: &mut Sink<'_, (A, B)>) -> Flow {
        let left = items::<A>(&inputs[0])?;
        let right = items::<B>(&inputs[1])?;
        for x in left {
            for y in right {
                settle(sink((x.clone(), y.clone())), || None)?;
            }
        }
        Ok(())
    }
}

/// `random_sample(prob, seed)`: keeps item `i` of partition `p` when a
/// hash of `(seed, p, i)` falls below `prob`, so the sample is the same
/// on every run and executor.
pub(crate) struct Sample<T> {
    pub(crate) inner: SharedPipe<T>,
    pub(crate) prob: f64,
    pub(crate) seed: u64,
}

/// SplitMix64's finalizer: a well-mixed 64-bit hash of `z`.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<T: 'static> Sample<T> {
    fn keeps(&self, part: usize, i: u64) -> bool {
        let h = mix(mix(self.seed ^ mix(part as u64)) ^ i);
        ((h >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < self.prob
    }
}

impl<T: 'static> Pipe<T> for Sample<T> {
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow {
        let mut i = 0_u64;
        self.inner.run(part, inputs, &mut |x| {
            i += 1;
            if self.keeps(part, i - 1) {
                sink(x)
            } else {
                Ok(())
            }
        })
    }

    fn run_ref(&self, part: usize, inputs: &[Value], sink: &mut RefSink<'_, T>) -> Flow {
        let mut i = 0_u64;
        self.inner.run_ref(part, inputs, &mut |x| {
            i += 1;
            if self.keeps(part, i - 1) {
                sink(x)
            } else {
                Ok(())
            }
        })
    }

    fn lends(&self) -> bool {
        self.inner.lends()
    }
}
