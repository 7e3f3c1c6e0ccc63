//! The MPI executor's benchmark (run it through `bench/mpi.py`, which
//! builds it, makes the graphs and prints the tables of the README and docs/mpi.md).
//!
//! ```text
//! mpirun -np N mpi_bench overhead GRAPH.json... # per-task overhead
//! mpirun -np 2 mpi_bench transfer [MB [REPS]]   # rank-to-rank throughput
//! ```
//!
//! `overhead` runs each graph file (every key that nothing depends on) 5
//! times with the MPI executor and prints, from rank 0, one line per file:
//! `overhead FILE TASKS RANKS BEST_SECONDS`.
//!
//! `transfer` moves a value of MB megabytes (default 100) from rank 1 to
//! rank 0 as a string and as a `Vec<f64>` (each sent from and received
//! into the value's own memory), and measures raw MPI bandwidth between
//! the same ranks with the same message size: `MPI_Send`/`MPI_Recv` of a
//! byte buffer allocated and touched beforehand (the raw bandwidth), into
//! a buffer allocated for each message, as a value that arrives must be,
//! and both on transparent huge pages, as rask-mpi receives a large
//! value. It runs REPS rounds (default 10) of one of each, so that every
//! kind sees the same load, and prints `transfer KIND BYTES BEST_SECONDS
//! MEDIAN_SECONDS`.

use std::time::Instant;

use rask_graph::{deps, file, Function, Graph, Key, Plan, Registry, Task, TaskId};
use rask_mpi::mpi::datatype::DynBufferMut;
use rask_mpi::mpi::traits::*;
use rask_mpi::Mpi;
use rask_scheduler::compute;

const RUNS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mpi = Mpi::new().expect("MPI starts");
    match args.first().map(String::as_str) {
        Some("overhead") => {
            for path in &args[1..] {
                overhead(&mpi, path);
            }
        }
        Some("transfer") => {
            let mb: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
            let reps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
            transfer(&mpi, mb * 1_000_000, reps);
        }
        _ => {
            if mpi.is_root() {
                eprintln!(
                    "usage: mpi_bench overhead GRAPH.json... | mpi_bench transfer [MB [REPS]]"
                );
            }
        }
    }
}

fn barrier(mpi: &Mpi) {
    mpi.with_world(|w| w.barrier());
}

fn overhead(mpi: &Mpi, path: &str) {
    let graph = file::read(path.as_ref(), &Registry::with_builtins()).expect("a graph file");
    let dependents = deps::dependents(&graph).expect("an acyclic graph");
    let sinks: Vec<Key> = (0..graph.len() as TaskId)
        .filter(|&i| dependents.of(i).is_empty())
        .map(|i| graph.key(i).clone())
        .collect();
    let plan = Plan::for_keys(&graph, &sinks).expect("a valid graph");
    let mut best = f64::INFINITY;
    for _ in 0..RUNS {
        barrier(mpi);
        let t = Instant::now();
        compute(mpi, &graph, &plan, &[]).expect("the graph computes");
        best = best.min(t.elapsed().as_secs_f64());
    }
    if mpi.is_root() {
        println!("overhead {path} {} {} {best:.6}", plan.len(), mpi.size());
    }
}

fn transfer(mpi: &Mpi, bytes: usize, reps: usize) {
    assert!(
        mpi.size() >= 2,
        "run the transfer benchmark on 2 ranks or more"
    );
    // the value, after a pause of `ms` milliseconds
    let pause = |ms: i64| std::thread::sleep(std::time::Duration::from_millis(ms as u64));
    let string = Function::new("string", move |n: i64, ms: i64| {
        pause(ms);
        "x".repeat(n as usize)
    });
    let floats = Function::new("floats", move |n: i64, ms: i64| {
        pause(ms);
        rask_graph::Value::opaque((0..n / 8).map(|i| i as f64).collect::<Vec<f64>>())
    });
    let both_str = Function::new("both", |a: String, b: String| (a.len() + b.len()) as i64);
    let both_f64 = Function::dynamic("both", rask_graph::Arity::exactly(2), |v| {
        let n = v
            .iter()
            .filter_map(|x| x.downcast_ref::<Vec<f64>>())
            .map(Vec::len)
            .sum::<usize>();
        Ok(rask_graph::Value::Int(n as i64))
    });
    let graphs: Vec<(&str, Graph, Plan)> = [
        ("string", &string, &both_str),
        ("Vec<f64>", &floats, &both_f64),
    ]
    .into_iter()
    .map(|(kind, make, both)| {
        // "a" and "b" have no inputs: the scheduler gives them to ranks 0
        // and 1 (least loaded); "c" reads both (a tie in bytes and load:
        // rank 0), so "b" moves from rank 1 to rank 0. "b" pauses first,
        // so that rank 0 has made "a" (100 MB of writes to fresh memory,
        // which competes for the same cores and memory) before the
        // transfer starts
        let mut g = Graph::new();
        g.insert("a", Task::call(make, [bytes as i64, 0]));
        g.insert("b", Task::call(make, [bytes as i64, PAUSE_MS]));
        g.insert("c", Task::call(both, ["a", "b"]));
        let plan = Plan::for_keys(&g, &["c".into()]).expect("a valid graph");
        (kind, g, plan)
    })
    .collect();
    let mut raw = RawBuffers::new(bytes);
    let mut raw_secs: [Vec<f64>; RAW_KINDS.len()] = Default::default();
    let mut secs: Vec<(u64, Vec<f64>)> = vec![(0, Vec::new()); graphs.len()];
    // one of each per round, so that every kind sees the same load
    for _ in 0..reps.max(1) {
        let (back, round) = raw_mpi(mpi, raw);
        raw = back;
        for (all, s) in raw_secs.iter_mut().zip(round) {
            all.push(s);
        }
        for ((_, g, plan), (moved, all)) in graphs.iter().zip(&mut secs) {
            let before = mpi.transfer_stats();
            barrier(mpi);
            compute(mpi, g, plan, &[]).expect("the graph computes");
            let after = mpi.transfer_stats();
            if after.largest_bytes >= bytes as u64 / 2 && after.messages > before.messages {
                all.push(after.largest_seconds);
                *moved = after.largest_bytes;
            }
        }
    }
    if mpi.is_root() {
        for ((kind, _, _), (moved, all)) in graphs.iter().zip(&mut secs) {
            let (best, median) = best_and_median(all);
            println!("transfer {kind} {moved} {best:.6} {median:.6}");
        }
        for (kind, all) in RAW_KINDS.iter().zip(&mut raw_secs) {
            let (best, median) = best_and_median(all);
            println!("transfer {kind} {bytes} {best:.6} {median:.6}");
        }
    }
}

