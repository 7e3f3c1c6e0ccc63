//! Functions: what a call task runs.
//!
//! A [`Function`] has a name (how graph files and error messages refer to
//! it), an arity (checked before anything runs) and an implementation over
//! [`Value`]s. Ordinary typed Rust functions and closures are adapted with
//! no boilerplate: each argument is taken from its value with
//! [`Value::get`], and the result is wrapped with [`Value::new`].
//!
//! ```
//! use rask::{Function, Value};
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! let f = Function::new("add", add);
//! assert_eq!(f.call(&[Value::Int(1), Value::Int(2)]).unwrap(), Value::Int(3));
//! // a wrong type is an error that names the argument
//! let err = f.call(&[Value::Int(1), Value::from("two")]).unwrap_err();
//! assert_eq!(err.to_string(), "argument 2 must be i64, got str \"two\"");
//!
//! // a function that can fail returns a Result
//! let div = Function::fallible("checked_div", |a: i64, b: i64| {
//!     a.checked_div(b).ok_or("division by zero")
//! });
//! assert_eq!(div.call(&[Value::Int(1), Value::Int(0)]).unwrap_err().to_string(), "division by zero");
//! ```

use std::any::Any;
use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::task::EvalError;
use crate::value::Value;

/// The error of one call of a function.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The function was given the wrong number of arguments.
    #[error("takes {expected} argument(s), got {got}")]
    ArgCount {
        /// What the function takes.
        expected: Arity,
        /// How many it was given.
        got: usize,
    },
    /// An argument has the wrong type.
    #[error("argument {position} must be {expected}, got {got}")]
    ArgType {
        /// 1-based position of the argument.
        position: usize,
        /// The Rust type the function takes.
        expected: &'static str,
        /// The type (and a short rendering) of what it got.
        got: String,
    },
    /// The function returned an error.
    #[error("{0}")]
    Failed(Box<dyn Error + Send + Sync>),
}

impl CallError {
    /// A failure with a message.
    pub fn msg(message: impl fmt::Display) -> CallError {
        CallError::Failed(message.to_string().into())
    }

    /// The error for argument `position` (1-based) not being a `T`.
    pub fn arg_type<T>(position: usize, got: &Value) -> CallError {
        let mut shown = format!("{got:?}");
        if shown.len() > 40 {
            let cut = (0..=37)
                .rev()
                .find(|i| shown.is_char_boundary(*i))
                .unwrap_or(0);
            shown.truncate(cut);
            shown.push_str("...");
        }
        CallError::ArgType {
            position,
            expected: std::any::type_name::<T>(),
            got: format!("{} {shown}", got.type_name()),
        }
    }
}

/// How many arguments a function takes: `min..=max` (no `max`: any number
/// from `min` on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arity {
    /// The fewest arguments.
    pub min: usize,
    /// The most arguments, if bounded.
    pub max: Option<usize>,
}

impl Arity {
    /// Exactly `n` arguments.
    pub const fn exactly(n: usize) -> Arity {
        Arity {
            min: n,
            max: Some(n),
        }
    }
    /// `n` or more arguments.
    pub const fn at_least(n: usize) -> Arity {
        Arity { min: n, max: None }
    }
    /// Whether `n` arguments are accepted.
    pub fn accepts(&self, n: usize) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(m) if m == self.min => write!(f, "{m}"),
            Some(m) => write!(f, "{} to {m}", self.min),
            None => write!(f, "{} or more", self.min),
        }
    }
}

type Borrowing = dyn Fn(&[Value]) -> Result<Value, CallError> + Send + Sync;
type Owning = dyn Fn(&mut [Value]) -> Result<Value, CallError> + Send + Sync;

/// What a function does with its arguments.
enum Imp {
    /// Reads them.
    Borrowing(Box<Borrowing>),
    /// May take the values no one else holds (see [`Function::owning`]).
    Owning(Box<Owning>),
}

struct Inner {
    name: Arc<str>,
    arity: Arity,
    cheap: bool,
    /// What the function reaches outside the process for (`"shell"`), so
    /// that a graph file may call it only where allowed.
    needs: Option<&'static str>,
    imp: Imp,
}

impl Inner {
    /// Runs the function on arguments it may take.
    fn invoke(&self, args: &mut [Value]) -> Result<Value, CallError> {
        match &self.imp {
            Imp::Borrowing(f) => f(args),
            Imp::Owning(f) => f(args),
        }
    }
}

