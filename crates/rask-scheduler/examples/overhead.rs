//! Scheduling overhead per task on Rust-built chain, fan and tree graphs:
//! `cargo run --release -p rask-scheduler --example overhead -- N [WORKERS]`.
//! Prints one JSON line per shape.

use std::time::Instant;

use rask_graph::{Function, Graph, Plan, Task};
use rask_scheduler::{compute, Executor, Threads};

fn chain(n: usize, inc: &Function) -> (Graph, String) {
    let mut g = Graph::with_capacity(n);
    g.insert("c-0", 0);
    for i in 1..n {
        g.insert(format!("c-{i}"), Task::call(inc, [format!("c-{}", i - 1)]));
    }
    (g, format!("c-{}", n - 1))
}

fn fan(n: usize, inc: &Function, sum: &Function) -> (Graph, String) {
    let mut g = Graph::with_capacity(2 * n + 1);
    let mut incs = Vec::with_capacity(n);
    for i in 0..n {
        g.insert(format!("x-{i}"), i as i64);
        g.insert(format!("inc-{i}"), Task::call(inc, [format!("x-{i}")]));
        incs.push(Task::from(format!("inc-{i}").as_str()));
    }
    g.insert("total", Task::call(sum, [Task::List(incs.into())]));
    (g, "total".into())
}

fn tree(n: usize, add: &Function) -> (Graph, String) {
    let mut g = Graph::with_capacity(2 * n);
    let mut level: Vec<String> = (0..n)
        .map(|i| {
            let k = format!("l-{i}");
            g.insert(k.as_str(), i as i64);
            k
        })
        .collect();
    let mut depth = 0;
    while level.len() > 1 {
        let mut next = Vec::new();
        for (j, p) in level.chunks(2).enumerate() {
            if p.len() == 2 {
                let k = format!("t-{depth}-{j}");
                g.insert(k.as_str(), Task::call(add, [p[0].as_str(), p[1].as_str()]));
                next.push(k);
            } else {
                next.push(p[0].clone());
            }
        }
        level = next;
        depth += 1;
    }
    (g, level.pop().unwrap_or_default())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let workers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let reg = rask_graph::Registry::with_builtins();
    let (inc, add, sum) = (
        reg.get("inc").cloned().unwrap(),
        reg.get("add").cloned().unwrap(),
        reg.get("sum").cloned().unwrap(),
    );
    let shapes = [
        ("chain", chain(n, &inc)),
        ("fan", fan(n, &inc, &sum)),
        ("tree", tree(n, &add)),
    ];
    for (name, (g, out)) in shapes {
        let t0 = Instant::now();
        let plan = Plan::for_keys(&g, &[out.as_str().into()]).unwrap();
        let t1 = Instant::now();
        let ex = Threads::new(workers);
        let v = compute(&ex, &g, &plan, &[]).unwrap();
        let t2 = Instant::now();
        println!(
            "{{\"shape\": \"{name}\", \"tasks\": {}, \"plan_us_per_task\": {:.3}, \"run_us_per_task\": {:.3}, \"workers\": {}, \"result\": {:?}}}",
            plan.len(),
            (t1 - t0).as_secs_f64() * 1e6 / plan.len() as f64,
            (t2 - t1).as_secs_f64() * 1e6 / plan.len() as f64,
            ex.workers(),
            v[0]
        );
    }
}