/// How long the value that moves waits before it is made.
const PAUSE_MS: i64 = 300;

/// The least and the median of `secs` (infinite when empty).
fn best_and_median(secs: &mut [f64]) -> (f64, f64) {
    secs.sort_by(f64::total_cmp);
    match secs.len() {
        0 => (f64::INFINITY, f64::INFINITY),
        n => (secs[0], secs[n / 2]),
    }
}

/// What `raw_mpi` receives into, in this order: a buffer allocated and
/// touched beforehand (the raw bandwidth); a buffer allocated for each
/// message, as a value that arrives must be; and both again on
/// transparent huge pages (as rask-mpi receives a large value).
const RAW_KINDS: [&str; 4] = ["raw-mpi", "raw-mpi-new", "raw-mpi-huge", "raw-mpi-new-huge"];

/// The buffers of `raw_mpi` that live from one round to the next.
struct RawBuffers {
    send: Vec<u8>,
    reused: Vec<u8>,
    reused_huge: Vec<u8>,
}

impl RawBuffers {
    fn new(bytes: usize) -> RawBuffers {
        let mut reused_huge: Vec<u8> = Vec::with_capacity(bytes);
        advise_huge_pages(reused_huge.as_ptr(), bytes);
        reused_huge.resize(bytes, 1);
        RawBuffers {
            send: vec![1_u8; bytes],
            reused: vec![1_u8; bytes],
            reused_huge,
        }
    }
}

/// The seconds of one raw `MPI_Send`/`MPI_Recv` of the buffers' size from
/// rank 1 to rank 0 for each of [`RAW_KINDS`].
fn raw_mpi(mpi: &Mpi, mut b: RawBuffers) -> (RawBuffers, [f64; 4]) {
    let rank = mpi.rank();
    mpi.with_world(move |w| {
        let bytes = b.send.len();
        let mut secs = [0.0; 4];
        for (i, s) in secs.iter_mut().enumerate() {
            w.barrier();
            let t = Instant::now();
            if rank == 1 {
                w.process_at_rank(0).send(&b.send[..]);
            } else if rank == 0 {
                match i {
                    0 => {
                        w.process_at_rank(1).receive_into(&mut b.reused[..]);
                    }
                    2 => {
                        w.process_at_rank(1).receive_into(&mut b.reused_huge[..]);
                    }
                    _ => {
                        let mut fresh: Vec<u8> = Vec::with_capacity(bytes);
                        if i == 3 {
                            advise_huge_pages(fresh.as_ptr(), bytes);
                        }
                        // SAFETY: `bytes` bytes of the vector's spare
                        // capacity, all written by a receive of `bytes`
                        // bytes before they are counted as its length
                        let mut into = unsafe {
                            DynBufferMut::from_raw(
                                fresh.as_mut_ptr(),
                                bytes as rask_mpi::mpi::Count,
                                u8::equivalent_datatype(),
                            )
                        };
                        w.process_at_rank(1).receive_into(&mut into);
                        unsafe { fresh.set_len(bytes) };
                        std::hint::black_box(&fresh);
                    }
                }
            }
            *s = t.elapsed().as_secs_f64();
        }
        (b, secs)
    })
}

/// `madvise(MADV_HUGEPAGE)` on the 2 MiB-aligned part of `[ptr, ptr +
/// len)`, as rask-mpi does for a large value it receives (Linux x86-64).
fn advise_huge_pages(ptr: *const u8, len: usize) {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        extern "C" {
            fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
        }
        const HUGE: usize = 2 << 20;
        let start = (ptr as usize).div_ceil(HUGE) * HUGE;
        let end = (ptr as usize + len) / HUGE * HUGE;
        if end > start {
            // SAFETY: advice on whole pages of a live allocation; it
            // changes no byte of memory (14: MADV_HUGEPAGE)
            unsafe { madvise(start as *mut std::ffi::c_void, end - start, 14) };
        }
    }
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    let _ = (ptr, len);
}
