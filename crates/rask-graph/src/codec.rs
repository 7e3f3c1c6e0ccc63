//! Codecs: how a value leaves the process that made it.
//!
//! Values of the JSON-like variants of [`Value`] encode on their own. An
//! opaque Rust value (a struct of yours, an array chunk) needs a codec for
//! its type, registered once with [`register`]: the CLI uses it to print
//! results, the result cache to store them, and the executors that cross a
//! process boundary to move them. The scalars (`i64`, `i32`, `u64`, `u32`,
//! `usize`, `u8`, `f64`, `f32`, `bool`, `char`, `()`), `String`, `PathBuf`,
//! `serde_json::Value` (as its JSON text) and `Vec`s of integers, floats,
//! strings and booleans have codecs built in. Containers that a collection
//! builds around its users' types are registered as [`Shape`]s (see
//! [`register_shape`]): a `Vec<T>` of a bag is encoded item by item through
//! `T`'s codec, so only `T` needs one, and the error names `T`.
//!
//! The binary form ([`to_bytes`], [`from_bytes`]) is a tag byte per value,
//! little-endian numbers, length-prefixed strings and lists; an opaque
//! value is written as its type's name and its serde encoding (postcard),
//! and is read back through the codec registered under that name. A
//! program must therefore register the same codecs in every process, which
//! it does when every process runs the same code.
//!
//! ```
//! use rask::{codec, Value};
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Point { x: i64, y: i64 }
//! codec::register::<Point>();
//! let v = Value::new(Point { x: 1, y: 2 });
//! assert_eq!(v.to_json().unwrap(), serde_json::json!({"x": 1, "y": 2}));
//! let back = codec::from_bytes(&codec::to_bytes(&v).unwrap()).unwrap();
//! assert_eq!(back.downcast_ref::<Point>(), Some(&Point { x: 1, y: 2 }));
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::value::{AnyValue, ToJsonError, Value};

mod shape;
pub use shape::{register_shape, write_count, Input, Leaf, Opt, Pair, Seq, Shape, Triple};

/// An opaque value has no codec for its type. The message names the type
/// as a program writes it (`Vec<(String, i64)>`, not
/// `alloc::vec::Vec<(alloc::string::String, i64)>`), in the one call that
/// registers it.
///
/// ```
/// use rask::{codec, Value};
/// let e = codec::to_bytes(&Value::opaque(vec![(String::new(), 1_i8)])).unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "a value of type Vec<(String, i8)> has no codec: \
///      register one with rask::codec::register::<Vec<(String, i8)>>()"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a value of type {} has no codec: register one with rask::codec::register::<{}>()", readable(.type_name), readable(.type_name))]
pub struct NoCodec {
    /// The Rust type name of the value (as `std::any::type_name` gives it).
    pub type_name: &'static str,
}

/// A type name as a program writes it: the standard library's own paths
/// of the prelude's types (`alloc::string::String`) are shortened to the
/// names a program uses.
fn readable(type_name: &str) -> String {
    const SHORT: [(&str, &str); 6] = [
        ("alloc::string::String", "String"),
        ("alloc::vec::Vec", "Vec"),
        ("alloc::boxed::Box", "Box"),
        ("core::option::Option", "Option"),
        ("alloc::sync::Arc", "std::sync::Arc"),
        ("serde_json::value::Value", "serde_json::Value"),
    ];
    let mut out = type_name.to_string();
    for (long, short) in SHORT {
        out = out.replace(long, short);
    }
    out
}

/// Bytes that do not decode to a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end early or hold an unknown tag.
    #[error("corrupt value encoding: {0}")]
    Corrupt(String),
    /// The bytes hold a value of a type with no codec in this process.
    #[error("no codec for type {0} in this process: register it before computing")]
    UnknownType(String),
}

/// The encoding functions of one type.
#[derive(Clone, Copy)]
struct Codec {
    name: &'static str,
    json: fn(&dyn Any) -> Result<serde_json::Value, ToJsonError>,
    /// Appends the payload of a value of the type to the buffer.
    encode: fn(&dyn Any, &mut Vec<u8>) -> Result<(), NoCodec>,
    /// Reads a payload (all of the bytes) into an `Option<T>` of the type
    /// (the item of a container, with no `Value` made for it).
    decode: fn(&[u8], &mut dyn Any) -> Result<(), DecodeError>,
    /// Reads a payload (all of the bytes) as an opaque value.
    value: fn(&[u8]) -> Result<Value, DecodeError>,
}

#[derive(Default)]
struct Registry {
    by_type: HashMap<TypeId, Codec>,
    by_name: HashMap<&'static str, Codec>,
}

/// Counts the registrations, so that each thread's copy of the codecs it
/// looked up ([`codec_by_type`]) knows when it is stale.
static GENERATION: AtomicU64 = AtomicU64::new(0);

