//! Values: the opaque, cheap-to-clone results of tasks.
//!
//! A [`Value`] is what a task produces and what its dependents receive. The
//! types a graph file can write (null, booleans, integers, floats, strings,
//! lists, objects) have their own variants so that the built-in functions
//! can work on them the way Python does; any other Rust type is held behind
//! an `Arc` ([`Value::Opaque`]), so passing a value to many tasks never
//! copies it.
//!
//! [`Value::new`] turns any `Send + Sync + 'static` Rust value into a
//! `Value`, and [`Value::get`] takes a typed copy back out, converting an
//! integer into a float where a float is asked for:
//!
//! ```
//! use rask::Value;
//! let v = Value::new(3_i64);
//! assert_eq!(v.get::<i64>(), Some(3));
//! assert_eq!(v.get::<f64>(), Some(3.0));
//! assert_eq!(v.get::<String>(), None);
//!
//! #[derive(Clone, Debug, PartialEq)]
//! struct Reading { celsius: f64 }
//! let r = Value::new(Reading { celsius: 21.5 });
//! assert_eq!(r.downcast_ref::<Reading>(), Some(&Reading { celsius: 21.5 }));
//! assert_eq!(r.type_name(), std::any::type_name::<Reading>());
//! ```

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use rustc_hash::FxHashMap;

use crate::codec;

/// Makes a `Vec<U>` (boxed) out of list items, for one `U`.
type ListBuilder = fn(&[Value]) -> Option<Box<dyn Any>>;

/// The element types a list converts to, by the `TypeId` of `Vec<U>`:
/// filled by [`Value::register_list`] (which the typed function adapters,
/// the delayed values and the codecs call for their types), read by
/// [`Value::get`]. Rust cannot clone a `U` it knows only as `dyn Any`, so
/// the conversion is recorded where `U: Clone` is known.
fn list_builders() -> &'static RwLock<FxHashMap<TypeId, ListBuilder>> {
    static BUILDERS: OnceLock<RwLock<FxHashMap<TypeId, ListBuilder>>> = OnceLock::new();
    BUILDERS.get_or_init(Default::default)
}

fn build_list<U: Any + Clone>(items: &[Value]) -> Option<Box<dyn Any>> {
    let items = collect_exact(items, Value::get::<U>)?;
    Some(Box::new(items))
}

/// A value held by a task: shared, immutable and cheap to clone.
#[derive(Clone, Default)]
pub enum Value {
    /// No value (JSON `null`, Rust `()`).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A string.
    Str(Arc<str>),
    /// A list of values (JSON array, the value of a list argument).
    List(Arc<[Value]>),
    /// A JSON object: members in their written order.
    Dict(Arc<[(Arc<str>, Value)]>),
    /// Any other Rust value, shared.
    Opaque(Arc<dyn AnyValue>),
}

/// A Rust value held opaquely by a [`Value`].
pub trait AnyValue: Any + Send + Sync {
    /// The value as `&dyn Any`, to downcast.
    fn as_any(&self) -> &dyn Any;
    /// The Rust type name of the value, for error messages.
    fn type_name(&self) -> &'static str;
}

impl<T: Any + Send + Sync> AnyValue for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}

/// Moves `value` out of `slot` if `slot` holds an `Option<U>`.
fn take_as<U: 'static>(slot: &mut dyn Any) -> Option<U> {
    slot.downcast_mut::<Option<U>>().and_then(Option::take)
}

/// Writes `value` into `slot` if `slot` is an `Option<U>`; true if it did.
fn put_as<U: 'static>(slot: &mut dyn Any, value: impl FnOnce() -> Option<U>) -> bool {
    match slot.downcast_mut::<Option<U>>() {
        Some(out) => {
            *out = value();
            true
        }
        None => false,
    }
}

/// `f` of every item, or `None` if it fails for one.
fn collect_exact<T>(items: &[Value], f: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(f(item)?);
    }
    Some(out)
}

