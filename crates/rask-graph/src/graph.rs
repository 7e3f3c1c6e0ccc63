//! The graph: a map from keys to tasks, stored densely.
//!
//! Keys are interned to dense [`TaskId`]s in insertion order; the
//! algorithms and schedulers work on those ids and vectors, users see
//! [`Key`]s. Replacing the task of an existing key keeps its id.
//!
//! ```
//! use rask::{graph, Graph, Key, Task};
//! fn inc(x: i64) -> i64 { x + 1 }
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! let g: Graph = graph! {
//!     "x" => 1,
//!     "y" => (inc, "x"),
//!     "z" => (add, "y", 10),
//! };
//! assert_eq!(g.len(), 3);
//! assert_eq!(format!("{:?}", g.get(&Key::from("z")).unwrap()), "(add, \"y\", 10)");
//! ```

use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::key::Key;
use crate::task::Task;
use crate::value::Value;

/// The dense index of a key in its graph.
pub type TaskId = u32;

/// A task graph: keys mapped to tasks, in insertion order.
#[derive(Clone, Default)]
pub struct Graph {
    keys: Vec<Key>,
    tasks: Vec<Task>,
    index: HashTable<TaskId>,
    hasher: FxBuildHasher,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// An empty graph with room for `n` tasks.
    pub fn with_capacity(n: usize) -> Graph {
        Graph {
            keys: Vec::with_capacity(n),
            tasks: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: FxBuildHasher,
        }
    }

    /// Sets the task of `key`, returning the task it replaces (the key
    /// keeps its id and its place).
    ///
    /// ```
    /// use rask_graph::{Graph, Task, Value};
    /// let mut g = Graph::new();
    /// assert!(g.insert("a", 1).is_none());
    /// assert!(g.insert("b", 2).is_none());
    /// let old = g.insert("a", 3).unwrap();
    /// assert!(matches!(old, Task::Value(Value::Int(1))));
    /// assert_eq!(g.id(&"a".into()), Some(0));
    /// assert_eq!(g.id(&"b".into()), Some(1));
    /// assert!(matches!(g.task(0), Task::Value(Value::Int(3))));
    /// assert_eq!(g.len(), 2);
    /// ```
    ///
    /// # Panics
    ///
    /// When the graph already holds `u32::MAX` tasks.
    pub fn insert(&mut self, key: impl Into<Key>, task: impl Into<Task>) -> Option<Task> {
        let key = key.into();
        let task = task.into();
        // one hash and one probe: the slot found is the one filled
        let hash = self.hasher.hash_one(&key);
        let keys = &self.keys;
        let hasher = &self.hasher;
        let entry = self.index.entry(
            hash,
            |&i| keys[i as usize] == key,
            |&i| hasher.hash_one(&keys[i as usize]),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => {
                let id = *e.get() as usize;
                Some(std::mem::replace(&mut self.tasks[id], task))
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                let id =
                    TaskId::try_from(keys.len()).expect("a graph holds at most 2^32 - 1 tasks");
                v.insert(id);
                self.keys.push(key);
                self.tasks.push(task);
                None
            }
        }
    }

    /// The id of `key`.
    pub fn id(&self, key: &Key) -> Option<TaskId> {
        let hash = self.hasher.hash_one(key);
        self.index
            .find(hash, |&i| self.keys[i as usize] == *key)
            .copied()
    }

    /// The id of the string key `name`.
    pub fn id_of_str(&self, name: &str) -> Option<TaskId> {
        let hash = self.hasher.hash_one(name);
        self.index
            .find(
                hash,
                |&i| matches!(&self.keys[i as usize], Key::Str(s) if s.as_str() == name),
            )
            .copied()
    }

    /// The id of the key a literal refers to: a string equal to a key.
    pub fn ref_id(&self, v: &Value) -> Option<TaskId> {
        match v {
            Value::Str(s) => self.id_of_str(s),
            _ => None,
        }
    }

    /// Whether a literal refers to a key (a string equal to a key).
    pub fn is_ref(&self, v: &Value) -> bool {
        self.ref_id(v).is_some()
    }

    /// The task of `key`.
    pub fn get(&self, key: &Key) -> Option<&Task> {
        self.id(key).map(|i| &self.tasks[i as usize])
    }

    /// Whether `key` is in the graph.
    pub fn contains(&self, key: &Key) -> bool {
        self.id(key).is_some()
    }

    /// The key with id `id`.
    ///
    /// # Panics
    ///
    /// When `id` is not an id of this graph.
    pub fn key(&self, id: TaskId) -> &Key {
        &self.keys[id as usize]
    }

    /// The task with id `id`.
    ///
    /// # Panics
    ///
    /// When `id` is not an id of this graph.
    pub fn task(&self, id: TaskId) -> &Task {
        &self.tasks[id as usize]
    }

    /// All keys, in id order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// All tasks, in id order.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The number of tasks.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the graph has no task.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys and tasks, in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Key, &Task)> {
        self.keys.iter().zip(self.tasks.iter())
    }

    /// Evaluates the task `id` given the values of its references, in
    /// [`Task::visit_refs`] order. (Executors use
    /// [`evaluate_keyed`](Graph::evaluate_keyed), which needs no lookup.)
    pub fn evaluate(
        &self,
        id: TaskId,
        inputs: impl IntoIterator<Item = Value>,
    ) -> Result<Value, crate::EvalError> {
        let mut refs = Vec::new();
        // a missing explicit key has no value to consume anyway
        let _ = crate::deps::task_refs(self, id, &mut refs);
        let keyed = refs.iter().map(|&r| self.key(r)).zip(inputs);
        self.evaluate_keyed(id, keyed)
    }

    /// Evaluates the task `id` given its inputs as (key, value) pairs in
    /// [`Task::visit_refs`] order.
    pub fn evaluate_keyed<'k>(
        &self,
        id: TaskId,
        inputs: impl IntoIterator<Item = (&'k Key, Value)>,
    ) -> Result<Value, crate::EvalError> {
        self.tasks[id as usize].evaluate(&mut inputs.into_iter().peekable())
    }

    /// Evaluates the task `id` given the values of its references alone,
    /// when every string literal in it is a reference
    /// ([`Plan::literals_are_refs`](crate::Plan::literals_are_refs));
    /// see [`Task::evaluate_resolved`].
    pub fn evaluate_resolved(
        &self,
        id: TaskId,
        inputs: impl IntoIterator<Item = Value>,
    ) -> Result<Value, crate::EvalError> {
        self.tasks[id as usize].evaluate_resolved(&mut inputs.into_iter())
    }
}