fn registry() -> &'static RwLock<Registry> {
    static CODECS: OnceLock<RwLock<Registry>> = OnceLock::new();
    CODECS.get_or_init(|| {
        let mut r = Registry::default();
        add::<Vec<i64>>(&mut r);
        add::<Vec<f64>>(&mut r);
        use_raw_words(&mut r);
        add::<Vec<String>>(&mut r);
        add::<Vec<bool>>(&mut r);
        add::<u64>(&mut r);
        add::<usize>(&mut r);
        // the scalars a typed collection keeps as opaque values (a bag's
        // `sum` of `i64`s, an element of a bag's partition)
        add::<i64>(&mut r);
        add::<i32>(&mut r);
        add::<u32>(&mut r);
        add::<u8>(&mut r);
        add::<f64>(&mut r);
        add::<f32>(&mut r);
        add::<bool>(&mut r);
        add::<char>(&mut r);
        add::<()>(&mut r);
        add::<String>(&mut r);
        add::<std::path::PathBuf>(&mut r);
        shape::add_json(&mut r);
        RwLock::new(r)
    })
}

fn add<T: Serialize + DeserializeOwned + Any + Send + Sync>(r: &mut Registry) {
    let codec = Codec {
        name: std::any::type_name::<T>(),
        json: |v| {
            let t = v.downcast_ref::<T>().ok_or_else(no_codec::<T>)?;
            if let Some(value) = non_finite(t) {
                return Err(ToJsonError::NotFinite { value });
            }
            serde_json::to_value(t).map_err(|_| no_codec::<T>().into())
        },
        encode: |v, out| {
            let t = v.downcast_ref::<T>().ok_or_else(no_codec::<T>)?;
            postcard::to_io(t, out).map_err(|_| no_codec::<T>())?;
            Ok(())
        },
        decode: |b, slot| {
            let t = postcard::from_bytes::<T>(b).map_err(|e| bad_encoding::<T>(e))?;
            put(slot, t)
        },
        value: |b| {
            postcard::from_bytes::<T>(b)
                .map(Value::opaque)
                .map_err(|e| bad_encoding::<T>(e))
        },
    };
    r.insert(TypeId::of::<T>(), codec);
}

/// Puts `t` into `slot`, an `Option<T>`.
fn put<T: Any>(slot: &mut dyn Any, t: T) -> Result<(), DecodeError> {
    let slot = slot
        .downcast_mut::<Option<T>>()
        .ok_or_else(|| bad_encoding::<T>("it was read as another type"))?;
    *slot = Some(t);
    Ok(())
}

impl Registry {
    fn insert(&mut self, type_id: TypeId, codec: Codec) {
        self.by_type.insert(type_id, codec);
        self.by_name.insert(codec.name, codec);
        GENERATION.fetch_add(1, Ordering::Release);
    }
}

use shape::no_codec;

fn bad_encoding<T>(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt(format!(
        "bad encoding of a {}: {e}",
        std::any::type_name::<T>()
    ))
}

/// A number of 8 bytes, written as its little-endian bytes.
trait Word: Any + Send + Sync + Copy {
    fn to_le(self) -> [u8; 8];
    fn from_le(b: [u8; 8]) -> Self;
}

impl Word for i64 {
    fn to_le(self) -> [u8; 8] {
        self.to_le_bytes()
    }
    fn from_le(b: [u8; 8]) -> Self {
        i64::from_le_bytes(b)
    }
}

impl Word for f64 {
    fn to_le(self) -> [u8; 8] {
        self.to_le_bytes()
    }
    fn from_le(b: [u8; 8]) -> Self {
        f64::from_le_bytes(b)
    }
}

/// Gives `Vec<i64>` and `Vec<f64>` a binary form of raw little-endian
/// words: a plain copy, where a serde format encodes element by element.
fn use_raw_words(r: &mut Registry) {
    raw_words::<i64>(r);
    raw_words::<f64>(r);
}

fn raw_words<W: Word>(r: &mut Registry) {
    let Some(c) = r.by_type.get(&TypeId::of::<Vec<W>>()).copied() else {
        return;
    };
    let c = Codec {
        encode: |v, out| {
            let words = v.downcast_ref::<Vec<W>>().ok_or_else(no_codec::<Vec<W>>)?;
            out.reserve(words.len() * 8);
            for w in words {
                out.extend_from_slice(&w.to_le());
            }
            Ok(())
        },
        decode: |b, slot| put(slot, words_in::<W>(b)?),
        value: |b| words_in::<W>(b).map(Value::opaque),
        ..c
    };
    r.insert(TypeId::of::<Vec<W>>(), c);
}

