//! JSON records: fields by path (`pluck`) and JSON values as keys.

use std::hash::{Hash, Hasher};

use rask_graph::codec::{DecodeError, Input, Leaf, NoCodec, Shape};
use rask_graph::ToJsonError;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::bag::Bag;
use crate::error::BagError;
use crate::pipe::{reject, Flow, Pipe, SharedPipe, Sink};
use crate::token;

/// A path to a field of JSON records: `"actor.login"` is the member
/// `login` of the member `actor`; a number steps into an array
/// (`"commits.0.sha"`). For member names with dots in them, give the
/// steps as a list: `Field::from(["a.b", "c"])`.
///
/// ```
/// use rask::bag::Field;
/// let record = serde_json::json!({"actor": {"login": "ada"}, "tags": ["x", "y"]});
/// assert_eq!(Field::from("actor.login").get(&record), Some(&serde_json::json!("ada")));
/// assert_eq!(Field::from("tags.1").get(&record), Some(&serde_json::json!("y")));
/// assert_eq!(Field::from("actor.name").get(&record), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field(Vec<String>);

impl Field {
    /// The field of `record`, if it has it.
    pub fn get<'v>(&self, record: &'v Json) -> Option<&'v Json> {
        let mut v = record;
        for step in &self.0 {
            v = match v {
                Json::Object(members) => members.get(step)?,
                Json::Array(items) => items.get(step.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(v)
    }

    /// The steps of the path.
    pub(crate) fn steps(&self) -> &[String] {
        &self.0
    }

    /// The path as written with dots.
    pub fn path(&self) -> String {
        self.0.join(".")
    }
}

impl From<&str> for Field {
    fn from(path: &str) -> Field {
        Field(path.split('.').map(str::to_string).collect())
    }
}
impl From<String> for Field {
    fn from(path: String) -> Field {
        Field::from(path.as_str())
    }
}
impl From<&[&str]> for Field {
    fn from(steps: &[&str]) -> Field {
        Field(steps.iter().map(|s| s.to_string()).collect())
    }
}
impl<const N: usize> From<[&str; N]> for Field {
    fn from(steps: [&str; N]) -> Field {
        Field(steps.iter().map(|s| s.to_string()).collect())
    }
}
impl From<Vec<String>> for Field {
    fn from(steps: Vec<String>) -> Field {
        Field(steps)
    }
}

/// A JSON value that can be a key of a hash map (numbers hash by their
/// text, so `1` and `1.0` are different keys, as they are different JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct JsonKey(pub(crate) Json);

/// A [`JsonKey`] crosses to another process as the JSON value it is.
pub(crate) struct JsonKeyWire;

impl Shape for JsonKeyWire {
    type Value = JsonKey;

    fn encode(key: &JsonKey, out: &mut Vec<u8>) -> Result<(), NoCodec> {
        Leaf::<Json>::encode(&key.0, out)
    }

    fn decode(input: &mut Input<'_>) -> Result<JsonKey, DecodeError> {
        Leaf::<Json>::decode(input).map(JsonKey)
    }

    fn to_json(key: &JsonKey) -> Result<Json, ToJsonError> {
        Ok(key.0.clone())
    }
}

impl Hash for JsonKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_json(&self.0, state);
    }
}

fn hash_json<H: Hasher>(v: &Json, state: &mut H) {
    match v {
        Json::Null => state.write_u8(0),
        Json::Bool(b) => {
            state.write_u8(1);
            b.hash(state);
        }
        Json::Number(n) => {
            state.write_u8(2);
            n.to_string().hash(state);
        }
        Json::String(s) => {
            state.write_u8(3);
            s.hash(state);
        }
        Json::Array(items) => {
            state.write_u8(4);
            state.write_usize(items.len());
            for x in items {
                hash_json(x, state);
            }
        }
        Json::Object(members) => {
            state.write_u8(5);
            state.write_usize(members.len());
            for (k, x) in members {
                k.hash(state);
                hash_json(x, state);
            }
        }
    }
}

/// `pluck`: a field of each record, or `default` (or an error when there
/// is none) where a record lacks it.
struct Pluck {
    inner: SharedPipe<Json>,
    field: Field,
    default: Option<Json>,
}

impl Pipe<Json> for Pluck {
    fn run(&self, part: usize, inputs: &[rask_graph::Value], sink: &mut Sink<'_, Json>) -> Flow {
        self.inner.run(part, inputs, &mut |record| {
            let found = match self.field.get(&record) {
                Some(v) => v.clone(),
                None => match &self.default {
                    Some(d) => d.clone(),
                    None => {
                        return Err(reject(
                            BagError::MissingField {
                                field: self.field.path(),
                                at: None,
                            },
                            &None,
                        ))
                    }
                },
            };
            sink(found)
        })
    }
}

impl Bag<Json> {
    /// The field `path` of each record (see [`Field`]); a record without
    /// it fails the computation with [`BagError::MissingField`], naming
    /// its file and line.
    ///
    /// ```
    /// use serde_json::json;
    /// let b = rask::bag::from_sequence(vec![json!({"a": {"b": 1}}), json!({"a": {"b": 2}})], 1);
    /// assert_eq!(b.pluck("a.b").compute(&rask::Sync).unwrap(), [json!(1), json!(2)]);
    /// ```
    pub fn pluck(&self, path: impl Into<Field>) -> Bag<Json> {
        self.pluck_with(path.into(), None)
    }

    /// The field `path` of each record, or `default` where a record does
    /// not have it.
    ///
    /// ```
    /// use serde_json::json;
    /// let b = rask::bag::from_sequence(vec![json!({"size": 3}), json!({})], 1);
    /// assert_eq!(b.pluck_or("size", json!(0)).compute(&rask::Sync).unwrap(), [json!(3), json!(0)]);
    /// ```
    pub fn pluck_or(&self, path: impl Into<Field>, default: Json) -> Bag<Json> {
        self.pluck_with(path.into(), Some(default))
    }

    fn pluck_with(&self, field: Field, default: Option<Json>) -> Bag<Json> {
        let name = token::name(
            "pluck",
            (self.name(), &field, default.as_ref().map(Json::to_string)),
        );
        self.derive_named(name, |inner| Pluck {
            inner,
            field,
            default,
        })
    }
}
