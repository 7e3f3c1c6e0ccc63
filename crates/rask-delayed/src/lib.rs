//! Typed lazy values: a [`Delayed<T>`] is the promise of a `T`, made of a
//! task and the delayed values it depends on. Calls of ordinary Rust
//! functions on delayed values build a graph; nothing runs until
//! [`compute`], which computes several values together so that the parts
//! they share run once.
//!
//! ```
//! use rask::delayed::{compute, delayed, Delayed};
//! fn inc(x: i64) -> i64 { x + 1 }
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! let x: Delayed<i64> = delayed(1);
//! let y = delayed!(inc(&x));
//! let z = delayed!(add(&y, 10));
//! assert_eq!(compute(&z).unwrap(), 12);
//! // y is computed once for both
//! assert_eq!(compute((&y, &z)).unwrap(), (2, 12));
//! ```
//!
//! Arguments are delayed values (`&d` or `d`), plain values (taken
//! literally, never as keys), or a `Vec` of delayed values (a list
//! argument, as in Dask):
//!
//! ```
//! use rask::delayed::{compute, delayed, Delayed};
//! fn load(name: String) -> String { format!("data of {name}") }
//! fn total(parts: Vec<String>) -> usize { parts.iter().map(String::len).sum() }
//! let parts: Vec<Delayed<String>> = ["a", "b"].iter().map(|n| delayed!(load(n.to_string()))).collect();
//! let n = delayed!(total(parts));
//! assert_eq!(compute(&n).unwrap(), 18);
//! ```
//!
//! Keys are `NAME-N`, where `NAME` is the function's name and `N` counts
//! the delayed values made by this process, so a program that builds the
//! same values in the same order gets the same keys (as every rank of an
//! MPI job must).
#![deny(missing_docs, missing_debug_implementations)]

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rask_graph::{
    Arity, CallError, Function, Graph, GraphError, IntoFallible, IntoFunction, Key, Task, Value,
};
use rask_scheduler::{ComputeError, Executor, Keys, Threads};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn next_key(name: &str) -> Key {
    Key::from(format!(
        "{name}-{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// One task of a delayed computation and the nodes it depends on.
struct Node {
    key: Key,
    task: Task,
    deps: Vec<Arc<Node>>,
}

impl Drop for Node {
    // a chain of a million delayed values would otherwise drop recursively
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.deps);
        while let Some(node) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(node) {
                stack.append(&mut node.deps);
            }
        }
    }
}

/// A lazy `T`: a task in a graph, computed by [`compute`].
pub struct Delayed<T> {
    node: Arc<Node>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Delayed {
            node: self.node.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Delayed({:?})", self.node.key)
    }
}

/// A delayed value that is already known.
///
/// ```
/// let x = rask::delayed::delayed(21_i64);
/// assert_eq!(rask::delayed::compute(&x).unwrap(), 21);
/// ```
pub fn delayed<T: Any + Send + Sync + Clone>(value: T) -> Delayed<T> {
    Value::register_list::<T>();
    Delayed::from_node(Node {
        key: next_key("literal"),
        task: Task::Quote(Value::new(value)),
        deps: Vec::new(),
    })
}

impl<T> Delayed<T> {
    fn from_node(node: Node) -> Delayed<T> {
        Delayed {
            node: Arc::new(node),
            _type: PhantomData,
        }
    }

    /// Delayed values for `keys` of an existing graph (each one's task and
    /// every task it needs), as Dask's `to_delayed` makes of a
    /// collection's chunks; values from one call share their common
    /// tasks. An error names a key that is not in the graph, or the keys
    /// of a cycle.
    ///
    /// ```
    /// use rask::{graph, Key};
    /// use rask::delayed::{compute, Delayed};
    /// fn inc(x: i64) -> i64 { x + 1 }
    /// let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (inc, "y") };
    /// let ds = Delayed::<i64>::from_graph(&g, &[Key::from("y"), Key::from("z")]).unwrap();
    /// assert_eq!(compute(&ds).unwrap(), vec![2, 3]);
    /// assert!(Delayed::<i64>::from_graph(&g, &[Key::from("w")]).is_err());
    /// ```
    pub fn from_graph(graph: &Graph, keys: &[Key]) -> Result<Vec<Delayed<T>>, GraphError> {
        let deps = rask_graph::deps::dependencies(graph)?.unique();
        let order = rask_graph::deps::toposort(graph)?;
        let mut nodes: Vec<Option<Arc<Node>>> = vec![None; graph.len()];
        for id in order {
            let node = Node {
                key: graph.key(id).clone(),
                task: graph.task(id).clone(),
                deps: deps
                    .of(id)
                    .iter()
                    .filter_map(|&d| nodes[d as usize].clone())
                    .collect(),
            };
            nodes[id as usize] = Some(Arc::new(node));
        }
        keys.iter()
            .map(|k| {
                graph
                    .id(k)
                    .and_then(|id| nodes[id as usize].clone())
                    .map(Delayed::from_node_arc)
                    .ok_or_else(|| GraphError::MissingKey {
                        key: k.clone(),
                        needed_by: None,
                    })
            })
            .collect()
    }

