//! How fast a container registered as a shape (items through their own
//! codecs, as a bag registers its partitions) encodes and decodes,
//! against the same container registered with serde: the best of 7 runs
//! on 200,000 items.
//!
//! ```text
//! cargo run --release -p rask-graph --example codec_shapes -- shape
//! cargo run --release -p rask-graph --example codec_shapes -- serde
//! ```

use rask::codec::{self, Leaf, Pair, Seq};
use rask::Value;
use std::time::Instant;

/// Prints the size and the best times of encoding and decoding `v`.
fn time(what: &str, v: &Value) {
    let bytes = codec::to_bytes(v).unwrap();
    let mut best_e = f64::MAX;
    let mut best_d = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        let b = codec::to_bytes(v).unwrap();
        best_e = best_e.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let back = codec::from_bytes(&b).unwrap();
        best_d = best_d.min(t.elapsed().as_secs_f64());
        drop(back);
    }
    println!(
        "{what}: {} bytes, encode {:.1} ms, decode {:.1} ms",
        bytes.len(),
        best_e * 1e3,
        best_d * 1e3
    );
}

fn main() {
    let n = 200_000;
    let pairs: Vec<(String, u64)> = (0..n).map(|i| (format!("user{i}"), i as u64)).collect();
    let mode = std::env::args().nth(1).unwrap_or_default();
    if mode == "serde" {
        codec::register::<Vec<(String, u64)>>();
    } else {
        codec::register_shape::<Seq<Pair<Leaf<String>, Leaf<u64>>>>();
    }
    time(
        &format!("{mode} Vec<(String, u64)> x{n}"),
        &Value::opaque(pairs),
    );
    let json: Vec<serde_json::Value> = (0..n)
        .map(|i| serde_json::json!({"id": i, "name": format!("n{i}")}))
        .collect();
    codec::register_shape::<Seq<Leaf<serde_json::Value>>>();
    time(&format!("Vec<Json> x{n}"), &Value::opaque(json));
    let ints: Vec<u32> = (0..n as u32).collect();
    if mode == "serde" {
        codec::register::<Vec<u32>>();
    } else {
        codec::register_shape::<Seq<Leaf<u32>>>();
    }
    time(&format!("{mode} Vec<u32> x{n}"), &Value::opaque(ints));
}
