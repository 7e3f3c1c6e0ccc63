//! The physical reference for `array_expr`: the same sum written by hand,
//! two threads each generating its half of `x = i/N` on the fly, with no
//! array stored. Prints one JSON line `{"result", "seconds"}`.
//!
//!     cargo run --release -p rask-array --example array_loop -- 200000000

use std::time::Instant;

fn part(lo: usize, hi: usize, n: usize) -> f64 {
    let nf = n as f64;
    let mut s = 0.0;
    for i in lo..hi {
        let x = i as f64 / nf;
        let y = 2.0 * x + 1.0;
        s += y * y * y;
    }
    s
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000_000);
    let start = Instant::now();
    let half = n / 2;
    let (a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| part(half, n, n));
        (part(0, half, n), h.join().expect("thread"))
    });
    let result = a + b;
    let seconds = start.elapsed().as_secs_f64();
    println!("{{\"result\": {result}, \"seconds\": {seconds}}}");
}
