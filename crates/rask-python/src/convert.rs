//! A Dask graph as a rask graph.
//!
//! Dask's legacy tasks are converted here, in Rust, as Dask's
//! `convert_legacy_graph` reads them, without a Python-level pass per
//! task: a tuple whose first item is callable is a call; a string,
//! number or tuple that is a key of the graph (or of the `cache`) is a
//! reference; lists, tuples, sets and dicts that hold references or calls
//! are built from their items' values; anything else is a literal, passed
//! as the very object. Each distinct callable becomes one rask function
//! named after it, so profiles name what ran.
//!
//! Dask's task-spec objects (`Task`, `Alias`, `DataNode`, the containers)
//! need no conversion: a `DataNode` is its value, an `Alias` a reference,
//! and any other node is called on the values of its `dependencies`, as
//! Dask's own schedulers call it.
//!
//! In *instrumented* runs (Dask callbacks, a `cache` to write to, worker
//! processes) every key is instead one call of a Python runner with the
//! key and its dependencies' values: the runner does what Dask does around
//! a task (callbacks, the `state`, the cache) and executes the task.

use std::collections::HashMap;

use pyo3::exceptions::{PyRecursionError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple};
use rask_graph::{Arity, Function, Graph, Key, Task};
use smallvec::SmallVec;

use crate::keys::KeyMap;
use crate::values::{call_error, to_python, value_of};
use crate::worker;

/// How deeply tasks may nest inside one key's task.
const MAX_NESTING: usize = 1000;

/// Dask's task-spec classes, when Dask is installed.
pub(crate) struct NodeTypes<'py> {
    pub(crate) graph_node: Bound<'py, PyAny>,
    pub(crate) data_node: Bound<'py, PyAny>,
    pub(crate) alias: Bound<'py, PyAny>,
    /// `TaskRef`: a reference to its `key`, wherever it stands.
    pub(crate) task_ref: Bound<'py, PyAny>,
}

/// A converted argument: the object itself, or a task that computes it.
enum Arg {
    Literal,
    Task(Task),
}

/// Converts one Dask graph.
pub(crate) struct Converter<'py> {
    py: Python<'py>,
    dsk: Bound<'py, PyDict>,
    cache: Option<Bound<'py, PyDict>>,
    nodes: Option<NodeTypes<'py>>,
    pub(crate) keys: KeyMap<'py>,
    functions: HashMap<usize, Function>,
    build: Function,
    build_dict: Function,
    call_node: Function,
    /// The instrumented runner's function, in instrumented runs.
    runner: Option<Function>,
    /// The keys the task being converted refers to, for the runner.
    refs: Vec<(Bound<'py, PyAny>, Key)>,
    /// Whether a key is a number: if none is, no number argument is
    /// looked up (Dask's keys are strings and tuples).
    number_keys: bool,
}

