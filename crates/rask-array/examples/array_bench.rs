//! The other array benchmarks of `bench/array_bench.py`, on the thread pool; each
//! prints one JSON line `{"result", "seconds"}` (seconds of the compute
//! only):
//!
//!     array_bench mean0 ROWS COLS ROW_CHUNK   # random((ROWS, COLS)).mean(axis=0).sum()
//!     array_bench matmul N CHUNK             # (random((N, N)) @ random((N, N))).sum()

use std::time::Instant;

use rask_array::{Array, RandomState};
use rask_scheduler::Threads;

fn arg(args: &[String], i: usize, default: usize) -> usize {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("mean0");
    let expr: Array<f64> = match what {
        "mean0" => {
            let (rows, cols, chunk) = (
                arg(&args, 1, 20_000),
                arg(&args, 2, 5_000),
                arg(&args, 3, 1_000),
            );
            let x = RandomState::new(0)
                .random(&[rows, cols], [chunk, cols])
                .expect("random");
            x.mean_axis(0).expect("mean").sum()
        }
        "matmul" => {
            let (n, chunk) = (arg(&args, 1, 2_000), arg(&args, 2, 500));
            let a = RandomState::new(1).random(&[n, n], chunk).expect("random");
            let b = RandomState::new(2).random(&[n, n], chunk).expect("random");
            a.matmul(&b).expect("matmul").sum()
        }
        other => panic!("unknown benchmark {other}: mean0 or matmul"),
    };
    let executor = Threads::default();
    let start = Instant::now();
    let result = expr.compute_scalar(&executor).expect("compute");
    let seconds = start.elapsed().as_secs_f64();
    println!("{{\"result\": {result}, \"seconds\": {seconds}}}");
}
