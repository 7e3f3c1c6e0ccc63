//! Worker deaths on `Processes` (issue 13, item 2): the error names the
//! task that was running, also inside a chain handed out as one batch;
//! with retries the lost results are recomputed and the answer equals a
//! run without the fault; a death without retries stops the run at once;
//! no process is left over. A property test kills workers (SIGKILL, abort,
//! exit) at random tasks of random DAGs, each once (a marker file per
//! task, removed by the task that dies), and compares with `Threads`.
//!
//! One `#[test]`, scenarios one after the other: the program must not
//! fork while other test threads run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rask_graph::{Function, Graph, Key, Registry, Task, Value};
use rask_processes::Processes;
use rask_scheduler::{ComputeError, Executor, Threads};

/// How many live children this process has.
fn children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            stat.rsplit_once(") ")
                .and_then(|(_, rest)| rest.split(' ').nth(1))
                .is_some_and(|ppid| ppid == me)
        })
        .count()
}

/// Ends this (worker) process as `how` says: SIGKILL, abort, or exit.
fn die(how: u8) {
    match how % 3 {
        // SAFETY: a test task killing its own worker process.
        0 => unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        },
        1 => {
            // no core file where the test runs
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: setrlimit with a valid struct, in this process only.
            unsafe {
                libc::setrlimit(libc::RLIMIT_CORE, &none);
            }
            std::process::abort()
        }
        // SAFETY: a test task ending its own worker process.
        _ => unsafe { libc::_exit(3) },
    }
}

/// A task function `sum(xs) + 1` that kills its worker (as `how` says) the
/// first time it runs while `marker` exists.
fn step(marker: PathBuf, how: u8) -> Function {
    Function::new("step", move |xs: Vec<i64>| -> i64 {
        if std::fs::remove_file(&marker).is_ok() {
            die(how);
        }
        (xs.iter().sum::<i64>() + 1) % 1_000_003
    })
}

/// A chain `x -> a -> b -> c -> d` of `step`s (one batch for one worker);
/// `c` dies while `c`'s marker exists.
fn chain(dir: &Path) -> Graph {
    let mut g = Graph::new();
    g.insert("x", 1);
    let mut prev = "x";
    for k in ["a", "b", "c", "d"] {
        g.insert(
            k,
            Task::call(&step(dir.join(k), 0), [Task::list([Task::key(prev)])]),
        );
        prev = k;
    }
    g
}

fn chain_death_names_the_running_task() {
    let dir = tempfile::tempdir().unwrap();
    let g = chain(dir.path());
    let want = Threads::new(1).get(&g, "d").unwrap();
    assert_eq!(want, Value::Int(5));
    // every time: no retry can help
    for _ in 0..3 {
        std::fs::write(dir.path().join("c"), "").unwrap();
        let e = Processes::new(2).get(&g, "d").unwrap_err();
        assert!(matches!(e, ComputeError::WorkerDied { .. }), "{e}");
        assert_eq!(e.key(), Some(&Key::from("c")), "{e}");
        assert!(e.to_string().starts_with("task \"c\": worker "), "{e}");
    }
    // once, with a retry: the chain is computed again
    std::fs::write(dir.path().join("c"), "").unwrap();
    assert_eq!(Processes::new(2).retries(1).get(&g, "d").unwrap(), want);
    assert!(!dir.path().join("c").exists(), "c died once");
    std::fs::write(dir.path().join("c"), "").unwrap();
    assert_eq!(Processes::new(1).retries(1).get(&g, "d").unwrap(), want);
    assert_eq!(children(), 0);
}

fn death_stops_the_run_at_once() {
    let reg = Registry::with_builtins();
    let shell = reg.get("shell").cloned().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dies"), "").unwrap();
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert(
        "long",
        Task::call(&shell, [Task::quote("sleep"), Task::quote("23.1406")]),
    );
    g.insert(
        "dies",
        Task::call(
            &step(dir.path().join("dies"), 0),
            [Task::list([Task::key("x")])],
        ),
    );
    g.insert("both", Task::list([Task::key("long"), Task::key("dies")]));
    let t0 = Instant::now();
    let e = Processes::new(2).get(&g, "both").unwrap_err();
    assert_eq!(e.key(), Some(&Key::from("dies")), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(children(), 0);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sleeping("23.1406"), 0, "the other worker's program ended");
}

/// How many processes run a `sleep` whose command line contains `needle`.
fn sleeping(needle: &str) -> usize {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.starts_with("sleep ") && cmd.contains(needle)
        })
        .count()
}

/// A random DAG of `step`s over earlier keys; `kills[i]` set: task `i`
/// kills its worker once (as the value says) when `marked`.
fn random_graph(
    spec: &[(u8, u16, u16, Option<u8>)],
    dir: &Path,
) -> (Graph, Vec<Key>, Vec<PathBuf>) {
    let mut g = Graph::new();
    let mut keys: Vec<Key> = Vec::new();
    let mut markers = Vec::new();
    for (i, &(kind, a, b, kill)) in spec.iter().enumerate() {
        let key = Key::from(format!("k{i}"));
        let pick = |x: u16| Task::Key(keys[x as usize % keys.len()].clone());
        let task = if keys.is_empty() || kind % 4 == 0 {
            Task::from(i64::from(a % 100))
        } else {
            let marker = dir.join(format!("k{i}"));
            let f = step(marker.clone(), kill.unwrap_or(0));
            if kill.is_some() {
                markers.push(marker);
            }
            let args = if kind % 4 == 1 {
                vec![pick(a)]
            } else {
                vec![pick(a), pick(b)]
            };
            Task::call(&f, [Task::list(args)])
        };
        g.insert(key.clone(), task);
        keys.push(key);
    }
    (g, keys, markers)
}

fn random_deaths_agree_with_threads() {
    let mut runner = TestRunner::new(Config {
        cases: 32,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(
            (
                any::<u8>(),
                any::<u16>(),
                any::<u16>(),
                prop::option::weighted(0.15, any::<u8>()),
            ),
            2..24,
        ),
        1_usize..4,
    );
    runner
        .run(&strategy, |(spec, workers)| {
            let dir = tempfile::tempdir().unwrap();
            let (g, keys, markers) = random_graph(&spec, dir.path());
            let want = Threads::new(2).get(&g, keys.clone()).unwrap();
            // each marked task dies once: one retry each is enough
            for m in &markers {
                std::fs::write(m, "").unwrap();
            }
            let got = Processes::new(workers).retries(1).get(&g, keys.clone());
            prop_assert_eq!(got.map_err(|e| e.to_string()), Ok(want));
            for m in &markers {
                prop_assert!(!m.exists(), "{} ran", m.display());
            }
            prop_assert_eq!(children(), 0);
            // without retries: the first marked task fails the run, named
            if let Some(first) = markers.first() {
                std::fs::write(first, "").unwrap();
                let name = first.file_name().unwrap().to_string_lossy().into_owned();
                let e = Processes::new(workers).get(&g, keys).unwrap_err();
                prop_assert!(matches!(e, ComputeError::WorkerDied { .. }), "{}", e);
                prop_assert_eq!(e.key(), Some(&Key::from(name)));
                prop_assert_eq!(children(), 0);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn worker_deaths() {
    chain_death_names_the_running_task();
    death_stops_the_run_at_once();
    random_deaths_agree_with_threads();
    assert_eq!(children(), 0);
}