impl<'py> Converter<'py> {
    pub(crate) fn new(
        dsk: Bound<'py, PyDict>,
        cache: Option<Bound<'py, PyDict>>,
        nodes: Option<NodeTypes<'py>>,
        runner: Option<Bound<'py, PyAny>>,
        readable: bool,
    ) -> Converter<'py> {
        let py = dsk.py();
        Converter {
            py,
            dsk,
            cache,
            nodes,
            keys: KeyMap::new(py, readable),
            functions: HashMap::new(),
            build: builder(),
            build_dict: dict_builder(),
            call_node: node_caller(),
            runner: runner.map(|r| runner_function(r.unbind())),
            refs: Vec::new(),
            number_keys: false,
        }
    }

    /// The rask graph of every key of `dsk` (and of `cache`, as literals).
    pub(crate) fn graph(&mut self) -> PyResult<Graph> {
        let dsk = self.dsk.clone();
        // every key is numbered first: tasks refer to keys written later
        let mut names = Vec::with_capacity(dsk.len());
        for (key, _) in dsk.iter() {
            self.number_keys |= is_number(&key);
            names.push(self.keys.add(&key)?);
        }
        let mut graph = Graph::with_capacity(dsk.len());
        let mut cached = Vec::new();
        if let Some(cache) = self.cache.clone() {
            for (key, value) in cache.iter() {
                if !self.keys.contains(&key) {
                    self.number_keys |= is_number(&key);
                    cached.push((self.keys.add(&key)?, value));
                }
            }
        }
        for ((key, task), rk) in dsk.iter().zip(names) {
            if let Some(cache) = &self.cache {
                if let Some(value) = cache.get_item(&key)? {
                    graph.insert(rk, Task::Quote(value_of(value)));
                    continue;
                }
            }
            let task = self.top(&key, &task)?;
            graph.insert(rk, task);
        }
        for (rk, value) in cached {
            graph.insert(rk, Task::Quote(value_of(value)));
        }
        Ok(graph)
    }

    /// The task of one key.
    fn top(&mut self, key: &Bound<'py, PyAny>, task: &Bound<'py, PyAny>) -> PyResult<Task> {
        self.refs.clear();
        let converted = match self.node(key, task)? {
            Some(t) => t,
            None => match self.arg(task, 0)? {
                Arg::Literal => Task::Quote(value_of(task.clone())),
                Arg::Task(t) => t,
            },
        };
        let Some(runner) = &self.runner else {
            return Ok(converted);
        };
        // the runner executes the task itself: it needs only the values
        // of the keys it refers to, each once
        let mut args = Vec::with_capacity(1 + 2 * self.refs.len());
        args.push(Task::Quote(value_of(key.clone())));
        let mut seen = std::collections::HashSet::new();
        for (pykey, rk) in self.refs.drain(..) {
            if seen.insert(rk.clone()) {
                args.push(Task::Quote(value_of(pykey)));
                args.push(Task::Key(rk));
            }
        }
        Ok(Task::Call(runner.clone(), args.into()))
    }

    /// A task-spec node's task; `None` if `task` is not a node.
    fn node(
        &mut self,
        key: &Bound<'py, PyAny>,
        task: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Task>> {
        let Some(nodes) = &self.nodes else {
            return Ok(None);
        };
        if !task.is_instance(&nodes.graph_node)? {
            return Ok(None);
        }
        if task.is_instance(&nodes.data_node)? {
            return Ok(Some(Task::Quote(value_of(task.getattr("value")?))));
        }
        let is_alias = task.is_instance(&nodes.alias)?;
        let deps = task.getattr("dependencies")?;
        let mut args = vec![Task::Quote(value_of(task.clone()))];
        for dep in deps.try_iter()? {
            let dep = dep?;
            let Some(rk) = self.keys.lookup(&dep) else {
                return Err(PyValueError::new_err(format!(
                    "Missing dependency {} for dependent {}",
                    dep.repr()?,
                    key.repr()?
                )));
            };
            self.refs.push((dep.clone(), rk.clone()));
            args.push(Task::Quote(value_of(dep)));
            args.push(Task::Key(rk));
        }
        if is_alias && args.len() == 3 {
            if let Some(Task::Key(rk)) = args.pop() {
                return Ok(Some(Task::Key(rk)));
            }
        }
        Ok(Some(Task::Call(self.call_node.clone(), args.into())))
    }

    /// A reference to `obj` if it is a key of the graph or of the cache.
    fn reference(&mut self, obj: &Bound<'py, PyAny>) -> Option<Arg> {
        let rk = self.keys.lookup(obj)?;
        if self.runner.is_some() {
            self.refs.push((obj.clone(), rk.clone()));
        }
        Some(Arg::Task(Task::Key(rk)))
    }

    /// One argument (or a whole task below the top).
    fn arg(&mut self, obj: &Bound<'py, PyAny>, depth: usize) -> PyResult<Arg> {
        if depth > MAX_NESTING {
            return Err(PyRecursionError::new_err(format!(
                "a task nests more than {MAX_NESTING} levels deep"
            )));
        }
        if let Ok(t) = obj.cast_exact::<PyTuple>() {
            if let Ok(first) = t.get_item(0) {
                if first.is_callable() {
                    return self.call(&first, t, depth);
                }
            }
            if let Some(r) = self.reference(obj) {
                return Ok(r);
            }
            return self.container(obj, depth);
        }
        if !self.number_keys && is_number(obj) {
            // `1 == 1.0 == True`: with no number among the keys, no number
            // argument can be one
            return Ok(Arg::Literal);
        }
        if obj.is_instance_of::<PyString>()
            || obj.is_instance_of::<PyInt>()
            || obj.is_instance_of::<PyFloat>()
            || obj.is_instance_of::<PyTuple>()
        {
            if let Some(r) = self.reference(obj) {
                return Ok(r);
            }
            if obj.is_instance_of::<PyTuple>() {
                return self.container(obj, depth);
            }
            return Ok(Arg::Literal);
        }
        if obj.is_instance_of::<PyList>()
            || obj.is_instance_of::<PySet>()
            || obj.is_instance_of::<PyFrozenSet>()
        {
            return self.container(obj, depth);
        }
        if let Ok(d) = obj.cast::<PyDict>() {
            return self.dict(d, depth);
        }
        if let Some(nodes) = &self.nodes {
            if obj.is_instance(&nodes.task_ref)? {
                let key = obj.getattr("key")?;
                return match self.reference(&key) {
                    Some(r) => Ok(r),
                    None => Err(PyValueError::new_err(format!(
                        "Missing dependency {} (a TaskRef)",
                        key.repr()?
                    ))),
                };
            }
            if obj.is_instance(&nodes.graph_node)? {
                // a task-spec node inside a legacy task: called in place
                let key = obj.getattr("key")?;
                if let Some(t) = self.node(&key, obj)? {
                    return Ok(Arg::Task(t));
                }
            }
        }
        Ok(Arg::Literal)
    }

    /// `(f, args...)`.
    fn call(
        &mut self,
        f: &Bound<'py, PyAny>,
        t: &Bound<'py, PyTuple>,
        depth: usize,
    ) -> PyResult<Arg> {
        let function = self.function(f)?;
        let mut args = Vec::with_capacity(t.len() - 1);
        for a in t.iter().skip(1) {
            args.push(self.task_of(&a, depth + 1)?);
        }
        Ok(Arg::Task(Task::Call(function, args.into())))
    }

    fn task_of(&mut self, obj: &Bound<'py, PyAny>, depth: usize) -> PyResult<Task> {
        Ok(match self.arg(obj, depth)? {
            Arg::Literal => Task::Quote(value_of(obj.clone())),
            Arg::Task(t) => t,
        })
    }

    /// A list, tuple, set or frozenset: a literal unless an item is a
    /// reference or a call.
    fn container(&mut self, obj: &Bound<'py, PyAny>, depth: usize) -> PyResult<Arg> {
        // only the computed items are kept at first: a list of data (a
        // bag's partition) is looked at, not copied
        let mut computed: Vec<(usize, Task)> = Vec::new();
        let mut len = 0;
        for (i, item) in obj.try_iter()?.enumerate() {
            if let Arg::Task(t) = self.arg(&item?, depth + 1)? {
                computed.push((i, t));
            }
            len = i + 1;
        }
        if computed.is_empty() {
            return Ok(Arg::Literal);
        }
        let mut items = Vec::with_capacity(len);
        let mut computed = computed.into_iter().peekable();
        for (i, item) in obj.try_iter()?.enumerate() {
            let item = item?;
            items.push(match computed.next_if(|(at, _)| *at == i) {
                Some((_, t)) => t,
                None => Task::Quote(value_of(item)),
            });
        }
        let list = Task::List(items.into());
        if obj.is_exact_instance_of::<PyList>() {
            return Ok(Arg::Task(list));
        }
        let ty = obj.get_type().into_any();
        Ok(Arg::Task(Task::Call(
            self.build.clone(),
            vec![Task::Quote(value_of(ty)), list].into(),
        )))
    }

    /// A dict: its values are computed, its keys are literals.
    fn dict(&mut self, d: &Bound<'py, PyDict>, depth: usize) -> PyResult<Arg> {
        let keys = PyList::empty(self.py);
        let mut values = Vec::with_capacity(d.len());
        let mut computed = false;
        for (k, v) in d.iter() {
            keys.append(&k)?;
            let arg = self.arg(&v, depth + 1)?;
            computed |= matches!(arg, Arg::Task(_));
            values.push(match arg {
                Arg::Literal => Task::Quote(value_of(v)),
                Arg::Task(t) => t,
            });
        }
        if !computed {
            return Ok(Arg::Literal);
        }
        Ok(Arg::Task(Task::Call(
            self.build_dict.clone(),
            vec![
                Task::Quote(value_of(keys.into_any())),
                Task::List(values.into()),
            ]
            .into(),
        )))
    }

    /// The rask function that calls `f`: one per distinct callable.
    fn function(&mut self, f: &Bound<'py, PyAny>) -> PyResult<Function> {
        let id = f.as_ptr() as usize;
        if let Some(function) = self.functions.get(&id) {
            return Ok(function.clone());
        }
        let name = callable_name(f);
        let callable = f.clone().unbind();
        let function = Function::dynamic(&name, Arity::at_least(0), move |args| {
            Python::attach(|py| {
                let values = args
                    .iter()
                    .map(|a| to_python(py, a))
                    .collect::<PyResult<SmallVec<[Bound<'_, PyAny>; 4]>>>()
                    .map_err(call_error)?;
                worker::call(callable.bind(py), &values)
                    .map(value_of)
                    .map_err(call_error)
            })
        });
        self.functions.insert(id, function.clone());
        Ok(function)
    }
}

/// Whether `obj` is an `int` (or `bool`) or a `float`.
fn is_number(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>()
}

/// The name a profile shows for a callable: its `__name__`, that of the
/// function a `functools.partial` wraps, or its type's.
fn callable_name(f: &Bound<'_, PyAny>) -> String {
    let named = |o: &Bound<'_, PyAny>| {
        o.getattr("__name__")
            .ok()
            .and_then(|n| n.extract::<String>().ok())
    };
    named(f)
        .or_else(|| f.getattr("func").ok().and_then(|inner| named(&inner)))
        .or_else(|| f.get_type().name().ok().map(|n| n.to_string()))
        .unwrap_or_else(|| "call".into())
}