impl<K: Into<Key>, T: Into<Task>> FromIterator<(K, T)> for Graph {
    fn from_iter<I: IntoIterator<Item = (K, T)>>(iter: I) -> Graph {
        let mut g = Graph::new();
        g.extend(iter);
        g
    }
}

impl<K: Into<Key>, T: Into<Task>> Extend<(K, T)> for Graph {
    fn extend<I: IntoIterator<Item = (K, T)>>(&mut self, iter: I) {
        for (k, t) in iter {
            self.insert(k, t);
        }
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Builds a [`Graph`] that reads like Dask's dict of tuples:
/// `key => task`, where a task is a literal, a key, `[a, b, ..]` (a list),
/// or `(f, arg, ..)` (a call of the Rust function or [`Function`](crate::Function)
/// `f`, whose name in the graph is the identifier written; arguments are
/// again tasks). Write a negative literal in parentheses, `(-1)`, and a
/// string that must not be taken for a key as `(Task::quote("x"))`.
///
/// ```
/// use rask::{graph, Task};
/// fn add(a: i64, b: i64) -> i64 { a + b }
/// fn total(xs: Vec<i64>) -> i64 { xs.iter().sum() }
/// let g = graph! {
///     ("x", 0) => 1,
///     ("x", 1) => (add, ("x", 0), (-3)),
///     "sum" => (total, [("x", 0), ("x", 1)]),
///     "label" => (Task::quote("sum")),
/// };
/// assert_eq!(g.len(), 4);
/// ```
#[macro_export]
macro_rules! graph {
    ($($k:expr => $t:tt),* $(,)?) => {{
        let mut g = $crate::Graph::new();
        $( g.insert($k, $crate::task!($t)); )*
        g
    }};
}

/// One task in [`graph!`] notation.
///
/// ```
/// use rask::task;
/// fn inc(x: i64) -> i64 { x + 1 }
/// let t = task!((inc, (inc, "x")));
/// assert_eq!(format!("{t:?}"), "(inc, (inc, \"x\"))");
/// ```
#[macro_export]
macro_rules! task {
    (($f:ident $(, $a:tt)* $(,)?)) => {
        $crate::Task::Call(
            $crate::Function::new(stringify!($f), $f),
            ::std::vec![$($crate::task!($a)),*].into_boxed_slice(),
        )
    };
    ([$($a:tt),* $(,)?]) => {
        $crate::Task::List(::std::vec![$($crate::task!($a)),*].into_boxed_slice())
    };
    ($e:expr) => {
        $crate::Task::from($e)
    };
}
