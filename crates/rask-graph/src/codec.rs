//! Codecs: how an opaque value leaves the process that made it.
//!
//! Values of the JSON-like variants of [`Value`] serialize on their own. An
//! opaque Rust value (a struct of yours, an array chunk) needs a codec for
//! its type, registered once with [`register_json`]; the CLI uses it to
//! print results and executors that cross a process boundary use it to
//! move values. `Vec`s of integers, floats, strings and booleans have
//! codecs built in.
//!
//! ```
//! use rask_graph::{codec, Value};
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Point { x: i64, y: i64 }
//! codec::register_json::<Point>();
//! let json = Value::new(Point { x: 1, y: 2 }).to_json().unwrap();
//! assert_eq!(json, serde_json::json!({"x": 1, "y": 2}));
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use serde::Serialize;

use crate::value::AnyValue;

/// An opaque value has no codec for its type.
#[derive(Debug, Clone, thiserror::Error)]
#[error("a value of type {type_name} has no codec: register one with rask::codec::register_json::<{type_name}>()")]
pub struct NoCodec {
    /// The Rust type name of the value.
    pub type_name: &'static str,
}

type ToJson = fn(&dyn Any) -> Option<serde_json::Value>;

fn registry() -> &'static RwLock<HashMap<TypeId, ToJson>> {
    static CODECS: OnceLock<RwLock<HashMap<TypeId, ToJson>>> = OnceLock::new();
    CODECS.get_or_init(|| {
        let mut m: HashMap<TypeId, ToJson> = HashMap::new();
        m.insert(TypeId::of::<Vec<i64>>(), encode::<Vec<i64>>);
        m.insert(TypeId::of::<Vec<f64>>(), encode::<Vec<f64>>);
        m.insert(TypeId::of::<Vec<String>>(), encode::<Vec<String>>);
        m.insert(TypeId::of::<Vec<bool>>(), encode::<Vec<bool>>);
        m.insert(TypeId::of::<u64>(), encode::<u64>);
        m.insert(TypeId::of::<usize>(), encode::<usize>);
        RwLock::new(m)
    })
}

fn encode<T: Serialize + 'static>(v: &dyn Any) -> Option<serde_json::Value> {
    v.downcast_ref::<T>()
        .and_then(|t| serde_json::to_value(t).ok())
}

/// Registers a JSON codec for the type `T`, so that opaque values of that
/// type can be printed and moved between processes.
pub fn register_json<T: Serialize + Any + Send + Sync>() {
    let mut codecs = registry().write().unwrap_or_else(|e| e.into_inner());
    codecs.insert(TypeId::of::<T>(), encode::<T>);
}

/// True when opaque values of the type of `value` have a codec.
pub fn has_codec(value: &dyn AnyValue) -> bool {
    let codecs = registry().read().unwrap_or_else(|e| e.into_inner());
    codecs.contains_key(&value.as_any().type_id())
}

pub(crate) fn to_json(value: &dyn AnyValue) -> Result<serde_json::Value, NoCodec> {
    let codecs = registry().read().unwrap_or_else(|e| e.into_inner());
    let any = value.as_any();
    codecs
        .get(&any.type_id())
        .and_then(|f| f(any))
        .ok_or(NoCodec {
            type_name: value.type_name(),
        })
}
