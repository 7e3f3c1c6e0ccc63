//! [`Bag<T>`]: a lazy, partitioned sequence of `T`, and its
//! element-wise transformations.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use rask_graph::{Arity, Function, Graph, Key, Plan, Task, Value};
use rask_scheduler::{Callback, ComputeError, Executor};

use crate::error::{BagError, Skipped};
use crate::fragment::{self, Fragment};
use crate::pipe::{
    self, Concat, Filter, FlatMap, Map, MapPartitions, Partitions, Pipe, Product, Sample,
    SharedPipe, Sink, Slices, TryMap, Zip,
};
use crate::text::TextSource;
use crate::token;
use crate::wire;

/// What a bag can hold: values that tasks on several threads can share.
pub trait Element: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Element for T {}

/// A lazy, partitioned sequence of `T`s: the bag of Dask.
///
/// A bag is a recipe for a graph: its partitions are the keys
/// `(name, 0) .. (name, n-1)` of [`graph`](Bag::graph), each holding a
/// `Vec<T>` once computed. Operations build new bags and never run
/// anything; [`compute`](Bag::compute) hands the graph to an executor.
/// Element-wise operations (`map`, `filter`, `flat_map`, `pluck`, ...) are
/// fused: a chain of them runs in the one task per partition that needs
/// their result, in one pass.
///
/// Cloning a bag is cheap (it shares its graph).
///
/// ```
/// use rask::bag::from_sequence;
/// use rask::Sync;
/// let b = from_sequence((1..=10).collect::<Vec<i64>>(), 3); // 4 partitions
/// let evens = b.filter(|x| x % 2 == 0).map(|x| x * 10);
/// assert_eq!(evens.compute(&Sync).unwrap(), vec![20, 40, 60, 80, 100]);
/// assert_eq!(evens.count().compute(&Sync).unwrap(), 5);
/// ```
pub struct Bag<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    name: Arc<str>,
    stage: Stage<T>,
    /// Set on the bag `read_text` returns, so that `json` can parse
    /// straight from the file's buffer.
    text: Option<Arc<TextSource>>,
    /// The fragment computing this bag's partitions, made on first need.
    computed: OnceLock<Arc<Fragment>>,
}

/// How each partition of a bag is produced: by `pipe`, from the values of
/// `inputs[i]` (keys defined in `deps`).
pub(crate) struct Stage<T> {
    pub(crate) deps: Vec<Arc<Fragment>>,
    pub(crate) inputs: Arc<[Box<[Key]>]>,
    pub(crate) pipe: SharedPipe<T>,
    /// Whether the bag's own keys are in `deps` (its one fragment), so
    /// that `inputs[i]` is `[(name, i)]` and `pipe` reads them as they are.
    pub(crate) keyed: bool,
    /// How many stages `pipe` fuses.
    pub(crate) depth: usize,
}

/// The most stages fused into one task: a longer chain computes its
/// partitions first (a pipe runs its stages by nested calls).
const MAX_FUSED: usize = 200;

impl<T> Clone for Stage<T> {
    fn clone(&self) -> Self {
        Stage {
            deps: self.deps.clone(),
            inputs: self.inputs.clone(),
            pipe: self.pipe.clone(),
            keyed: self.keyed,
            depth: self.depth,
        }
    }
}

impl<T> Clone for Bag<T> {
    fn clone(&self) -> Self {
        Bag {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Bag<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Bag<{}>({}, {} partitions)",
            std::any::type_name::<T>(),
            self.inner.name,
            self.npartitions()
        )
    }
}

/// The partition keys `(name, 0..n)`.
pub(crate) fn partition_keys(name: &str, n: usize) -> Vec<Key> {
    (0..n).map(|i| Key::from((name, i))).collect()
}

/// The partition number a task gets as its first argument.
pub(crate) fn part_arg(args: &[Value]) -> usize {
    match args.first() {
        Some(Value::Int(i)) => *i as usize,
        _ => 0,
    }
}