impl Value {
    /// Wraps any Rust value. Booleans, integers, floats, strings, `()`,
    /// `Vec<Value>` and `serde_json::Value` become the matching variant;
    /// everything else is shared as [`Value::Opaque`].
    pub fn new<T: Any + Send + Sync>(value: T) -> Value {
        let mut slot = Some(value);
        let s: &mut dyn Any = &mut slot;
        if let Some(v) = take_as::<Value>(s) {
            return v;
        }
        if let Some(v) = take_as::<i64>(s) {
            return Value::Int(v);
        }
        if let Some(v) = take_as::<f64>(s) {
            return Value::Float(v);
        }
        if let Some(v) = take_as::<bool>(s) {
            return Value::Bool(v);
        }
        if let Some(v) = take_as::<String>(s) {
            return Value::Str(Arc::from(v));
        }
        if let Some(v) = take_as::<&'static str>(s) {
            return Value::Str(Arc::from(v));
        }
        if let Some(v) = take_as::<Arc<str>>(s) {
            return Value::Str(v);
        }
        if let Some(v) = take_as::<i32>(s) {
            return Value::Int(v.into());
        }
        if let Some(v) = take_as::<u32>(s) {
            return Value::Int(v.into());
        }
        if let Some(v) = take_as::<usize>(s) {
            if let Ok(i) = i64::try_from(v) {
                return Value::Int(i);
            }
            return Value::opaque(v);
        }
        if let Some(v) = take_as::<u64>(s) {
            if let Ok(i) = i64::try_from(v) {
                return Value::Int(i);
            }
            return Value::opaque(v);
        }
        if let Some(v) = take_as::<f32>(s) {
            return Value::Float(v.into());
        }
        if take_as::<()>(s).is_some() {
            return Value::Null;
        }
        if let Some(v) = take_as::<Vec<Value>>(s) {
            return Value::List(v.into());
        }
        if let Some(v) = take_as::<serde_json::Value>(s) {
            return Value::from_json(&v);
        }
        match slot {
            Some(v) => Value::opaque(v),
            None => Value::Null,
        }
    }

    /// Wraps a Rust value as [`Value::Opaque`], whatever its type.
    pub fn opaque<T: Any + Send + Sync>(value: T) -> Value {
        Value::Opaque(Arc::new(value))
    }

    /// A list value.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::List(items.into_iter().collect())
    }

    /// Lets lists convert to `Vec<U>` in [`Value::get`] (and so be the
    /// argument of a typed function taking `Vec<U>`). The typed function
    /// adapters do this for the types their functions take and return,
    /// [`codec::register`] and the delayed values for theirs; call it for a
    /// type that only [`Value::new`] or [`Value::opaque`] makes. Cheap when
    /// `U` is already known.
    ///
    /// ```
    /// use rask::Value;
    /// #[derive(Clone, Debug, PartialEq)]
    /// struct Cleaned(u8);
    /// Value::register_list::<Cleaned>();
    /// let list = Value::list([Value::new(Cleaned(1)), Value::new(Cleaned(2))]);
    /// assert_eq!(list.get::<Vec<Cleaned>>(), Some(vec![Cleaned(1), Cleaned(2)]));
    /// ```
    pub fn register_list<U: Any + Clone>() {
        let id = TypeId::of::<Vec<U>>();
        let builders = list_builders();
        let known = builders
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&id);
        if !known {
            let mut map = builders.write().unwrap_or_else(|e| e.into_inner());
            map.insert(id, build_list::<U>);
        }
    }

    /// A typed copy of the value, if it holds a `T`.
    ///
    /// Integers convert to `f64`, `i32`, `u32`, `u64` and `usize` (when in
    /// range); lists convert to `Vec<Value>`, and to `Vec<U>` when every
    /// item converts to `U`, for `i64`, `f64`, `String`, `bool` and every
    /// `U` made known by [`Value::register_list`] (every type a typed
    /// function takes or returns is); `Value` itself is always available.
    ///
    /// ```
    /// use rask::{graph, get, Value};
    /// #[derive(Clone, Debug, PartialEq)]
    /// struct Cleaned { n: usize }
    /// fn clean(raw: String) -> Cleaned { Cleaned { n: raw.trim().len() } }
    /// fn analyze(parts: Vec<Cleaned>) -> usize { parts.iter().map(|c| c.n).sum() }
    /// let g = graph! {
    ///     "raw-1" => " ab ", "raw-2" => "cde",
    ///     "clean-1" => (clean, "raw-1"), "clean-2" => (clean, "raw-2"),
    ///     "result" => (analyze, ["clean-1", "clean-2"]),
    /// };
    /// assert_eq!(get(&g, "result").unwrap(), Value::Int(5));
    /// ```
    pub fn get<T: Any + Clone>(&self) -> Option<T> {
        let mut out: Option<T> = None;
        let slot: &mut dyn Any = &mut out;
        if put_as::<Value>(slot, || Some(self.clone())) {
            return out;
        }
        match self {
            Value::Null => {
                put_as::<()>(slot, || Some(()));
            }
            Value::Bool(b) => {
                put_as::<bool>(slot, || Some(*b));
            }
            Value::Int(i) => {
                let i = *i;
                let _ = put_as::<i64>(slot, || Some(i))
                    || put_as::<f64>(slot, || Some(i as f64))
                    || put_as::<i32>(slot, || i32::try_from(i).ok())
                    || put_as::<u32>(slot, || u32::try_from(i).ok())
                    || put_as::<u64>(slot, || u64::try_from(i).ok())
                    || put_as::<usize>(slot, || usize::try_from(i).ok())
                    || put_as::<f32>(slot, || Some(i as f32));
            }
            Value::Float(f) => {
                let _ = put_as::<f64>(slot, || Some(*f)) || put_as::<f32>(slot, || Some(*f as f32));
            }
            Value::Str(s) => {
                let _ = put_as::<String>(slot, || Some(s.to_string()))
                    || put_as::<Arc<str>>(slot, || Some(s.clone()));
            }
            Value::List(items) => {
                // numbers are matched directly, into a vector of the exact
                // length: a typed `Vec<i64>` argument of a million items is
                // one pass and one allocation
                let known = put_as::<Vec<Value>>(slot, || Some(items.to_vec()))
                    || put_as::<Vec<i64>>(slot, || {
                        collect_exact(items, |v| match v {
                            Value::Int(i) => Some(*i),
                            other => other.get(),
                        })
                    })
                    || put_as::<Vec<f64>>(slot, || {
                        collect_exact(items, |v| match v {
                            Value::Float(f) => Some(*f),
                            Value::Int(i) => Some(*i as f64),
                            other => other.get(),
                        })
                    })
                    || put_as::<Vec<String>>(slot, || items.iter().map(Value::get).collect())
                    || put_as::<Vec<bool>>(slot, || items.iter().map(Value::get).collect());
                if !known {
                    let build = list_builders()
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&TypeId::of::<T>())
                        .copied();
                    return build
                        .and_then(|build| build(items))
                        .and_then(|list| list.downcast::<T>().ok())
                        .map(|list| *list);
                }
            }
            Value::Dict(_) => {
                put_as::<serde_json::Value>(slot, || self.to_json().ok());
            }
            Value::Opaque(v) => return (**v).as_any().downcast_ref::<T>().cloned(),
        }
        out
    }

    /// A reference to the value as a `T`, without copying: works for the
    /// opaque Rust types and for `bool`, `i64`, `f64` and `Arc<str>`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        let any: &dyn Any = match self {
            Value::Null => return None,
            Value::Bool(b) => b,
            Value::Int(i) => i,
            Value::Float(f) => f,
            Value::Str(s) => s,
            Value::List(l) => l,
            Value::Dict(d) => d,
            Value::Opaque(v) => (**v).as_any(),
        };
        any.downcast_ref::<T>()
    }

    /// Moves an opaque `T` out when this value is its only reference,
    /// leaving `Null`; `None` (and the value untouched) when it is shared
    /// or not a `T`. An [`owning`](crate::Function::owning) function
    /// takes its arguments this way.
    ///
    /// ```
    /// use rask::Value;
    /// let mut v = Value::opaque(vec![1_u8, 2]);
    /// let copy = v.clone();
    /// assert_eq!(v.take_unique::<Vec<u8>>(), None); // shared with `copy`
    /// drop(copy);
    /// assert_eq!(v.take_unique::<Vec<u8>>(), Some(vec![1, 2]));
    /// assert_eq!(v, rask::Value::Null);
    /// ```
    pub fn take_unique<T: Any + Send + Sync>(&mut self) -> Option<T> {
        let Value::Opaque(v) = self else {
            return None;
        };
        if !(**v).as_any().is::<T>() || Arc::get_mut(v).is_none() {
            return None;
        }
        // `Value` has a `Drop`, so the `Arc` is swapped out for a shared
        // placeholder rather than moved out of the variant
        static PLACEHOLDER: std::sync::OnceLock<Arc<dyn AnyValue>> = std::sync::OnceLock::new();
        let placeholder = PLACEHOLDER.get_or_init(|| Arc::new(())).clone();
        let v = std::mem::replace(v, placeholder);
        let v: Arc<dyn Any + Send + Sync> = v;
        *self = Value::Null;
        v.downcast::<T>().ok().and_then(|v| Arc::try_unwrap(v).ok())
    }

    /// The string, if the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if the value is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// A short name of the value's type for messages: `int`, `float`,
    /// `str`, `list`, `dict`, `bool`, `null`, or the Rust type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Opaque(v) => (**v).type_name(),
        }
    }

    /// The value from JSON: integers that fit `i64` are `Int`, other
    /// numbers `Float`, arrays `List`, objects `Dict`. Built with a heap
    /// stack, so JSON of any depth converts.
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        /// An array or object being converted: its items so far and the
        /// rest to convert.
        enum Open<'j> {
            List(Vec<Value>, std::slice::Iter<'j, J>),
            Dict(
                Vec<(Arc<str>, Value)>,
                serde_json::map::Iter<'j>,
                Option<Arc<str>>,
            ),
        }
        let mut open: Vec<Open<'_>> = Vec::new();
        let mut next = Some(json);
        loop {
            let mut done = match next.take() {
                Some(J::Array(items)) => {
                    open.push(Open::List(Vec::with_capacity(items.len()), items.iter()));
                    None
                }
                Some(J::Object(members)) => {
                    open.push(Open::Dict(
                        Vec::with_capacity(members.len()),
                        members.iter(),
                        None,
                    ));
                    None
                }
                Some(J::Null) => Some(Value::Null),
                Some(J::Bool(b)) => Some(Value::Bool(*b)),
                Some(J::Number(n)) => Some(match n.as_i64() {
                    Some(i) => Value::Int(i),
                    None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
                }),
                Some(J::String(s)) => Some(Value::Str(Arc::from(s.as_str()))),
                None => None,
            };
            loop {
                match (open.last_mut(), done.take()) {
                    (None, Some(v)) => return v,
                    (None, None) => return Value::Null,
                    (Some(Open::List(items, rest)), v) => {
                        items.extend(v);
                        if let Some(j) = rest.next() {
                            next = Some(j);
                            break;
                        }
                    }
                    (Some(Open::Dict(members, rest, name)), v) => {
                        if let (Some(v), Some(k)) = (v, name.take()) {
                            members.push((k, v));
                        }
                        if let Some((k, j)) = rest.next() {
                            *name = Some(Arc::from(k.as_str()));
                            next = Some(j);
                            break;
                        }
                    }
                }
                done = match open.pop() {
                    Some(Open::List(items, _)) => Some(Value::List(items.into())),
                    Some(Open::Dict(members, _, _)) => Some(Value::Dict(members.into())),
                    None => None,
                };
            }
        }
    }

    /// The value as JSON. Opaque values convert through the JSON codec of
    /// their type ([`codec::register`]); one without a codec is an
    /// error naming its type. A float that is not finite (`inf`, `nan`)
    /// is an error, since JSON has no number for it, and so is a value
    /// nested deeper than [`MAX_JSON_DEPTH`] (a `serde_json::Value` that
    /// deep could not even be dropped safely); [`Value::write_json`]
    /// writes values of any depth.
    pub fn to_json(&self) -> Result<serde_json::Value, ToJsonError> {
        use serde_json::Value as J;
        enum Open {
            List(Vec<J>),
            Dict(serde_json::Map<String, J>, String),
        }
        let mut open: Vec<Open> = Vec::new();
        let mut done: Option<J> = None;
        self.visit(|step| {
            let leaf = match step {
                Visit::Leaf(v) => Some(match v {
                    Value::Null => J::Null,
                    Value::Bool(b) => J::Bool(*b),
                    Value::Int(i) => J::from(*i),
                    Value::Float(f) => J::Number(finite(*f)?),
                    Value::Str(s) => J::String(s.to_string()),
                    Value::Opaque(v) => codec::to_json(v.as_ref())?,
                    Value::List(_) | Value::Dict(_) => unreachable_leaf(),
                }),
                Visit::List(n) | Visit::Dict(n) => {
                    if open.len() >= MAX_JSON_DEPTH {
                        return Err(ToJsonError::TooDeep {
                            limit: MAX_JSON_DEPTH,
                        });
                    }
                    open.push(match step {
                        Visit::List(_) => Open::List(Vec::with_capacity(n)),
                        _ => Open::Dict(serde_json::Map::with_capacity(n), String::new()),
                    });
                    None
                }
                Visit::Member(k) => {
                    if let Some(Open::Dict(_, key)) = open.last_mut() {
                        *key = k.to_string();
                    }
                    None
                }
                Visit::End => match open.pop() {
                    Some(Open::List(items)) => Some(J::Array(items)),
                    Some(Open::Dict(members, _)) => Some(J::Object(members)),
                    None => None,
                },
            };
            if let Some(j) = leaf {
                match open.last_mut() {
                    Some(Open::List(items)) => items.push(j),
                    Some(Open::Dict(members, key)) => {
                        members.insert(std::mem::take(key), j);
                    }
                    None => done = Some(j),
                }
            }
            Ok(())
        })?;
        Ok(done.unwrap_or(J::Null))
    }

    /// Appends the value as compact JSON text to `out`, as
    /// `serde_json::to_writer` would write [`Value::to_json`], but without
    /// building it and at any depth (the walk keeps its place on the heap,
    /// not on the stack). A float that is not finite is an error, as in
    /// [`Value::to_json`].
    ///
    /// ```
    /// use rask_graph::Value;
    /// let v = Value::list([Value::Int(1), Value::from("a"), Value::list([])]);
    /// let mut out = Vec::new();
    /// v.write_json(&mut out).unwrap();
    /// assert_eq!(out, br#"[1,"a",[]]"#);
    /// assert!(Value::Float(f64::INFINITY).write_json(&mut out).is_err());
    /// ```
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), ToJsonError> {
        // per open list or object: whether it is an object, and whether
        // nothing was written in it yet
        let mut open: Vec<(bool, bool)> = Vec::new();
        self.visit(|step| {
            let item = matches!(step, Visit::Leaf(_) | Visit::List(_) | Visit::Dict(_));
            if let Some((dict, first)) = open.last_mut() {
                // an item of a list, or a member's name, after the first
                if (item && !*dict) || matches!(step, Visit::Member(_)) {
                    if !*first {
                        out.push(b',');
                    }
                    *first = false;
                }
            }
            match step {
                Visit::Leaf(v) => match v {
                    Value::Null => out.extend_from_slice(b"null"),
                    Value::Bool(b) => put(out, b),
                    Value::Int(i) => put(out, i),
                    Value::Float(f) => put(out, &finite(*f)?),
                    Value::Str(s) => put(out, &**s),
                    Value::Opaque(v) => put(out, &codec::to_json(v.as_ref())?),
                    Value::List(_) | Value::Dict(_) => unreachable_leaf(),
                },
                Visit::List(_) => {
                    out.push(b'[');
                    open.push((false, true));
                }
                Visit::Dict(_) => {
                    out.push(b'{');
                    open.push((true, true));
                }
                Visit::Member(k) => {
                    put(out, k);
                    out.push(b':');
                }
                Visit::End => {
                    if let Some((dict, _)) = open.pop() {
                        out.push(if dict { b'}' } else { b']' });
                    }
                }
            }
            Ok(())
        })
    }

    /// Walks the value depth first without recursion, calling `f` with
    /// each step: a scalar or opaque value ([`Visit::Leaf`]), the start
    /// of a list or object with its length, the name of each object
    /// member before its value, and the end of each list or object. The
    /// walk's place is kept on the heap, so values of any depth are
    /// walked; the first error of `f` stops it.
    ///
    /// ```
    /// use rask_graph::{Value, Visit};
    /// let v = Value::list([Value::Int(1), Value::list([])]);
    /// let mut steps = Vec::new();
    /// v.visit(|s| -> Result<(), ()> {
    ///     steps.push(format!("{s:?}"));
    ///     Ok(())
    /// }).unwrap();
    /// assert_eq!(steps, ["List(2)", "Leaf(1)", "List(0)", "End", "End"]);
    /// ```
    pub fn visit<'v, E>(&'v self, mut f: impl FnMut(Visit<'v>) -> Result<(), E>) -> Result<(), E> {
        enum Open<'v> {
            List(std::slice::Iter<'v, Value>),
            Dict(std::slice::Iter<'v, (Arc<str>, Value)>),
        }
        let mut open: Vec<Open<'v>> = Vec::new();
        let mut next = Some(self);
        loop {
            if let Some(v) = next.take() {
                match v {
                    Value::List(items) => {
                        f(Visit::List(items.len()))?;
                        open.push(Open::List(items.iter()));
                    }
                    Value::Dict(members) => {
                        f(Visit::Dict(members.len()))?;
                        open.push(Open::Dict(members.iter()));
                    }
                    leaf => f(Visit::Leaf(leaf))?,
                }
            }
            match open.last_mut() {
                None => return Ok(()),
                Some(Open::List(items)) => next = items.next(),
                Some(Open::Dict(members)) => {
                    if let Some((k, v)) = members.next() {
                        f(Visit::Member(k))?;
                        next = Some(v);
                    }
                }
            }
            if next.is_none() {
                open.pop();
                f(Visit::End)?;
            }
        }
    }
}

