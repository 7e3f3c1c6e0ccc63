//! Codecs made of other codecs, for the containers a typed collection
//! builds around its users' types.
//!
//! A bag of `T` keeps its partitions as `Vec<T>`, its `frequencies` as
//! pairs `(T, u64)`, its `min` as an `Option<T>`. The collection cannot
//! ask `T` for serde (a bag of any `Clone` type runs on threads), so it
//! cannot [`register`](super::register) those containers the serde way.
//! Instead it describes each container as a [`Shape`] and registers it
//! with [`register_shape`]: the container's codec encodes the container
//! itself and each `T` inside through `T`'s own codec, looked up when a
//! value is encoded. So the built-in types need nothing, a user's type
//! needs its one [`register`](super::register), and when it is missing the
//! error names that type, not the container.
//!
//! ```
//! use rask::codec::{self, Leaf, Pair, Seq};
//! use rask::Value;
//! #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! struct Visit { page: String }
//! // what a bag of `(Visit, u64)` registers for its partitions
//! codec::register_shape::<Seq<Pair<Leaf<Visit>, Leaf<u64>>>>();
//! let part = Value::opaque(vec![(Visit { page: "/".into() }, 3_u64)]);
//! let e = codec::to_bytes(&part).unwrap_err();
//! assert_eq!(e.type_name, std::any::type_name::<Visit>());
//! codec::register::<Visit>();
//! let back = codec::from_bytes(&codec::to_bytes(&part).unwrap()).unwrap();
//! assert_eq!(back.downcast_ref::<Vec<(Visit, u64)>>(), part.downcast_ref());
//! ```

use std::any::{Any, TypeId};
use std::marker::PhantomData;

use super::{
    bad_encoding, codec_by_type, put, registry, write_payload, Codec, DecodeError, NoCodec,
    Registry,
};
use crate::value::{ToJsonError, Value};

/// How a container type is encoded, in terms of the codecs of what it
/// holds. Implemented by marker types ([`Leaf`], [`Seq`], [`Pair`],
/// [`Triple`], [`Opt`]) that are never made; a collection may implement
/// it for markers of its own containers.
///
/// Every encoding writes at least one byte (a count, a length or a tag),
/// which is what bounds a count read back ([`Input::count`]).
pub trait Shape: 'static {
    /// The Rust type this shape encodes.
    type Value: Any + Send + Sync;
    /// Appends the binary form of `value`; an error names the type inside
    /// that has no codec.
    fn encode(value: &Self::Value, out: &mut Vec<u8>) -> Result<(), NoCodec>;
    /// Reads a value written by [`encode`](Shape::encode).
    fn decode(input: &mut Input<'_>) -> Result<Self::Value, DecodeError>;
    /// The value as JSON (for printing results).
    fn to_json(value: &Self::Value) -> Result<serde_json::Value, ToJsonError>;
}

/// Bytes being decoded by a [`Shape`].
#[derive(Debug)]
pub struct Input<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Input<'a> {
    fn new(bytes: &'a [u8]) -> Input<'a> {
        Input { bytes, at: 0 }
    }

    fn rest(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.rest() {
            return Err(DecodeError::Corrupt(format!(
                "truncated at byte {} of a container",
                self.at
            )));
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut a = [0_u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    /// A count of items that follow, each at least one byte long: an
    /// error when there are fewer bytes left than that.
    pub fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.u64()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.rest())
            .ok_or_else(|| DecodeError::Corrupt(format!("a count of {n} beyond the data")))
    }

    /// Bytes written with a length before them.
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u64()?;
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.rest())
            .ok_or_else(|| DecodeError::Corrupt(format!("a length of {n} beyond the data")))?;
        self.take(n)
    }
}