/// A named function that call tasks run; cheap to clone.
#[derive(Clone)]
pub struct Function(Arc<Inner>);

impl Function {
    /// The address of the shared function: equal for clones of one
    /// function.
    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0).cast::<u8>() as usize
    }

    /// Adapts a typed Rust function or closure: `fn(A, B, ..) -> R`, with up
    /// to eight arguments of any `Clone` type that [`Value::get`] yields.
    /// For a function that returns a `Result`, use [`Function::fallible`].
    ///
    /// `R` is `Clone` too (wrap a value that is not in an `Arc`): a list
    /// of `R`s (`[key, key]` in a graph) is then the `Vec<R>` argument of
    /// another typed function, as a list of `A`s is a `Vec<A>` (see
    /// [`Value::register_list`]). Over raw values,
    /// [`Function::dynamic`] has no such bound.
    ///
    /// ```
    /// use rask::{Function, Value};
    /// let inc = Function::new("inc", |x: i64| x + 1);
    /// assert_eq!(inc.name(), "inc");
    /// assert_eq!(inc.call(&[Value::Int(1)]).unwrap(), Value::Int(2));
    /// ```
    pub fn new<M, F: IntoFunction<M>>(name: &str, f: F) -> Function {
        f.into_function(name)
    }

    /// Adapts a typed Rust function that returns `Result<R, E>`: an `Err`
    /// fails the task with the error as its cause.
    pub fn fallible<M, F: IntoFallible<M>>(name: &str, f: F) -> Function {
        f.into_fallible(name)
    }

    /// A function over the raw argument values, for functions that take
    /// any number of arguments or inspect their types.
    ///
    /// ```
    /// use rask::{Arity, CallError, Function, Value};
    /// let count = Function::dynamic("count", Arity::at_least(0), |args| Ok(Value::new(args.len())));
    /// assert_eq!(count.call(&[Value::Null, Value::Null]).unwrap(), Value::Int(2));
    /// ```
    pub fn dynamic(
        name: &str,
        arity: Arity,
        f: impl Fn(&[Value]) -> Result<Value, CallError> + Send + Sync + 'static,
    ) -> Function {
        Function::of(name, arity, Imp::Borrowing(Box::new(f)))
    }

    /// A function over the raw argument values that may take them: a
    /// call task gives it the values it is the last task to need, and
    /// [`Value::take_unique`] moves such a value out instead of copying
    /// it (a reduction merging large partial results reuses the first).
    /// A value someone else still holds (a requested key, a literal of
    /// the graph, an argument of [`Function::call`]) is shared and cannot
    /// be taken, so the function must fall back to reading it.
    ///
    /// ```
    /// use rask::{Arity, Function, Value};
    /// let first = Function::owning("first", Arity::exactly(1), |args| {
    ///     let v: Vec<u8> = match args[0].take_unique::<Vec<u8>>() {
    ///         Some(v) => v,                                        // moved
    ///         None => args[0].downcast_ref::<Vec<u8>>().cloned().unwrap_or_default(), // copied
    ///     };
    ///     Ok(Value::new(v.first().copied().map_or(-1, i64::from)))
    /// });
    /// let arg = Value::opaque(vec![7_u8, 8]);
    /// assert_eq!(first.call(&[arg.clone()]).unwrap(), Value::Int(7));
    /// assert_eq!(arg.downcast_ref::<Vec<u8>>(), Some(&vec![7, 8])); // not taken
    /// ```
    pub fn owning(
        name: &str,
        arity: Arity,
        f: impl Fn(&mut [Value]) -> Result<Value, CallError> + Send + Sync + 'static,
    ) -> Function {
        Function::of(name, arity, Imp::Owning(Box::new(f)))
    }

    fn of(name: &str, arity: Arity, imp: Imp) -> Function {
        Function(Arc::new(Inner {
            name: Arc::from(name),
            arity,
            cheap: false,
            needs: None,
            imp,
        }))
    }

    /// Marks the function as cheap (a few nanoseconds, like `inc`): the
    /// `inline` pass may then copy its calls into the tasks that use them.
    pub fn cheap(self) -> Function {
        let inner = match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.cheap = true;
                inner
            }
            Err(shared) => {
                let f = shared.clone();
                Inner {
                    name: shared.name.clone(),
                    arity: shared.arity,
                    cheap: true,
                    needs: shared.needs,
                    imp: Imp::Owning(Box::new(move |args| f.invoke(args))),
                }
            }
        };
        Function(Arc::new(inner))
    }

    /// Marks the function as reaching outside the process (running
    /// programs, touching files) under the permission `what`: a graph file
    /// read with a [`Registry`] may call it only when the registry
    /// [allows](Registry::allow) `what`. The built-in `shell` needs
    /// `"shell"`.
    pub fn needs(self, what: &'static str) -> Function {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.needs = Some(what);
                Function(Arc::new(inner))
            }
            Err(shared) => {
                let f = shared.clone();
                Function(Arc::new(Inner {
                    name: shared.name.clone(),
                    arity: shared.arity,
                    cheap: shared.cheap,
                    needs: Some(what),
                    imp: Imp::Owning(Box::new(move |args| f.invoke(args))),
                }))
            }
        }
    }

    /// The permission the function needs to run from a graph file (see
    /// [`Function::needs`]), if any.
    pub fn needed(&self) -> Option<&'static str> {
        self.0.needs
    }

    /// The name the function is registered and printed under.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// How many arguments it takes.
    pub fn arity(&self) -> Arity {
        self.0.arity
    }

    /// Whether it was marked [`cheap`](Function::cheap).
    pub fn is_cheap(&self) -> bool {
        self.0.cheap
    }

    /// Calls the function, checking the number of arguments first.
    /// The arguments it is given are the caller's: an
    /// [`owning`](Function::owning) function gets copies of them.
    pub fn call(&self, args: &[Value]) -> Result<Value, CallError> {
        self.check_arity(args.len())?;
        match &self.0.imp {
            Imp::Borrowing(f) => f(args),
            Imp::Owning(f) => f(&mut args.iter().cloned().collect::<SmallVec<[Value; 4]>>()),
        }
    }

    /// Calls the function on arguments it may take (the argument values
    /// of a call task).
    pub(crate) fn call_taking(&self, args: &mut [Value]) -> Result<Value, CallError> {
        self.check_arity(args.len())?;
        self.0.invoke(args)
    }

    fn check_arity(&self, n: usize) -> Result<(), CallError> {
        if self.0.arity.accepts(n) {
            Ok(())
        } else {
            Err(CallError::ArgCount {
                expected: self.0.arity,
                got: n,
            })
        }
    }

    /// Calls the function on `args` as a call task would, a failure being
    /// an [`EvalError`] naming the function. The values are the
    /// function's: an [`owning`](Function::owning) one may take them.
    pub fn call_on(&self, args: impl Iterator<Item = Value>) -> Result<Value, EvalError> {
        let mut args: SmallVec<[Value; 4]> = args.collect();
        self.call_taking(&mut args)
            .map_err(|error| EvalError::Call {
                function: self.name().to_string(),
                error,
            })
    }

    /// True when both are the same function object.
    pub fn same(&self, other: &Function) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.name)
    }
}