/// The task for partition `part` of a function that takes the partition
/// number and then the values of `inputs`.
pub(crate) fn part_task(f: &Function, part: usize, inputs: &[Key]) -> Task {
    let mut args = Vec::with_capacity(inputs.len() + 1);
    args.push(Task::Quote(Value::Int(part as i64)));
    args.extend(inputs.iter().map(|k| Task::Key(k.clone())));
    Task::Call(f.clone(), args.into())
}

/// A value as a `T`: moved out when this was its last handle, else cloned.
pub(crate) fn take_value<R: Clone + Send + Sync + 'static>(mut v: Value) -> Option<R> {
    v.take_unique::<R>().or_else(|| v.get::<R>())
}

/// Computes `keys` of the graph of `fragments` with `executor`; the graph
/// is dropped before the values are returned (so are shuffle files).
pub(crate) fn compute_keys(
    fragments: &[&Arc<Fragment>],
    keys: &[Key],
    executor: &dyn Executor,
    callbacks: &[&dyn Callback],
) -> Result<Vec<Value>, ComputeError> {
    let graph = fragment::build(fragments.iter().copied());
    let plan = Plan::for_keys(&graph, keys)?;
    rask_scheduler::compute(executor, &graph, &plan, callbacks)
}

impl<T> Bag<T> {
    /// The bag's name: `OP-TOKEN`, the first element of its keys.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The number of partitions.
    pub fn npartitions(&self) -> usize {
        self.inner.stage.inputs.len()
    }

    /// The keys of the partitions, `(name, 0) .. (name, n-1)`.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![1, 2, 3], 2);
    /// let keys: Vec<String> = b.keys().iter().map(|k| k.to_string()).collect();
    /// assert_eq!(keys, [format!("('{}', 0)", b.name()), format!("('{}', 1)", b.name())]);
    /// ```
    pub fn keys(&self) -> Vec<Key> {
        partition_keys(&self.inner.name, self.npartitions())
    }
}

impl<T: Element> Bag<T> {
    pub(crate) fn from_stage(name: Arc<str>, stage: Stage<T>) -> Bag<T> {
        wire::partition::<T>();
        Bag {
            inner: Arc::new(Inner {
                name,
                stage,
                text: None,
                computed: OnceLock::new(),
            }),
        }
    }

    pub(crate) fn with_text(name: Arc<str>, stage: Stage<T>, text: Arc<TextSource>) -> Bag<T> {
        wire::partition::<T>();
        Bag {
            inner: Arc::new(Inner {
                name,
                stage,
                text: Some(text),
                computed: OnceLock::new(),
            }),
        }
    }

    /// A bag whose partitions are the keys `(name, i)` of `fragment`, each
    /// a `Vec<T>`.
    pub(crate) fn keyed(name: Arc<str>, n: usize, fragment: Arc<Fragment>) -> Bag<T> {
        let inputs: Arc<[Box<[Key]>]> = partition_keys(&name, n)
            .into_iter()
            .map(|k| vec![k].into_boxed_slice())
            .collect();
        Bag::from_stage(
            name,
            Stage {
                deps: vec![fragment],
                inputs,
                pipe: Arc::new(Partitions::new()),
                keyed: true,
                depth: 0,
            },
        )
    }

    pub(crate) fn stage(&self) -> &Stage<T> {
        &self.inner.stage
    }

    pub(crate) fn text(&self) -> Option<&Arc<TextSource>> {
        self.inner.text.as_ref()
    }

    /// The fragment that defines this bag's keys.
    pub(crate) fn fragment(&self) -> Arc<Fragment> {
        let stage = &self.inner.stage;
        if stage.keyed {
            return stage.deps[0].clone();
        }
        self.inner
            .computed
            .get_or_init(|| {
                let pipe = stage.pipe.clone();
                let f =
                    Function::dynamic(self.op(), Arity::at_least(1), move |args: &[Value]| {
                        let mut out: Vec<T> = Vec::new();
                        pipe::finish(pipe.run(part_arg(args), &args[1..], &mut |x| {
                            out.push(x);
                            Ok(())
                        }))?;
                        Ok(Value::opaque(out))
                    });
                let tasks = self
                    .keys()
                    .into_iter()
                    .zip(stage.inputs.iter())
                    .enumerate()
                    .map(|(i, (key, inputs))| (key, part_task(&f, i, inputs)))
                    .collect();
                Fragment::new(tasks, stage.deps.clone())
            })
            .clone()
    }