/// `build(type, list)`: a tuple, set or frozenset (or named tuple) of the
/// list's items.
fn builder() -> Function {
    Function::dynamic("build", Arity::exactly(2), |args| {
        Python::attach(|py| {
            let ty = to_python(py, &args[0]).map_err(call_error)?;
            let items = to_python(py, &args[1]).map_err(call_error)?;
            let built = if ty.hasattr("_fields").unwrap_or(false) {
                let tuple = items.cast::<PyList>().map(|l| l.to_tuple());
                match tuple {
                    Ok(t) => ty.call1(t),
                    Err(_) => ty.call1((items,)),
                }
            } else {
                ty.call1((items,))
            };
            built.map(value_of).map_err(call_error)
        })
    })
}

/// `build_dict(keys, values)`.
fn dict_builder() -> Function {
    Function::dynamic("dict", Arity::exactly(2), |args| {
        Python::attach(|py| {
            let keys = to_python(py, &args[0]).map_err(call_error)?;
            let values = to_python(py, &args[1]).map_err(call_error)?;
            let d = PyDict::new(py);
            for (k, v) in keys
                .try_iter()
                .map_err(call_error)?
                .zip(values.try_iter().map_err(call_error)?)
            {
                d.set_item(k.map_err(call_error)?, v.map_err(call_error)?)
                    .map_err(call_error)?;
            }
            Ok(value_of(d.into_any()))
        })
    })
}

