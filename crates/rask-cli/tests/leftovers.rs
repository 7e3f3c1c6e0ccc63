//! No program a `shell` task started outlives `rask run` (Linux): not the
//! plain background ones, not those that `setsid` or fork twice out of the
//! task's process group, on every scheduler, whether the run succeeds,
//! fails, times out or is ended by `SIGINT`/`SIGTERM`.
//!
//! Every program of a test carries a marker no other process has (the odd
//! length of its `sleep`, also in the text of the `sh -c` script), and the
//! test looks for it in every `/proc/PID/cmdline` once rask has exited.
//! The test's guards kill whatever carries its marker, and rask itself,
//! even when an assertion fails.
#![cfg(target_os = "linux")]

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::write;

/// A string that names a test's programs among the machine's processes:
/// a `sleep` length of about 3000 s with this test process's id and a
/// counter in its decimals. Dropping it kills every process that has it.
struct Marker(String);

impl Marker {
    fn new() -> Marker {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Marker(format!("3000.{}0{n}", std::process::id()))
    }

    /// The living processes (zombies are dead) whose command line has the
    /// marker, with that command line.
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
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// A `rask run` in the background, killed (with `SIGKILL`) if the test
/// ends before it does.
struct Run(Child);

impl Run {
    fn start(file: &Path, scheduler: &str, extra: &[&str]) -> Run {
        let child = Command::new(env!("CARGO_BIN_EXE_rask"))
            .args(["run", file.to_str().unwrap(), "--allow", "shell"])
            .args(["--scheduler", scheduler])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the rask binary runs");
        Run(child)
    }

