//! `groupby`: a hash shuffle that spills to disk when it does not fit its
//! memory budget.
//!
//! A groupby of a bag with `P` partitions into `Q` groups-partitions is
//! `P` *split* tasks and `Q` *group* tasks:
//!
//! ```text
//! ('groupby-split-…', i) = (groupby-split, i, inputs…)        i in 0..P
//!     runs partition i's pipe (fused: read, parse, map…) and puts each
//!     record (key, item) in bucket hash(key) % Q; holds the buckets
//! ('groupby-…', j) = (groupby, j, ('groupby-split-…', 0), …, ('groupby-split-…', P-1))
//!     takes bucket j of every split, in order, and groups it by key
//! ```
//!
//! Records stay typed in memory: nothing is serialized while the shuffle
//! fits. Every split task adds an estimate of the bytes it buffers to one
//! counter shared by the whole shuffle; when the counter passes the
//! budget, the task that passed it writes all its buckets to temporary
//! files (CBOR records, one file per bucket, appended to on later spills)
//! and takes its bytes off the counter. A group task takes its bucket
//! from each split (moving it out: exactly one task reads each bucket)
//! and first reads that split's file for the bucket, then deletes it, so
//! the records of a group keep their order: the bag's order.
//!
//! The estimate of a record's size is the size of `(K, T)` plus its
//! serialized (CBOR) size, measured on a sample (the first 32 records of
//! a task, then one in 64).
//!
//! **Temporary files.** The spill directory is made on the first spill,
//! under the shuffle's `spill_dir` (default: the system's temporary
//! directory), and owned by an `Arc` that the split tasks' functions hold.
//! Those functions are made for each graph built (the groupby's fragment
//! has a *maker*, see the `fragment` module), so the directory lives as
//! long as the graph: `compute` drops the graph before it returns, on
//! success, on a task error and on a panic, and with it the directory and
//! any file a failed run left. The directory is made with the graph, in
//! the process that builds it, so that the forked workers of `Processes`
//! spill into it too (a worker ends without running destructors).
//!
//! **Between processes.** A split that crosses to another process (on
//! `Processes`, MPI) takes its buckets along, and the paths of its spill
//! files, which the group task reads there: on MPI across machines, give
//! [`Shuffle::spill_dir`] a directory that every machine sees at the same
//! path.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use rask_graph::{Arity, CallError, Function, Key, Value};
use rustc_hash::{FxBuildHasher, FxHasher};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

use crate::bag::{part_arg, part_task, Bag, Element};
use crate::error::BagError;
use crate::fragment::Fragment;
use crate::json::{Field, JsonKey};
use crate::pipe::{self, Pipe};
use crate::token;

use rask_graph::codec::{
    register_shape, write_count, DecodeError, Input, Leaf, NoCodec, Opt, Pair, Seq, Shape,
};
use rask_graph::ToJsonError;

/// The default memory budget of a shuffle: 512 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 512 << 20;

/// Options of a [`groupby`](Bag::groupby_with) shuffle.
///
/// ```
/// use rask::bag::Shuffle;
/// let s = Shuffle::new().npartitions(16).memory_budget(64 << 20);
/// # let _ = s;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Shuffle {
    npartitions: Option<usize>,
    memory_budget: Option<usize>,
    spill_dir: Option<PathBuf>,
}

impl Shuffle {
    /// The defaults: as many partitions out as in, a budget of
    /// [`DEFAULT_MEMORY_BUDGET`], spill files in the system's temporary
    /// directory.
    pub fn new() -> Shuffle {
        Shuffle::default()
    }

    /// The number of partitions of the result.
    ///
    /// # Panics
    ///
    /// When `n` is 0.
    pub fn npartitions(mut self, n: usize) -> Shuffle {
        assert!(n > 0, "a shuffle makes at least one partition");
        self.npartitions = Some(n);
        self
    }

    /// How many bytes of records the shuffle may hold in memory before it
    /// spills to disk (an estimate; see the module docs).
    pub fn memory_budget(mut self, bytes: usize) -> Shuffle {
        self.memory_budget = Some(bytes);
        self
    }