fn words_in<W: Word>(b: &[u8]) -> Result<Vec<W>, DecodeError> {
    if !b.len().is_multiple_of(8) {
        return Err(bad_encoding::<Vec<W>>(format_args!(
            "{} bytes are not whole words",
            b.len()
        )));
    }
    Ok(b.chunks_exact(8)
        .map(|c| {
            let mut a = [0_u8; 8];
            a.copy_from_slice(c);
            W::from_le(a)
        })
        .collect())
}

/// Registers a codec for the type `T`, so that opaque values of that type
/// can be printed as JSON, cached, and moved between processes.
/// `Vec<i64>` and `Vec<f64>` have one already, whose binary form is their
/// raw words; registering them again keeps it.
pub fn register<T: Serialize + DeserializeOwned + Any + Send + Sync>() {
    let mut r = registry().write().unwrap_or_else(|e| e.into_inner());
    add::<T>(&mut r);
    use_raw_words(&mut r);
}

fn codec_of(value: &dyn AnyValue) -> Result<Codec, NoCodec> {
    codec_by_type(value.as_any().type_id()).ok_or(NoCodec {
        type_name: value.type_name(),
    })
}

/// The codec of a type. Each thread keeps the codecs it looked up, so
/// that the items of a container do not each take the registry's lock;
/// a registration anywhere makes those copies stale.
fn codec_by_type(type_id: TypeId) -> Option<Codec> {
    use std::cell::RefCell;
    thread_local! {
        static SEEN: RefCell<(u64, rustc_hash::FxHashMap<TypeId, Codec>)> =
            RefCell::new((u64::MAX, rustc_hash::FxHashMap::default()));
    }
    let generation = GENERATION.load(Ordering::Acquire);
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.0 != generation {
            seen.1.clear();
            seen.0 = generation;
        }
        if let Some(c) = seen.1.get(&type_id) {
            return Some(*c);
        }
        let r = registry().read().unwrap_or_else(|e| e.into_inner());
        let c = r.by_type.get(&type_id).copied()?;
        seen.1.insert(type_id, c);
        Some(c)
    })
}

/// True when opaque values of the type of `value` have a codec.
pub fn has_codec(value: &dyn AnyValue) -> bool {
    codec_of(value).is_ok()
}

pub(crate) fn to_json(value: &dyn AnyValue) -> Result<serde_json::Value, ToJsonError> {
    let codec = codec_of(value)?;
    (codec.json)(value.as_any())
}

/// The first float in `value` that is not finite: serde_json writes those
/// as `null`, so a value is looked at through a format that keeps them
/// (CBOR) before it is written as JSON.
fn non_finite<T: Serialize + Any>(value: &T) -> Option<f64> {
    use ciborium::Value as C;
    // `Vec<f64>` (an array chunk) is looked at directly
    if let Some(floats) = (value as &dyn Any).downcast_ref::<Vec<f64>>() {
        return floats.iter().copied().find(|f| !f.is_finite());
    }
    let cbor = C::serialized(value).ok()?;
    let mut stack = vec![&cbor];
    while let Some(v) = stack.pop() {
        match v {
            C::Float(f) if !f.is_finite() => return Some(*f),
            C::Array(items) => stack.extend(items),
            C::Map(members) => stack.extend(members.iter().flat_map(|(k, v)| [k, v])),
            C::Tag(_, inner) => stack.push(inner),
            _ => {}
        }
    }
    None
}

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const LIST: u8 = 6;
const DICT: u8 = 7;
const OPAQUE: u8 = 8;

/// The value in the binary form.
pub fn to_bytes(value: &Value) -> Result<Vec<u8>, NoCodec> {
    let mut out = Vec::new();
    write(value, &mut out)?;
    Ok(out)
}

/// Appends the binary form of `value` to `out`. The value is walked
/// without recursion ([`Value::visit`]), so values of any depth encode.
pub fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), NoCodec> {
    use crate::value::Visit;
    value.visit(|step| {
        match step {
            Visit::Leaf(Value::Null) => out.push(NULL),
            Visit::Leaf(Value::Bool(b)) => out.push(if *b { TRUE } else { FALSE }),
            Visit::Leaf(Value::Int(i)) => {
                out.push(INT);
                out.extend_from_slice(&i.to_le_bytes());
            }
            Visit::Leaf(Value::Float(f)) => {
                out.push(FLOAT);
                out.extend_from_slice(&f.to_le_bytes());
            }
            Visit::Leaf(Value::Str(s)) => {
                out.push(STR);
                write_bytes(s.as_bytes(), out);
            }
            Visit::Leaf(Value::Opaque(v)) => {
                let v: &dyn AnyValue = v.as_ref();
                let codec = codec_of(v)?;
                out.push(OPAQUE);
                write_bytes(codec.name.as_bytes(), out);
                write_payload(out, |out| (codec.encode)(v.as_any(), out))?;
            }
            // a walk gives lists and objects as the steps below
            Visit::Leaf(Value::List(_) | Value::Dict(_)) => {}
            Visit::List(n) => {
                out.push(LIST);
                out.extend_from_slice(&(n as u64).to_le_bytes());
            }
            Visit::Dict(n) => {
                out.push(DICT);
                out.extend_from_slice(&(n as u64).to_le_bytes());
            }
            Visit::Member(k) => write_bytes(k.as_bytes(), out),
            Visit::End => {}
        }
        Ok(())
    })
}