    /// Waits for rask to exit (10 s at most): its status and stderr.
    fn wait(&mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.0.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                return (status, err);
            }
            assert!(Instant::now() < deadline, "rask did not exit in 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The script of a `shell` task that starts, in the background, a plain
/// `sleep`, a `setsid` one (a new session and group), a `setsid` shell
/// with a `sleep` of its own, and a double fork; it writes `ready` when
/// all are started, then waits in a `sleep` of its own when `stay`.
fn script(m: &Marker, ready: &Path, stay: bool) -> String {
    let m = &m.0;
    let quiet = ">/dev/null 2>&1";
    format!(
        "sleep {m} {quiet} & setsid sleep {m} {quiet} & \
         setsid sh -c 'sleep {m}; :' {quiet} & (sleep {m} {quiet} &); \
         touch {ready}; {last}",
        ready = ready.display(),
        last = if stay {
            format!("sleep {m}")
        } else {
            "echo started".into()
        }
    )
}

/// A graph whose task `bg` runs [`script`], with a plain task beside it.
fn graph(dir: &Path, m: &Marker, stay: bool) -> std::path::PathBuf {
    let text = serde_json::json!({
        "x": 1,
        "y": {"call": "inc", "args": ["x"]},
        "bg": {"call": "shell", "args": ["sh", "-c", script(m, &dir.join("ready"), stay)]},
    });
    write(dir, "bg.json", &text.to_string())
}

/// Waits (5 s at most) for the file a script writes when its programs are
/// started; the `sh -c` forks carry the marker from the start.
fn wait_ready(dir: &Path, m: &Marker) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !dir.join("ready").exists() {
        assert!(Instant::now() < deadline, "the shell task did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    // the plain sleep, the setsid one, the setsid shell and its sleep, the
    // double fork's sleep, and the task's own shell: at least five
    assert!(m.alive().len() >= 5, "{:?}", m.alive());
}

const SCHEDULERS: [&str; 3] = ["sync", "threads", "processes"];

#[test]
fn programs_left_in_the_background_end_with_a_run_that_succeeds() {
    for sched in SCHEDULERS {
        let dir = tempfile::tempdir().unwrap();
        let m = Marker::new();
        let f = graph(dir.path(), &m, false);
        let mut run = Run::start(&f, sched, &[]);
        let (status, err) = run.wait();
        assert_eq!(status.code(), Some(0), "{sched}: {err}");
        let mut out = String::new();
        std::io::Read::read_to_string(run.0.stdout.as_mut().unwrap(), &mut out).unwrap();
        assert_eq!(out, "{\"y\":2,\"bg\":\"started\\n\"}\n", "{sched}");
        assert!(dir.path().join("ready").exists());
        assert_eq!(m.alive(), vec![], "{sched}: programs outlived the run");
    }
}

#[test]
fn programs_end_with_a_run_that_fails() {
    for sched in SCHEDULERS {
        let dir = tempfile::tempdir().unwrap();
        let m = Marker::new();
        let text = serde_json::json!({
            "bg": {"call": "shell", "args": ["sh", "-c", script(&m, &dir.path().join("ready"), false)]},
            "bad": {"call": "fail", "args": [{"call": "concat", "args": ["bg", "no good"]}]},
        });
        let f = write(dir.path(), "fails.json", &text.to_string());
        let (status, err) = Run::start(&f, sched, &[]).wait();
        assert_eq!(status.code(), Some(1), "{sched}: {err}");
        assert!(err.contains("no good"), "{sched}: {err}");
        assert_eq!(m.alive(), vec![], "{sched}: programs outlived the run");
    }
}

#[test]
fn programs_end_when_the_run_is_interrupted() {
    for (sched, signal, number) in [
        ("sync", "INT", libc::SIGINT),
        ("threads", "INT", libc::SIGINT),
        ("processes", "INT", libc::SIGINT),
        ("threads", "TERM", libc::SIGTERM),
        ("processes", "TERM", libc::SIGTERM),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let m = Marker::new();
        let f = graph(dir.path(), &m, true);
        let mut run = Run::start(&f, sched, &[]);
        wait_ready(dir.path(), &m);
        run.signal(signal);
        let (status, err) = run.wait();
        // rask ends as the signal ends a program: the shell says 128 + n
        assert_eq!(
            status.signal(),
            Some(number),
            "{sched} {signal}: {status:?}: {err}"
        );
        assert_eq!(
            m.alive(),
            vec![],
            "{sched} {signal}: programs outlived the run"
        );
    }
}

#[test]
fn programs_end_when_the_run_times_out() {
    for sched in SCHEDULERS {
        let dir = tempfile::tempdir().unwrap();
        let m = Marker::new();
        let f = graph(dir.path(), &m, true);
        let (status, err) = Run::start(&f, sched, &["--timeout", "1"]).wait();
        assert_eq!(status.code(), Some(1), "{sched}: {err}");
        assert!(
            err.contains("--timeout") && err.contains("\"bg\""),
            "{sched}: {err}"
        );
        assert!(dir.path().join("ready").exists(), "{sched}: {err}");
        assert_eq!(m.alive(), vec![], "{sched}: programs outlived the run");
    }
}

/// This process's cgroup v2 directory, if a cgroup can be made below it
/// (as `rask run` makes its run's): a probe is made and removed at once.
fn writable_cgroup() -> Option<std::path::PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = mountinfo.lines().find_map(|l| {
        let (fields, rest) = l.split_once(" - ")?;
        (rest.split_whitespace().next()? == "cgroup2")
            .then(|| fields.split_whitespace().nth(4).map(str::to_string))?
    })?;
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let own = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = Path::new(&mount).join(own.trim_start_matches('/'));
    let probe = dir.join(format!("rask-probe-{}", std::process::id()));
    (std::fs::create_dir(&probe).is_ok() && std::fs::remove_dir(&probe).is_ok()).then_some(dir)
}

#[test]
fn the_run_has_a_cgroup_of_its_own_where_one_can_be_made() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "cg.json",
        r#"{"cg": {"call": "shell", "args": ["sh", "-c", "grep ^0:: /proc/self/cgroup"]}}"#,
    );
    let mut run = Run::start(&f, "threads", &[]);
    let name = format!("rask-run-{}", run.0.id());
    let (status, err) = run.wait();
    assert_eq!(status.code(), Some(0), "{err}");
    let mut out = String::new();
    std::io::Read::read_to_string(run.0.stdout.as_mut().unwrap(), &mut out).unwrap();
    let Some(cgroups) = writable_cgroup() else {
        // no cgroup: the subreaper alone (the tests above)
        assert!(!out.contains(&name), "{out}");
        eprintln!("no writable cgroup v2 here: the run had none");
        return;
    };
    // the task's program ran in the run's cgroup, removed at the end
    assert!(out.contains(&format!("/{name}\\n")), "{out}");
    assert!(!cgroups.join(&name).exists(), "{name} was left");
}
