//! Scheduling overhead per task on Rust-built chain, fan and tree graphs:
//! `cargo run --release -p rask-scheduler --example overhead -- N [WORKERS]
//! [SHAPES] [RUNS]`, where SHAPES is `all` or a comma-separated list of
//! `chain`, `fan`, `tree`. Each graph is planned and run RUNS times (1 by
//! default); prints one JSON line per shape with the plan and run time per
//! task over all the runs (total time over total tasks).

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

type Build<'a> = &'a dyn Fn() -> (Graph, String);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let workers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let only = args.get(3).map(String::as_str).filter(|s| *s != "all");
    let runs: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
    let reg = rask_graph::Registry::with_builtins();
    let (inc, add, sum) = (
        reg.get("inc").cloned().unwrap(),
        reg.get("add").cloned().unwrap(),
        reg.get("sum").cloned().unwrap(),
    );
    let wanted = |name: &str| only.is_none_or(|o| o.split(',').any(|s| s == name));
    let shapes: [(&str, Build); 3] = [
        ("chain", &|| chain(n, &inc)),
        ("fan", &|| fan(n, &inc, &sum)),
        ("tree", &|| tree(n, &add)),
    ];
    for (name, build) in shapes {
        if !wanted(name) {
            continue;
        }
        let (g, out) = build();
        let (mut plan_s, mut run_s) = (0.0, 0.0);
        let mut last = None;
        for _ in 0..runs {
            let t0 = Instant::now();
            let plan = Plan::for_keys(&g, &[out.as_str().into()]).unwrap();
            let t1 = Instant::now();
            let ex = Threads::new(workers);
            let v = compute(&ex, &g, &plan, &[]).unwrap();
            let t2 = Instant::now();
            plan_s += (t1 - t0).as_secs_f64();
            run_s += (t2 - t1).as_secs_f64();
            last = Some((plan.len(), ex.workers(), v));
        }
        let Some((tasks, workers, v)) = last else {
            continue;
        };
        let per_task = 1e6 / (tasks * runs) as f64;
        println!(
            "{{\"shape\": \"{name}\", \"tasks\": {tasks}, \"runs\": {runs}, \"plan_us_per_task\": {:.4}, \"run_us_per_task\": {:.4}, \"workers\": {workers}, \"result\": {:?}}}",
            plan_s * per_task,
            run_s * per_task,
            v[0]
        );
    }
}
