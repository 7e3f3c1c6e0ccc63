use super::*;

#[test]
fn every_variant_round_trips() {
    let v = Value::list([
        Value::Null,
        Value::Bool(true),
        Value::Int(-7),
        Value::Float(2.5),
        Value::from("héllo"),
        Value::from_json(&serde_json::json!({"a": [1, {"b": null}]})),
        Value::new(vec![1_i64, 2, 3]),
        Value::new(vec!["x".to_string()]),
    ]);
    let back = from_bytes(&to_bytes(&v).unwrap()).unwrap();
    assert_eq!(format!("{back:?}"), format!("{v:?}"));
    assert_eq!(
        back.as_list().unwrap()[6].get::<Vec<i64>>(),
        Some(vec![1, 2, 3])
    );
}

#[test]
fn corrupt_and_truncated_bytes_are_errors_not_panics() {
    let bytes = to_bytes(&Value::list([Value::from("abc"), Value::Int(1)])).unwrap();
    for cut in 0..bytes.len() {
        assert!(from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    assert!(matches!(from_bytes(&[99]), Err(DecodeError::Corrupt(_))));
    let mut long = vec![LIST];
    long.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(from_bytes(&long).is_err());
}

#[test]
fn unregistered_types_are_named() {
    struct Secret;
    let e = to_bytes(&Value::new(Secret)).unwrap_err();
    assert!(e.type_name.ends_with("Secret"));
    let mut fake = vec![OPAQUE];
    write_bytes(b"no::Such", &mut fake);
    write_bytes(b"", &mut fake);
    assert_eq!(
        from_bytes(&fake),
        Err(DecodeError::UnknownType("no::Such".into()))
    );
}

#[test]
fn numeric_vectors_are_raw_words() {
    let v = Value::new(vec![1.5_f64, -0.0, f64::MAX]);
    let bytes = to_bytes(&v).unwrap();
    // tag, name, payload length, then 3 words
    assert!(bytes.ends_with(&f64::MAX.to_le_bytes()));
    let back = from_bytes(&bytes).unwrap();
    assert_eq!(back.get::<Vec<f64>>(), Some(vec![1.5, -0.0, f64::MAX]));
    let i = Value::new(vec![i64::MIN, 7]);
    assert_eq!(
        from_bytes(&to_bytes(&i).unwrap())
            .unwrap()
            .get::<Vec<i64>>(),
        Some(vec![i64::MIN, 7])
    );
    let mut bad = to_bytes(&i).unwrap();
    // a payload that is not whole words is corrupt, not a panic
    let n = bad.len();
    bad.truncate(n - 1);
    assert!(from_bytes(&bad).is_err());
}

#[test]
fn registering_a_numeric_vector_keeps_its_raw_words() {
    let v = Value::new(vec![0.25_f64; 100]);
    let before = to_bytes(&v).unwrap();
    register::<Vec<f64>>();
    register::<Vec<i64>>();
    assert_eq!(to_bytes(&v).unwrap(), before);
    assert!(before.ends_with(&0.25_f64.to_le_bytes().repeat(100)));
    let i = Value::new(vec![3_i64, -4]);
    let back = from_bytes(&to_bytes(&i).unwrap()).unwrap();
    assert_eq!(back.get::<Vec<i64>>(), Some(vec![3, -4]));
}

/// A list nested `depth` deep around `1`, and an object chain as deep.
fn deep(depth: usize) -> (Value, Value) {
    let mut list = Value::Int(1);
    let mut dict = Value::Null;
    for _ in 0..depth {
        list = Value::list([list]);
        dict = Value::Dict(vec![(Arc::from("k"), dict), (Arc::from("n"), Value::Int(2))].into());
    }
    (list, dict)
}

#[test]
fn values_nested_a_million_deep_encode_and_decode() {
    // regression: write and read recursed, a stack overflow at 15,000
    let (list, dict) = deep(1_000_000);
    for v in [list, dict] {
        let bytes = to_bytes(&v).unwrap();
        let back = from_bytes(&bytes).unwrap();
        assert!(back == v);
    }
}

fn json_like() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
            .prop_map(Value::Float),
        "[a-z]{0,3}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::list),
            proptest::collection::vec(("[a-z]{0,2}", inner), 0..4).prop_map(|m| {
                Value::Dict(m.into_iter().map(|(k, v)| (Arc::from(k), v)).collect())
            }),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn random_values_round_trip(v in json_like()) {
        let back = from_bytes(&to_bytes(&v).unwrap()).unwrap();
        proptest::prop_assert_eq!(back, v);
    }
}

#[test]
fn opaque_values_with_floats_json_cannot_hold_are_errors_not_null() {
    // regression: serde_json wrote them as null
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Reading {
        name: String,
        values: Vec<Option<f64>>,
    }
    register::<Reading>();
    let ok = Value::new(Reading {
        name: "a".into(),
        values: vec![Some(1.5), None],
    });
    assert_eq!(
        ok.to_json().unwrap(),
        serde_json::json!({"name": "a", "values": [1.5, null]})
    );
    let bad = Value::new(Reading {
        name: "a".into(),
        values: vec![Some(1.5), Some(f64::NEG_INFINITY)],
    });
    assert_eq!(
        bad.to_json().err(),
        Some(crate::ToJsonError::NotFinite {
            value: f64::NEG_INFINITY
        })
    );
    let chunk = Value::new(vec![1.0, f64::INFINITY]);
    assert!(chunk.write_json(&mut Vec::new()).is_err());
}