    /// The operation in the bag's name (`map` for `map-0123..`).
    fn op(&self) -> &str {
        let name: &str = &self.inner.name;
        name.rsplit_once('-').map_or(name, |(op, _)| op)
    }

    /// This bag with its partitions as keys of the graph: operations that
    /// need whole partitions (or several at once) read these.
    pub(crate) fn computed(&self) -> Bag<T> {
        if self.inner.stage.keyed {
            return self.clone();
        }
        Bag::keyed(self.inner.name.clone(), self.npartitions(), self.fragment())
    }

    /// The graph that computes the bag's partitions.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![1_i64, 2, 3], 2).map(|x| x + 1);
    /// let g = b.graph();
    /// // the two source chunks and the two partitions of the map
    /// assert_eq!(g.len(), 4);
    /// assert!(b.keys().iter().all(|k| g.contains(k)));
    /// ```
    pub fn graph(&self) -> Graph {
        fragment::build([&self.fragment()])
    }

    /// A new bag whose items come from this one's through the pipe that
    /// `make` builds on this bag's, in the same tasks (fused).
    pub(crate) fn derive<U: Element, P: Pipe<U>>(
        &self,
        op: &str,
        make: impl FnOnce(SharedPipe<T>) -> P,
    ) -> Bag<U> {
        self.derive_named(token::name(op, (self.name(), token::sequence())), make)
    }

    /// [`derive`](Bag::derive) with the name given.
    pub(crate) fn derive_named<U: Element, P: Pipe<U>>(
        &self,
        name: Arc<str>,
        make: impl FnOnce(SharedPipe<T>) -> P,
    ) -> Bag<U> {
        let base = self.shallow();
        let stage = &base.inner.stage;
        Bag::from_stage(
            name,
            Stage {
                deps: stage.deps.clone(),
                inputs: stage.inputs.clone(),
                pipe: Arc::new(make(stage.pipe.clone())),
                keyed: false,
                depth: stage.depth + 1,
            },
        )
    }

    /// This bag, or its computed partitions when its pipe fuses so many
    /// stages that one more would nest too deep.
    pub(crate) fn shallow(&self) -> Bag<T> {
        if self.inner.stage.depth >= MAX_FUSED {
            self.computed()
        } else {
            self.clone()
        }
    }

    /// Computes the bag with `executor` and returns its items in order.
    pub fn compute(&self, executor: &dyn Executor) -> Result<Vec<T>, ComputeError> {
        self.compute_with(executor, &[])
    }

    /// Computes the bag with `executor`, calling `callbacks` (a progress
    /// bar, a profiler) as tasks run.
    pub fn compute_with(
        &self,
        executor: &dyn Executor,
        callbacks: &[&dyn Callback],
    ) -> Result<Vec<T>, ComputeError> {
        let values = compute_keys(&[&self.fragment()], &self.keys(), executor, callbacks)?;
        let mut out = Vec::new();
        for (key, v) in self.keys().into_iter().zip(values) {
            let type_name = v.type_name();
            let part: Vec<T> = take_value(v).ok_or_else(|| ComputeError::Executor {
                executor: executor.name().to_string(),
                message: format!(
                    "partition {key:?} is a {type_name}, not a Vec<{}>",
                    std::any::type_name::<T>()
                ),
            })?;
            if out.is_empty() {
                out = part;
            } else {
                out.extend(part);
            }
        }
        Ok(out)
    }

    /// The items in order: the same as [`compute`](Bag::compute).
    pub fn to_vec(&self, executor: &dyn Executor) -> Result<Vec<T>, ComputeError> {
        self.compute(executor)
    }

