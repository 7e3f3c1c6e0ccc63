//! The MPI executor's benchmark (run it through `bench/mpi.py`, which
//! builds it, makes the graphs and prints the README's table).
//!
//! ```text
//! mpirun -np N mpi_bench overhead GRAPH.json... # per-task overhead
//! mpirun -np 2 mpi_bench transfer [MB]          # rank-to-rank throughput
//! ```
//!
//! `overhead` runs each graph file (every key that nothing depends on) 5
//! times with the MPI executor and prints, from rank 0, one line per file:
//! `overhead FILE TASKS RANKS BEST_SECONDS`.
//!
//! `transfer` moves a value of MB megabytes (default 100) from rank 1 to
//! rank 0, three times, as a string (sent from and received into the
//! string's own memory) and as a `Vec<f64>` (through its serde codec), and
//! measures raw MPI bandwidth between the same ranks with the same
//! message size (`MPI_Send`/`MPI_Recv` of a byte buffer allocated and
//! touched beforehand, and into a buffer allocated for each message, as a
//! value that arrives must be). It prints `transfer KIND BYTES BEST_SECONDS`.

use std::time::Instant;

use rask_graph::{codec, deps, file, Function, Graph, Key, Plan, Registry, Task, TaskId};
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
            transfer(&mpi, mb * 1_000_000);
        }
        _ => {
            if mpi.is_root() {
                eprintln!("usage: mpi_bench overhead GRAPH.json... | mpi_bench transfer [MB]");
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

fn transfer(mpi: &Mpi, bytes: usize) {
    assert!(
        mpi.size() >= 2,
        "run the transfer benchmark on 2 ranks or more"
    );
    codec::register::<Vec<f64>>();
    let string = Function::new("string", |n: i64| "x".repeat(n as usize));
    let floats = Function::new("floats", |n: i64| {
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
    for (kind, make, both) in [
        ("string", &string, &both_str),
        ("Vec<f64>", &floats, &both_f64),
    ] {
        // "a" and "b" have no inputs: the scheduler gives them to ranks 0
        // and 1 (least loaded); "c" reads both (a tie in bytes and load:
        // rank 0), so "b" moves from rank 1 to rank 0
        let mut g = Graph::new();
        g.insert("a", Task::call(make, [bytes as i64]));
        g.insert("b", Task::call(make, [bytes as i64]));
        g.insert("c", Task::call(both, ["a", "b"]));
        let plan = Plan::for_keys(&g, &["c".into()]).expect("a valid graph");
        let mut best = f64::INFINITY;
        let mut moved = 0;
        for _ in 0..3 {
            let before = mpi.transfer_stats();
            barrier(mpi);
            compute(mpi, &g, &plan, &[]).expect("the graph computes");
            let after = mpi.transfer_stats();
            if after.largest_bytes >= bytes as u64 / 2 && after.messages > before.messages {
                best = best.min(after.largest_seconds);
                moved = after.largest_bytes;
            }
        }
        if mpi.is_root() {
            println!("transfer {kind} {moved} {best:.6}");
        }
    }
    // raw MPI: the same number of bytes from rank 1 to rank 0
    let rank = mpi.rank();
    let raw = mpi.with_world(move |w| {
        let mut buf = vec![1_u8; bytes];
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            w.barrier();
            let t = Instant::now();
            if rank == 1 {
                w.process_at_rank(0).send(&buf[..]);
            } else if rank == 0 {
                w.process_at_rank(1).receive_into(&mut buf[..]);
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        // and into a new buffer each time, as a value that arrives must
        let mut best_new = f64::INFINITY;
        for _ in 0..3 {
            w.barrier();
            let t = Instant::now();
            if rank == 1 {
                w.process_at_rank(0).send(&buf[..]);
            } else if rank == 0 {
                let mut fresh = vec![0_u8; bytes];
                w.process_at_rank(1).receive_into(&mut fresh[..]);
                std::hint::black_box(&fresh);
            }
            best_new = best_new.min(t.elapsed().as_secs_f64());
        }
        (best, best_new)
    });
    if mpi.is_root() {
        println!("transfer raw-mpi {bytes} {:.6}", raw.0);
        println!("transfer raw-mpi-new {bytes} {:.6}", raw.1);
    }
}
