use super::*;

#[test]
fn primitives_normalize_to_variants() {
    assert_eq!(Value::new(5_i32), Value::Int(5));
    assert_eq!(Value::new(5_usize), Value::Int(5));
    assert_eq!(Value::new(2.5_f32), Value::Float(2.5));
    assert_eq!(Value::new("a"), Value::Str("a".into()));
    assert_eq!(Value::new(String::from("a")), Value::Str("a".into()));
    assert_eq!(Value::new(()), Value::Null);
    assert_eq!(
        Value::new(vec![Value::Int(1)]),
        Value::list([Value::Int(1)])
    );
    assert!(matches!(Value::new(vec![1_i64, 2]), Value::Opaque(_)));
}

#[test]
fn typed_access_converts_where_python_would() {
    let l = Value::list([Value::Int(1), Value::Int(2)]);
    assert_eq!(l.get::<Vec<i64>>(), Some(vec![1, 2]));
    assert_eq!(l.get::<Vec<f64>>(), Some(vec![1.0, 2.0]));
    assert_eq!(l.get::<Vec<String>>(), None);
    assert_eq!(Value::Int(-1).get::<u32>(), None);
    assert_eq!(Value::Float(1.5).get::<i64>(), None);
    let opaque = Value::new(vec![1_i64, 2]);
    assert_eq!(opaque.get::<Vec<i64>>(), Some(vec![1, 2]));
    assert_eq!(opaque.downcast_ref::<Vec<i64>>().map(Vec::len), Some(2));
}

#[test]
fn json_roundtrip() {
    let j: serde_json::Value = serde_json::json!({"b": [1, 2.5, "x", null, true], "a": {"c": 1}});
    let v = Value::from_json(&j);
    assert_eq!(v.to_json().ok(), Some(j));
}

#[test]
fn opaque_without_codec_is_an_error_naming_the_type() {
    struct Secret;
    let err = Value::new(Secret)
        .to_json()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("Secret"), "{err}");
}

#[test]
fn write_json_writes_what_to_json_builds() {
    let v = Value::list([
        Value::Int(-3),
        Value::Float(2.5),
        Value::from("a\"b\n"),
        Value::Null,
        Value::Bool(true),
        Value::list([]),
        Value::Dict(
            vec![
                (Arc::from("k"), Value::list([Value::Int(1), Value::Int(2)])),
                (Arc::from("e"), Value::Dict(Vec::new().into())),
                (Arc::from("s"), Value::from("x")),
            ]
            .into(),
        ),
        Value::new(vec![1_i64, 2]),
    ]);
    let mut out = Vec::new();
    v.write_json(&mut out).unwrap();
    let expected = serde_json::to_vec(&v.to_json().unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        String::from_utf8(expected).unwrap()
    );
}

#[test]
fn floats_json_cannot_hold_are_errors_not_null() {
    // regression: to_json wrote inf and nan as null
    for f in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        let v = Value::list([Value::Int(1), Value::Float(f)]);
        assert!(matches!(v.to_json(), Err(ToJsonError::NotFinite { .. })));
        assert!(matches!(
            v.write_json(&mut Vec::new()),
            Err(ToJsonError::NotFinite { .. })
        ));
    }
}

#[test]
fn values_nested_a_million_deep_compare_print_and_drop() {
    // regression: equality, Debug, JSON and drop recursed on depth
    let build = || {
        let mut v = Value::Int(1);
        for i in 0..1_000_000 {
            v = if i % 2 == 0 {
                Value::list([v])
            } else {
                Value::Dict(vec![(Arc::from("k"), v)].into())
            };
        }
        v
    };
    let (a, b) = (build(), build());
    assert!(a == b);
    assert!(a != Value::list([Value::Int(1)]));
    let text = format!("{a:?}");
    assert!(
        text.starts_with("{\"k\": [{\"k\": [") && text.contains("[1]"),
        "{}",
        &text[..40]
    );
    let mut json = Vec::new();
    a.write_json(&mut json).unwrap();
    assert!(json.starts_with(br#"{"k":[{"k":["#));
    assert_eq!(
        a.to_json().err(),
        Some(ToJsonError::TooDeep {
            limit: MAX_JSON_DEPTH
        })
    );
    drop(a);
    drop(b);
}

#[test]
fn from_json_converts_every_form_and_any_depth() {
    let j = serde_json::json!({"a": [1, 2.5, "s", null, true, [], {}], "b": {"c": [[1]]}, "e": []});
    let v = Value::from_json(&j);
    assert_eq!(v.to_json().unwrap(), j);
    assert_eq!(Value::from_json(&serde_json::json!(3)), Value::Int(3));
    assert_eq!(Value::from_json(&serde_json::json!([])), Value::list([]));
    // a deep JSON value (dropped by leaking: serde_json's own drop recurses)
    let mut deep = serde_json::json!(1);
    for _ in 0..100_000 {
        deep = serde_json::Value::Array(vec![deep]);
    }
    let v = Value::from_json(&deep);
    std::mem::forget(deep);
    let mut out = Vec::new();
    v.write_json(&mut out).unwrap();
    assert_eq!(out.len(), 200_001);
}

fn json_like() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("JSON holds finite floats", |f| f.is_finite())
            .prop_map(Value::Float),
        "[a-z\"\\\\\n é]{0,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::list),
            // distinct names, as a JSON object's
            proptest::collection::btree_map("[a-z\"]{0,2}", inner, 0..4).prop_map(|m| {
                Value::Dict(m.into_iter().map(|(k, v)| (Arc::from(k), v)).collect())
            }),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn write_json_is_to_json_written(v in json_like()) {
        let mut out = Vec::new();
        v.write_json(&mut out).unwrap();
        let built = v.to_json().unwrap();
        proptest::prop_assert_eq!(&out, &serde_json::to_vec(&built).unwrap());
        // valid JSON (serde_json without its float_roundtrip feature may
        // read a float back one ulp off, so the value is not compared)
        proptest::prop_assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
    }
}