    fn from_node_arc(node: Arc<Node>) -> Delayed<T> {
        Delayed {
            node,
            _type: PhantomData,
        }
    }

    /// The key of this value's task.
    pub fn key(&self) -> &Key {
        &self.node.key
    }

    /// The graph of every task this value needs, itself included.
    pub fn graph(&self) -> Graph {
        build_graph([&self.node])
    }

    /// A delayed value with this value's key renamed to `key`, for
    /// readable graphs (`("load", 3)` rather than `load-17`).
    ///
    /// ```
    /// use rask::delayed::delayed;
    /// fn inc(x: i64) -> i64 { x + 1 }
    /// let y = rask::delayed::delayed!(inc(delayed(1))).named(("y", 0));
    /// assert_eq!(y.key().to_string(), "('y', 0)");
    /// ```
    pub fn named(self, key: impl Into<Key>) -> Delayed<T> {
        Delayed::from_node(Node {
            key: key.into(),
            task: self.node.task.clone(),
            deps: self.node.deps.clone(),
        })
    }

    /// Applies a one-argument function: `x.then("inc", inc)`.
    pub fn then<R, F>(&self, name: &str, f: F) -> Delayed<R>
    where
        F: IntoFunction<fn(T) -> R>,
        T: Any + Clone,
        R: Any + Send + Sync,
    {
        make(name, f.into_function(name), vec![self.arg()])
    }

    fn arg(&self) -> Arg {
        Arg {
            task: Task::Key(self.node.key.clone()),
            deps: vec![self.node.clone()],
        }
    }
}

/// An argument of a delayed call: its task (a key, a literal, or a list)
/// and the nodes it needs.
#[derive(Debug)]
pub struct Arg {
    task: Task,
    deps: Vec<Arc<Node>>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.key)
    }
}

/// Something that can be an argument of type `T` of a delayed call: a
/// `Delayed<T>` (or a reference to one), a plain `T` (taken literally), or
/// a `Vec<Delayed<E>>` for a `Vec<E>` argument.
pub trait IntoArg<T> {
    /// The argument.
    fn into_arg(self) -> Arg;
}

impl<T> IntoArg<T> for Delayed<T> {
    fn into_arg(self) -> Arg {
        self.arg()
    }
}

impl<T> IntoArg<T> for &Delayed<T> {
    fn into_arg(self) -> Arg {
        self.arg()
    }
}

impl<T: Any + Send + Sync> IntoArg<T> for T {
    fn into_arg(self) -> Arg {
        Arg {
            task: Task::Quote(Value::new(self)),
            deps: Vec::new(),
        }
    }
}

impl<E: Any + Send + Sync + Clone> IntoArg<Vec<E>> for Vec<Delayed<E>> {
    fn into_arg(self) -> Arg {
        collect_arg(&self)
    }
}

impl<E: Any + Send + Sync + Clone> IntoArg<Vec<E>> for &Vec<Delayed<E>> {
    fn into_arg(self) -> Arg {
        collect_arg(self)
    }
}

impl<E: Any + Send + Sync + Clone> IntoArg<Vec<E>> for &[Delayed<E>] {
    fn into_arg(self) -> Arg {
        collect_arg(self)
    }
}

/// A nested call that turns the values of `items` into one `Vec<E>`.
fn collect_arg<E: Any + Send + Sync + Clone>(items: &[Delayed<E>]) -> Arg {
    let f = Function::dynamic("collect", Arity::at_least(0), |args: &[Value]| {
        args.iter()
            .enumerate()
            .map(|(i, v)| {
                v.get::<E>()
                    .ok_or_else(|| CallError::arg_type::<E>(i + 1, v))
            })
            .collect::<Result<Vec<E>, _>>()
            .map(Value::new)
    });
    Arg {
        task: Task::Call(
            f,
            items
                .iter()
                .map(|d| Task::Key(d.node.key.clone()))
                .collect(),
        ),
        deps: items.iter().map(|d| d.node.clone()).collect(),
    }
}

fn make<R>(name: &str, f: Function, args: Vec<Arg>) -> Delayed<R> {
    let mut deps = Vec::new();
    let mut tasks = Vec::with_capacity(args.len());
    for a in args {
        tasks.push(a.task);
        deps.extend(a.deps);
    }
    Delayed::from_node(Node {
        key: next_key(name),
        task: Task::Call(f, tasks.into()),
        deps,
    })
}

