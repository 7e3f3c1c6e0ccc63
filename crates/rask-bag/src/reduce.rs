//! Aggregations: tree reductions over the partitions of a bag.
//!
//! Every aggregation is three functions: `part` reduces one partition (in
//! the same task as the fused operations before it, so `read_text(..)
//! .map(f).frequencies()` reads, maps and counts in one pass), `combine`
//! merges up to [`SPLIT_EVERY`] partial results, and `finish` turns the
//! last one into the answer. For 20 partitions:
//!
//! ```text
//! ('count-part-…', 0) … ('count-part-…', 7)   → ('count-agg-…', 0, 0)
//! ('count-part-…', 8) … ('count-part-…', 15)  → ('count-agg-…', 0, 1)
//! ('count-part-…', 16) … ('count-part-…', 19) → ('count-agg-…', 0, 2)
//! ('count-agg-…', 0, 0..3)                     → ('count-…', 0)
//! ```
//!
//! A combining task is the last to need its inputs, so it is handed them
//! (see [`Function::owning`]): it merges into the first partial result
//! itself, moving the entries of the others, instead of copying them.
//!
//! The answer is the key `(name, 0)`: an [`Item`] for scalars (`count`,
//! `sum`, `fold`), or the one partition of a bag for aggregations whose
//! answer is a sequence (`frequencies`, `foldby`, `topk`, `distinct`), as
//! in Dask.

use std::borrow::Cow;
use std::hash::Hash;
use std::ops::Add;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use indexmap::map::Entry;
use indexmap::IndexMap;
use rask_graph::{Arity, CallError, Function, Key, Task, Value};
use rustc_hash::FxBuildHasher;

use crate::bag::{part_arg, part_task, Bag, Element};
use crate::error::BagError;
use crate::fragment::Fragment;
use crate::item::Item;
use crate::pipe::{self, items, Pipe, Stop};
use crate::tally::Tally;
use crate::token;
use crate::wire;

/// How many partial results one task of a reduction tree combines.
pub const SPLIT_EVERY: usize = 8;

/// Map with insertion order and a fast deterministic hash.
pub(crate) type OrderedMap<K, V> = IndexMap<K, V, FxBuildHasher>;

/// The partial results given to a combining task, in partition order:
/// each one taken when the task holds its only reference (it is the last
/// to need it, as in a reduction tree), borrowed otherwise.
fn partials<A: Clone + Send + Sync + 'static>(
    args: &mut [Value],
) -> Result<Vec<Cow<'_, A>>, CallError> {
    let mut out = Vec::with_capacity(args.len());
    for (i, v) in args.iter_mut().enumerate() {
        if let Some(a) = v.take_unique::<A>() {
            out.push(Cow::Owned(a));
            continue;
        }
        let v: &Value = v;
        match v.downcast_ref::<A>() {
            Some(a) => out.push(Cow::Borrowed(a)),
            None => return Err(CallError::arg_type::<A>(i + 1, v)),
        }
    }
    Ok(out)
}

/// The operation of a name `OP-TOKEN`.
fn op_of(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(op, _)| op)
}

