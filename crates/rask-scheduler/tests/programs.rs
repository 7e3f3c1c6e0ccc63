//! The programs `shell` tasks start end with a `Sync` or `Threads` run
//! (Linux), with what they left in the background in their process group:
//! when the run is over, when another task fails (the running `shell`
//! task's program is ended, so the run does not wait for it) and when the
//! run is cancelled.
//!
//! Every program carries a marker (the odd length of its `sleep`, also in
//! the text of its `sh -c` script), looked for in `/proc/PID/cmdline`; a
//! guard kills whatever carries it, also when an assertion fails. The
//! sleeps are 20-odd seconds long: a run that waited for them would show.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rask::{
    get_with, ComputeError, Executor, Function, Graph, Registry, Sync, Task, Threads, Value,
};

struct Marker(String);

impl Marker {
    fn new() -> Marker {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Marker(format!("20.{}0{n}", std::process::id()))
    }

    /// The living (not zombie) processes whose command line has the marker.
    fn alive(&self) -> Vec<String> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
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
                found.push(format!(
                    "{}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
        found
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = Command::new("pkill").args(["-9", "-f", &self.0]).status();
    }
}

/// A `shell` task: a `sleep` in the background (same group), `ready`
/// written, then a `sleep` in the foreground when `stay`, or "started".
fn background(m: &Marker, ready: &Path, stay: bool) -> Task {
    let shell = Registry::with_builtins().get("shell").cloned().unwrap();
    let m = &m.0;
    let script = format!(
        "sleep {m} >/dev/null 2>&1 & touch {ready}; {last}",
        ready = ready.display(),
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

/// Waits (5 s at most) for `ready` to exist.
fn wait_for(ready: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ready.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn background_programs_end_with_the_run() {
    for executor in [&Sync as &dyn Executor, &Threads::new(2)] {
        let dir = tempfile::tempdir().unwrap();
        let m = Marker::new();
        let mut g = Graph::new();
        g.insert("bg", background(&m, &dir.path().join("ready"), false));
        let v = get_with(executor, &g, "bg", &[]).unwrap();
        assert_eq!(v, Value::from("started\n"));
        assert_eq!(m.alive(), Vec::<String>::new(), "{}", executor.name());
    }
}

#[test]
fn a_failure_ends_the_programs_of_the_running_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let m = Marker::new();
    let fail_when_ready = {
        let ready = ready.clone();
        Function::fallible("fail_when_ready", move |x: i64| -> Result<i64, String> {
            wait_for(&ready);
            Err(format!("failed on purpose ({x})"))
        })
    };
    let mut g = Graph::new();
    g.insert("bg", background(&m, &ready, true));
    g.insert("bad", Task::call(&fail_when_ready, [Task::quote(1)]));
    let t0 = Instant::now();
    let e = Threads::new(2).get(&g, vec!["bg", "bad"]).unwrap_err();
    assert!(e.to_string().contains("failed on purpose"), "{e}");
    assert!(ready.exists());
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert_eq!(m.alive(), Vec::<String>::new());
}

#[test]
fn a_cancel_ends_the_programs_of_the_running_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let m = Marker::new();
    let mut g = Graph::new();
    g.insert("bg", background(&m, &ready, true));
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let e = std::thread::scope(|s| {
        s.spawn(|| {
            wait_for(&ready);
            stop.store(true, Ordering::Relaxed);
        });
        Threads::new(2).cancel_on(stop.clone()).get(&g, "bg")
    })
    .unwrap_err();
    assert!(matches!(e, ComputeError::Cancelled), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert_eq!(m.alive(), Vec::<String>::new());
}
