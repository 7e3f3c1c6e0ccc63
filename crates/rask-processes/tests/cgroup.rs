//! A run's cgroup (v2) holds the programs that left the process tree: with
//! no subreaper, a double-forked `sleep` goes to `init`, out of reach of
//! `reaper::descendants`, but it was born in the cgroup, and
//! `RunCgroup::end` kills it and removes the cgroup.
//!
//! Runs only where a cgroup v2 hierarchy is writable (the test says so and
//! passes elsewhere: containers rarely allow it). Its own test binary: it
//! moves the test process into the cgroup and back.
#![cfg(target_os = "linux")]

use std::process::Command;
use std::time::{Duration, Instant};

use rask_processes::reaper::{self, CgroupError, RunCgroup};

/// The living processes whose command line has `marker`.
fn alive(marker: &str) -> Vec<u32> {
    rask::programs::process_table()
        .into_iter()
        .filter(|p| !p.zombie)
        .filter(|p| {
            std::fs::read(format!("/proc/{}/cmdline", p.pid))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .map(|p| p.pid)
        .collect()
}

#[test]
fn the_cgroup_ends_what_left_the_tree() {
    // an empty cgroup of a run killed before it could remove it (a process
    // id above Linux's largest: that run is surely gone), with a child
    let stale = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("0::"))
                .map(str::to_string)
        })
        .and_then(|own| {
            let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
            let mount = info.lines().find_map(|l| {
                let (fields, rest) = l.split_once(" - ")?;
                (rest.split_whitespace().next()? == "cgroup2")
                    .then(|| fields.split_whitespace().nth(4).map(str::to_string))?
            })?;
            let stale = std::path::Path::new(&mount)
                .join(own.trim_start_matches('/'))
                .join("rask-run-4194400");
            std::fs::create_dir_all(stale.join("inner")).ok()?;
            Some(stale)
        });
    let cgroup = match RunCgroup::enter() {
        Ok(c) => c,
        Err(e @ (CgroupError::NotMounted | CgroupError::NoOwnCgroup | CgroupError::Io { .. })) => {
            eprintln!("skipped: no writable cgroup v2 here: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert!(cgroup.path().is_dir());
    let stale = stale.expect("a cgroup could be made: so could the stale one");
    assert!(!stale.exists(), "the stale cgroup was removed");
    let marker = format!("3002.{}", std::process::id());
    let script = format!("(sleep {marker} >/dev/null 2>&1 &)");
    assert!(Command::new("sh")
        .args(["-c", &script])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let left = alive(&marker);
    assert_eq!(left.len(), 1, "{left:?}");
    // out of the tree (this process is no subreaper), in the cgroup
    assert!(!reaper::descendants(std::process::id()).contains(&left[0]));
    let own = std::fs::read_to_string(format!("/proc/{}/cgroup", left[0])).unwrap();
    let name = cgroup
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(own.contains(&name), "{own}");
    let killed = cgroup.end(Duration::from_secs(2));
    for pid in alive(&marker) {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert_eq!(killed.unwrap(), 1);
    assert!(!cgroup.path().exists());
    assert_eq!(alive(&marker), Vec::<u32>::new());
    // this process is back where it was
    let mine = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    assert!(!mine.contains(&name), "{mine}");
}