/// Writes the length of what `write` appends, then it.
fn write_payload<E>(
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let at = out.len();
    out.extend_from_slice(&[0; 8]);
    write(out)?;
    let n = (out.len() - at - 8) as u64;
    out[at..at + 8].copy_from_slice(&n.to_le_bytes());
    Ok(())
}

fn write_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

/// Reads a value from its binary form (all of `bytes`).
pub fn from_bytes(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader { bytes, at: 0 };
    let v = r.value()?;
    if r.at != bytes.len() {
        return Err(DecodeError::Corrupt(format!(
            "{} bytes left after the value",
            bytes.len() - r.at
        )));
    }
    Ok(v)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end =
            end.ok_or_else(|| DecodeError::Corrupt(format!("truncated at byte {}", self.at)))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0_u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn len(&mut self) -> Result<usize, DecodeError> {
        let n = self.u64()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len() - self.at.min(self.bytes.len()) || n == 0)
            .ok_or_else(|| DecodeError::Corrupt(format!("length {n} beyond the data")))
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|e| DecodeError::Corrupt(e.to_string()))
    }

    /// One value, read with a heap stack of the lists and objects still
    /// open, so values of any depth decode.
    fn value(&mut self) -> Result<Value, DecodeError> {
        enum Open {
            List(Vec<Value>, usize),
            Dict(Vec<(Arc<str>, Value)>, usize),
        }
        let mut open: Vec<Open> = Vec::new();
        loop {
            // an object's member name comes before its value
            let mut name: Option<Arc<str>> = match open.last() {
                Some(Open::Dict(..)) => Some(Arc::from(self.str()?)),
                _ => None,
            };
            let tag = self.take(1)?[0];
            let mut done = match tag {
                NULL => Some(Value::Null),
                FALSE => Some(Value::Bool(false)),
                TRUE => Some(Value::Bool(true)),
                INT => Some(Value::Int(self.u64()? as i64)),
                FLOAT => Some(Value::Float(f64::from_bits(self.u64()?))),
                STR => Some(Value::Str(Arc::from(self.str()?))),
                LIST => match self.len()? {
                    0 => Some(Value::List(Arc::from([]))),
                    n => {
                        open.push(Open::List(Vec::with_capacity(n.min(1 << 16)), n));
                        None
                    }
                },
                DICT => match self.len()? {
                    0 => Some(Value::Dict(Arc::from([]))),
                    n => {
                        open.push(Open::Dict(Vec::with_capacity(n.min(1 << 16)), n));
                        None
                    }
                },
                OPAQUE => {
                    let name = self.str()?;
                    let n = self.len()?;
                    let payload = self.take(n)?;
                    let codec = {
                        let r = registry().read().unwrap_or_else(|e| e.into_inner());
                        r.by_name.get(name).copied()
                    };
                    let codec = codec.ok_or_else(|| DecodeError::UnknownType(name.to_string()))?;
                    Some((codec.value)(payload)?)
                }
                other => return Err(DecodeError::Corrupt(format!("unknown tag {other}"))),
            };
            if done.is_none() {
                // a container just opened: its member name goes into the
                // object below it now, its value when it is complete
                if let Some(n) = name.take() {
                    let at = open.len() - 2;
                    if let Open::Dict(members, _) = &mut open[at] {
                        members.push((n, Value::Null));
                    }
                }
            }
            while let Some(v) = done.take() {
                let full = match open.last_mut() {
                    None => return Ok(v),
                    Some(Open::List(items, n)) => {
                        items.push(v);
                        items.len() == *n
                    }
                    Some(Open::Dict(members, n)) => {
                        match name.take() {
                            Some(k) => members.push((k, v)),
                            // the value of the member pushed when it opened
                            None => {
                                if let Some(last) = members.last_mut() {
                                    last.1 = v;
                                }
                            }
                        }
                        members.len() == *n
                    }
                };
                if full {
                    done = match open.pop() {
                        Some(Open::List(items, _)) => Some(Value::List(items.into())),
                        Some(Open::Dict(members, _)) => Some(Value::Dict(members.into())),
                        None => None,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
