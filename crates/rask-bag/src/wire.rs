//! The codecs of the values a bag's graph produces, registered while the
//! graph is built, so that every bag runs on the executors that move
//! values between processes (`Processes`, MPI) with nothing registered by
//! the user for the built-in types.
//!
//! A bag cannot ask its items for serde (a bag of any `Clone` type runs
//! on threads), so its containers are registered as
//! [`Shape`](rask_graph::codec::Shape)s: the container is encoded by the
//! bag, each item by its own type's codec, found when a value crosses. The
//! scalar types, `String`, `PathBuf` and JSON values have codecs built in;
//! a user's own item type needs one `rask::codec::register::<Type>()`,
//! which the error names when it is missing.

use std::hash::Hash;
use std::marker::PhantomData;

use rask_graph::codec::{
    register_shape, write_count, DecodeError, Input, Leaf, NoCodec, Opt, Pair, Seq, Shape, Triple,
};
use rask_graph::ToJsonError;

use crate::bag::Element;
use crate::reduce::OrderedMap;

/// A partition of a bag of `T`: `Vec<T>`.
pub(crate) fn partition<T: Element>() {
    register_shape::<Seq<Leaf<T>>>();
}

/// A pair of items, `(A, B)`.
pub(crate) fn pair<A: Element, B: Element>() {
    register_shape::<Pair<Leaf<A>, Leaf<B>>>();
}

/// A triple of items, `(A, B, C)`.
pub(crate) fn triple<A: Element, B: Element, C: Element>() {
    register_shape::<Triple<Leaf<A>, Leaf<B>, Leaf<C>>>();
}

/// `Option<T>`.
pub(crate) fn option<T: Element>() {
    register_shape::<Opt<Leaf<T>>>();
}

/// `Vec<T>` (a list that is not a partition, such as a group's items).
pub(crate) fn list<T: Element>() {
    register_shape::<Seq<Leaf<T>>>();
}

/// An ordered map whose keys have the shape `K` and values `V`, written
/// as its entries in order.
pub(crate) struct MapOf<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> Shape for MapOf<K, V>
where
    K: Shape,
    V: Shape,
    K::Value: Hash + Eq,
{
    type Value = OrderedMap<K::Value, V::Value>;

    fn encode(value: &Self::Value, out: &mut Vec<u8>) -> Result<(), NoCodec> {
        write_count(value.len(), out);
        for (k, v) in value {
            K::encode(k, out)?;
            V::encode(v, out)?;
        }
        Ok(())
    }

    fn decode(input: &mut Input<'_>) -> Result<Self::Value, DecodeError> {
        let n = input.count()?;
        let mut map = OrderedMap::with_capacity_and_hasher(n, Default::default());
        for _ in 0..n {
            let k = K::decode(input)?;
            let v = V::decode(input)?;
            if map.insert(k, v).is_some() {
                return Err(DecodeError::Corrupt(
                    "a map with a key written twice".to_string(),
                ));
            }
        }
        Ok(map)
    }

    fn to_json(value: &Self::Value) -> Result<serde_json::Value, ToJsonError> {
        value
            .iter()
            .map(|(k, v)| {
                Ok(serde_json::Value::Array(vec![
                    K::to_json(k)?,
                    V::to_json(v)?,
                ]))
            })
            .collect::<Result<_, ToJsonError>>()
            .map(serde_json::Value::Array)
    }
}

/// An ordered map of items `K` to `V`.
pub(crate) fn map<K: Element + Hash + Eq, V: Element>() {
    register_shape::<MapOf<Leaf<K>, Leaf<V>>>();
}

/// An ordered map of items `K` to `Option<V>`.
pub(crate) fn map_of_options<K: Element + Hash + Eq, V: Element>() {
    register_shape::<MapOf<Leaf<K>, Opt<Leaf<V>>>>();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rask_graph::{codec, Value};

    #[test]
    fn an_ordered_map_round_trips_in_order() {
        map::<String, u64>();
        let mut m: OrderedMap<String, u64> = OrderedMap::default();
        m.insert("b".into(), 2);
        m.insert("a".into(), 1);
        let v = Value::opaque(m.clone());
        let back = codec::from_bytes(&codec::to_bytes(&v).unwrap()).unwrap();
        let back = back.downcast_ref::<OrderedMap<String, u64>>().unwrap();
        assert_eq!(
            back.iter().collect::<Vec<_>>(),
            m.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            v.to_json().unwrap(),
            serde_json::json!([["b", 2], ["a", 1]])
        );
    }

    #[test]
    fn a_map_with_a_repeated_key_is_corrupt() {
        map::<u64, u64>();
        let mut m: OrderedMap<u64, u64> = OrderedMap::default();
        m.insert(7, 1);
        m.insert(8, 2);
        let mut bytes = codec::to_bytes(&Value::opaque(m)).unwrap();
        // the second key (8, a one-byte payload) is written as the first
        let key8 = [1, 0, 0, 0, 0, 0, 0, 0, 8];
        let at = bytes.windows(9).rposition(|w| w == key8).unwrap();
        bytes[at + 8] = 7;
        assert!(matches!(
            codec::from_bytes(&bytes),
            Err(codec::DecodeError::Corrupt(m)) if m.contains("written twice")
        ));
    }
}