/// The fragment of a tree reduction of `bag` whose key `(name, 0)` holds
/// `finish(combine(..))` of the partial results `part` makes.
pub(crate) fn tree<T, A, R>(
    bag: &Bag<T>,
    name: &Arc<str>,
    part: impl Fn(&dyn Pipe<T>, usize, &[Value]) -> Result<A, BagError> + Send + Sync + 'static,
    combine: impl Fn(Vec<Cow<'_, A>>) -> A + Send + Sync + 'static,
    finish: impl Fn(A) -> R + Send + Sync + 'static,
) -> Arc<Fragment>
where
    T: Element,
    A: Clone + Send + Sync + 'static,
    R: Send + Sync + 'static,
{
    let op = op_of(name);
    let stage = bag.stage();
    let pipe = stage.pipe.clone();
    let part_f = Function::dynamic(
        &format!("{op}-part"),
        Arity::at_least(1),
        move |args: &[Value]| Ok(Value::opaque(part(&*pipe, part_arg(args), &args[1..])?)),
    );
    let combine = Arc::new(combine);
    let combine_f = {
        let combine = combine.clone();
        Function::owning(
            &format!("{op}-combine"),
            Arity::at_least(1),
            move |args: &mut [Value]| Ok(Value::opaque(combine(partials::<A>(args)?))),
        )
    };
    let final_f = Function::owning(op, Arity::at_least(1), move |args: &mut [Value]| {
        Ok(Value::opaque(finish(combine(partials::<A>(args)?))))
    });
    let part_name = token::name(&format!("{op}-part"), &**name);
    let agg_name = token::name(&format!("{op}-agg"), &**name);
    let mut tasks = Vec::new();
    let mut level: Vec<Key> = Vec::with_capacity(bag.npartitions());
    for (i, inputs) in stage.inputs.iter().enumerate() {
        let key = Key::from((&*part_name, i));
        tasks.push((key.clone(), part_task(&part_f, i, inputs)));
        level.push(key);
    }
    let mut depth = 0;
    while level.len() > SPLIT_EVERY {
        let mut next = Vec::with_capacity(level.len().div_ceil(SPLIT_EVERY));
        for (j, chunk) in level.chunks(SPLIT_EVERY).enumerate() {
            let key = Key::from((&*agg_name, depth, j));
            tasks.push((key.clone(), Task::call(&combine_f, chunk.iter())));
            next.push(key);
        }
        level = next;
        depth += 1;
    }
    tasks.push((Key::from((&**name, 0)), Task::call(&final_f, level.iter())));
    Fragment::new(tasks, stage.deps.clone())
}

/// Numbers whose [`mean`](Bag::mean) a bag can take.
pub trait Number: Copy {
    /// The number as a float.
    fn to_f64(self) -> f64;
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Number for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
number!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

/// Folds `pipe`'s items of one partition by reference.
fn fold_ref<T: 'static, A>(
    pipe: &dyn Pipe<T>,
    part: usize,
    inputs: &[Value],
    mut acc: A,
    mut step: impl FnMut(&mut A, &T),
) -> Result<A, BagError> {
    pipe::finish(pipe.run_ref(part, inputs, &mut |x| {
        step(&mut acc, x);
        Ok(())
    }))?;
    Ok(acc)
}

/// Folds `pipe`'s items of one partition by value.
fn fold_owned<T: 'static, A>(
    pipe: &dyn Pipe<T>,
    part: usize,
    inputs: &[Value],
    mut acc: A,
    mut step: impl FnMut(&mut A, T),
) -> Result<A, BagError> {
    pipe::finish(pipe.run(part, inputs, &mut |x| {
        step(&mut acc, x);
        Ok(())
    }))?;
    Ok(acc)
}

impl<T: Element> Bag<T> {
    /// A bag of one partition holding the result of a tree reduction.
    fn reduced<A, U>(
        &self,
        name: Arc<str>,
        part: impl Fn(&dyn Pipe<T>, usize, &[Value]) -> Result<A, BagError> + Send + Sync + 'static,
        combine: impl Fn(Vec<Cow<'_, A>>) -> A + Send + Sync + 'static,
        finish: impl Fn(A) -> Vec<U> + Send + Sync + 'static,
    ) -> Bag<U>
    where
        A: Clone + Send + Sync + 'static,
        U: Element,
    {
        let fragment = tree(self, &name, part, combine, finish);
        Bag::keyed(name, 1, fragment)
    }

    /// The number of items.
    ///
    /// ```
    /// let b = rask::bag::from_sequence((0..100).collect::<Vec<i32>>(), 7);
    /// assert_eq!(b.filter(|x| x % 3 == 0).count().compute(&rask::Sync).unwrap(), 34);
    /// ```
    pub fn count(&self) -> Item<usize> {
        let name = token::name("count", self.name());
        let fragment = tree(
            self,
            &name,
            |pipe, part, inputs| fold_ref(pipe, part, inputs, 0_usize, |n, _| *n += 1),
            |xs| xs.iter().map(|n| **n).sum(),
            |n| n,
        );
        Item::new(name, fragment)
    }

    /// The sum of the items (`T::default()` for an empty bag).
    pub fn sum(&self) -> Item<T>
    where
        T: Add<Output = T> + Default,
    {
        let name = token::name("sum", self.name());
        let fragment = tree(
            self,
            &name,
            |pipe, part, inputs| {
                fold_owned(pipe, part, inputs, T::default(), |acc, x| {
                    *acc = std::mem::take(acc) + x
                })
            },
            |xs: Vec<Cow<'_, T>>| xs.into_iter().fold(T::default(), |a, b| a + b.into_owned()),
            |x| x,
        );
        Item::new(name, fragment)
    }

    /// The smallest item (`None` for an empty bag; of equal items, the
    /// first).
    pub fn min(&self) -> Item<Option<T>>
    where
        T: PartialOrd,
    {
        self.best("min", |x, best| x < best)
    }

    /// The largest item (`None` for an empty bag; of equal items, the
    /// first).
    pub fn max(&self) -> Item<Option<T>>
    where
        T: PartialOrd,
    {
        self.best("max", |x, best| x > best)
    }

    fn best(&self, op: &str, better: fn(&T, &T) -> bool) -> Item<Option<T>> {
        wire::option::<T>();
        let name = token::name(op, self.name());
        let fragment = tree(
            self,
            &name,
            move |pipe, part, inputs| {
                fold_ref(pipe, part, inputs, None, |best: &mut Option<T>, x| {
                    if best.as_ref().is_none_or(|b| better(x, b)) {
                        *best = Some(x.clone());
                    }
                })
            },
            move |xs: Vec<Cow<'_, Option<T>>>| {
                let mut best: Option<&T> = None;
                for x in xs.iter().filter_map(|x| x.as_ref().as_ref()) {
                    if best.is_none_or(|b| better(x, b)) {
                        best = Some(x);
                    }
                }
                best.cloned()
            },
            |x| x,
        );
        Item::new(name, fragment)
    }

