//! The MPI executor under real MPI: one program on 3 ranks.
//!
//! `cargo test -p rask-mpi --features mpi` runs this file as a plain
//! program (no test harness). Started without mpirun it re-launches itself
//! as `mpirun -np 3 --oversubscribe` (plus `--allow-run-as-root` when run
//! as root under Open MPI) and reports what the ranks report. Where
//! mpirun is missing it prints a note and passes, unless `CI=true`, where
//! it fails. Under mpirun every rank runs every case in the same order
//! (SPMD); after each case the ranks agree on its verdict, and rank 0
//! prints it.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rask_graph::{Arity, Function, Graph, Key, Plan, Task, Value};
use rask_mpi::mpi::collective::{CommunicatorCollectives, SystemOperation};
use rask_mpi::Mpi;
use rask_scheduler::{compute, Executor, Threads};

mod collections;
mod graphs;
use graphs::{chain, f, fan, tree};

const RANKS: &str = "3";
/// How long the whole MPI run may take before it is killed.
const TIMEOUT: Duration = Duration::from_secs(600);

fn main() -> ExitCode {
    let under_mpirun = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if under_mpirun {
        spmd()
    } else {
        launch()
    }
}

/// Re-runs this program under mpirun.
fn launch() -> ExitCode {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let version = Command::new("mpirun").arg("--version").output();
    let Ok(version) = version else {
        if ci {
            eprintln!("spmd: mpirun not found, and CI=true: install openmpi-bin (see .ci/run)");
            return ExitCode::FAILURE;
        }
        println!(
            "spmd: mpirun not found: the MPI tests are skipped (install openmpi-bin to run them)"
        );
        return ExitCode::SUCCESS;
    };
    let exe = std::env::current_exe().expect("the path of this test program");
    let mut cmd = Command::new("mpirun");
    if String::from_utf8_lossy(&version.stdout).contains("Open MPI") {
        cmd.arg("--oversubscribe");
        if is_root() {
            cmd.arg("--allow-run-as-root");
        }
    }
    cmd.args(["-np", RANKS]).arg(exe);
    let mut child = cmd.spawn().expect("start mpirun");
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return ExitCode::SUCCESS,
            Ok(Some(status)) => {
                eprintln!("spmd: mpirun failed: {status}");
                return ExitCode::FAILURE;
            }
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                eprintln!("spmd: the MPI tests did not finish in {TIMEOUT:?}: killed");
                return ExitCode::FAILURE;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("waiting for mpirun: {e}"),
        }
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

type Case = fn(&Mpi) -> Result<(), String>;