/// A typed function that [`call`] can apply to arguments `Args` (a tuple of
/// argument types).
pub trait Callable<Args>: Sized {
    /// What the function returns.
    type Output;
    /// The function as a graph [`Function`].
    fn function(self, name: &str) -> Function;
}

/// A typed function returning `Result`, for [`call_fallible`].
pub trait FallibleCallable<Args>: Sized {
    /// What the function returns when it succeeds.
    type Output;
    /// The function as a graph [`Function`].
    fn function(self, name: &str) -> Function;
}

/// The arguments of a call, as a tuple of [`IntoArg`]s.
pub trait ArgList<Args> {
    /// The arguments.
    fn args(self) -> Vec<Arg>;
}

macro_rules! arities {
    ($($a:ident $ia:ident $x:tt),*) => {
        impl<F, R, $($a),*> Callable<($($a,)*)> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: Any + Send + Sync + Clone,
            $($a: Any + Clone,)*
        {
            type Output = R;
            fn function(self, name: &str) -> Function {
                self.into_function(name)
            }
        }

        impl<F, R, E, $($a),*> FallibleCallable<($($a,)*)> for F
        where
            F: Fn($($a),*) -> Result<R, E> + Send + Sync + 'static,
            R: Any + Send + Sync + Clone,
            E: Into<Box<dyn std::error::Error + Send + Sync>>,
            $($a: Any + Clone,)*
        {
            type Output = R;
            fn function(self, name: &str) -> Function {
                self.into_fallible(name)
            }
        }

        impl<$($a, $ia: IntoArg<$a>),*> ArgList<($($a,)*)> for ($($ia,)*) {
            #[allow(non_snake_case)]
            fn args(self) -> Vec<Arg> {
                vec![$(self.$x.into_arg()),*]
            }
        }
    };
}
arities!();
arities!(A IA 0);
arities!(A IA 0, B IB 1);
arities!(A IA 0, B IB 1, C IC 2);
arities!(A IA 0, B IB 1, C IC 2, D ID 3);
arities!(A IA 0, B IB 1, C IC 2, D ID 3, H IE 4);
arities!(A IA 0, B IB 1, C IC 2, D ID 3, H IE 4, G IG 5);

/// A delayed call of `f` (named `name` in the graph) on `args`, a tuple of
/// arguments. [`delayed!`] writes this for you.
///
/// ```
/// use rask::delayed::{call, compute, delayed};
/// let x = delayed(2_i64);
/// let y = call("square", |v: i64| v * v, (&x,));
/// assert_eq!(compute(&y).unwrap(), 4);
/// ```
pub fn call<Args, F: Callable<Args>>(
    name: &str,
    f: F,
    args: impl ArgList<Args>,
) -> Delayed<F::Output> {
    make(name, f.function(name), args.args())
}

/// A delayed call of a function returning `Result`: an `Err` fails the
/// computation with the error as its cause.
///
/// ```
/// use rask::delayed::{call_fallible, compute, delayed};
/// let y = call_fallible("parse", |s: String| s.parse::<i64>(), (delayed("x1".to_string()),));
/// let err = compute(&y).unwrap_err().to_string();
/// assert!(err.starts_with("task \"parse-") && err.ends_with("parse: invalid digit found in string"), "{err}");
/// ```
pub fn call_fallible<Args, F: FallibleCallable<Args>>(
    name: &str,
    f: F,
    args: impl ArgList<Args>,
) -> Delayed<F::Output> {
    make(name, f.function(name), args.args())
}

/// A delayed call that reads like the call itself: `delayed!(add(&x, 10))`.
/// Prefix `try` for a function that returns `Result`:
/// `delayed!(try parse(&text))`.
#[macro_export]
macro_rules! delayed {
    (try $f:ident ( $($a:expr),* $(,)? )) => {
        $crate::call_fallible(stringify!($f), $f, ($($a,)*))
    };
    ($f:ident ( $($a:expr),* $(,)? )) => {
        $crate::call(stringify!($f), $f, ($($a,)*))
    };
}

/// Builds one graph from the nodes reachable from `roots` (iteratively:
/// deep chains do not recurse).
fn build_graph<'a>(roots: impl IntoIterator<Item = &'a Arc<Node>>) -> Graph {
    let mut seen: rustc_hash::FxHashSet<*const Node> = Default::default();
    let mut stack: Vec<&Arc<Node>> = roots.into_iter().collect();
    let mut order: Vec<&Arc<Node>> = Vec::new();
    while let Some(n) = stack.pop() {
        if seen.insert(Arc::as_ptr(n)) {
            order.push(n);
            stack.extend(n.deps.iter());
        }
    }
    let mut g = Graph::with_capacity(order.len());
    for n in order.iter().rev() {
        g.insert(n.key.clone(), n.task.clone());
    }
    g
}

