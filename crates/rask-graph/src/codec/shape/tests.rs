use super::*;
use crate::codec::{from_bytes, register, to_bytes};

fn round_trip<T: Any + Send + Sync + Clone + PartialEq + std::fmt::Debug>(t: T) {
    let v = Value::opaque(t.clone());
    let back = from_bytes(&to_bytes(&v).unwrap()).unwrap();
    assert_eq!(back.downcast_ref::<T>(), Some(&t));
}

#[test]
fn containers_of_built_in_types_round_trip() {
    register_shape::<Seq<Pair<Leaf<String>, Leaf<u64>>>>();
    register_shape::<Triple<Leaf<f64>, Leaf<i64>, Leaf<bool>>>();
    register_shape::<Opt<Leaf<serde_json::Value>>>();
    register_shape::<Seq<Seq<Leaf<char>>>>();
    round_trip(vec![("a".to_string(), 1_u64), (String::new(), u64::MAX)]);
    round_trip(Vec::<(String, u64)>::new());
    round_trip((-0.5_f64, i64::MIN, true));
    round_trip(Some(
        serde_json::json!({"n": u64::MAX, "f": 0.1, "s": [null]}),
    ));
    round_trip(None::<serde_json::Value>);
    round_trip(vec![vec!['é', 'x'], vec![]]);
}

#[test]
fn containers_print_as_json() {
    register_shape::<Seq<Pair<Leaf<String>, Leaf<u64>>>>();
    register_shape::<Opt<Leaf<i64>>>();
    let v = Value::opaque(vec![("a".to_string(), 2_u64)]);
    assert_eq!(v.to_json().unwrap(), serde_json::json!([["a", 2]]));
    assert_eq!(
        Value::opaque(None::<i64>).to_json().unwrap(),
        serde_json::Value::Null
    );
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Mine {
    x: i32,
}

#[derive(Clone, Debug, PartialEq)]
struct NeverRegistered;

#[test]
fn a_missing_item_codec_is_named_not_its_container() {
    register_shape::<Seq<Opt<Leaf<NeverRegistered>>>>();
    let v = Value::opaque(vec![Some(NeverRegistered)]);
    let e = to_bytes(&v).unwrap_err();
    assert_eq!(e.type_name, std::any::type_name::<NeverRegistered>());
    assert!(e
        .to_string()
        .contains("rask::codec::register::<rask_graph::codec::shape::tests::NeverRegistered>()"));
    assert!(matches!(v.to_json(), Err(ToJsonError::NoCodec(n)) if n == e));
    // an empty container has nothing to encode with the missing codec
    round_trip(Vec::<Option<NeverRegistered>>::new());
}

#[test]
fn a_registered_item_type_makes_its_containers_work() {
    register_shape::<Seq<Leaf<Mine>>>();
    register::<Mine>();
    round_trip(vec![Mine { x: 1 }, Mine { x: -2 }]);
}

#[test]
fn a_codec_registered_first_is_kept() {
    // `Vec<i64>` keeps its raw words: 8 bytes per item, no lengths
    register_shape::<Seq<Leaf<i64>>>();
    let bytes = to_bytes(&Value::opaque(vec![1_i64, 2, 3])).unwrap();
    let name = std::any::type_name::<Vec<i64>>().len();
    assert_eq!(bytes.len(), 1 + 8 + name + 8 + 24);
}

#[test]
fn corrupt_container_bytes_are_errors_not_panics() {
    register_shape::<Seq<Pair<Leaf<String>, Opt<Leaf<u64>>>>>();
    let v = Value::opaque(vec![("ab".to_string(), Some(3_u64)), ("c".into(), None)]);
    let bytes = to_bytes(&v).unwrap();
    for cut in 0..bytes.len() {
        assert!(from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    // the payload starts after the tag, the name and the payload's length
    let at = 1 + 8 + std::any::type_name::<Vec<(String, Option<u64>)>>().len() + 8;
    let mut count = bytes.clone();
    count[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(from_bytes(&count), Err(DecodeError::Corrupt(m)) if m.contains("count")));
    // the first Option's tag, after the count, "ab"'s length, the
    // string's postcard payload (its length and 2 bytes)
    let tag = at + 8 + 8 + 3;
    assert_eq!(bytes[tag], 1);
    let mut tags = bytes.clone();
    tags[tag] = 7;
    assert!(
        matches!(from_bytes(&tags), Err(DecodeError::Corrupt(m)) if m.contains("Option tagged 7"))
    );
    // a byte more than the container holds
    let mut longer = bytes.clone();
    let n = u64::from_le_bytes(longer[at - 8..at].try_into().unwrap());
    longer[at - 8..at].copy_from_slice(&(n + 1).to_le_bytes());
    longer.push(0);
    assert!(
        matches!(from_bytes(&longer), Err(DecodeError::Corrupt(m)) if m.contains("left after"))
    );
}

#[test]
fn json_values_keep_their_numbers() {
    round_trip(serde_json::json!([u64::MAX, i64::MIN, 1.5e300, "x", {"k": [true]}]));
    let mut bad = to_bytes(&Value::opaque(serde_json::json!(1))).unwrap();
    let last = bad.len() - 1;
    bad[last] = b'{';
    assert!(matches!(from_bytes(&bad), Err(DecodeError::Corrupt(_))));
}