    /// Applies `f` to every item.
    pub fn map<U: Element>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Bag<U> {
        self.derive("map", |inner| Map { inner, f })
    }

    /// Keeps the items for which `f` is true.
    pub fn filter(&self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> Bag<T> {
        self.derive("filter", |inner| Filter { inner, f })
    }

    /// A random sample: each item kept with probability `prob` (Dask's
    /// `random_sample(prob, random_state)`). The choice is a hash of
    /// `seed`, the partition and the item's position in it, so the same
    /// seed gives the same sample on every run and executor.
    ///
    /// ```
    /// let b = rask::bag::range(1000, 4);
    /// let s = b.random_sample(0.1, 7).compute(&rask::Sync).unwrap();
    /// assert!(s.len() > 50 && s.len() < 150);
    /// assert_eq!(s, b.random_sample(0.1, 7).compute(&rask::Threads::new(2)).unwrap());
    /// ```
    ///
    /// # Panics
    ///
    /// When `prob` is not within 0..=1.
    pub fn random_sample(&self, prob: f64, seed: u64) -> Bag<T> {
        assert!(
            (0.0..=1.0).contains(&prob),
            "random_sample: prob must be within 0..=1, got {prob}"
        );
        let name = token::name("random_sample", (self.name(), prob.to_bits(), seed));
        self.derive_named(name, |inner| Sample { inner, prob, seed })
    }

    /// Drops the items for which `f` is true (Dask's `remove`; the
    /// opposite of [`filter`](Bag::filter)).
    ///
    /// ```
    /// let b = rask::bag::from_sequence((0..6).collect::<Vec<i64>>(), 4).remove(|x| x % 2 == 0);
    /// assert_eq!(b.compute(&rask::Sync).unwrap(), [1, 3, 5]);
    /// ```
    pub fn remove(&self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> Bag<T> {
        self.filter(move |x| !f(x))
    }

    /// Replaces every item by the items of `f(item)`.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec!["a b", "c"], 1).flat_map(|s| s.split(' ').collect::<Vec<_>>());
    /// assert_eq!(b.compute(&rask::Sync).unwrap(), ["a", "b", "c"]);
    /// ```
    pub fn flat_map<I>(&self, f: impl Fn(T) -> I + Send + Sync + 'static) -> Bag<I::Item>
    where
        I: IntoIterator,
        I::Item: Element,
    {
        self.derive("flat_map", |inner| FlatMap { inner, f })
    }

    /// Applies a fallible `f`: the first error fails the computation
    /// with a [`BagError::Record`] (naming the file and line when the
    /// record came from a file).
    pub fn try_map<U, E>(&self, f: impl Fn(T) -> Result<U, E> + Send + Sync + 'static) -> Bag<U>
    where
        U: Element,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.derive("try_map", |inner| TryMap {
            inner,
            f: move |x| f(x).map_err(BagError::record),
            skipped: None,
        })
    }

    /// Applies a fallible `f`, dropping the records it fails on and
    /// counting them in `skipped`.
    ///
    /// ```
    /// use rask::bag::{from_sequence, Skipped};
    /// let skipped = Skipped::new();
    /// let b = from_sequence(vec!["1", "x", "3"], 2).try_map_skipping(|s| s.parse::<i64>(), &skipped);
    /// assert_eq!(b.compute(&rask::Sync).unwrap(), [1, 3]);
    /// assert_eq!(skipped.count(), 1);
    /// ```
    pub fn try_map_skipping<U, E>(
        &self,
        f: impl Fn(T) -> Result<U, E> + Send + Sync + 'static,
        skipped: &Skipped,
    ) -> Bag<U>
    where
        U: Element,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.derive("try_map", |inner| TryMap {
            inner,
            f: move |x| f(x).map_err(BagError::record),
            skipped: Some(skipped.clone()),
        })
    }

    /// Applies `f` to each whole partition (its items in a `Vec`).
    ///
    /// ```
    /// let b = rask::bag::from_sequence((0..10).collect::<Vec<i64>>(), 4);
    /// let sums = b.map_partitions(|part| [part.iter().sum::<i64>()]);
    /// assert_eq!(sums.compute(&rask::Sync).unwrap(), [6, 22, 17]);
    /// ```
    pub fn map_partitions<I>(&self, f: impl Fn(Vec<T>) -> I + Send + Sync + 'static) -> Bag<I::Item>
    where
        I: IntoIterator,
        I::Item: Element,
    {
        self.derive("map_partitions", |inner| MapPartitions { inner, f })
    }

    /// Pairs the items of this bag and `other`, partition by partition:
    /// both must have the same number of partitions, and each pair of
    /// partitions the same length (else the computation fails with
    /// [`BagError::ZipLengths`]).
    ///
    /// # Panics
    ///
    /// When the bags have different numbers of partitions.
    pub fn zip<U: Element>(&self, other: &Bag<U>) -> Bag<(T, U)> {
        wire::pair::<T, U>();
        assert_eq!(
            self.npartitions(),
            other.npartitions(),
            "zip: bags with {} and {} partitions",
            self.npartitions(),
            other.npartitions()
        );
        let (l, r) = (self.shallow(), other.shallow());
        let (l, r) = (l.stage(), r.stage());
        let inputs: Arc<[Box<[Key]>]> = l
            .inputs
            .iter()
            .zip(r.inputs.iter())
            .map(|(a, b)| a.iter().chain(b.iter()).cloned().collect())
            .collect();
        let mut deps = l.deps.clone();
        deps.extend(r.deps.iter().cloned());
        Bag::from_stage(
            token::name("zip", (self.name(), other.name())),
            Stage {
                deps,
                inputs,
                pipe: Arc::new(Zip {
                    left: l.pipe.clone(),
                    right: r.pipe.clone(),
                    left_inputs: l.inputs.iter().map(|i| i.len()).collect(),
                }),
                keyed: false,
                depth: l.depth.max(r.depth) + 1,
            },
        )
    }

    /// Every pair of an item of this bag and an item of `other`: one
    /// partition per pair of partitions.
    ///
    /// ```
    /// let a = rask::bag::from_sequence(vec![1, 2], 1);
    /// let b = rask::bag::from_sequence(vec!['x', 'y'], 1);
    /// let p = a.product(&b).compute(&rask::Sync).unwrap();
    /// assert_eq!(p, [(1, 'x'), (1, 'y'), (2, 'x'), (2, 'y')]);
    /// ```
    pub fn product<U: Element>(&self, other: &Bag<U>) -> Bag<(T, U)> {
        wire::pair::<T, U>();
        let (a, b) = (self.computed(), other.computed());
        let inputs: Arc<[Box<[Key]>]> = a
            .keys()
            .iter()
            .flat_map(|x| {
                b.keys()
                    .into_iter()
                    .map(move |y| vec![x.clone(), y].into_boxed_slice())
            })
            .collect();
        Bag::from_stage(
            token::name("product", (self.name(), other.name())),
            Stage {
                deps: vec![a.fragment(), b.fragment()],
                inputs,
                pipe: Arc::new(Product {
                    _items: PhantomData,
                }),
                keyed: false,
                depth: 0,
            },
        )
    }

    /// The same items in `n` partitions: fewer by concatenating
    /// neighbouring partitions, more by splitting each partition into
    /// equal slices.
    ///
    /// # Panics
    ///
    /// When `n` is 0.
    pub fn repartition(&self, n: usize) -> Bag<T> {
        assert!(n > 0, "repartition: a bag has at least one partition");
        let p = self.npartitions();
        let name = token::name("repartition", (self.name(), n));
        if n <= p {
            // partition k concatenates partitions k*p/n .. (k+1)*p/n
            let base = self.shallow();
            let stage = base.stage();
            let mut groups = Vec::with_capacity(n);
            let mut inputs = Vec::with_capacity(n);
            for k in 0..n {
                let parts = k * p / n..(k + 1) * p / n;
                groups.push(
                    parts
                        .clone()
                        .map(|i| (i, stage.inputs[i].len()))
                        .collect::<Vec<_>>(),
                );
                inputs.push(
                    parts
                        .flat_map(|i| stage.inputs[i].iter().cloned())
                        .collect::<Box<[Key]>>(),
                );
            }
            return Bag::from_stage(
                name,
                Stage {
                    deps: stage.deps.clone(),
                    inputs: inputs.into(),
                    pipe: Arc::new(Concat {
                        inner: stage.pipe.clone(),
                        groups,
                    }),
                    keyed: false,
                    depth: stage.depth + 1,
                },
            );
        }
        // partition i becomes (i+1)*n/p - i*n/p slices
        let computed = self.computed();
        let keys = computed.keys();
        let mut pieces = Vec::with_capacity(n);
        let mut inputs = Vec::with_capacity(n);
        for (i, key) in keys.iter().enumerate() {
            let of = (i + 1) * n / p - i * n / p;
            for piece in 0..of {
                pieces.push((piece, of));
                inputs.push(vec![key.clone()].into_boxed_slice());
            }
        }
        Bag::from_stage(
            name,
            Stage {
                deps: vec![computed.fragment()],
                inputs: inputs.into(),
                pipe: Arc::new(Slices {
                    pieces,
                    _items: PhantomData,
                }),
                keyed: false,
                depth: 0,
            },
        )
    }

    /// Joins with an in-memory sequence: for every item `x` of the bag and
    /// every `y` of `other` with `on_self(&x) == on_other(&y)`, the pair
    /// `(x, y)` (in the bag's order, then `other`'s).
    ///
    /// ```
    /// let people = rask::bag::from_sequence(vec![(1, "ada"), (2, "bob"), (3, "cy")], 2);
    /// let cities = vec![(1, "paris"), (3, "oslo"), (1, "rome")];
    /// let j = people.join(cities, |p| p.0, |c| c.0).map(|(p, c)| (p.1, c.1));
    /// assert_eq!(j.compute(&rask::Sync).unwrap(), [("ada", "paris"), ("ada", "rome"), ("cy", "oslo")]);
    /// ```
    pub fn join<U, K>(
        &self,
        other: impl IntoIterator<Item = U>,
        on_self: impl Fn(&T) -> K + Send + Sync + 'static,
        on_other: impl Fn(&U) -> K,
    ) -> Bag<(T, U)>
    where
        U: Element,
        K: Hash + Eq + Send + Sync + 'static,
    {
        wire::pair::<T, U>();
        let mut index: HashMap<K, Vec<U>, rustc_hash::FxBuildHasher> = HashMap::default();
        for y in other {
            index.entry(on_other(&y)).or_default().push(y);
        }
        self.derive("join", |inner| Join {
            inner,
            index,
            key: on_self,
        })
    }

    /// Replaces every item, an iterable, by its items.
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![vec![1, 2], vec![], vec![3]], 2);
    /// assert_eq!(b.flatten().compute(&rask::Sync).unwrap(), [1, 2, 3]);
    /// ```
    pub fn flatten(&self) -> Bag<<T as IntoIterator>::Item>
    where
        T: IntoIterator,
        <T as IntoIterator>::Item: Element,
    {
        self.flat_map(|x| x)
    }
}

struct Join<T, U, K, F> {
    inner: SharedPipe<T>,
    index: HashMap<K, Vec<U>, rustc_hash::FxBuildHasher>,
    key: F,
}

impl<T, U, K, F> Pipe<(T, U)> for Join<T, U, K, F>
where
    T: Clone + 'static,
    U: Clone + Send + Sync + 'static,
    K: Hash + Eq + Send + Sync + 'static,
    F: Fn(&T) -> K + Send + Sync + 'static,
{
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, (T, U)>) -> pipe::Flow {
        self.inner.run(part, inputs, &mut |x| {
            if let Some(ys) = self.index.get(&(self.key)(&x)) {
                for y in ys {
                    sink((x.clone(), y.clone()))?;
                }
            }
            Ok(())
        })
    }
}

/// A bag of `items`, `partition_size` items per partition (the last may
/// have fewer; an empty sequence makes one empty partition).
///
/// ```
/// let b = rask::bag::from_sequence(vec!["a", "b", "c"], 2);
/// assert_eq!(b.npartitions(), 2);
/// ```
///
/// # Panics
///
/// When `partition_size` is 0.
pub fn from_sequence<T: Element>(items: Vec<T>, partition_size: usize) -> Bag<T> {
    assert!(
        partition_size > 0,
        "from_sequence: partition_size must be at least 1"
    );
    let mut parts: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        parts.push(items.by_ref().take(partition_size).collect());
    }
    from_partitions(parts)
}