/// Appends a count (for [`Input::count`]).
pub fn write_count(n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

/// Registers a codec for `S::Value` made by the shape `S`, unless that
/// type has a codec already (one registered with
/// [`register`](super::register), or a built-in one, is kept).
pub fn register_shape<S: Shape>() {
    let type_id = TypeId::of::<S::Value>();
    if codec_by_type(type_id).is_some() {
        return;
    }
    let mut r = registry().write().unwrap_or_else(|e| e.into_inner());
    if r.by_type.contains_key(&type_id) {
        return;
    }
    r.insert(type_id, shape_codec::<S>());
}

fn shape_codec<S: Shape>() -> Codec {
    Codec {
        name: std::any::type_name::<S::Value>(),
        json: |v| match v.downcast_ref::<S::Value>() {
            Some(v) => S::to_json(v),
            None => Err(no_codec::<S::Value>().into()),
        },
        encode: |v, out| {
            let v = v
                .downcast_ref::<S::Value>()
                .ok_or_else(no_codec::<S::Value>)?;
            S::encode(v, out)
        },
        decode: |b, slot| put(slot, decode_all::<S>(b)?),
        value: |b| decode_all::<S>(b).map(Value::opaque),
    }
}

/// A value of shape `S` that is all of `b`.
fn decode_all<S: Shape>(b: &[u8]) -> Result<S::Value, DecodeError> {
    let mut input = Input::new(b);
    let v = S::decode(&mut input)?;
    if input.rest() != 0 {
        return Err(bad_encoding::<S::Value>(format_args!(
            "{} bytes left after it",
            input.rest()
        )));
    }
    Ok(v)
}

pub(super) fn no_codec<T>() -> NoCodec {
    NoCodec {
        type_name: std::any::type_name::<T>(),
    }
}

/// A value encoded by its own type's codec (registered, built in, or a
/// shape), found when the value is encoded: the place where a user's type
/// sits in a container.
#[derive(Debug)]
pub struct Leaf<T>(Marker<T>);

/// What a marker type holds: nothing, for any `T`.
type Marker<T> = PhantomData<fn() -> T>;

impl<T: Any + Send + Sync> Shape for Leaf<T> {
    type Value = T;

    fn encode(value: &T, out: &mut Vec<u8>) -> Result<(), NoCodec> {
        let codec = codec_by_type(TypeId::of::<T>()).ok_or_else(no_codec::<T>)?;
        write_payload(out, |out| (codec.encode)(value, out))
    }

    fn decode(input: &mut Input<'_>) -> Result<T, DecodeError> {
        let payload = input.bytes()?;
        let codec = codec_by_type(TypeId::of::<T>())
            .ok_or_else(|| DecodeError::UnknownType(std::any::type_name::<T>().to_string()))?;
        let mut slot: Option<T> = None;
        (codec.decode)(payload, &mut slot)?;
        slot.ok_or_else(|| bad_encoding::<T>("its codec made nothing"))
    }

    fn to_json(value: &T) -> Result<serde_json::Value, ToJsonError> {
        let codec = codec_by_type(TypeId::of::<T>()).ok_or_else(no_codec::<T>)?;
        (codec.json)(value)
    }
}

/// A `Vec` of values of the shape `S`.
#[derive(Debug)]
pub struct Seq<S>(Marker<S>);

impl<S: Shape> Shape for Seq<S> {
    type Value = Vec<S::Value>;

    fn encode(value: &Self::Value, out: &mut Vec<u8>) -> Result<(), NoCodec> {
        write_count(value.len(), out);
        value.iter().try_for_each(|x| S::encode(x, out))
    }

    fn decode(input: &mut Input<'_>) -> Result<Self::Value, DecodeError> {
        let n = input.count()?;
        (0..n).map(|_| S::decode(input)).collect()
    }

    fn to_json(value: &Self::Value) -> Result<serde_json::Value, ToJsonError> {
        value
            .iter()
            .map(S::to_json)
            .collect::<Result<_, _>>()
            .map(serde_json::Value::Array)
    }
}

/// A pair `(A, B)`, written as a JSON array of two.
#[derive(Debug)]
pub struct Pair<A, B>(Marker<(A, B)>);

impl<A: Shape, B: Shape> Shape for Pair<A, B> {
    type Value = (A::Value, B::Value);

    fn encode(value: &Self::Value, out: &mut Vec<u8>) -> Result<(), NoCodec> {
        A::encode(&value.0, out)?;
        B::encode(&value.1, out)
    }

    fn decode(input: &mut Input<'_>) -> Result<Self::Value, DecodeError> {
        Ok((A::decode(input)?, B::decode(input)?))
    }

    fn to_json(value: &Self::Value) -> Result<serde_json::Value, ToJsonError> {
        Ok(serde_json::Value::Array(vec![
            A::to_json(&value.0)?,
            B::to_json(&value.1)?,
        ]))
    }
}

/// A triple `(A, B, C)`, written as a JSON array of three.
#[derive(Debug)]
pub struct Triple<A, B, C>(Marker<(A, B, C)>);

impl<A: Shape, B: Shape, C: Shape> Shape for Triple<A, B, C> {
    type Value = (A::Value, B::Value, C::Value);

    fn encode(value: &Self::Value, out: &mut Vec<u8>) -> Result<(), NoCodec> {
        A::encode(&value.0, out)?;
        B::encode(&value.1, out)?;
        C::encode(&value.2, out)
    }

    fn decode(input: &mut Input<'_>) -> Result<Self::Value, DecodeError> {
        Ok((A::decode(input)?, B::decode(input)?, C::decode(input)?))
    }

    fn to_json(value: &Self::Value) -> Result<serde_json::Value, ToJsonError> {
        Ok(serde_json::Value::Array(vec![
            A::to_json(&value.0)?,
            B::to_json(&value.1)?,
            C::to_json(&value.2)?,
        ]))
    }
}

/// An `Option` of the shape `S`: JSON `null` for `None`.
#[derive(Debug)]
pub struct Opt<S>(Marker<S>);

impl<S: Shape> Shape for Opt<S> {
    type Value = Option<S::Value>;

    fn encode(value: &Self::Value, out: &mut Vec<u8>) -> Result<(), NoCodec> {
        match value {
            None => {
                out.push(0);
                Ok(())
            }
            Some(v) => {
                out.push(1);
                S::encode(v, out)
            }
        }
    }

    fn decode(input: &mut Input<'_>) -> Result<Self::Value, DecodeError> {
        match input.u8()? {
            0 => Ok(None),
            1 => S::decode(input).map(Some),
            t => Err(DecodeError::Corrupt(format!("an Option tagged {t}"))),
        }
    }

    fn to_json(value: &Self::Value) -> Result<serde_json::Value, ToJsonError> {
        value
            .as_ref()
            .map_or(Ok(serde_json::Value::Null), S::to_json)
    }
}

fn json_in(b: &[u8]) -> Result<serde_json::Value, DecodeError> {
    serde_json::from_slice(b).map_err(bad_encoding::<serde_json::Value>)
}

/// `serde_json::Value` (the records of a bag of JSON) as its JSON text:
/// a non-self-describing format cannot hold it, and the text keeps every
/// number as it was.
pub(super) fn add_json(r: &mut Registry) {
    type Json = serde_json::Value;
    let codec = Codec {
        name: std::any::type_name::<Json>(),
        json: |v| {
            v.downcast_ref::<Json>()
                .cloned()
                .ok_or_else(|| no_codec::<Json>().into())
        },
        encode: |v, out| {
            let j = v.downcast_ref::<Json>().ok_or_else(no_codec::<Json>)?;
            serde_json::to_writer(out, j).map_err(|_| no_codec::<Json>())
        },
        decode: |b, slot| put(slot, json_in(b)?),
        value: |b| json_in(b).map(Value::opaque),
    };
    r.insert(TypeId::of::<Json>(), codec);
}

#[cfg(test)]
mod tests;
