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
    // walked with a heap stack of the lists and objects open, so that a
    // value of any depth is weighed without a deep call stack
    enum Items<'v> {
        List(std::iter::Take<std::slice::Iter<'v, Value>>),
        Dict(std::iter::Take<std::slice::Iter<'v, (std::sync::Arc<str>, Value)>>),
    }
    struct Open<'v> {
        len: usize,
        items: Items<'v>,
        total: u64,
        seen: u64,
    }
    let mut open: Vec<Open<'_>> = Vec::new();
    let mut next = Some(value);
    loop {
        let mut done = None;
        match next.take() {
            Some(Value::List(items)) => open.push(Open {
                len: items.len(),
                items: Items::List(items.iter().take(SAMPLE)),
                total: 0,
                seen: 0,
            }),
            Some(Value::Dict(members)) => open.push(Open {
                len: members.len(),
                items: Items::Dict(members.iter().take(SAMPLE)),
                total: 0,
                seen: 0,
            }),
            Some(leaf) => done = Some(leaf_bytes(leaf)),
            None => {}
        }
        loop {
            let Some(top) = open.last_mut() else {
                return done.unwrap_or(0);
            };
            if let Some(size) = done.take() {
                top.total += size;
                top.seen += 1;
            }
            match &mut top.items {
                Items::List(items) => next = items.next(),
                Items::Dict(members) => {
                    next = members.next().map(|(k, v)| {
                        top.total += 8 + k.len() as u64;
                        v
                    });
                }
            }
            if next.is_some() {
                break;
            }
            // every sampled item is weighed: the rest are estimated
            let Some(f) = open.pop() else {
                return 0;
            };
            done = Some(9 + (f.total * f.len as u64).checked_div(f.seen).unwrap_or(0));
        }
    }
}

/// The size of a value that holds no other values.
fn leaf_bytes(value: &Value) -> u64 {
    match value {
        Value::Null | Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 9,
        Value::Str(s) => 9 + s.len() as u64,
        _ => opaque(value),
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

#[cfg(test)]
mod tests;
