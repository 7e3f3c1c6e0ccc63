use std::sync::Arc;

use super::*;

#[test]
fn lists_and_objects_weigh_their_sampled_items() {
    assert_eq!(
        approx_bytes(&Value::list([Value::Int(1), Value::from("ab")])),
        29
    );
    let d = Value::Dict(vec![(Arc::from("k"), Value::Int(1))].into());
    assert_eq!(approx_bytes(&d), 27);
    assert_eq!(approx_bytes(&Value::list((0..100).map(Value::Int))), 909);
    assert_eq!(approx_bytes(&Value::list([])), 9);
    let nested = Value::list([Value::list([Value::Int(1)]), d]);
    assert_eq!(approx_bytes(&nested), 9 + (18 + 27));
}

#[test]
fn a_value_nested_a_million_deep_is_weighed() {
    // regression: approx_bytes recursed on the depth of a value
    let mut v = Value::Int(1);
    for _ in 0..1_000_000 {
        v = Value::list([v]);
    }
    assert_eq!(approx_bytes(&v), 9 * 1_000_001);
}
