//! The processes executor end to end: the seed's pipeline, agreement with
//! threads on random graphs, failures, a worker killed mid-run (with and
//! without retries), values without a codec, and no process left behind.
//!
//! Everything runs inside one `#[test]`, one scenario after the other:
//! forking while other test threads run is what the docs tell programs not
//! to do, so the test does not do it either.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rask_graph::{graph, Function, Graph, Key, Registry, Task, Value};
use rask_processes::Processes;
use rask_scheduler::{ComputeError, Executor, Sync, Threads};

fn load(name: String) -> String {
    format!("data of {name}")
}
fn clean(s: String) -> String {
    s.to_uppercase()
}
fn analyze(parts: Vec<String>) -> usize {
    parts.iter().map(String::len).sum()
}
fn store(n: usize) -> String {
    format!("stored {n}")
}

fn seed_pipeline() {
    let g = graph! {
        "load-1" => (load, (Task::quote("myfile.a.data"))),
        "load-2" => (load, (Task::quote("myfile.b.data"))),
        "load-3" => (load, (Task::quote("myfile.c.data"))),
        "clean-1" => (clean, "load-1"),
        "clean-2" => (clean, "load-2"),
        "clean-3" => (clean, "load-3"),
        "analyze" => (analyze, ["clean-1", "clean-2", "clean-3"]),
        "store" => (store, "analyze"),
    };
    let v = Processes::new(2).get(&g, vec!["store"]).unwrap();
    assert_eq!(v, Value::list([Value::from("stored 63")]));
}

/// A random DAG of builtins: literals, inc/add of earlier keys, sums of
/// lists, aliases.
fn random_graph(spec: &[(u8, u16, u16)]) -> (Graph, Vec<Key>) {
    let reg = Registry::with_builtins();
    let f = |n: &str| reg.get(n).cloned().unwrap();
    let (inc, add, sum) = (f("inc"), f("add"), f("sum"));
    let mut g = Graph::new();
    let mut keys: Vec<Key> = Vec::new();
    for (i, &(kind, a, b)) in spec.iter().enumerate() {
        let key = Key::from(format!("k{i}"));
        let pick = |x: u16| keys[x as usize % keys.len()].clone();
        let task = if keys.is_empty() || kind % 5 == 0 {
            Task::from(i64::from(a % 100))
        } else {
            match kind % 5 {
                1 => Task::call(&inc, [Task::Key(pick(a))]),
                2 => Task::call(&add, [Task::Key(pick(a)), Task::Key(pick(b))]),
                3 => Task::call(&sum, [Task::list([Task::Key(pick(a)), Task::Key(pick(b))])]),
                _ => Task::Key(pick(a)),
            }
        };
        g.insert(key.clone(), task);
        keys.push(key);
    }
    (g, keys)
}

fn agrees_with_threads() {
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec((any::<u8>(), any::<u16>(), any::<u16>()), 1..120),
        1_usize..4,
    );
    runner
        .run(&strategy, |(spec, workers)| {
            let (g, keys) = random_graph(&spec);
            let want: Vec<Key> = keys.iter().rev().take(5).cloned().collect();
            let a = Threads::new(2)
                .get(&g, want.clone())
                .map_err(|e| e.to_string());
            let b = Processes::new(workers)
                .get(&g, want)
                .map_err(|e| e.to_string());
            prop_assert_eq!(a, b);
            Ok(())
        })
        .unwrap();
    // one larger graph, so batches and many round trips happen
    let spec: Vec<(u8, u16, u16)> = (0..5000_u32)
        .map(|i| {
            (
                (i * 7 % 5) as u8,
                (i * 31 % 997) as u16,
                (i * 17 % 991) as u16,
            )
        })
        .collect();
    let (g, keys) = random_graph(&spec);
    let want: Vec<Key> = keys.iter().rev().take(50).cloned().collect();
    assert_eq!(
        Sync.get(&g, want.clone()).unwrap(),
        Processes::new(2).get(&g, want).unwrap()
    );
}

fn failures_name_the_key() {
    let reg = Registry::with_builtins();
    let fail = reg.get("fail").cloned().unwrap();
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert("bad", Task::call(&fail, [Task::quote("it broke")]));
    let e = Processes::new(2).get(&g, "bad").unwrap_err();
    assert_eq!(e.to_string(), "task \"bad\" failed: fail: it broke");

    fn boom(_: i64) -> i64 {
        panic!("kaboom in a worker")
    }
    let g = graph! { "x" => 1, "p" => (boom, "x") };
    let e = Processes::new(1).get(&g, "p").unwrap_err();
    assert_eq!(e.to_string(), "task \"p\" panicked: kaboom in a worker");
}

fn suicide(x: i64) -> i64 {
    // SAFETY: a test task killing its own worker process.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    x
}

