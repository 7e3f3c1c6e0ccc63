//! No program a `shell` task started outlives a `Processes` run (Linux),
//! even when it left the task's process group (`setsid`, a double fork)
//! and the program using rask is not a subreaper: every worker is one, and
//! ends its descendants when the run ends; a worker killed because the
//! run failed is killed with its whole tree. And a program that makes
//! itself a subreaper ends what `Threads` tasks left with
//! [`reaper::end_descendants`].
//!
//! One `#[test]`, scenarios one after the other: the program must not
//! fork while other test threads run. Every program carries a marker (the
//! odd length of its `sleep`), looked for in `/proc/PID/cmdline`; a guard
//! kills whatever carries it, also when an assertion fails.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::time::{Duration, Instant};

use rask_graph::{Function, Graph, Registry, Task, Value};
use rask_processes::{reaper, Processes};
use rask_scheduler::{Executor, Threads};

/// A `sleep` length unique to this test process and scenario; dropping
/// it kills every process that carries it.
struct Marker(String);

impl Marker {
    fn new(n: u32) -> Marker {
        Marker(format!("3001.{}0{n}", std::process::id()))
    }

    /// The living (not zombie) processes whose command line has the marker.
    fn alive(&self) -> Vec<(u32, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let zombie = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .map(|(_, r)| r.trim_start().starts_with('Z'))
                })
                .unwrap_or(true);
            if cmdline.contains(&self.0) && !zombie {
                found.push((pid, cmdline));
            }
        }
        found
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        for (pid, _) in self.alive() {
            if let Ok(pid) = i32::try_from(pid) {
                // SAFETY: sends a signal to a process found just now; no
                // memory is shared.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

/// A `shell` task whose script starts a plain, a `setsid` and a
/// double-forked `setsid` `sleep` in the background, waits until both
/// `setsid` ones have left its session (each writes a file then), writes
/// `ready`, then waits in a `sleep` of its own when `stay`, or returns
/// "started".
fn background(m: &Marker, ready: &Path, stay: bool) -> Task {
    let shell = Registry::with_builtins().get("shell").cloned().unwrap();
    let m = &m.0;
    let quiet = ">/dev/null 2>&1";
    let r = ready.display();
    let script = format!(
        "sleep {m} {quiet} & setsid sh -c 'touch {r}.1; exec sleep {m}' {quiet} & \
         (setsid sh -c 'touch {r}.2; exec sleep {m}' {quiet} &); \
         while [ ! -e {r}.1 ] || [ ! -e {r}.2 ]; do sleep 0.01; done; touch {r}; {last}",
        last = if stay {
            format!("sleep {m}")
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

/// A task that fails once `ready` exists (5 s at most).
fn fail_when(ready: &Path) -> Task {
    let ready = ready.to_path_buf();
    let f = Function::fallible("fail_when_ready", move |x: i64| -> Result<i64, String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !ready.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(format!("failed on purpose ({x})"))
    });
    Task::call(&f, [Task::quote(1)])
}

fn programs_end_with_a_run_that_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let m = Marker::new(0);
    let ready = dir.path().join("ready");
    let mut g = Graph::new();
    g.insert("bg", background(&m, &ready, false));
    let v = Processes::new(2).get(&g, "bg").unwrap();
    assert_eq!(v, Value::from("started\n"));
    assert!(ready.exists());
    assert_eq!(
        m.alive(),
        Vec::<(u32, String)>::new(),
        "programs outlived the run"
    );
}

fn programs_end_with_a_run_that_fails_while_they_run() {
    let dir = tempfile::tempdir().unwrap();
    let m = Marker::new(1);
    let ready = dir.path().join("ready");
    let mut g = Graph::new();
    g.insert("bg", background(&m, &ready, true));
    g.insert("bad", fail_when(&ready));
    let t0 = Instant::now();
    let e = Processes::new(2).get(&g, vec!["bg", "bad"]).unwrap_err();
    assert!(e.to_string().contains("failed on purpose"), "{e}");
    assert!(ready.exists(), "{e}");
    // the failure ended the other worker's task at once
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(
        m.alive(),
        Vec::<(u32, String)>::new(),
        "programs outlived the run"
    );
}

fn a_subreaper_program_ends_what_threads_tasks_left() {
    let dir = tempfile::tempdir().unwrap();
    let m = Marker::new(2);
    let ready = dir.path().join("ready");
    let mut g = Graph::new();
    g.insert("bg", background(&m, &ready, false));
    reaper::set_subreaper().unwrap();
    assert!(reaper::is_subreaper());
    let v = Threads::new(2).get(&g, "bg").unwrap();
    assert_eq!(v, Value::from("started\n"));
    // the plain `sleep` ended with its group (the run's); the setsid ones
    // left it, and came to this process
    assert_eq!(m.alive().len(), 2, "{:?}", m.alive());
    let me = std::process::id();
    let mine = reaper::descendants(me);
    assert!(m.alive().iter().all(|(pid, _)| mine.contains(pid)));
    assert_eq!(reaper::end_descendants(Duration::from_millis(200)), 2);
    assert_eq!(
        m.alive(),
        Vec::<(u32, String)>::new(),
        "programs outlived end_descendants"
    );
    assert_eq!(reaper::descendants(me), Vec::<u32>::new());
}

#[test]
fn no_program_outlives_the_run() {
    programs_end_with_a_run_that_succeeds();
    programs_end_with_a_run_that_fails_while_they_run();
    // (last: it makes the test process a subreaper)
    a_subreaper_program_ends_what_threads_tasks_left();
}
