//! Tasks: what a key of the graph computes.
//!
//! A task is a literal value, an alias of another key, a list of tasks, or
//! a call of a [`Function`] on argument tasks (which may be literals, keys,
//! lists or nested calls, evaluated in place). As in Dask, a string literal
//! equal to a key of the graph is a reference to that key; wrap a string in
//! [`Task::quote`] to pass it literally.
//!
//! ```
//! use rask::{Function, Task};
//! let inc = Function::new("inc", |x: i64| x + 1);
//! let t = Task::call(&inc, ["x"]);        // inc(x): "x" refers to the key x
//! let q = Task::call(&inc, [Task::quote("x")]); // inc("x"): the string itself
//! assert_eq!(format!("{t:?}"), "(inc, \"x\")");
//! assert_eq!(format!("{q:?}"), "(inc, quote(\"x\"))");
//! ```

use std::fmt;
use std::iter::Peekable;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::function::{CallError, Function};
use crate::key::Key;
use crate::value::Value;

/// What one key of a graph computes.
#[derive(Clone)]
pub enum Task {
    /// A literal value. A string equal to a key of the graph is a
    /// reference to that key (an alias at top level).
    Value(Value),
    /// A literal value, never taken for a key.
    Quote(Value),
    /// A reference to a key: its value is used here.
    Key(Key),
    /// A list of tasks; its value is the list of their values.
    List(Box<[Task]>),
    /// A call of a function on the values of its argument tasks.
    Call(Function, Box<[Task]>),
}

impl Task {
    /// A call of `f` on `args`.
    pub fn call<T: Into<Task>>(f: &Function, args: impl IntoIterator<Item = T>) -> Task {
        Task::Call(f.clone(), args.into_iter().map(Into::into).collect())
    }

    /// A literal that is never taken for a key.
    pub fn quote(v: impl Into<Value>) -> Task {
        Task::Quote(v.into())
    }

    /// A reference to `key`.
    pub fn key(key: impl Into<Key>) -> Task {
        Task::Key(key.into())
    }

    /// A list of tasks.
    pub fn list<T: Into<Task>>(items: impl IntoIterator<Item = T>) -> Task {
        Task::List(items.into_iter().map(Into::into).collect())
    }

    /// The function of a call task.
    pub fn function(&self) -> Option<&Function> {
        match self {
            Task::Call(f, _) => Some(f),
            _ => None,
        }
    }

    /// Calls `on_ref` with every key this task refers to, in the order in
    /// which [`Task::evaluate`] consumes their values (with repeats).
    /// `lookup` says whether a string names a key of the graph.
    pub fn visit_refs<K: Copy>(
        &self,
        lookup: &impl Fn(&Value) -> Option<K>,
        keyed: &impl Fn(&Key) -> Option<K>,
        on_ref: &mut impl FnMut(Result<K, &Key>),
    ) {
        // depth first, left to right, with a stack of the lists being
        // walked: no recursion on how deeply tasks nest
        let mut stack: SmallVec<[std::slice::Iter<'_, Task>; 8]> = SmallVec::new();
        let mut next = Some(self);
        loop {
            let task = match next.take() {
                Some(t) => t,
                None => match stack.last_mut() {
                    None => return,
                    Some(items) => match items.next() {
                        Some(t) => t,
                        None => {
                            stack.pop();
                            continue;
                        }
                    },
                },
            };
            match task {
                Task::Value(v @ Value::Str(_)) => {
                    if let Some(k) = lookup(v) {
                        on_ref(Ok(k));
                    }
                }
                Task::Value(_) | Task::Quote(_) => {}
                Task::Key(key) => on_ref(keyed(key).ok_or(key)),
                Task::List(items) | Task::Call(_, items) => stack.push(items.iter()),
            }
        }
    }

    /// Computes the task's value from its inputs: the keys it refers to
    /// with their values, in [`visit_refs`](Task::visit_refs) order. A
    /// string literal is a reference exactly when it names the next input,
    /// so no lookup in the graph is needed.
    pub fn evaluate<'k, I: Iterator<Item = (&'k Key, Value)>>(
        &self,
        inputs: &mut Peekable<I>,
    ) -> Result<Value, EvalError> {
        self.eval(&mut Keyed(inputs))
    }

    /// Computes the task's value from the values of its references alone,
    /// in [`visit_refs`](Task::visit_refs) order, when every string
    /// literal in it is known to be a reference (as a [`Plan`](crate::Plan)
    /// records for each of its tasks): no string is compared, no key read.
    ///
    /// ```
    /// use rask::{Function, Task, Value};
    /// let add = Function::new("add", |a: i64, b: i64| a + b);
    /// let t = Task::call(&add, ["x", "y"]);
    /// let v = t.evaluate_resolved(&mut [Value::Int(1), Value::Int(2)].into_iter()).unwrap();
    /// assert_eq!(v, Value::Int(3));
    /// ```
    pub fn evaluate_resolved(
        &self,
        inputs: &mut impl Iterator<Item = Value>,
    ) -> Result<Value, EvalError> {
        self.eval(&mut Resolved(inputs))
    }