fn killed_worker_fails_its_task() {
    let g = graph! { "x" => 1, "victim" => (suicide, "x") };
    let t0 = Instant::now();
    let e = Processes::new(2).get(&g, "victim").unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "noticed within a second"
    );
    assert!(matches!(e, ComputeError::WorkerDied { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("task \"victim\": worker ")
            && msg.ends_with("died (killed by signal SIGKILL)"),
        "{msg}"
    );
}

fn killed_worker_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("first-time");
    std::fs::write(&marker, "").unwrap();
    let m = marker.clone();
    let once = Function::new("once", move |x: i64| {
        if std::fs::remove_file(&m).is_ok() {
            // SAFETY: a test task killing its own worker the first time.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
        x + 1
    });
    let mut g = Graph::new();
    g.insert("x", 41);
    g.insert("y", Task::call(&once, ["x"]));
    assert_eq!(
        Processes::new(2).retries(1).get(&g, "y").unwrap(),
        Value::Int(42)
    );
    assert!(!marker.exists());
}

fn values_without_codec() {
    #[derive(Clone)]
    struct Handle;
    fn make(_: i64) -> Handle {
        Handle
    }
    fn use_it(_: Handle) -> i64 {
        1
    }
    let _ = use_it;
    let g = graph! { "x" => 1, "h" => (make, "x") };
    let e = Processes::new(1).get(&g, "h").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("task \"h\": its value cannot leave the worker process"),
        "{msg}"
    );
    assert!(msg.contains("Handle"), "{msg}");

    // a literal that cannot cross is found before anything runs
    let reg = Registry::with_builtins();
    let identity = reg.get("identity").cloned().unwrap();
    let mut g = Graph::new();
    g.insert("lit", Value::new(Handle));
    g.insert("y", Task::call(&identity, ["lit"]));
    let e = Processes::new(1).get(&g, "y").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("task \"lit\": its value cannot cross"),
        "{e}"
    );

    // a container whose codec encodes its items through theirs (as a
    // bag's partition) passes the check of literals; the error, when it is
    // sent, names the item type (a task claimed behind another, in a
    // chain, reports it the same way)
    use rask_graph::codec::{register_shape, Leaf, Seq};
    register_shape::<Seq<Leaf<Handle>>>();
    let inc = reg.get("inc").cloned().unwrap();
    let len = reg.get("len").cloned().unwrap();
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert("lit", Value::opaque(vec![Handle; 2]));
    g.insert("a", Task::call(&inc, ["x"]));
    g.insert("b", Task::call(&len, [Task::list(["a", "lit"])]));
    let msg = Processes::new(1).get(&g, "b").unwrap_err().to_string();
    assert!(
        msg.starts_with("task \"b\": an input cannot cross to a worker process")
            && msg.contains(&format!(
                "rask::codec::register::<{}>()",
                std::any::type_name::<Handle>()
            )),
        "{msg}"
    );
}

/// Processes whose command line contains `needle`.
fn running(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) && !cmd.contains("cargo") {
            found.push(format!("{}: {cmd}", entry.path().display()));
        }
    }
    found
}

fn nothing_left_behind() {
    let reg = Registry::with_builtins();
    let shell = reg.get("shell").cloned().unwrap();
    let fail = reg.get("fail").cloned().unwrap();
    let sleeper = "sleep 31.4159";
    let mut g = Graph::new();
    // a task that leaves a program running in the background...
    g.insert(
        "bg",
        Task::call(
            &shell,
            [
                Task::quote("sh"),
                Task::quote("-c"),
                Task::quote(format!("{sleeper} >/dev/null 2>&1 & echo started")),
            ],
        ),
    );
    let v = Processes::new(2).get(&g, "bg").unwrap();
    assert_eq!(v, Value::from("started\n"));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        running(sleeper),
        Vec::<String>::new(),
        "background program killed"
    );

    // ... and a run that fails while another task runs a long program
    let mut g = Graph::new();
    g.insert(
        "long",
        Task::call(&shell, [Task::quote("sleep"), Task::quote("27.1828")]),
    );
    g.insert("bad", Task::call(&fail, [Task::quote("stop")]));
    g.insert("both", Task::list([Task::key("long"), Task::key("bad")]));
    let t0 = Instant::now();
    let e = Processes::new(2).get(&g, "both").unwrap_err();
    assert_eq!(e.key(), Some(&Key::from("bad")));
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "the long task was stopped"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(running("27.1828"), Vec::<String>::new());
    assert_eq!(children(), 0, "every worker reaped");
}

/// How many live children this process has.
fn children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // the fields after the command name: state, ppid, ...
            stat.rsplit_once(") ")
                .and_then(|(_, rest)| rest.split(' ').nth(1))
                .is_some_and(|ppid| ppid == me)
        })
        .count()
}

/// A user's record with a codec: a list of them crosses the pipes and is
/// the `Vec<Cleaned>` argument of a typed function (issue 14, item 5).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Cleaned {
    name: String,
    words: usize,
}

fn clean_record(raw: String) -> Cleaned {
    Cleaned {
        name: raw.trim().to_uppercase(),
        words: raw.split_whitespace().count(),
    }
}

fn analyze_records(parts: Vec<Cleaned>) -> usize {
    parts.iter().map(|c| c.words + c.name.len()).sum()
}

fn typed_lists_of_a_user_type() {
    rask_graph::codec::register::<Cleaned>();
    let g = graph! {
        "raw-1" => "a b c",
        "raw-2" => " d e ",
        "clean-1" => (clean_record, "raw-1"),
        "clean-2" => (clean_record, "raw-2"),
        "analyze" => (analyze_records, ["clean-1", "clean-2"]),
    };
    let want = analyze_records(vec![
        clean_record("a b c".into()),
        clean_record(" d e ".into()),
    ]);
    assert_eq!(
        Processes::new(2).get(&g, "analyze").unwrap(),
        Value::new(want)
    );
}

#[test]
fn processes_executor() {
    assert!(Path::new("/proc").exists(), "these tests read /proc");
    seed_pipeline();
    agrees_with_threads();
    failures_name_the_key();
    killed_worker_fails_its_task();
    killed_worker_is_retried();
    values_without_codec();
    typed_lists_of_a_user_type();
    nothing_left_behind();
    assert_eq!(children(), 0);
}