    /// The mean of the items (`None` for an empty bag).
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![1, 2, 3, 4], 3);
    /// assert_eq!(b.mean().compute(&rask::Sync).unwrap(), Some(2.5));
    /// ```
    pub fn mean(&self) -> Item<Option<f64>>
    where
        T: Number,
    {
        let name = token::name("mean", self.name());
        wire::pair::<f64, u64>();
        wire::option::<f64>();
        let fragment = tree(
            self,
            &name,
            |pipe, part, inputs| {
                fold_ref(pipe, part, inputs, (0.0, 0_u64), |acc, x| {
                    acc.0 += x.to_f64();
                    acc.1 += 1;
                })
            },
            |xs: Vec<Cow<'_, (f64, u64)>>| xs.iter().fold((0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
            |(sum, n)| (n > 0).then(|| sum / n as f64),
        );
        Item::new(name, fragment)
    }

    /// The variance of the items (divisor `n`, Dask's `var()`; `None`
    /// for an empty bag). Partials are `(n, mean, M2)`, merged as Chan et
    /// al. do, so large means lose no precision.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![1, 2, 3, 4], 3);
    /// assert_eq!(b.var().compute(&rask::Sync).unwrap(), Some(1.25));
    /// assert_eq!(b.std_ddof(1.0).compute(&rask::Sync).unwrap(), Some((5.0_f64 / 3.0).sqrt()));
    /// ```
    pub fn var(&self) -> Item<Option<f64>>
    where
        T: Number,
    {
        self.moments("var", 0.0, false)
    }

    /// The variance with divisor `n - ddof` (Dask's `var(ddof)`); `None`
    /// when `n - ddof` is not positive.
    pub fn var_ddof(&self, ddof: f64) -> Item<Option<f64>>
    where
        T: Number,
    {
        self.moments("var", ddof, false)
    }

    /// The standard deviation of the items (divisor `n`, Dask's `std()`).
    pub fn std(&self) -> Item<Option<f64>>
    where
        T: Number,
    {
        self.moments("std", 0.0, true)
    }

    /// The standard deviation with divisor `n - ddof`.
    pub fn std_ddof(&self, ddof: f64) -> Item<Option<f64>>
    where
        T: Number,
    {
        self.moments("std", ddof, true)
    }

    fn moments(&self, op: &str, ddof: f64, sqrt: bool) -> Item<Option<f64>>
    where
        T: Number,
    {
        let name = token::name(op, (self.name(), ddof.to_bits()));
        wire::triple::<f64, f64, f64>();
        wire::option::<f64>();
        let fragment = tree(
            self,
            &name,
            |pipe, part, inputs| {
                fold_ref(pipe, part, inputs, (0.0_f64, 0.0_f64, 0.0_f64), |acc, x| {
                    chan(acc, &(1.0, x.to_f64(), 0.0));
                })
            },
            |xs: Vec<Cow<'_, (f64, f64, f64)>>| {
                let mut all = (0.0, 0.0, 0.0);
                for x in &xs {
                    chan(&mut all, x);
                }
                all
            },
            move |(n, _, m2)| {
                (n - ddof > 0.0).then(|| {
                    let v = m2 / (n - ddof);
                    if sqrt {
                        v.sqrt()
                    } else {
                        v
                    }
                })
            },
        );
        Item::new(name, fragment)
    }

    /// Folds the items: each partition from `init()` with `step`, then
    /// the partial results with `combine` (which must be associative, and
    /// `init()` its identity).
    ///
    /// ```
    /// let words = rask::bag::from_sequence(vec!["a", "bb", "ccc"], 2);
    /// let letters = words.fold(|| 0, |n, w| *n += w.len(), |n, m| *n += m);
    /// assert_eq!(letters.compute(&rask::Sync).unwrap(), 6);
    /// ```
    pub fn fold<A: Element>(
        &self,
        init: impl Fn() -> A + Send + Sync + 'static,
        step: impl Fn(&mut A, T) + Send + Sync + 'static,
        combine: impl Fn(&mut A, &A) + Send + Sync + 'static,
    ) -> Item<A> {
        let name = token::name("fold", (self.name(), token::sequence()));
        let fragment = tree(
            self,
            &name,
            move |pipe, part, inputs| fold_owned(pipe, part, inputs, init(), &step),
            move |xs: Vec<Cow<'_, A>>| merge_all(xs, &combine),
            |a| a,
        );
        Item::new(name, fragment)
    }

    /// Dask's `reduction`: `perpartition` reduces each partition (all its
    /// items at once), `aggregate` reduces lists of those results, at each
    /// level of the tree.
    ///
    /// ```
    /// let b = rask::bag::from_sequence((1..=10).collect::<Vec<u64>>(), 3);
    /// let top = b.reduction(|p| p.into_iter().max().unwrap_or(0), |xs| xs.into_iter().max().unwrap_or(0));
    /// assert_eq!(top.compute(&rask::Sync).unwrap(), 10);
    /// ```
    pub fn reduction<A: Element>(
        &self,
        perpartition: impl Fn(Vec<T>) -> A + Send + Sync + 'static,
        aggregate: impl Fn(Vec<A>) -> A + Send + Sync + 'static,
    ) -> Item<A> {
        let name = token::name("reduction", (self.name(), token::sequence()));
        let fragment = tree(
            self,
            &name,
            move |pipe, part, inputs| {
                let all = fold_owned(pipe, part, inputs, Vec::new(), |v, x| v.push(x))?;
                Ok(perpartition(all))
            },
            move |xs: Vec<Cow<'_, A>>| aggregate(xs.into_iter().map(Cow::into_owned).collect()),
            |a| a,
        );
        Item::new(name, fragment)
    }

    /// Folds the items of each key, in Dask's argument order: `key`
    /// groups them, `binop(acc, item)` folds a group's items in each
    /// partition starting from `initial`, and `combine(acc, acc)` merges
    /// the accumulators of a key starting from `combine_initial` (it must
    /// be associative: partials are merged as a tree). One partition of
    /// `(key, accumulator)` pairs, keys in the order they first appear.
    ///
    /// Unlike [`groupby`](Bag::groupby), nothing is shuffled: each
    /// partition sends one accumulator per key. See
    /// [`foldby_in_place`](Bag::foldby_in_place) for accumulators updated
    /// in place.
    ///
    /// ```
    /// let b = rask::bag::from_sequence((1..=10).collect::<Vec<i64>>(), 3);
    /// let sums = b.foldby(|x| x % 2 == 0, |acc, x| acc + x, 0, |a, b| a + b, 0);
    /// assert_eq!(sums.compute(&rask::Sync).unwrap(), [(false, 25), (true, 30)]);
    /// ```
    pub fn foldby<K, A>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        binop: impl Fn(A, T) -> A + Send + Sync + 'static,
        initial: A,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
        combine_initial: A,
    ) -> Bag<(K, A)>
    where
        K: Element + Hash + Eq,
        A: Element,
    {
        let name = token::name("foldby", (self.name(), token::sequence()));
        wire::map_of_options::<K, A>();
        wire::pair::<K, A>();
        let combine = Arc::new(combine);
        let merge = Arc::clone(&combine);
        self.reduced(
            name,
            move |pipe, part, inputs| {
                fold_owned(pipe, part, inputs, OrderedMap::default(), |m, x| {
                    let slot: &mut Option<A> = m.entry(key(&x)).or_insert(None);
                    let acc = slot.take().unwrap_or_else(|| initial.clone());
                    *slot = Some(binop(acc, x));
                })
            },
            move |xs: Vec<Cow<'_, OrderedMap<K, Option<A>>>>| {
                merge_maps(xs, |a, b| {
                    if let (Some(x), Some(y)) = (a.take(), b) {
                        *a = Some(merge(x, y.clone()));
                    }
                })
            },
            move |m| {
                m.into_iter()
                    .filter_map(|(k, a)| a.map(|a| (k, combine(combine_initial.clone(), a))))
                    .collect()
            },
        )
    }

    /// [`foldby`](Bag::foldby) with accumulators updated in place (no
    /// move per item): `key` groups the items, `binop` folds a
    /// group's items into an accumulator that starts as `init()`, and
    /// `combine` merges the accumulators of a key from different
    /// partitions. One partition of `(key, accumulator)` pairs, keys in
    /// the order they first appear.
    ///
    /// Unlike [`groupby`](Bag::groupby), nothing is shuffled: each
    /// partition sends one accumulator per key.
    ///
    /// ```
    /// let b = rask::bag::from_sequence((1..=10).collect::<Vec<i64>>(), 3);
    /// let sums = b.foldby_in_place(|x| x % 2 == 0, || 0, |s, x| *s += x, |s, t| *s += t);
    /// assert_eq!(sums.compute(&rask::Sync).unwrap(), [(false, 25), (true, 30)]);
    /// ```
    pub fn foldby_in_place<K, A>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        init: impl Fn() -> A + Send + Sync + 'static,
        binop: impl Fn(&mut A, T) + Send + Sync + 'static,
        combine: impl Fn(&mut A, &A) + Send + Sync + 'static,
    ) -> Bag<(K, A)>
    where
        K: Element + Hash + Eq,
        A: Element,
    {
        let name = token::name("foldby", (self.name(), token::sequence()));
        wire::map::<K, A>();
        wire::pair::<K, A>();
        self.reduced(
            name,
            move |pipe, part, inputs| {
                fold_owned(pipe, part, inputs, OrderedMap::default(), |m, x| {
                    let a = m.entry(key(&x)).or_insert_with(&init);
                    binop(a, x);
                })
            },
            move |xs: Vec<Cow<'_, OrderedMap<K, A>>>| merge_maps(xs, |a, b| combine(a, b)),
            |m| m.into_iter().collect(),
        )
    }

    /// How often each distinct item occurs (Dask's `frequencies()`): one
    /// partition of `(item, count)` pairs, in the order the items first
    /// appear.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec!["a", "b", "a", "c", "b", "a"], 4);
    /// let f = b.frequencies().compute(&rask::Sync).unwrap();
    /// assert_eq!(f, [("a", 3), ("b", 2), ("c", 1)]);
    /// ```
    pub fn frequencies(&self) -> Bag<(T, u64)>
    where
        T: Hash + Eq,
    {
        self.counted(false)
    }

    /// [`frequencies`](Bag::frequencies) by count, most frequent first
    /// (equal counts in the order they first appear): Dask's
    /// `frequencies(sort=True)`.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec!["c", "b", "a", "b", "a", "a"], 4);
    /// let f = b.frequencies_sorted().compute(&rask::Sync).unwrap();
    /// assert_eq!(f, [("a", 3), ("b", 2), ("c", 1)]);
    /// ```
    pub fn frequencies_sorted(&self) -> Bag<(T, u64)>
    where
        T: Hash + Eq,
    {
        self.counted(true)
    }

    fn counted(&self, sort: bool) -> Bag<(T, u64)>
    where
        T: Hash + Eq,
    {
        let name = token::name("frequencies", (self.name(), sort));
        wire::map::<T, u64>();
        wire::pair::<T, u64>();
        // the number of distinct items the last partition counted: the
        // next one starts with room for as many (partitions are alike more
        // often than not), not growing its table step by step
        let last = Arc::new(AtomicUsize::new(0));
        self.reduced(
            name,
            // counts in the order items first appear: in a partition, and
            // then over partitions, as partials are merged in order
            move |pipe, part, inputs| {
                let tally = Tally::with_capacity(last.load(Ordering::Relaxed));
                let tally = if pipe.lends() {
                    fold_ref(pipe, part, inputs, tally, Tally::add_ref)
                } else {
                    fold_owned(pipe, part, inputs, tally, Tally::add)
                }?;
                last.store(tally.len(), Ordering::Relaxed);
                Ok(tally.into_ordered())
            },
            |xs: Vec<Cow<'_, OrderedMap<T, u64>>>| merge_maps(xs, |n, m| *n += m),
            move |m| {
                let mut v: Vec<(T, u64)> = m.into_iter().collect();
                if sort {
                    // stable: equal counts stay in order of appearance
                    v.sort_by_key(|x| std::cmp::Reverse(x.1));
                }
                v
            },
        )
    }

    /// The `k` items with the largest `key`, largest first (of items with
    /// equal keys, the first ones): one partition.
    ///
    /// ```
    /// use std::cmp::Reverse;
    /// let b = rask::bag::from_sequence(vec![("a", 1), ("b", 5), ("c", 5), ("d", 3)], 3);
    /// let top = b.topk(2, |x| x.1).compute(&rask::Sync).unwrap();
    /// assert_eq!(top, [("b", 5), ("c", 5)]);
    /// // smallest instead: reverse the key
    /// assert_eq!(b.topk(1, |x| Reverse(x.1)).compute(&rask::Sync).unwrap(), [("a", 1)]);
    /// ```
    pub fn topk<K>(&self, k: usize, key: impl Fn(&T) -> K + Send + Sync + 'static) -> Bag<T>
    where
        K: Ord + Element,
    {
        let name = token::name("topk", (self.name(), k, token::sequence()));
        wire::pair::<K, T>();
        wire::list::<(K, T)>();
        self.reduced(
            name,
            move |pipe, part, inputs| {
                // the k-th best key so far, once there are k: a later item
                // whose key is not above it cannot enter (ties keep the
                // first), and is not copied
                let start = (Vec::new(), None::<K>);
                let (mut best, _) = fold_ref(pipe, part, inputs, start, |(v, kth), x| {
                    let kx = key(x);
                    if kth.as_ref().is_some_and(|t| kx <= *t) {
                        return;
                    }
                    v.push((kx, x.clone()));
                    if v.len() >= 2 * k.max(16) {
                        keep_top(v, k);
                        *kth = k.checked_sub(1).and_then(|i| v.get(i)).map(|e| e.0.clone());
                    }
                })?;
                keep_top(&mut best, k);
                Ok(best)
            },
            move |xs: Vec<Cow<'_, Vec<(K, T)>>>| {
                let mut all = Vec::with_capacity(xs.iter().map(|x| x.len()).sum());
                for x in xs {
                    match x {
                        Cow::Owned(x) => all.extend(x),
                        Cow::Borrowed(x) => all.extend(x.iter().cloned()),
                    }
                }
                keep_top(&mut all, k);
                all
            },
            |v| v.into_iter().map(|(_, x)| x).collect(),
        )
    }

    /// The distinct items, in the order they first appear: one partition.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![3, 1, 3, 2, 1], 2);
    /// assert_eq!(b.distinct().compute(&rask::Sync).unwrap(), [3, 1, 2]);
    /// ```
    pub fn distinct(&self) -> Bag<T>
    where
        T: Hash + Eq,
    {
        let name = token::name("distinct", self.name());
        wire::map::<T, ()>();
        self.reduced(
            name,
            |pipe, part, inputs| {
                if pipe.lends() {
                    fold_ref(pipe, part, inputs, OrderedMap::default(), |s, x| {
                        if !s.contains_key(x) {
                            s.insert(x.clone(), ());
                        }
                    })
                } else {
                    fold_owned(pipe, part, inputs, OrderedMap::default(), |s, x| {
                        s.insert(x, ());
                    })
                }
            },
            |xs: Vec<Cow<'_, OrderedMap<T, ()>>>| merge_maps(xs, |_, _| {}),
            |s| s.into_keys().collect(),
        )
    }

    /// The first `n` items: one partition. The partitions are read in
    /// order, each by a task that runs only when the ones before gave
    /// fewer than `n` items, and stops reading as soon as it has them; so
    /// `read_text(..).take(5)` reads only the start of the first file.
    /// (Partitions that are the result of tasks, such as a `groupby`, are
    /// computed as a whole before.)
    ///
    /// ```
    /// let b = rask::bag::from_sequence((0..100).collect::<Vec<i32>>(), 10);
    /// assert_eq!(b.map(|x| x * 2).take(3).compute(&rask::Sync).unwrap(), [0, 2, 4]);
    /// ```
    pub fn take(&self, n: usize) -> Bag<T> {
        let name = token::name("take", (self.name(), n));
        let chain = token::name("take-chain", &*name);
        let stage = self.stage();
        let pipe = stage.pipe.clone();
        let f = Function::dynamic("take", Arity::at_least(2), move |args: &[Value]| {
            let part = part_arg(args);
            let prev = &args[1];
            let mut out: Vec<T> = match prev {
                Value::Null => Vec::new(),
                v => {
                    let before = items::<T>(v)?;
                    if before.len() >= n {
                        return Ok(v.clone());
                    }
                    before.clone()
                }
            };
            if out.len() < n {
                pipe::finish(pipe.run(part, &args[2..], &mut |x| {
                    out.push(x);
                    if out.len() >= n {
                        Err(Stop::Done)
                    } else {
                        Ok(())
                    }
                }))?;
            }
            Ok(Value::opaque(out))
        });
        let last = stage.inputs.len() - 1;
        let mut tasks = Vec::with_capacity(stage.inputs.len());
        let mut prev = Task::Quote(Value::Null);
        for (i, inputs) in stage.inputs.iter().enumerate() {
            let key = if i == last {
                Key::from((&*name, 0))
            } else {
                Key::from((&*chain, i))
            };
            let mut args = vec![Task::Quote(Value::Int(i as i64)), prev];
            args.extend(inputs.iter().map(|k| Task::Key(k.clone())));
            tasks.push((key.clone(), Task::Call(f.clone(), args.into())));
            prev = Task::Key(key);
        }
        Bag::keyed(name, 1, Fragment::new(tasks, stage.deps.clone()))
    }
}