/// Something that can become a [`Function`]: typed functions and closures
/// (`M` is a marker of their signature), and `Function` itself.
pub trait IntoFunction<M> {
    /// The function, named `name`.
    fn into_function(self, name: &str) -> Function;
}

/// A typed function returning `Result`, for [`Function::fallible`].
pub trait IntoFallible<M> {
    /// The function, named `name`.
    fn into_fallible(self, name: &str) -> Function;
}

impl IntoFunction<Function> for Function {
    fn into_function(self, _name: &str) -> Function {
        self
    }
}

fn arg<T: Any + Clone>(args: &[Value], i: usize) -> Result<T, CallError> {
    let v = &args[i];
    v.get::<T>()
        .ok_or_else(|| CallError::arg_type::<T>(i + 1, v))
}

macro_rules! typed_adapter {
    ($n:literal; $($a:ident $i:tt),*) => {
        impl<F, R, $($a),*> IntoFunction<fn($($a),*) -> R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: Any + Send + Sync + Clone,
            $($a: Any + Clone,)*
        {
            #[allow(unused_variables)]
            fn into_function(self, name: &str) -> Function {
                Value::register_list::<R>();
                $(Value::register_list::<$a>();)*
                Function::dynamic(name, Arity::exactly($n), move |args: &[Value]| {
                    Ok(Value::new(self($(arg::<$a>(args, $i)?),*)))
                })
            }
        }

        impl<F, R, E, $($a),*> IntoFallible<fn($($a),*) -> Result<R, E>> for F
        where
            F: Fn($($a),*) -> Result<R, E> + Send + Sync + 'static,
            R: Any + Send + Sync + Clone,
            E: Into<Box<dyn Error + Send + Sync>>,
            $($a: Any + Clone,)*
        {
            #[allow(unused_variables)]
            fn into_fallible(self, name: &str) -> Function {
                Value::register_list::<R>();
                $(Value::register_list::<$a>();)*
                Function::dynamic(name, Arity::exactly($n), move |args: &[Value]| {
                    self($(arg::<$a>(args, $i)?),*).map(Value::new).map_err(|e| CallError::Failed(e.into()))
                })
            }
        }
    };
}
typed_adapter!(0;);
typed_adapter!(1; A 0);
typed_adapter!(2; A 0, B 1);
typed_adapter!(3; A 0, B 1, C 2);
typed_adapter!(4; A 0, B 1, C 2, D 3);
typed_adapter!(5; A 0, B 1, C 2, D 3, E4 4);
typed_adapter!(6; A 0, B 1, C 2, D 3, E4 4, F5 5);
typed_adapter!(7; A 0, B 1, C 2, D 3, E4 4, F5 5, G 6);
typed_adapter!(8; A 0, B 1, C 2, D 3, E4 4, F5 5, G 6, H 7);