/// Writes a JSON scalar or string to `out`; writing to a `Vec` cannot
/// fail, nor can serializing these types.
fn put<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = serde_json::to_writer(out, value);
}

/// How deep [`Value::to_json`] goes: values nested deeper are refused.
pub const MAX_JSON_DEPTH: usize = 1000;

/// One step of [`Value::visit`].
#[derive(Debug, Clone, Copy)]
pub enum Visit<'v> {
    /// A value that holds no other values (not a list, not an object).
    Leaf(&'v Value),
    /// The start of a list of so many items.
    List(usize),
    /// The start of an object of so many members.
    Dict(usize),
    /// The name of the object member whose value comes next.
    Member(&'v str),
    /// The end of the innermost open list or object.
    End,
}

/// Why a value cannot be written as JSON.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToJsonError {
    /// An opaque value's type has no codec.
    #[error(transparent)]
    NoCodec(#[from] codec::NoCodec),
    /// A float is infinite or not a number, which JSON cannot hold.
    #[error("the float {value} is not a finite number, which JSON cannot hold")]
    NotFinite {
        /// The float.
        value: f64,
    },
    /// The value is nested deeper than JSON values may be.
    #[error("the value is nested more than {limit} deep")]
    TooDeep {
        /// The deepest nesting allowed.
        limit: usize,
    },
}

fn finite(f: f64) -> Result<serde_json::Number, ToJsonError> {
    serde_json::Number::from_f64(f).ok_or(ToJsonError::NotFinite { value: f })
}

fn unreachable_leaf() -> ! {
    unreachable!("lists and objects are not leaves of a walk")
}

impl PartialEq for Value {
    /// Structural equality; opaque values are equal when they are the same
    /// shared value. Compares pairs from a heap stack, so values of any
    /// depth compare.
    fn eq(&self, other: &Value) -> bool {
        let mut pairs = vec![(self, other)];
        while let Some(pair) = pairs.pop() {
            let same = match pair {
                (Value::Null, Value::Null) => true,
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Int(a), Value::Int(b)) => a == b,
                (Value::Float(a), Value::Float(b)) => a == b,
                (Value::Str(a), Value::Str(b)) => a == b,
                (Value::List(a), Value::List(b)) => {
                    pairs.extend(a.iter().zip(b.iter()));
                    a.len() == b.len()
                }
                (Value::Dict(a), Value::Dict(b)) => {
                    pairs.extend(a.iter().zip(b.iter()).map(|((_, x), (_, y))| (x, y)));
                    a.len() == b.len() && a.iter().zip(b.iter()).all(|((j, _), (k, _))| j == k)
                }
                (Value::Opaque(a), Value::Opaque(b)) => {
                    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
                }
                _ => false,
            };
            if !same {
                return false;
            }
        }
        true
    }
}