/// `node(key1, value1, key2, value2, ...)`: a task-spec node called on
/// the dict of its dependencies' values.
fn node_caller() -> Function {
    Function::dynamic("task", Arity::at_least(1), |args| {
        Python::attach(|py| {
            let node = to_python(py, &args[0]).map_err(call_error)?;
            let data = pairs_to_dict(py, &args[1..]).map_err(call_error)?;
            worker::call(&node, &[data.into_any()])
                .map(value_of)
                .map_err(call_error)
        })
    })
}

/// The instrumented runner: `runner(key, data, worker_id)`.
fn runner_function(runner: Py<PyAny>) -> Function {
    Function::dynamic("task", Arity::at_least(1), move |args| {
        Python::attach(|py| {
            let key = to_python(py, &args[0]).map_err(call_error)?;
            let data = pairs_to_dict(py, &args[1..]).map_err(call_error)?;
            let worker = worker::worker_id()
                .into_pyobject(py)
                .map_err(|e| match e {})?;
            worker::call(runner.bind(py), &[key, data.into_any(), worker.into_any()])
                .map(value_of)
                .map_err(call_error)
        })
    })
}

fn pairs_to_dict<'py>(
    py: Python<'py>,
    pairs: &[rask_graph::Value],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for kv in pairs.chunks(2) {
        if let [k, v] = kv {
            d.set_item(to_python(py, k)?, to_python(py, v)?)?;
        }
    }
    Ok(d)
}
