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
