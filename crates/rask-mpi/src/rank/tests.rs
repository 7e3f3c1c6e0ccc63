//! The rank loops over in-process channels: several "ranks" as threads of
//! this test, each building its own copy of the graph, exactly as MPI
//! ranks do (the MPI transport itself is tested by `tests/spmd.rs`).

use crossbeam_channel::{Receiver, Sender};
use proptest::prelude::*;
use rask_graph::{Function, Graph, Key, Plan, Task, Value};
use rask_scheduler::{ComputeError, Executor, Threads};

use super::*;
use crate::bytes::Body;
use crate::wire::Payload;

#[path = "../../tests/graphs/mod.rs"]
mod graphs;
use graphs::{f, fan};

struct Channels {
    rank: u32,
    outs: Vec<Sender<Incoming>>,
    inbox: Receiver<Incoming>,
}

impl Link for Channels {
    fn rank(&self) -> u32 {
        self.rank
    }
    fn size(&self) -> u32 {
        self.outs.len() as u32
    }
    fn send(&self, dest: u32, frame: Frame) {
        assert_ne!(dest, self.rank, "a rank sends to itself");
        let payloads = frame
            .payloads
            .iter()
            .map(|p| match p {
                Payload::Shared(a) => Body::Bytes(a.clone()),
                p => Body::copy_of(p.form(), p.as_slice()),
            })
            .collect();
        let _ = self.outs[dest as usize].send(Incoming {
            source: self.rank,
            frame: frame.bytes,
            payloads,
        });
    }
    fn inbox(&self) -> &Receiver<Incoming> {
        &self.inbox
    }
}

fn world(n: usize) -> Vec<Channels> {
    let (outs, ins): (Vec<_>, Vec<_>) = (0..n).map(|_| crossbeam_channel::unbounded()).unzip();
    ins.into_iter()
        .enumerate()
        .map(|(r, inbox)| Channels {
            rank: r as u32,
            outs: outs.clone(),
            inbox,
        })
        .collect()
}

type Outcome = Result<Vec<Value>, ComputeError>;