/// A bag with the given partitions (at least one: no partitions make one
/// empty partition).
///
/// ```
/// let b = rask::bag::from_partitions(vec![vec![1, 2], vec![], vec![3]]);
/// assert_eq!(b.npartitions(), 3);
/// assert_eq!(b.compute(&rask::Sync).unwrap(), [1, 2, 3]);
/// ```
pub fn from_partitions<T: Element>(mut parts: Vec<Vec<T>>) -> Bag<T> {
    if parts.is_empty() {
        parts.push(Vec::new());
    }
    let lens: Vec<usize> = parts.iter().map(Vec::len).collect();
    let name = token::name("from_sequence", (lens, token::sequence()));
    let tasks = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (Key::from((&*name, i)), Task::Value(Value::opaque(p))))
        .collect::<Vec<_>>();
    let n = tasks.len();
    Bag::keyed(name, n, Fragment::new(tasks, Vec::new()))
}

/// The bag `0, 1, ..., n - 1` in `npartitions` partitions of nearly equal
/// sizes (Dask's `db.range(n, npartitions)`).
///
/// ```
/// let b = rask::bag::range(10, 3);
/// assert_eq!(b.npartitions(), 3);
/// assert_eq!(b.sum().compute(&rask::Sync).unwrap(), 45);
/// ```
///
/// # Panics
///
/// When `npartitions` is 0.
pub fn range(n: u64, npartitions: usize) -> Bag<u64> {
    assert!(npartitions > 0, "range: a bag has at least one partition");
    let p = npartitions as u64;
    let parts: Vec<Vec<u64>> = (0..p)
        .map(|i| (i * n / p..(i + 1) * n / p).collect())
        .collect();
    from_partitions(parts)
}

