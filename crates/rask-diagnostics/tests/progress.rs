//! The progress bar in plain-line mode (a writer the test reads): exactly
//! 100% on success with any executor, the failed key on error, never more
//! than 100% whatever the executor reports.

mod common;

use std::time::{Duration, Instant};

use common::{fan, Buffer};
use rask_diagnostics::ProgressBar;
use rask_graph::{graph, Plan, Registry};
use rask_scheduler::{get_with, Callback, Executor, RunInfo, Sync, TaskEvent, Threads};

fn percents(text: &str) -> Vec<usize> {
    text.lines()
        .map(|l| {
            let open = l.find('(').expect("a percentage");
            let close = l[open..].find("%)").expect("a percentage") + open;
            l[open + 1..close].parse().expect("a number")
        })
        .collect()
}

#[test]
fn reaches_exactly_100_percent_on_success() {
    let g = fan(2000);
    let executors: Vec<Box<dyn Executor>> = vec![Box::new(Sync), Box::new(Threads::new(4))];
    for ex in executors {
        let out = Buffer::default();
        let bar = ProgressBar::to_writer(out.clone()).minimum(Duration::ZERO);
        get_with(ex.as_ref(), &g, "total", &[&bar]).unwrap();
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines
                .last()
                .unwrap()
                .starts_with("[rask] 2002/2002 tasks (100%) in "),
            "{}: {text}",
            ex.name()
        );
        let p = percents(&text);
        // one line per tenth at most, then the last one
        assert!(p.len() <= 10, "{text}");
        assert!(p.windows(2).all(|w| w[0] <= w[1]), "{text}");
        assert_eq!(p.iter().filter(|&&x| x == 100).count(), 1, "{text}");
        assert_eq!((bar.done(), bar.total()), (2002, 2002));
    }
}

#[test]
fn reports_the_failed_key_on_error() {
    let registry = Registry::with_builtins();
    let g = rask_graph::file::from_str(
        r#"{"x": 1, "y": {"call": "inc", "args": ["x"]},
            "bad": {"call": "fail", "args": [{"quote": "boom"}]},
            "z": {"call": "add", "args": ["y", "bad"]}}"#,
        &registry,
    )
    .unwrap();
    for ex in [&Sync as &dyn Executor, &Threads::new(3)] {
        let out = Buffer::default();
        let bar = ProgressBar::to_writer(out.clone());
        assert!(get_with(ex, &g, "z", &[&bar]).is_err());
        let text = out.text();
        let last = text.lines().last().unwrap();
        assert!(last.contains("failed at task \"bad\""), "{text}");
        assert!(last.contains("/4 tasks"), "{text}");
        assert!(!text.contains("(100%)"), "{text}");
    }
}

#[test]
fn never_exceeds_100_percent() {
    // an executor that reports some tasks twice (as one that retried would)
    let g = graph! { "x" => 1, "y" => 2 };
    let plan = Plan::for_keys(&g, &["x".into(), "y".into()]).unwrap();
    let out = Buffer::default();
    let bar = ProgressBar::to_writer(out.clone())
        .every(Duration::ZERO)
        .minimum(Duration::ZERO);
    bar.start(&RunInfo {
        graph: &g,
        plan: &plan,
        executor: "test",
        workers: 1,
    });
    let now = Instant::now();
    for _ in 0..5 {
        bar.task_finished(&TaskEvent {
            id: 0,
            key: g.key(0),
            worker: 0,
            start: now,
            end: now,
        });
        assert!(bar.done() <= 2);
    }
    bar.finish(None);
    let p = percents(&out.text());
    assert!(p.iter().all(|&x| x <= 100), "{}", out.text());
    assert!(
        out.text().ends_with("2/2 tasks (100%) in 0.0s\n"),
        "{}",
        out.text()
    );
}

#[test]
fn prints_by_time_too() {
    let g = fan(20);
    let out = Buffer::default();
    let bar = ProgressBar::to_writer(out.clone())
        .every(Duration::ZERO)
        .minimum(Duration::ZERO);
    get_with(&Sync, &g, "total", &[&bar]).unwrap();
    // with a zero interval, a line after every task but the last
    assert_eq!(out.text().lines().count(), 22, "{}", out.text());
    assert!(out.text().contains("tasks/s | elapsed "), "{}", out.text());
}

#[test]
fn a_quick_run_prints_only_the_last_line() {
    let out = Buffer::default();
    let bar = ProgressBar::to_writer(out.clone()).minimum(Duration::from_secs(60));
    get_with(&Sync, &fan(100), "total", &[&bar]).unwrap();
    assert_eq!(out.text().lines().count(), 1, "{}", out.text());
    assert!(out.text().starts_with("[rask] 102/102 tasks (100%) in "));
}

#[test]
fn a_bar_can_watch_several_runs() {
    let out = Buffer::default();
    let bar = ProgressBar::to_writer(out.clone());
    get_with(&Sync, &fan(3), "total", &[&bar]).unwrap();
    get_with(&Sync, &fan(1), "total", &[&bar]).unwrap();
    let text = out.text();
    let finals: Vec<&str> = text.lines().filter(|l| l.contains("(100%)")).collect();
    assert_eq!(finals.len(), 2, "{text}");
    assert!(finals[0].contains("5/5 tasks"), "{text}");
    assert!(finals[1].contains("3/3 tasks"), "{text}");
}