/// Runs `runs` computations on `n` ranks; `build(rank, run)` makes each
/// rank's graph and keys. The outcomes, per run, per rank.
fn spmd(
    n: usize,
    runs: usize,
    build: impl Fn(usize, usize) -> (Graph, Vec<Key>) + Sync,
) -> Vec<Vec<Outcome>> {
    let links = world(n);
    let per_rank: Vec<Vec<Outcome>> = std::thread::scope(|s| {
        let handles: Vec<_> = links
            .iter()
            .enumerate()
            .map(|(r, link)| {
                let build = &build;
                s.spawn(move || {
                    let mut session = Session::default();
                    (0..runs)
                        .map(|run_no| {
                            let (g, keys) = build(r, run_no);
                            let plan = Plan::for_keys(&g, &keys).unwrap();
                            run(link, &mut session, &g, &plan, 2, &[])
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (0..runs)
        .map(|k| {
            per_rank
                .iter()
                .map(|outs| match &outs[k] {
                    Ok(v) => Ok(v.clone()),
                    Err(e) => Err(clone_err(e)),
                })
                .collect()
        })
        .collect()
}

fn clone_err(e: &ComputeError) -> ComputeError {
    ComputeError::Executor {
        executor: format!("{:?}", e.key()),
        message: e.to_string(),
    }
}

fn threads(g: &Graph, keys: &[Key]) -> Vec<Value> {
    let plan = Plan::for_keys(g, keys).unwrap();
    Threads::new(2).execute(g, &plan, &[]).unwrap()
}

#[test]
fn fan_on_three_ranks_matches_threads() {
    let out = spmd(3, 1, |_, _| fan(500));
    let (g, keys) = fan(500);
    assert_eq!(out[0][0].as_ref().unwrap(), &threads(&g, &keys));
    assert!(out[0][1].as_ref().unwrap().is_empty());
    assert!(out[0][2].as_ref().unwrap().is_empty());
}

#[test]
fn many_runs_in_one_session() {
    let out = spmd(2, 5, |_, run| fan(10 + run));
    for (run, outs) in out.iter().enumerate() {
        let (g, keys) = fan(10 + run);
        assert_eq!(outs[0].as_ref().unwrap(), &threads(&g, &keys));
    }
}

#[test]
fn different_graphs_fail_on_every_rank() {
    let out = spmd(3, 2, |rank, run| {
        if run == 0 && rank == 2 {
            fan(11)
        } else {
            fan(10)
        }
    });
    for r in &out[0] {
        let msg = r.as_ref().unwrap_err().to_string();
        assert!(msg.contains("different graphs"), "{msg}");
        assert!(msg.contains("rank 2 has"), "{msg}");
    }
    // the next computation is not disturbed
    let (g, keys) = fan(10);
    assert_eq!(out[1][0].as_ref().unwrap(), &threads(&g, &keys));
}

fn failing(rank_panics: bool) -> (Graph, Vec<Key>) {
    let (mut g, _) = fan(50);
    if rank_panics {
        let boom = Function::new("boom", |_x: i64| -> i64 { panic!("boom at 7") });
        g.insert("inc-7", Task::call(&boom, ["x-7"]));
    } else {
        g.insert("inc-7", Task::call(&f("fail"), [Task::quote("no good")]));
    }
    (g, vec!["total".into()])
}

#[test]
fn a_failing_task_fails_every_rank_with_its_key() {
    for panics in [false, true] {
        let out = spmd(
            3,
            2,
            |_, run| {
                if run == 0 {
                    failing(panics)
                } else {
                    fan(20)
                }
            },
        );
        for r in &out[0] {
            let e = r.as_ref().unwrap_err();
            assert!(e.to_string().contains("inc-7"), "{e}");
            let want = if panics { "boom at 7" } else { "no good" };
            assert!(e.to_string().contains(want), "{e}");
        }
        let (g, keys) = fan(20);
        assert_eq!(out[1][0].as_ref().unwrap(), &threads(&g, &keys));
    }
}

#[test]
fn large_values_move_as_payloads() {
    let build = |_, _| {
        let mut g = Graph::new();
        let big = Function::new("big", |n: i64| "ab".repeat(n as usize));
        let blen = Function::new("blen", |a: String, b: String| (a.len() + b.len()) as i64);
        g.insert("n", 100_000_i64);
        g.insert("a", Task::call(&big, ["n"]));
        g.insert("b", Task::call(&big, ["n"]));
        g.insert("both", Task::call(&blen, ["a", "b"]));
        (g, vec!["both".into(), "a".into()])
    };
    let out = spmd(3, 1, build);
    let values = out[0][0].as_ref().unwrap();
    assert_eq!(values[0], Value::Int(400_000));
    assert_eq!(values[1].as_str().unwrap().len(), 200_000);
}

#[test]
fn a_value_without_codec_that_must_move_names_its_key() {
    #[derive(Debug)]
    struct Opaque;
    let build = |_, _| {
        let mut g = Graph::new();
        let make = Function::dynamic("make", rask_graph::Arity::exactly(1), |_| {
            Ok(Value::opaque(Opaque))
        });
        g.insert("one", 1_i64);
        g.insert("secret", Task::call(&make, ["one"]));
        (g, vec!["secret".into()])
    };
    // on 2 ranks the literal and its dependent may land on rank 1; the
    // output must then move to rank 0 and cannot
    let out = spmd(2, 1, build);
    match &out[0][0] {
        Ok(v) => assert!(v[0].downcast_ref::<Opaque>().is_some()),
        Err(e) => {
            assert!(e.to_string().contains("secret"), "{e}");
            assert!(e.to_string().contains("codec"), "{e}");
        }
    }
}

/// A random DAG of builtins: literals, aliases, lists and calls of
/// inc/dec/neg/add/sub/sum/max/len on earlier keys.
pub(crate) fn random_graph(spec: &[(u8, i64, Vec<usize>)]) -> (Graph, Vec<Key>) {
    let mut g = Graph::new();
    let key = |i: usize| -> Key {
        if i.is_multiple_of(3) {
            Key::from(("t", i as i64))
        } else {
            Key::from(format!("k{i}"))
        }
    };
    for (i, (kind, lit, refs)) in spec.iter().enumerate() {
        let refs: Vec<Task> = refs
            .iter()
            .filter(|_| i > 0)
            .map(|&r| Task::key(key(r % i)))
            .collect();
        let task = if refs.is_empty() {
            Task::from(*lit)
        } else {
            let first = refs[0].clone();
            match kind % 8 {
                0 => first,
                1 => Task::call(&f("inc"), [first]),
                2 => Task::call(&f("neg"), [first]),
                3 => Task::call(&f("add"), [first, refs.last().cloned().unwrap()]),
                4 => Task::call(&f("sub"), [first, Task::from(*lit)]),
                5 => Task::call(&f("sum"), [Task::list(refs)]),
                6 => Task::call(&f("max"), [Task::list(refs)]),
                _ => Task::call(&f("len"), [Task::list(refs)]),
            }
        };
        g.insert(key(i), task);
    }
    let n = spec.len();
    let keys = vec![key(n - 1), key(n / 2), key(0), key(n - 1)];
    (g, keys)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]
    #[test]
    fn random_dags_agree_with_threads(
        spec in prop::collection::vec((any::<u8>(), -100_i64..100, prop::collection::vec(0_usize..1000, 0..4)), 1..40),
        ranks in 2_usize..5,
    ) {
        let (g, keys) = random_graph(&spec);
        let want = threads(&g, &keys);
        let out = spmd(ranks, 1, |_, _| random_graph(&spec));
        prop_assert_eq!(out[0][0].as_ref().unwrap(), &want);
        for r in &out[0][1..] {
            prop_assert!(r.as_ref().unwrap().is_empty());
        }
    }
}

#[test]
fn callbacks_on_rank_0_see_every_task() {
    use rask_scheduler::Callback;
    use std::sync::atomic::{AtomicUsize, Ordering};
    #[derive(Default)]
    struct Count {
        started: AtomicUsize,
        finished: AtomicUsize,
        failed: AtomicUsize,
    }
    impl Callback for Count {
        fn task_started(&self, _: &rask_scheduler::TaskEvent<'_>) {
            self.started.fetch_add(1, Ordering::Relaxed);
        }
        fn task_finished(&self, _: &rask_scheduler::TaskEvent<'_>) {
            self.finished.fetch_add(1, Ordering::Relaxed);
        }
        fn task_failed(&self, _: &rask_scheduler::TaskEvent<'_>) {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
    for (fails, (g, keys)) in [(false, fan(100)), (true, failing(false))] {
        let count = Count::default();
        let links = world(3);
        std::thread::scope(|s| {
            for link in &links {
                let (g, keys, count) = (&g, &keys, &count);
                s.spawn(move || {
                    let plan = Plan::for_keys(g, keys).unwrap();
                    let callbacks: Vec<&dyn Callback> =
                        if link.rank == 0 { vec![count] } else { vec![] };
                    let mut session = Session::default();
                    let _ = run(link, &mut session, g, &plan, 2, &callbacks);
                });
            }
        });
        let (started, finished, failed) = (
            count.started.load(Ordering::Relaxed),
            count.finished.load(Ordering::Relaxed),
            count.failed.load(Ordering::Relaxed),
        );
        if fails {
            assert_eq!(failed, 1);
            assert!(finished < started);
        } else {
            assert_eq!((started, finished, failed), (201, 201, 0));
        }
    }
}

/// The living (not zombie) processes whose command line has `marker`.
#[cfg(target_os = "linux")]
fn alive(marker: &str) -> Vec<u32> {
    rask_graph::programs::process_table()
        .into_iter()
        .filter(|p| !p.zombie)
        .filter(|p| {
            std::fs::read(format!("/proc/{}/cmdline", p.pid))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .map(|p| p.pid)
        .collect()
}

/// A `shell` task: a `sleep` of length `marker` in the background, the
/// file `ready` written, then (when `stay`) a `sleep` in the foreground.
#[cfg(target_os = "linux")]
fn background(marker: &str, ready: &std::path::Path, stay: bool) -> Task {
    let shell = rask_graph::Registry::with_builtins()
        .get("shell")
        .cloned()
        .unwrap();
    let script = format!(
        "sleep {marker} >/dev/null 2>&1 & touch {}; {}",
        ready.display(),
        if stay {
            format!("sleep {marker}")
        } else {
            "echo started".into()
        }
    );
    Task::call(
        &shell,
        [
            Task::quote("sh"),
            Task::quote("-c"),
            Task::quote(Value::Str(script.into())),
        ],
    )
}

#[cfg(target_os = "linux")]
#[test]
fn the_programs_of_shell_tasks_end_with_the_run_on_every_rank() {
    let dir = std::env::temp_dir().join(format!("rask-mpi-programs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // the sleeps' odd lengths name them among the machine's processes
    let (done, failed) = (
        format!("20.{}1", std::process::id()),
        format!("20.{}2", std::process::id()),
    );
    let ready = dir.join("ready");
    // over: what the task left in the background ends with the run
    let out = spmd(3, 1, |_, _| {
        let mut g = Graph::new();
        g.insert("bg", background(&done, &dir.join("unused"), false));
        (g, vec!["bg".into()])
    });
    assert_eq!(out[0][0].as_ref().unwrap(), &[Value::from("started\n")]);
    assert_eq!(alive(&done), Vec::<u32>::new());
    // failed: the running task's program ends, and the run does not wait
    let t0 = Instant::now();
    let out = spmd(3, 1, |_, _| {
        let file = ready.clone();
        let fail = Function::fallible("fail_when_ready", move |x: i64| -> Result<i64, String> {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !file.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(format!("failed on purpose ({x})"))
        });
        let mut g = Graph::new();
        g.insert("bg", background(&failed, &ready, true));
        g.insert("bad", Task::call(&fail, [Task::quote(1)]));
        (g, vec!["bg".into(), "bad".into()])
    });
    let elapsed = t0.elapsed();
    let left = alive(&failed);
    for pid in &left {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    let _ = std::fs::remove_dir_all(&dir);
    for r in &out[0] {
        let e = r.as_ref().unwrap_err();
        assert!(e.to_string().contains("failed on purpose"), "{e}");
    }
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert_eq!(left, Vec::<u32>::new());
}