impl fmt::Debug for Value {
    /// As `{:?}` of the items would print them (`[1, "a", {"k": null}]`),
    /// written from a walk without recursion, so values of any depth print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // per open list or object: whether nothing was written in it yet,
        // and whether it is an object
        let mut open: Vec<(bool, bool)> = Vec::new();
        self.visit(|step| {
            let item = matches!(step, Visit::Leaf(_) | Visit::List(_) | Visit::Dict(_));
            if let Some((first, dict)) = open.last_mut() {
                if (item && !*dict) || matches!(step, Visit::Member(_)) {
                    if !*first {
                        f.write_str(", ")?;
                    }
                    *first = false;
                }
            }
            match step {
                Visit::Leaf(v) => match v {
                    Value::Null => f.write_str("null"),
                    Value::Bool(b) => write!(f, "{b}"),
                    Value::Int(i) => write!(f, "{i}"),
                    Value::Float(x) => write!(f, "{x:?}"),
                    Value::Str(s) => write!(f, "{s:?}"),
                    Value::Opaque(v) => write!(f, "<{}>", (**v).type_name()),
                    Value::List(_) | Value::Dict(_) => Ok(()),
                },
                Visit::List(_) => {
                    open.push((true, false));
                    f.write_str("[")
                }
                Visit::Dict(_) => {
                    open.push((true, true));
                    f.write_str("{")
                }
                Visit::Member(k) => write!(f, "{k:?}: "),
                Visit::End => match open.pop() {
                    Some((_, true)) => f.write_str("}"),
                    _ => f.write_str("]"),
                },
            }
        })
    }
}

