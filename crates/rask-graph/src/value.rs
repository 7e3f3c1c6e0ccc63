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
        let Value::Opaque(v) = std::mem::take(self) else {
            return None;
        };
        let v: Arc<dyn Any + Send + Sync> = v;
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
    /// numbers `Float`, arrays `List`, objects `Dict`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(Arc::from(s.as_str())),
            J::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            J::Object(members) => Value::Dict(
                members
                    .iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The value as JSON. Opaque values convert through the JSON codec of
    /// their type ([`codec::register`]); one without a codec is an
    /// error naming its type. Floats that are not finite become `null`.
    pub fn to_json(&self) -> Result<serde_json::Value, codec::NoCodec> {
        use serde_json::Value as J;
        Ok(match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_string()),
            Value::List(items) => {
                J::Array(items.iter().map(Value::to_json).collect::<Result<_, _>>()?)
            }
            Value::Dict(members) => J::Object(
                members
                    .iter()
                    .map(|(k, v)| Ok((k.to_string(), v.to_json()?)))
                    .collect::<Result<_, codec::NoCodec>>()?,
            ),
            Value::Opaque(v) => codec::to_json(v.as_ref())?,
        })
    }
}

impl PartialEq for Value {
    /// Structural equality; opaque values are equal when they are the same
    /// shared value.
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Dict(a), Value::Dict(b)) => a == b,
            (Value::Opaque(a), Value::Opaque(b)) => {
                std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
            }
            _ => false,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(items) => f.debug_list().entries(items.iter()).finish(),
            Value::Dict(members) => f
                .debug_map()
                .entries(members.iter().map(|(k, v)| (k, v)))
                .finish(),
            Value::Opaque(v) => write!(f, "<{}>", (**v).type_name()),
        }
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
