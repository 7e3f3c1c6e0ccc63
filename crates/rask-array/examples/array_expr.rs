//! The seed's expression on a chunked array: `((2*x + 1)**3).sum()` for
//! `x = arange(N)/N` in chunks of CHUNK, on the thread pool (one worker
//! per core). Prints one JSON line: the result and the seconds of the
//! compute alone (graph building excluded).
//!
//!     cargo run --release -p rask-array --example array_expr -- 200000000 10000000

use std::time::Instant;

use rask_array::Array;
use rask_scheduler::Threads;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000_000);
    let chunk: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    // a float range, as `arange(N) / N` is in NumPy
    let x = Array::<f64>::arange(0.0, n as f64, 1.0, chunk).expect("chunk > 0") / n as f64;
    let y = ((2.0 * &x + 1.0).powi(3)).sum();
    let executor = Threads::default();
    let start = Instant::now();
    let result = y.compute_scalar(&executor).expect("compute");
    let seconds = start.elapsed().as_secs_f64();
    println!("{{\"result\": {result}, \"seconds\": {seconds}}}");
}