impl<T: Element> Bag<T> {
    /// The running accumulation of the items (Dask's `accumulate(binop)`):
    /// item `i` of the result is `binop` folded over items `0..=i`, in
    /// order across partitions. The partitions stay as they are; a small
    /// task per partition carries the last value to the next one, so
    /// partitions are accumulated one after the other.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![1, 2, 3, 4, 5], 2);
    /// assert_eq!(b.accumulate(|a, x| a + x).compute(&rask::Sync).unwrap(), [1, 3, 6, 10, 15]);
    /// ```
    pub fn accumulate(&self, binop: impl Fn(T, T) -> T + Send + Sync + 'static) -> Bag<T> {
        self.accumulated(None, move |acc: Option<T>, x| match acc {
            None => x,
            Some(a) => binop(a, x),
        })
    }

    /// The running accumulation from `initial`, which comes first (Dask's
    /// `accumulate(binop, initial)`).
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![1, 2, 3, 4, 5], 2);
    /// let running = b.accumulate_from(|a: i64, x| a + x, -1);
    /// assert_eq!(running.compute(&rask::Sync).unwrap(), [-1, 0, 2, 5, 9, 14]);
    /// ```
    pub fn accumulate_from<A: Element>(
        &self,
        binop: impl Fn(A, T) -> A + Send + Sync + 'static,
        initial: A,
    ) -> Bag<A> {
        let first = initial.clone();
        self.accumulated(Some(first), move |acc: Option<A>, x| {
            binop(acc.unwrap_or_else(|| initial.clone()), x)
        })
    }

    /// Partition `i` runs `step` from the last value of partition `i - 1`
    /// (`(carry, i - 1)`); `first` is the initial value, output first.
    fn accumulated<A: Element>(
        &self,
        first: Option<A>,
        step: impl Fn(Option<A>, T) -> A + Send + Sync + 'static,
    ) -> Bag<A> {
        let name = token::name("accumulate", (self.name(), token::sequence()));
        let carry_name = token::name("accumulate-carry", &*name);
        let stage = self.stage();
        let pipe = stage.pipe.clone();
        let f = Function::dynamic("accumulate", Arity::at_least(2), move |args: &[Value]| {
            let part = part_arg(args);
            let mut acc: Option<A> = args[1].get::<A>();
            let mut out: Vec<A> = Vec::new();
            if part == 0 {
                if let Some(a) = &first {
                    out.push(a.clone());
                    acc = Some(a.clone());
                }
            }
            pipe::finish(pipe.run(part, &args[2..], &mut |x| {
                let a = step(acc.take(), x);
                out.push(a.clone());
                acc = Some(a);
                Ok(())
            }))?;
            Ok(Value::opaque(out))
        });
        // the last value of a partition, or the carry it was given
        let carry = Function::dynamic("accumulate-carry", Arity::exactly(2), |args: &[Value]| {
            let part = items::<A>(&args[1])?;
            Ok(match part.last() {
                Some(a) => Value::new(a.clone()),
                None => args[0].clone(),
            })
        });
        let n = stage.inputs.len();
        let mut tasks = Vec::with_capacity(2 * n);
        let mut prev = Task::Quote(Value::Null);
        for (i, inputs) in stage.inputs.iter().enumerate() {
            let key = Key::from((&*name, i));
            let mut args = vec![Task::Quote(Value::Int(i as i64)), prev.clone()];
            args.extend(inputs.iter().map(|k| Task::Key(k.clone())));
            tasks.push((key.clone(), Task::Call(f.clone(), args.into())));
            if i + 1 < n {
                let next = Key::from((&*carry_name, i));
                tasks.push((
                    next.clone(),
                    Task::Call(carry.clone(), Box::new([prev, Task::Key(key)])),
                ));
                prev = Task::Key(next);
            }
        }
        Bag::keyed(name, n, Fragment::new(tasks, stage.deps.clone()))
    }
}