fn spmd() -> ExitCode {
    let mpi = Mpi::builder()
        .threads(2)
        .max_message(1 << 20)
        .init()
        .expect("MPI starts");
    assert_eq!(mpi.size(), 3, "run on 3 ranks");
    let cases: &[(&str, Case)] = &[
        ("fan_chain_tree_agree_with_threads", shapes),
        ("random_dags_agree_with_threads", random_dags),
        ("different_graphs_fail_on_every_rank", mismatch),
        ("a_failing_task_fails_every_rank_with_its_key", failing_task),
        (
            "a_panicking_task_fails_every_rank_with_its_key",
            panicking_task,
        ),
        ("large_values_cross_ranks_in_fragments", large_values),
        (
            "large_strings_and_vectors_cross_ranks_intact",
            strings_and_vectors,
        ),
        ("one_executor_many_computations", many_computations),
        ("bags_agree_with_threads", collections::bags),
        ("arrays_agree_with_threads", collections::arrays),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in cases {
        let outcome = case(&mpi);
        if let Err(e) = &outcome {
            eprintln!("rank {}: {name}: {e}", mpi.rank());
        }
        let ok = all_ranks(&mpi, outcome.is_ok());
        if mpi.is_root() {
            println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        }
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    if mpi.is_root() {
        let verdict = if failed == 0 { "ok" } else { "FAILED" };
        println!(
            "\ntest result: {verdict}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out (on 3 MPI ranks)"
        );
    }
    drop(mpi); // MPI_Finalize
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Whether `ok` holds on every rank.
fn all_ranks(mpi: &Mpi, ok: bool) -> bool {
    mpi.with_world(move |world| {
        let mut all = 0_u8;
        world.all_reduce_into(&u8::from(ok), &mut all, SystemOperation::min());
        all == 1
    })
}

/// Computes with `mpi`; on rank 0 compares with threads, elsewhere checks
/// that nothing was returned.
fn agree(mpi: &Mpi, g: &Graph, keys: &[Key]) -> Result<(), String> {
    let plan = Plan::for_keys(g, keys).map_err(|e| e.to_string())?;
    let got = compute(mpi, g, &plan, &[]).map_err(|e| e.to_string())?;
    if mpi.is_root() {
        let want = Threads::new(2)
            .execute(g, &plan, &[])
            .map_err(|e| e.to_string())?;
        if got != want {
            return Err(format!("mpi gave {got:?}, threads {want:?}"));
        }
    } else if !got.is_empty() {
        return Err(format!("rank {} got values: {got:?}", mpi.rank()));
    }
    Ok(())
}

fn shapes(mpi: &Mpi) -> Result<(), String> {
    for (g, keys) in [fan(2000), chain(2000), tree(2000)] {
        agree(mpi, &g, &keys)?;
    }
    Ok(())
}

/// A random DAG of builtins over earlier keys (string and tuple keys,
/// aliases, lists, nested calls).
fn random_graph(spec: &[(u8, i64, Vec<usize>)]) -> (Graph, Vec<Key>) {
    let key = |i: usize| -> Key {
        if i.is_multiple_of(3) {
            Key::from(("t", i as i64))
        } else {
            Key::from(format!("k{i}"))
        }
    };
    let mut g = Graph::new();
    for (i, (kind, lit, refs)) in spec.iter().enumerate() {
        let refs: Vec<Task> = refs
            .iter()
            .filter(|_| i > 0)
            .map(|&r| Task::key(key(r % i)))
            .collect();
        let task = if refs.is_empty() {
            if kind % 2 == 0 {
                Task::from(*lit)
            } else {
                Task::quote(format!("s{lit}"))
            }
        } else {
            let first = refs[0].clone();
            match kind % 9 {
                0 => first,
                1 => Task::call(&f("inc"), [Task::call(&f("len"), [Task::list([first])])]),
                2 => Task::call(&f("identity"), [first]),
                3 => Task::list(refs),
                4 => Task::call(&f("len"), [Task::list([first.clone(), first])]),
                5 => Task::call(&f("concat"), [Task::list([first]), Task::list(refs)]),
                6 => Task::call(&f("len"), [Task::list(refs)]),
                7 => Task::call(
                    &f("add"),
                    [Task::from(*lit), Task::call(&f("len"), [Task::list(refs)])],
                ),
                _ => Task::call(&f("identity"), [Task::list(refs)]),
            }
        };
        g.insert(key(i), task);
    }
    let n = spec.len();
    (g, vec![key(n - 1), key(n / 2), key(0), key(n - 1)])
}

fn random_dags(mpi: &Mpi) -> Result<(), String> {
    // the same seed on every rank: every rank draws the same graphs, and
    // since the ranks agree on each verdict, shrinks the same way too
    let config = Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = (
        prop::collection::vec(
            (
                any::<u8>(),
                -100_i64..100,
                prop::collection::vec(0_usize..1000, 0..4),
            ),
            1..60,
        ),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(spec, ints)| {
            let spec: Vec<_> = if ints {
                spec.into_iter().map(|(k, l, r)| (k & !1, l, r)).collect()
            } else {
                spec
            };
            let (g, keys) = random_graph(&spec);
            let outcome = agree(mpi, &g, &keys);
            let ok = all_ranks(mpi, outcome.is_ok());
            prop_assert!(ok, "ranks disagree on {:?}: {:?}", g, outcome);
            Ok(())
        })
        .map_err(|e| e.to_string())
}

fn mismatch(mpi: &Mpi) -> Result<(), String> {
    let (g, keys) = if mpi.rank() == 2 { fan(11) } else { fan(10) };
    let plan = Plan::for_keys(&g, &keys).map_err(|e| e.to_string())?;
    match compute(mpi, &g, &plan, &[]) {
        Ok(v) => Err(format!("ranks with different graphs computed {v:?}")),
        Err(e) => {
            let msg = e.to_string();
            if msg.contains("different graphs") && msg.contains("rank 2 has") {
                Ok(())
            } else {
                Err(format!("unclear error: {msg}"))
            }
        }
    }
}

fn expect_task_error(
    mpi: &Mpi,
    g: &Graph,
    keys: &[Key],
    key: &str,
    text: &str,
) -> Result<(), String> {
    let plan = Plan::for_keys(g, keys).map_err(|e| e.to_string())?;
    match compute(mpi, g, &plan, &[]) {
        Ok(v) => Err(format!("a failing graph computed {v:?}")),
        Err(e) => {
            if e.key() != Some(&Key::from(key)) {
                return Err(format!("the error names {:?}, not {key}: {e}", e.key()));
            }
            if !e.to_string().contains(text) {
                return Err(format!("the error lacks {text:?}: {e}"));
            }
            Ok(())
        }
    }
}

fn failing_task(mpi: &Mpi) -> Result<(), String> {
    let (mut g, keys) = fan(300);
    g.insert("inc-123", Task::call(&f("fail"), [Task::quote("no good")]));
    expect_task_error(mpi, &g, &keys, "inc-123", "no good")?;
    // the executor works afterwards
    let (g, keys) = fan(50);
    agree(mpi, &g, &keys)
}

fn panicking_task(mpi: &Mpi) -> Result<(), String> {
    let (mut g, keys) = fan(300);
    let boom = Function::new("boom", |x: i64| -> i64 { panic!("boom on {x}") });
    g.insert("inc-77", Task::call(&boom, ["x-77"]));
    expect_task_error(mpi, &g, &keys, "inc-77", "boom on 77")?;
    let (g, keys) = chain(50);
    agree(mpi, &g, &keys)
}

fn large_values(mpi: &Mpi) -> Result<(), String> {
    let before = mpi.transfer_stats();
    let big = Function::new("big", |n: i64| "ab".repeat(n as usize));
    let lens = Function::new("lens", |a: String, b: String, c: String| {
        (a.len() + b.len() + c.len()) as i64
    });
    let mut g = Graph::new();
    // no shared input: the three go to three idle ranks
    for k in ["a", "b", "c"] {
        g.insert(k, Task::call(&big, [2_500_000_i64]));
    }
    g.insert("all", Task::call(&lens, ["a", "b", "c"]));
    let keys = vec![Key::from("all"), Key::from("b")];
    agree(mpi, &g, &keys)?;
    let got = mpi.transfer_stats().bytes - before.bytes;
    let total = mpi.with_world(move |w| {
        let mut sum = 0_u64;
        w.all_reduce_into(&got, &mut sum, SystemOperation::sum());
        sum
    });
    // three 5 MB strings on three ranks: at least two move to the one that
    // reads them all, and "b" to rank 0 unless it is there
    if total < 10_000_000 {
        return Err(format!("only {total} bytes moved between ranks"));
    }
    Ok(())
}

/// The values of `strings_and_vectors`, by their length argument.
fn floats(n: i64) -> Vec<f64> {
    (0..n).map(|i| i as f64 * 0.25 - 1e6).collect()
}

fn ints(n: i64) -> Vec<i64> {
    (0..n).map(|i| i * 7 - 3).collect()
}

fn text(n: i64) -> String {
    // two-byte characters that the 1 MB fragments cut in half, and an odd
    // length
    "a".to_string() + &"é".repeat(n as usize) + "!"
}

/// Strings and word vectors that move between ranks as payloads (sent
/// from and received into their own memory) and inline: large, odd-sized
/// (not a multiple of the 1 MB fragments, nor of 8 bytes for the string),
/// just above the payload threshold, and empty; read by a task and
/// returned to rank 0 intact.
fn strings_and_vectors(mpi: &Mpi) -> Result<(), String> {
    let make_f = Function::new("floats", |n: i64| Value::opaque(floats(n)));
    let make_i = Function::new("ints", |n: i64| Value::opaque(ints(n)));
    let make_s = Function::new("text", text);
    // what every input holds, by its own reckoning
    let sum = Function::dynamic("sum", Arity::exactly(5), |v| {
        let mut total = 0.0;
        for x in v {
            total += if let Some(f) = x.downcast_ref::<Vec<f64>>() {
                f.iter().sum::<f64>() + f.len() as f64
            } else if let Some(i) = x.downcast_ref::<Vec<i64>>() {
                i.iter().sum::<i64>() as f64
            } else {
                x.as_str().map_or(0, |s| s.chars().count()) as f64
            };
        }
        Ok(Value::Float(total))
    });
    let sizes = [("f", 1_000_003), ("o", 8_193), ("e", 0)];
    for round in 0..2_i64 {
        let before = mpi.transfer_stats();
        let mut g = Graph::new();
        for (k, n) in sizes {
            g.insert(k, Task::call(&make_f, [n + round]));
        }
        g.insert("i", Task::call(&make_i, [300_001 + round]));
        g.insert("s", Task::call(&make_s, [1_500_000 + round]));
        g.insert("sum", Task::call(&sum, ["f", "o", "e", "i", "s"]));
        let keys: Vec<Key> = ["sum", "f", "o", "e", "i", "s"].map(Key::from).to_vec();
        let plan = Plan::for_keys(&g, &keys).map_err(|e| e.to_string())?;
        let got = compute(mpi, &g, &plan, &[]).map_err(|e| e.to_string())?;
        if mpi.is_root() {
            let want = Threads::new(2)
                .execute(&g, &plan, &[])
                .map_err(|e| e.to_string())?;
            if got.len() != keys.len() || got[0] != want[0] {
                return Err(format!("sum: mpi {:?}, threads {:?}", got.first(), want[0]));
            }
            for (j, (k, n)) in sizes.iter().enumerate() {
                if got[1 + j].downcast_ref::<Vec<f64>>() != Some(&floats(n + round)) {
                    return Err(format!("{k} ({} floats) arrived changed", n + round));
                }
            }
            if got[4].downcast_ref::<Vec<i64>>() != Some(&ints(300_001 + round)) {
                return Err("i arrived changed".into());
            }
            if got[5].as_str() != Some(text(1_500_000 + round).as_str()) {
                return Err("s arrived changed".into());
            }
        } else if !got.is_empty() {
            return Err(format!("rank {} got values: {got:?}", mpi.rank()));
        }
        let moved = mpi.transfer_stats().bytes - before.bytes;
        let total = mpi.with_world(move |w| {
            let mut sum = 0_u64;
            w.all_reduce_into(&moved, &mut sum, SystemOperation::sum());
            sum
        });
        // five values made on three idle ranks: some move
        if total < 2_000_000 {
            return Err(format!("only {total} bytes moved between ranks"));
        }
    }
    Ok(())
}

fn many_computations(mpi: &Mpi) -> Result<(), String> {
    for n in 1..30 {
        let (g, keys) = if n % 2 == 0 { fan(n) } else { tree(n) };
        agree(mpi, &g, &keys)?;
    }
    Ok(())
}
