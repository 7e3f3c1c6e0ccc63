//! Boolean masks and `unique` on the thread pool, against the same in
//! Dask (`bench/mask_bench.py`); each prints one JSON line
//! `{"bench", "result", "seconds"}` (seconds of the compute only):
//!
//!     mask_bench mask N CHUNK      # x[x > 0.5].sum(), x = random(N)
//!     mask_bench sizes N CHUNK     # x[x > 0.5].compute_chunk_sizes()
//!     mask_bench unique N CHUNK    # unique(randint(0, 1000, N))

use std::time::Instant;

use rask_array::RandomState;
use rask_scheduler::Threads;

fn arg(args: &[String], i: usize, default: usize) -> usize {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), rask_array::ArrayError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("mask");
    let (n, chunk) = (arg(&args, 1, 10_000_000), arg(&args, 2, 1_000_000));
    let executor = Threads::default();
    let start = Instant::now();
    let result = match what {
        "mask" => {
            let x = RandomState::new(0).random(&[n], chunk)?;
            x.mask(&x.gt(0.5)?)?.sum().compute_scalar(&executor)?
        }
        "sizes" => {
            let x = RandomState::new(0).random(&[n], chunk)?;
            let y = x.mask(&x.gt(0.5)?)?.compute_chunk_sizes(&executor)?;
            y.shape()[0] as f64
        }
        "unique" => {
            let x = RandomState::new(0).randint(0, 1000, &[n], chunk)?;
            x.unique().compute(&executor)?.len() as f64
        }
        other => {
            eprintln!("unknown benchmark {other}: mask, sizes or unique");
            std::process::exit(2);
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    println!(r#"{{"bench": "{what}", "result": {result}, "seconds": {seconds:.4}}}"#);
    Ok(())
}