impl<A: Element, B: Element> Bag<(A, B)> {
    /// `f(a, b)` of each pair (Dask's `starmap`).
    ///
    /// ```
    /// let b = rask::bag::from_sequence(vec![(1, 2), (3, 4)], 1);
    /// assert_eq!(b.starmap(|x, y| x * y).compute(&rask::Sync).unwrap(), [2, 12]);
    /// ```
    pub fn starmap<U: Element>(&self, f: impl Fn(A, B) -> U + Send + Sync + 'static) -> Bag<U> {
        self.map(move |(a, b)| f(a, b))
    }

    /// The bags of the first and of the second items of the pairs
    /// (Dask's `unzip(2)`), partitioned as this one.
    ///
    /// ```
    /// let (xs, ys) = rask::bag::from_sequence(vec![(1, "a"), (2, "b")], 1).unzip();
    /// assert_eq!(xs.compute(&rask::Sync).unwrap(), [1, 2]);
    /// assert_eq!(ys.compute(&rask::Sync).unwrap(), ["a", "b"]);
    /// ```
    pub fn unzip(&self) -> (Bag<A>, Bag<B>) {
        (self.map(|(a, _)| a), self.map(|(_, b)| b))
    }
}

impl<A: Element, B: Element, C: Element> Bag<(A, B, C)> {
    /// `f(a, b, c)` of each triple (Dask's `starmap`).
    pub fn starmap<U: Element>(&self, f: impl Fn(A, B, C) -> U + Send + Sync + 'static) -> Bag<U> {
        self.map(move |(a, b, c)| f(a, b, c))
    }
}