    fn eval(&self, inputs: &mut impl Inputs) -> Result<Value, EvalError> {
        match self {
            Task::Value(Value::Str(s)) => match inputs.string(s)? {
                Some(v) => Ok(v),
                None => Ok(Value::Str(s.clone())),
            },
            Task::Value(v) | Task::Quote(v) => Ok(v.clone()),
            Task::Key(_) => inputs.next_value(),
            Task::List(items) => {
                // one allocation of the exact length, filled in place (a
                // mapped slice iterator has a trusted length); after an
                // error the rest is not evaluated
                let mut error = None;
                let values: Arc<[Value]> = items
                    .iter()
                    .map(|t| {
                        if error.is_some() {
                            return Value::Null;
                        }
                        t.eval(inputs).unwrap_or_else(|e| {
                            error = Some(e);
                            Value::Null
                        })
                    })
                    .collect();
                match error {
                    Some(e) => Err(e),
                    None => Ok(Value::List(values)),
                }
            }
            Task::Call(f, args) => {
                let mut values = args
                    .iter()
                    .map(|t| t.eval(inputs))
                    .collect::<Result<SmallVec<[Value; 4]>, _>>()?;
                f.call_taking(&mut values).map_err(|error| EvalError::Call {
                    function: f.name().to_string(),
                    error,
                })
            }
        }
    }

    /// Nesting depth: 1 for a literal or a reference, more for lists and
    /// calls of calls.
    pub fn depth(&self) -> usize {
        match self {
            Task::List(items) | Task::Call(_, items) => {
                1 + items.iter().map(Task::depth).max().unwrap_or(0)
            }
            _ => 1,
        }
    }
}

/// Where evaluation takes the values of references from.
trait Inputs {
    /// The value of the string literal `s` if it is a reference, `None`
    /// if it is a plain string.
    fn string(&mut self, s: &str) -> Result<Option<Value>, EvalError>;
    /// The value of the next reference.
    fn next_value(&mut self) -> Result<Value, EvalError>;
}

/// Inputs with their keys: a string literal is a reference when it names
/// the next input.
struct Keyed<'a, I: Iterator>(&'a mut Peekable<I>);

impl<'k, I: Iterator<Item = (&'k Key, Value)>> Inputs for Keyed<'_, I> {
    fn string(&mut self, s: &str) -> Result<Option<Value>, EvalError> {
        match self.0.peek() {
            Some((Key::Str(k), _)) if k.as_str() == s => self.next_value().map(Some),
            _ => Ok(None),
        }
    }
    fn next_value(&mut self) -> Result<Value, EvalError> {
        Ok(self.0.next().ok_or(EvalError::MissingInput)?.1)
    }
}

/// Input values alone: every string literal is a reference.
struct Resolved<'a, I>(&'a mut I);

impl<I: Iterator<Item = Value>> Inputs for Resolved<'_, I> {
    fn string(&mut self, _: &str) -> Result<Option<Value>, EvalError> {
        self.next_value().map(Some)
    }
    fn next_value(&mut self) -> Result<Value, EvalError> {
        self.0.next().ok_or(EvalError::MissingInput)
    }
}

/// The failure of evaluating one task.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A function call inside the task failed.
    #[error("{function}: {error}")]
    Call {
        /// The function's name.
        function: String,
        /// What went wrong (its text is part of this error's message).
        error: CallError,
    },
    /// Fewer input values than references (a bug in an executor).
    #[error("an input value is missing (executor bug)")]
    MissingInput,
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Task::Value(v) => write!(f, "{v:?}"),
            Task::Quote(v) => write!(f, "quote({v:?})"),
            Task::Key(k) => write!(f, "{k:?}"),
            Task::List(items) => f.debug_list().entries(items.iter()).finish(),
            Task::Call(func, args) => {
                write!(f, "({}", func.name())?;
                for a in args.iter() {
                    write!(f, ", {a:?}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl From<Value> for Task {
    fn from(v: Value) -> Task {
        Task::Value(v)
    }
}
impl From<Key> for Task {
    fn from(k: Key) -> Task {
        Task::Key(k)
    }
}
impl From<&Key> for Task {
    fn from(k: &Key) -> Task {
        Task::Key(k.clone())
    }
}
impl<T: Into<Task>> From<Vec<T>> for Task {
    fn from(items: Vec<T>) -> Task {
        Task::list(items)
    }
}
macro_rules! task_from_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Task {
            fn from(v: $t) -> Task {
                Task::Value(Value::from(v))
            }
        }
    )*};
}
task_from_value!(i64, i32, u32, usize, f64, f32, bool, String, ());

impl From<&str> for Task {
    fn from(s: &str) -> Task {
        Task::Value(Value::Str(std::sync::Arc::from(s)))
    }
}

macro_rules! task_from_tuple_key {
    ($($name:ident),+) => {
        impl<$($name: Into<crate::KeyPart>),+> From<($($name,)+)> for Task {
            fn from(t: ($($name,)+)) -> Task {
                Task::Key(Key::from(t))
            }
        }
    };
}
task_from_tuple_key!(A, B);
task_from_tuple_key!(A, B, C);
task_from_tuple_key!(A, B, C, D);