    /// The directory in which the shuffle makes its temporary directory.
    pub fn spill_dir(mut self, dir: impl Into<PathBuf>) -> Shuffle {
        self.spill_dir = Some(dir.into());
        self
    }
}

/// What one run of a shuffle shares: the budget, the bytes held, and the
/// temporary directory (removed when the last task function holding this
/// is dropped with its graph).
struct SpillState {
    budget: usize,
    held: AtomicUsize,
    parent: Option<PathBuf>,
    dir: Mutex<Option<tempfile::TempDir>>,
    next_id: AtomicU64,
}

impl SpillState {
    /// The spill directory, made on first use.
    fn dir(&self) -> Result<PathBuf, BagError> {
        let mut dir = self.dir.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = &*dir {
            return Ok(d.path().to_path_buf());
        }
        let parent = self.parent.clone().unwrap_or_else(std::env::temp_dir);
        let made = tempfile::Builder::new()
            .prefix("rask-shuffle-")
            .tempdir_in(&parent)
            .map_err(|e| BagError::Spill {
                path: parent.clone(),
                message: format!("cannot make a temporary directory: {e}"),
            })?;
        let path = made.path().to_path_buf();
        *dir = Some(made);
        Ok(path)
    }
}

/// The bucket of a key among `n`.
fn bucket<K: Hash>(key: &K, n: usize) -> usize {
    let mut h = FxHasher::default();
    key.hash(&mut h);
    let x = h.finish();
    let x = (x ^ (x >> 31)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((x ^ (x >> 29)) % n as u64) as usize
}

/// Samples the serialized size of records.
struct Estimate {
    seen: u64,
    sampled: u64,
    bytes: u64,
    scratch: Vec<u8>,
}

impl Estimate {
    fn new() -> Estimate {
        Estimate {
            seen: 0,
            sampled: 0,
            bytes: 0,
            scratch: Vec::new(),
        }
    }

    /// The estimated size of a record.
    fn size<R: Serialize>(&mut self, record: &R) -> usize {
        self.seen += 1;
        if self.seen <= 32 || self.seen.is_multiple_of(64) {
            self.scratch.clear();
            if ciborium::into_writer(record, &mut self.scratch).is_ok() {
                self.sampled += 1;
                self.bytes += self.scratch.len() as u64;
            }
        }
        let serialized = self.bytes.checked_div(self.sampled).unwrap_or(0) as usize;
        std::mem::size_of::<R>() + serialized
    }
}

/// One bucket of a split, until a group task takes it.
type Bucket<K, T> = Mutex<Option<Vec<(K, T)>>>;

/// The result of a split task: its buckets, and the files of those it
/// spilled.
struct Split<K, T> {
    buckets: Vec<Bucket<K, T>>,
    bytes: Vec<usize>,
    files: Vec<Option<PathBuf>>,
    state: Arc<SpillState>,
}

/// How a [`Split`] crosses to another process: its buckets (`None` for
/// one a group task took) and the paths of its spill files, which stay
/// where they are until the group task reads and deletes them.
struct SplitWire<K, T>(std::marker::PhantomData<fn() -> (K, T)>);

type Records<K, T> = Seq<Pair<Leaf<K>, Leaf<T>>>;

impl<K, T> Shape for SplitWire<K, T>
where
    K: Element + Hash + Eq + Serialize + DeserializeOwned,
    T: Element + Serialize + DeserializeOwned,
{
    type Value = Split<K, T>;

    fn encode(split: &Split<K, T>, out: &mut Vec<u8>) -> Result<(), NoCodec> {
        write_count(split.buckets.len(), out);
        for (bucket, file) in split.buckets.iter().zip(&split.files) {
            let records = bucket.lock().unwrap_or_else(|p| p.into_inner());
            Opt::<Records<K, T>>::encode(&records, out)?;
            Opt::<Leaf<PathBuf>>::encode(file, out)?;
        }
        Ok(())
    }

    fn decode(input: &mut Input<'_>) -> Result<Split<K, T>, DecodeError> {
        let n = input.count()?;
        let mut buckets = Vec::with_capacity(n);
        let mut files = Vec::with_capacity(n);
        for _ in 0..n {
            buckets.push(Mutex::new(Opt::<Records<K, T>>::decode(input)?));
            files.push(Opt::<Leaf<PathBuf>>::decode(input)?);
        }
        Ok(Split {
            buckets,
            // the bytes were counted against the budget where they were
            // split; nothing is counted here
            bytes: vec![0; n],
            files,
            state: Arc::new(SpillState {
                budget: usize::MAX,
                held: AtomicUsize::new(0),
                parent: None,
                dir: Mutex::new(None),
                next_id: AtomicU64::new(0),
            }),
        })
    }

    fn to_json(split: &Split<K, T>) -> Result<serde_json::Value, ToJsonError> {
        split
            .buckets
            .iter()
            .map(|b| Opt::<Records<K, T>>::to_json(&b.lock().unwrap_or_else(|p| p.into_inner())))
            .collect::<Result<_, _>>()
            .map(serde_json::Value::Array)
    }
}

/// Spill files being written by one split task.
struct Spiller {
    id: u64,
    writers: Vec<Option<(PathBuf, BufWriter<File>)>>,
}

impl Spiller {
    fn write<K: Serialize, T: Serialize>(
        &mut self,
        state: &SpillState,
        buckets: &mut [Vec<(K, T)>],
    ) -> Result<(), BagError> {
        for (j, b) in buckets.iter_mut().enumerate() {
            if b.is_empty() {
                continue;
            }
            if self.writers[j].is_none() {
                // the process id: the workers of `Processes` share the
                // directory, each with its own count
                let path =
                    state
                        .dir()?
                        .join(format!("{}-{}-{j}.cbor", std::process::id(), self.id));
                let file = File::create(&path).map_err(|e| spill_error(&path, e))?;
                self.writers[j] = Some((path, BufWriter::with_capacity(64 << 10, file)));
            }
            let Some((path, w)) = self.writers[j].as_mut() else {
                continue;
            };
            for record in b.drain(..) {
                ciborium::into_writer(&record, &mut *w).map_err(|e| BagError::Spill {
                    path: path.clone(),
                    message: format!("cannot write a record: {e}"),
                })?;
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<Option<PathBuf>>, BagError> {
        self.writers
            .into_iter()
            .map(|w| match w {
                Some((path, mut w)) => {
                    w.flush().map_err(|e| spill_error(&path, e))?;
                    Ok(Some(path))
                }
                None => Ok(None),
            })
            .collect()
    }
}

fn spill_error(path: &Path, e: std::io::Error) -> BagError {
    BagError::Spill {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Bytes added to the shared counter at a time.
const ACCOUNT_EVERY: usize = 256 << 10;

#[allow(clippy::too_many_arguments)]
fn split<T, K>(
    pipe: &dyn Pipe<T>,
    part: usize,
    inputs: &[Value],
    key: &(dyn Fn(&T) -> K + Send + Sync),
    nout: usize,
    state: &Arc<SpillState>,
) -> Result<Split<K, T>, BagError>
where
    T: Serialize + 'static,
    K: Hash + Serialize,
{
    let mut buckets: Vec<Vec<(K, T)>> = (0..nout).map(|_| Vec::new()).collect();
    let mut bytes = vec![0_usize; nout];
    let mut estimate = Estimate::new();
    let mut spiller = Spiller {
        id: state.next_id.fetch_add(1, Ordering::Relaxed),
        writers: (0..nout).map(|_| None).collect(),
    };
    // bytes counted in `state.held`, and not yet
    let mut held = 0_usize;
    let mut pending = 0_usize;
    let mut failure = None;
    let mut account = |pending: &mut usize,
                       held: &mut usize,
                       buckets: &mut Vec<Vec<(K, T)>>,
                       bytes: &mut Vec<usize>|
     -> Result<(), BagError> {
        let total = state.held.fetch_add(*pending, Ordering::Relaxed) + *pending;
        *held += *pending;
        *pending = 0;
        if total > state.budget {
            spiller.write(state, buckets)?;
            state.held.fetch_sub(*held, Ordering::Relaxed);
            *held = 0;
            bytes.iter_mut().for_each(|b| *b = 0);
        }
        Ok(())
    };
    pipe::finish(pipe.run(part, inputs, &mut |x| {
        let k = key(&x);
        let j = bucket(&k, nout);
        let record = (k, x);
        let size = estimate.size(&record);
        buckets[j].push(record);
        bytes[j] += size;
        pending += size;
        if pending >= ACCOUNT_EVERY {
            if let Err(e) = account(&mut pending, &mut held, &mut buckets, &mut bytes) {
                failure = Some(e);
                return Err(pipe::Stop::Done);
            }
        }
        Ok(())
    }))?;
    if let Some(e) = failure {
        return Err(e);
    }
    account(&mut pending, &mut held, &mut buckets, &mut bytes)?;
    let files = spiller.finish()?;
    Ok(Split {
        buckets: buckets.into_iter().map(|b| Mutex::new(Some(b))).collect(),
        bytes,
        files,
        state: state.clone(),
    })
}

/// Reads a spill file back and deletes it.
fn read_spill<K: DeserializeOwned, T: DeserializeOwned>(
    path: &Path,
    mut each: impl FnMut(K, T),
) -> Result<(), BagError> {
    let file = File::open(path).map_err(|e| spill_error(path, e))?;
    let mut r = BufReader::with_capacity(64 << 10, file);
    loop {
        let more = !r.fill_buf().map_err(|e| spill_error(path, e))?.is_empty();
        if !more {
            break;
        }
        let (k, x): (K, T) = ciborium::from_reader(&mut r).map_err(|e| BagError::Spill {
            path: path.to_path_buf(),
            message: format!("cannot read a record back: {e}"),
        })?;
        each(k, x);
    }
    drop(r);
    std::fs::remove_file(path).map_err(|e| spill_error(path, e))
}

/// Group task `j`: bucket `j` of every split, grouped by key.
fn group<K, T, O>(
    j: usize,
    splits: &[Value],
    out: fn(K) -> O,
) -> Result<Vec<(O, Vec<T>)>, CallError>
where
    K: Hash + Eq + DeserializeOwned + 'static,
    T: DeserializeOwned + 'static,
{
    let mut groups: IndexMap<K, Vec<T>, FxBuildHasher> = IndexMap::default();
    for (i, v) in splits.iter().enumerate() {
        let split = v
            .downcast_ref::<Split<K, T>>()
            .ok_or_else(|| CallError::arg_type::<Split<K, T>>(i + 2, v))?;
        if let Some(path) = &split.files[j] {
            read_spill(path, |k, x| groups.entry(k).or_default().push(x))?;
        }
        let taken = split.buckets[j]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| CallError::msg(format!("bucket {j} of split {i} was taken twice")))?;
        split
            .state
            .held
            .fetch_sub(split.bytes[j], Ordering::Relaxed);
        for (k, x) in taken {
            groups.entry(k).or_default().push(x);
        }
    }
    Ok(groups.into_iter().map(|(k, v)| (out(k), v)).collect())
}

/// What [`Bag::groupby`] groups by, as Dask's one `groupby` takes a
/// function or a field name: a function of an item, or, for a bag of
/// JSON records, the path of a field (`"username"`, `"actor.login"`, a
/// `String` or a [`Field`]; records without it group under `null`).
///
/// A closure names its argument's type, `|r: &Record| r.user.clone()`
/// (`&_` is enough when the body calls no method on it: `|x: &_| x %
/// 3`): Rust infers a closure's argument types from the parameter only
/// when the parameter is declared a closure, and `groupby`'s takes a
/// name too.
///
/// ```
/// use rask::bag::{from_sequence, Field};
/// use serde_json::json;
/// let numbers = from_sequence((0..6).collect::<Vec<i64>>(), 2);
/// let mut by_rest = numbers.groupby(|x: &_| x % 2).compute(&rask::Sync).unwrap();
/// by_rest.sort();
/// assert_eq!(by_rest, [(0, vec![0, 2, 4]), (1, vec![1, 3, 5])]);
/// let events = from_sequence(vec![json!({"u": "a"}), json!({"u": "b"}), json!({"u": "a"})], 2);
/// let mut by_user = events.groupby("u").compute(&rask::Sync).unwrap();
/// by_user.sort_by_key(|g| g.0.to_string());
/// assert_eq!(by_user[0], (json!("a"), vec![json!({"u": "a"}), json!({"u": "a"})]));
/// assert_eq!(events.groupby(Field::from(["u"])).count().compute(&rask::Sync).unwrap(), 2);
/// ```
pub trait GroupKey<T: Element>: Sized {
    /// The key of each group in the result.
    type Out: Element;
    /// The shuffle grouping `bag` by this key.
    #[doc(hidden)]
    fn group(self, bag: &Bag<T>, shuffle: &Shuffle) -> Bag<(Self::Out, Vec<T>)>;
}

impl<T, K, F> GroupKey<T> for F
where
    T: Element + Serialize + DeserializeOwned,
    K: Element + Hash + Eq + Serialize + DeserializeOwned,
    F: Fn(&T) -> K + Send + Sync + 'static,
{
    type Out = K;
    fn group(self, bag: &Bag<T>, shuffle: &Shuffle) -> Bag<(K, Vec<T>)> {
        bag.shuffle(self, shuffle, |k| k)
    }
}

impl GroupKey<Json> for Field {
    type Out = Json;
    fn group(self, bag: &Bag<Json>, shuffle: &Shuffle) -> Bag<(Json, Vec<Json>)> {
        register_shape::<crate::json::JsonKeyWire>();
        bag.shuffle(
            move |r| JsonKey(self.get(r).cloned().unwrap_or(Json::Null)),
            shuffle,
            |k| k.0,
        )
    }
}

impl GroupKey<Json> for &str {
    type Out = Json;
    fn group(self, bag: &Bag<Json>, shuffle: &Shuffle) -> Bag<(Json, Vec<Json>)> {
        Field::from(self).group(bag, shuffle)
    }
}

impl GroupKey<Json> for String {
    type Out = Json;
    fn group(self, bag: &Bag<Json>, shuffle: &Shuffle) -> Bag<(Json, Vec<Json>)> {
        Field::from(self).group(bag, shuffle)
    }
}

impl GroupKey<Json> for &String {
    type Out = Json;
    fn group(self, bag: &Bag<Json>, shuffle: &Shuffle) -> Bag<(Json, Vec<Json>)> {
        Field::from(self.as_str()).group(bag, shuffle)
    }
}

impl<T: Element + Serialize + DeserializeOwned> Bag<T> {
    /// Groups the items by `key` (a function of an item, or for JSON
    /// records a field's path: see [`GroupKey`]), as Dask's
    /// `b.groupby(key)`: a bag of `(key, items)` pairs, each key once, its
    /// items in the bag's order. The items are shuffled by a hash of their
    /// key into as many partitions as the bag has, spilling to temporary
    /// files beyond [`DEFAULT_MEMORY_BUDGET`] (see
    /// [`groupby_with`](Bag::groupby_with) to choose).
    ///
    /// To reduce each group, [`foldby`](Bag::foldby) is much cheaper: it
    /// moves one accumulator per key and partition, not every item.
    ///
    /// ```
    /// let b = rask::bag::from_sequence((0..10).collect::<Vec<i64>>(), 3);
    /// let mut groups = b.groupby(|x: &_| x % 3).compute(&rask::Sync).unwrap();
    /// groups.sort();
    /// assert_eq!(groups, [(0, vec![0, 3, 6, 9]), (1, vec![1, 4, 7]), (2, vec![2, 5, 8])]);
    /// ```
    pub fn groupby<G: GroupKey<T>>(&self, key: G) -> Bag<(G::Out, Vec<T>)> {
        key.group(self, &Shuffle::new())
    }

    /// [`groupby`](Bag::groupby) with the options of `shuffle`: the
    /// number of partitions, the memory budget, where to spill.
    pub fn groupby_with<G: GroupKey<T>>(&self, key: G, shuffle: &Shuffle) -> Bag<(G::Out, Vec<T>)> {
        key.group(self, shuffle)
    }

    /// The shuffle of `groupby`, with the keys turned into `O`s by `out`.
    fn shuffle<K, O>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        shuffle: &Shuffle,
        out: fn(K) -> O,
    ) -> Bag<(O, Vec<T>)>
    where
        K: Element + Hash + Eq + Serialize + DeserializeOwned,
        O: Element,
    {
        let nout = shuffle.npartitions.unwrap_or(self.npartitions());
        let budget = shuffle.memory_budget.unwrap_or(DEFAULT_MEMORY_BUDGET);
        let parent = shuffle.spill_dir.clone();
        let name = token::name("groupby", (self.name(), shuffle, token::sequence()));
        register_shape::<SplitWire<K, T>>();
        register_shape::<Pair<Leaf<O>, Seq<Leaf<T>>>>();
        let split_name = token::name("groupby-split", &*name);
        let base = self.shallow();
        let stage = base.stage().clone();
        let key: Arc<dyn Fn(&T) -> K + Send + Sync> = Arc::new(key);
        let group_f = Function::dynamic("groupby", Arity::at_least(1), move |args: &[Value]| {
            Ok(Value::opaque(group::<K, T, O>(
                part_arg(args),
                &args[1..],
                out,
            )?))
        });
        let split_keys: Vec<Key> = (0..stage.inputs.len())
            .map(|i| Key::from((&*split_name, i)))
            .collect();
        let out_name = name.clone();
        let deps = stage.deps.clone();
        let maker = Box::new(move || {
            // a new state, and so a new temporary directory, per graph
            let state = Arc::new(SpillState {
                budget,
                held: AtomicUsize::new(0),
                parent: parent.clone(),
                dir: Mutex::new(None),
                next_id: AtomicU64::new(0),
            });
            // made now, in this process, so that the workers of an
            // executor forked from it spill into the directory it removes
            // (an error is the first spill's to report)
            let _ = state.dir();
            let pipe = stage.pipe.clone();
            let key = key.clone();
            let split_f = Function::dynamic(
                "groupby-split",
                Arity::at_least(1),
                move |args: &[Value]| {
                    let s = split(&*pipe, part_arg(args), &args[1..], &*key, nout, &state)?;
                    Ok(Value::opaque(s))
                },
            );
            let mut tasks = Vec::with_capacity(split_keys.len() + nout);
            for (i, inputs) in stage.inputs.iter().enumerate() {
                tasks.push((split_keys[i].clone(), part_task(&split_f, i, inputs)));
            }
            for j in 0..nout {
                tasks.push((
                    Key::from((&*out_name, j)),
                    part_task(&group_f, j, &split_keys),
                ));
            }
            tasks
        });
        Bag::keyed(name, nout, Fragment::made(maker, deps))
    }
}

impl Bag<Json> {
    /// Groups JSON records by the field `path` (records without it group
    /// under `null`): the same as [`groupby(path)`](Bag::groupby), kept
    /// for the code written before `groupby` took a field.
    ///
    /// ```
    /// use serde_json::json;
    /// let b = rask::bag::from_sequence(vec![json!({"u": "a", "n": 1}), json!({"u": "b"}), json!({"u": "a", "n": 2})], 2);
    /// let mut groups = b.groupby_field("u").compute(&rask::Sync).unwrap();
    /// groups.sort_by_key(|g| g.0.to_string());
    /// assert_eq!(groups[0], (json!("a"), vec![json!({"u": "a", "n": 1}), json!({"u": "a", "n": 2})]));
    /// ```
    pub fn groupby_field(&self, path: impl Into<Field>) -> Bag<(Json, Vec<Json>)> {
        self.groupby(path.into())
    }

    /// [`groupby_field`](Bag::groupby_field) with the options of `shuffle`
    /// (the same as [`groupby_with(path, shuffle)`](Bag::groupby_with)).
    pub fn groupby_field_with(
        &self,
        path: impl Into<Field>,
        shuffle: &Shuffle,
    ) -> Bag<(Json, Vec<Json>)> {
        self.groupby_with(path.into(), shuffle)
    }
}