/// Stable-sorts by key, largest first, and keeps the first `k`.
fn keep_top<K: Ord, T>(v: &mut Vec<(K, T)>, k: usize) {
    v.sort_by(|a, b| b.0.cmp(&a.0));
    v.truncate(k);
}

/// `combine` over partial results, starting from the first (a copy of
/// it when it is borrowed).
fn merge_all<A: Clone>(xs: Vec<Cow<'_, A>>, combine: impl Fn(&mut A, &A)) -> A {
    let mut xs = xs.into_iter();
    let mut acc = xs
        .next()
        .map(Cow::into_owned)
        .expect("a combine has inputs");
    for x in xs {
        combine(&mut acc, &x);
    }
    acc
}

impl Bag<bool> {
    /// Whether every item is true (Dask's `all()`; true for an empty
    /// bag). Map to `bool` first: `b.map(|x| x > 0).all()`.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![1, 2, 3], 2);
    /// assert!(b.map(|x| x > 0).all().compute(&rask::Sync).unwrap());
    /// assert!(!b.map(|x| x > 1).all().compute(&rask::Sync).unwrap());
    /// assert!(b.map(|x| x > 2).any().compute(&rask::Sync).unwrap());
    /// ```
    pub fn all(&self) -> Item<bool> {
        self.truth("all", true)
    }

