//! The other array benchmarks of `bench/array_bench.py`, on the thread
//! pool; each prints one JSON line `{"result", "seconds"}`, the seconds
//! of the timed computation alone (inputs made and persisted first):
//!
//!     array_bench mean0 ROWS COLS ROW_CHUNK   # random((ROWS, COLS)).mean(axis=0).sum(), generation included
//!     array_bench matmul N CHUNK             # (a @ b).sum(), a and b random((N, N)) persisted
//!     array_bench tsqr ROWS COLS ROW_CHUNK    # q, r = linalg.qr(x); q.sum() + r.sum()
//!     array_bench percentile N CHUNK         # percentile(x, [10, 50, 90]).sum() of random(N)
//!     array_bench histogram N CHUNK          # histogram(x, 100, (0, 1))[0].sum() of random(N)
//!     array_bench kernel N                   # one N x N block product: faer's GEMM (the
//!                                            # kernel of matmul) against ndarray's dot

use std::time::Instant;

use rask_array::{histogram, linalg, percentile, Array, RandomState};
use rask_scheduler::Threads;

fn arg(args: &[String], i: usize, default: usize) -> usize {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn random(seed: u64, shape: &[usize], chunks: Vec<usize>, ex: &Threads) -> Array<f64> {
    RandomState::new(seed)
        .random(shape, chunks)
        .and_then(|x| x.persist(ex))
        .expect("random input")
}

/// The seconds of one `n x n` block product by each kernel, best of 5.
fn kernel(n: usize) {
    use rask_array::ndarray::Array2;
    use rask_array::Number;
    let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 11.0);
    let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * 5 + j * 2) % 13) as f64 / 13.0);
    let time = |f: &dyn Fn() -> f64| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let faer = time(&|| {
        let mut c = Array2::<f64>::zeros((n, n));
        f64::gemm_add(c.view_mut(), a.view(), b.view());
        c.sum()
    });
    let ndarray = time(&|| a.dot(&b).sum());
    let gflops = |s: f64| 2.0 * (n as f64).powi(3) / s / 1e9;
    println!(
        "{{\"n\": {n}, \"faer_seconds\": {faer}, \"faer_gflops\": {:.1}, \"ndarray_seconds\": {ndarray}, \"ndarray_gflops\": {:.1}}}",
        gflops(faer),
        gflops(ndarray)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("mean0");
    let ex = Threads::default();
    if what == "kernel" {
        kernel(arg(&args, 1, 500));
        return;
    }
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
            let a = random(1, &[n, n], vec![chunk, chunk], &ex);
            let b = random(2, &[n, n], vec![chunk, chunk], &ex);
            a.matmul(&b).expect("matmul").sum()
        }
        "tsqr" => {
            let (rows, cols, chunk) = (
                arg(&args, 1, 1_000_000),
                arg(&args, 2, 50),
                arg(&args, 3, 100_000),
            );
            let x = random(3, &[rows, cols], vec![chunk, cols], &ex);
            let (q, r) = linalg::qr(&x).expect("qr");
            q.sum() + r.sum()
        }
        "percentile" => {
            let (n, chunk) = (arg(&args, 1, 100_000_000), arg(&args, 2, 10_000_000));
            let x = random(4, &[n], vec![chunk], &ex);
            percentile(&x, &[10.0, 50.0, 90.0])
                .expect("percentile")
                .sum()
        }
        "histogram" => {
            let (n, chunk) = (arg(&args, 1, 100_000_000), arg(&args, 2, 10_000_000));
            let x = random(5, &[n], vec![chunk], &ex);
            histogram(&x, 100, (0.0, 1.0))
                .expect("histogram")
                .0
                .sum()
                .astype::<f64>()
        }
        other => {
            eprintln!("unknown benchmark {other}: mean0, matmul, tsqr, percentile or histogram");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let result = expr.compute_scalar(&ex).expect("compute");
    let seconds = start.elapsed().as_secs_f64();
    println!("{{\"result\": {result}, \"seconds\": {seconds}}}");
}
