//! How many bytes a value has, roughly: what the scheduler weighs when it
//! places a task on the rank that holds most of its input bytes (Dask's
//! `sizeof`). Exact for numbers and strings; lists and objects of more
//! than [`SAMPLE`] items are estimated from their first items; opaque
//! values of the types with built-in codecs (vectors of numbers, strings,
//! booleans) by their length, other opaque values by their in-memory size.

use rask_graph::Value;

/// Lists longer than this are estimated from their first `SAMPLE` items.
pub(crate) const SAMPLE: usize = 64;

/// The approximate encoded size of `value` in bytes.
///
/// ```
/// use rask::Value;
/// assert_eq!(rask::mpi::approx_bytes(&Value::Int(3)), 9);
/// assert_eq!(rask::mpi::approx_bytes(&Value::from("abc")), 12);
/// assert_eq!(rask::mpi::approx_bytes(&Value::new(vec![0.0_f64; 1000])), 8000 + 64);
/// ```
pub fn approx_bytes(value: &Value) -> u64 {
    match value {
        Value::Null | Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 9,
        Value::Str(s) => 9 + s.len() as u64,
        Value::List(items) => 9 + sampled(items.len(), items.iter().map(approx_bytes)),
        Value::Dict(members) => {
            9 + sampled(
                members.len(),
                members
                    .iter()
                    .map(|(k, v)| 8 + k.len() as u64 + approx_bytes(v)),
            )
        }
        Value::Opaque(_) => opaque(value),
    }
}

/// The total of `n` sizes, from the first [`SAMPLE`] of them.
fn sampled(n: usize, sizes: impl Iterator<Item = u64>) -> u64 {
    let mut total = 0;
    let mut seen = 0;
    for s in sizes.take(SAMPLE) {
        total += s;
        seen += 1;
    }
    (total * n as u64).checked_div(seen).unwrap_or(0)
}

fn opaque(value: &Value) -> u64 {
    let body = if let Some(v) = value.downcast_ref::<Vec<f64>>() {
        8 * v.len() as u64
    } else if let Some(v) = value.downcast_ref::<Vec<i64>>() {
        8 * v.len() as u64
    } else if let Some(v) = value.downcast_ref::<Vec<bool>>() {
        v.len() as u64
    } else if let Some(v) = value.downcast_ref::<Vec<String>>() {
        sampled(v.len(), v.iter().map(|s| 8 + s.len() as u64))
    } else if let Some(v) = value.downcast_ref::<Vec<u8>>() {
        v.len() as u64
    } else {
        64
    };
    // the tag, the type name and the length prefixes
    body + 64
}