    /// Whether any item is true (Dask's `any()`; false for an empty bag).
    pub fn any(&self) -> Item<bool> {
        self.truth("any", false)
    }

    fn truth(&self, op: &str, all: bool) -> Item<bool> {
        let name = token::name(op, self.name());
        let fragment = tree(
            self,
            &name,
            move |pipe, part, inputs| {
                fold_ref(pipe, part, inputs, all, move |acc, x| {
                    if all {
                        *acc &= *x;
                    } else {
                        *acc |= *x;
                    }
                })
            },
            move |xs: Vec<Cow<'_, bool>>| {
                if all {
                    xs.iter().all(|x| **x)
                } else {
                    xs.iter().any(|x| **x)
                }
            },
            |a| a,
        );
        Item::new(name, fragment)
    }
}

/// Chan et al.'s merge of `(n, mean, M2)` partials.
fn chan(a: &mut (f64, f64, f64), b: &(f64, f64, f64)) {
    if b.0 == 0.0 {
        return;
    }
    if a.0 == 0.0 {
        *a = *b;
        return;
    }
    let n = a.0 + b.0;
    let d = b.1 - a.1;
    a.1 += d * b.0 / n;
    a.2 += b.2 + d * d * a.0 * b.0 / n;
    a.0 = n;
}

/// Merges maps: keys in the order they first appear, values of a key
/// merged with `merge`. Owned maps give their entries up, borrowed ones
/// are copied from.
fn merge_maps<K: Hash + Eq + Clone, A: Clone>(
    xs: Vec<Cow<'_, OrderedMap<K, A>>>,
    merge: impl Fn(&mut A, &A),
) -> OrderedMap<K, A> {
    let mut xs = xs.into_iter();
    let mut all = xs.next().map(Cow::into_owned).unwrap_or_default();
    for m in xs {
        match m {
            Cow::Owned(m) => {
                for (k, a) in m {
                    match all.entry(k) {
                        Entry::Occupied(mut e) => merge(e.get_mut(), &a),
                        Entry::Vacant(e) => {
                            e.insert(a);
                        }
                    }
                }
            }
            Cow::Borrowed(m) => {
                for (k, a) in m {
                    match all.get_mut(k) {
                        Some(acc) => merge(acc, a),
                        None => {
                            all.insert(k.clone(), a.clone());
                        }
                    }
                }
            }
        }
    }
    all
}
