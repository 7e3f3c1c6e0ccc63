//! Peak memory of building and running a chain of N `inc` tasks in Rust:
//! `cargo run --release -p rask --example chain_memory -- N`. Prints one
//! JSON line with the peak resident set size (VmHWM) of the process; the
//! benchmark runs it for two sizes and reports bytes per task between them.

use std::time::Instant;

use rask::{Graph, Key, Plan, Registry, Task, Threads, Value};

fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let reg = Registry::with_builtins();
    let inc = reg.get("inc").cloned().expect("inc is a builtin");
    let t0 = Instant::now();
    let mut g = Graph::with_capacity(n);
    let mut prev = Key::from("c-0");
    g.insert(prev.clone(), 0);
    for i in 1..n {
        let key = Key::from(format!("c-{i}"));
        g.insert(key.clone(), Task::call(&inc, [Task::Key(prev)]));
        prev = key;
    }
    let built = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let plan = Plan::for_keys(&g, &[prev]).expect("the chain is valid");
    let planned = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let v = rask::compute(&Threads::new(2), &g, &plan, &[]).expect("the chain runs");
    let ran = t2.elapsed().as_secs_f64();
    assert_eq!(v, vec![Value::Int(n as i64 - 1)]);
    println!(
        "{{\"tasks\": {n}, \"peak_rss_bytes\": {}, \"build_s\": {built:.3}, \"plan_s\": {planned:.3}, \"run_s\": {ran:.3}}}",
        peak_rss_bytes()
    );
}