/// Named functions for graph files: `{"call": "add", ...}` finds `add`
/// here.
///
/// ```
/// use rask::{Function, Registry};
/// let mut reg = Registry::with_builtins();
/// reg.register("double", |x: i64| 2 * x);
/// assert!(reg.get("double").is_some() && reg.get("inc").is_some());
/// ```
///
/// Functions that reach outside the process (the built-in `shell`) are
/// registered but not allowed: a graph file that calls one is an error
/// naming the task and the permission, before anything runs, unless the
/// registry [allows](Registry::allow) it (`rask run --allow shell`).
///
/// ```
/// use rask_graph::{file, Registry};
/// let text = r#"{"out": {"call": "shell", "args": ["echo", "hi"]}}"#;
/// let e = file::from_str(text, &Registry::with_builtins()).unwrap_err();
/// assert!(e.to_string().contains("--allow shell"));
/// let mut reg = Registry::with_builtins();
/// reg.allow("shell");
/// assert!(file::from_str(text, &reg).is_ok());
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    functions: BTreeMap<String, Function>,
    allowed: std::collections::BTreeSet<String>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// A registry holding the [built-in functions](crate::builtins).
    pub fn with_builtins() -> Registry {
        let mut r = Registry::new();
        for f in crate::builtins::all() {
            r.insert(f);
        }
        r
    }

    /// Registers a typed function under `name` (replacing any other).
    pub fn register<M>(&mut self, name: &str, f: impl IntoFunction<M>) -> &mut Registry {
        self.insert(f.into_function(name))
    }

    /// Registers a typed function returning `Result` under `name`.
    pub fn register_fallible<M>(&mut self, name: &str, f: impl IntoFallible<M>) -> &mut Registry {
        self.insert(f.into_fallible(name))
    }

    /// Adds a function under its own name (replacing any other).
    pub fn insert(&mut self, f: Function) -> &mut Registry {
        self.functions.insert(f.name().to_string(), f);
        self
    }

    /// The function named `name`.
    pub fn get(&self, name: &str) -> Option<&Function> {
        self.functions.get(name)
    }

    /// Allows graph files to call the functions that need `what` (see
    /// [`Function::needs`]), `"shell"` for the built-in `shell`.
    pub fn allow(&mut self, what: &str) -> &mut Registry {
        self.allowed.insert(what.to_string());
        self
    }

    /// Allows everything any registered function needs: for reading a
    /// file to inspect it, not to run it.
    pub fn allow_all(&mut self) -> &mut Registry {
        let needed: Vec<String> = self.needs().map(str::to_string).collect();
        self.allowed.extend(needed);
        self
    }

    /// Whether graph files may call `f`: it needs nothing, or what it
    /// needs is allowed.
    pub fn allows(&self, f: &Function) -> bool {
        f.needed().is_none_or(|what| self.allowed.contains(what))
    }

    /// What the registered functions need, sorted, each once.
    pub fn needs(&self) -> impl Iterator<Item = &'static str> + '_ {
        let set: std::collections::BTreeSet<&'static str> = self
            .functions
            .values()
            .filter_map(Function::needed)
            .collect();
        set.into_iter()
    }

    /// The names of all functions, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.functions.keys().map(String::as_str)
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.functions.keys()).finish()
    }
}