impl Drop for Value {
    /// Dropping a list drops its items, and theirs: a value nested a
    /// million deep would take a million stack frames. The nested items
    /// of a list or object whose last reference this is are moved out to
    /// a heap stack first, so that every drop below is shallow.
    fn drop(&mut self) {
        let mut stack: Vec<Value> = Vec::new();
        take_nested(self, &mut stack);
        while let Some(mut v) = stack.pop() {
            take_nested(&mut v, &mut stack);
            // `v` drops here, holding nothing nested any more
        }
    }
}

/// Moves the lists and objects held by `v` to `stack` when `v` is the
/// last reference to them (leaving `Null` in their place).
fn take_nested(v: &mut Value, stack: &mut Vec<Value>) {
    let nested = |v: &Value| matches!(v, Value::List(_) | Value::Dict(_));
    match v {
        Value::List(items) => {
            if let Some(items) = Arc::get_mut(items) {
                for item in items.iter_mut().filter(|i| nested(i)) {
                    stack.push(std::mem::take(item));
                }
            }
        }
        Value::Dict(members) => {
            if let Some(members) = Arc::get_mut(members) {
                for (_, item) in members.iter_mut().filter(|(_, i)| nested(i)) {
                    stack.push(std::mem::take(item));
                }
            }
        }
        _ => {}
    }
}

macro_rules! value_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::new(v)
            }
        }
    )*};
}
value_from!(
    i64,
    i32,
    u32,
    usize,
    f64,
    f32,
    bool,
    String,
    &'static str,
    ()
);

#[cfg(test)]
mod tests;