/// Values that [`compute`] can compute together: a `Delayed<T>` (or a
/// reference), a tuple of them, or a `Vec` of them.
pub trait Computable {
    /// What computing gives.
    type Output;
    /// The nodes to compute.
    #[doc(hidden)]
    fn roots(&self) -> Vec<DelayedRoot>;
    /// The typed result from the values of [`roots`](Computable::roots).
    #[doc(hidden)]
    fn output(values: &mut dyn Iterator<Item = (Key, Value)>)
        -> Result<Self::Output, ComputeError>;
}

/// One root of a [`Computable`] (an implementation detail).
#[doc(hidden)]
#[derive(Debug)]
pub struct DelayedRoot(Arc<Node>);

fn take<T: Any + Clone>(values: &mut dyn Iterator<Item = (Key, Value)>) -> Result<T, ComputeError> {
    let (key, v) = values.next().ok_or_else(|| ComputeError::Executor {
        executor: "delayed".into(),
        message: "fewer values than keys".into(),
    })?;
    v.get::<T>().ok_or_else(|| ComputeError::Executor {
        executor: "delayed".into(),
        message: format!(
            "task {key:?} gave a {} where a {} was expected",
            v.type_name(),
            std::any::type_name::<T>()
        ),
    })
}

impl<T: Any + Clone> Computable for Delayed<T> {
    type Output = T;
    fn roots(&self) -> Vec<DelayedRoot> {
        vec![DelayedRoot(self.node.clone())]
    }
    fn output(values: &mut dyn Iterator<Item = (Key, Value)>) -> Result<T, ComputeError> {
        take(values)
    }
}

impl<C: Computable> Computable for &C {
    type Output = C::Output;
    fn roots(&self) -> Vec<DelayedRoot> {
        (*self).roots()
    }
    fn output(values: &mut dyn Iterator<Item = (Key, Value)>) -> Result<C::Output, ComputeError> {
        C::output(values)
    }
}

impl<T: Any + Clone> Computable for Vec<Delayed<T>> {
    type Output = Vec<T>;
    fn roots(&self) -> Vec<DelayedRoot> {
        self.iter().map(|d| DelayedRoot(d.node.clone())).collect()
    }
    fn output(values: &mut dyn Iterator<Item = (Key, Value)>) -> Result<Vec<T>, ComputeError> {
        let mut out = Vec::new();
        for (key, v) in &mut *values {
            let mut one = std::iter::once((key, v));
            out.push(take(&mut one)?);
        }
        Ok(out)
    }
}

macro_rules! computable_tuple {
    ($($c:ident),+) => {
        impl<$($c: Computable),+> Computable for ($($c,)+) {
            type Output = ($($c::Output,)+);
            #[allow(non_snake_case)]
            fn roots(&self) -> Vec<DelayedRoot> {
                let ($($c,)+) = self;
                let mut out = Vec::new();
                $(out.extend($c.roots());)+
                out
            }
            fn output(values: &mut dyn Iterator<Item = (Key, Value)>) -> Result<Self::Output, ComputeError> {
                Ok(($($c::output(values)?,)+))
            }
        }
    };
}
computable_tuple!(A);
computable_tuple!(A, B);
computable_tuple!(A, B, C);
computable_tuple!(A, B, C, D);
computable_tuple!(A, B, C, D, E);
computable_tuple!(A, B, C, D, E, F);

/// Computes delayed values with the default executor (threads, one per
/// core); several values given together share their common tasks.
pub fn compute<C: Computable>(c: C) -> Result<C::Output, ComputeError> {
    compute_with(&Threads::default(), c)
}

/// Computes delayed values with `executor`.
///
/// ```
/// use rask::delayed::{compute_with, delayed};
/// use rask::Sync;
/// fn double(x: i64) -> i64 { 2 * x }
/// let xs: Vec<_> = (0..4).map(|i| rask::delayed::delayed!(double(i as i64))).collect();
/// assert_eq!(compute_with(&Sync, xs).unwrap(), vec![0, 2, 4, 6]);
/// ```
pub fn compute_with<C: Computable>(
    executor: &dyn Executor,
    c: C,
) -> Result<C::Output, ComputeError> {
    let roots = c.roots();
    let graph = build_graph(roots.iter().map(|r| &r.0));
    let keys: Vec<Key> = roots.iter().map(|r| r.0.key.clone()).collect();
    let value = rask_scheduler::get_with(
        executor,
        &graph,
        Keys::Many(keys.iter().map(Keys::from).collect()),
        &[],
    )?;
    let values: Vec<Value> = value.as_list().map(<[Value]>::to_vec).unwrap_or_default();
    let mut it = keys.into_iter().zip(values);
    C::output(&mut it)
}

#[cfg(test)]
mod tests;
