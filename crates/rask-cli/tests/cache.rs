//! `rask run --cache DIR`: a re-run loads what finished and computes the
//! rest, `--stats` counts both, a killed or failed run resumes, damaged
//! entries are recomputed, and an unwritable directory is an error at
//! start.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::{rask, stderr, stdout, write};

/// Runs `rask run FILE --cache DIR --stats EXTRA...` and returns its
/// stdout and the (executed, cached, tasks) of its stats.
fn run_cached(file: &Path, cache: &Path, extra: &[&str]) -> (Output, Option<(u64, u64, u64)>) {
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--stats",
        "--allow",
        "shell",
    ];
    args.extend_from_slice(extra);
    let o = rask(&args);
    let stats = stderr(&o)
        .lines()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|s| {
            let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("no {k} in {s}"));
            (n("executed"), n("cached"), n("tasks"))
        });
    (o, stats)
}

/// Where the entries of a cache directory are (small ones are records in
/// logs: a file and an offset).
fn entries(cache: &Path) -> Vec<rask::cache::EntryLocation> {
    rask::cache::Cache::open(cache).unwrap().entries()
}

const GRAPH: &str = r#"{"x": 1, "w": 5,
  "y": {"call": "inc", "args": ["x"]},
  "z": {"call": "add", "args": ["y", "w"]},
  "v": {"call": "mul", "args": ["w", 3]}}"#;

#[test]
fn stats_count_executed_and_cached_calls() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "g.json", GRAPH);
    let cache = dir.path().join("new/cache");
    for sched in ["sync", "threads"] {
        let _ = std::fs::remove_dir_all(&cache);
        let (o, stats) = run_cached(&f, &cache, &["--scheduler", sched]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "{\"z\":7,\"v\":15}\n");
        assert_eq!(stats, Some((3, 0, 5)), "{}", stderr(&o));
        assert!(cache.join("CACHEDIR.TAG").is_file());

        let (again, stats) = run_cached(&f, &cache, &["--scheduler", sched]);
        assert_eq!(stdout(&again), stdout(&o));
        // z and v load; nothing else is needed
        assert_eq!(stats, Some((0, 3, 2)), "{}", stderr(&again));
    }

    // x changes: y and z run again, v does not
    let f2 = write(
        dir.path(),
        "g2.json",
        &GRAPH.replace("\"x\": 1", "\"x\": 2"),
    );
    let (o, stats) = run_cached(&f2, &cache, &[]);
    assert_eq!(stdout(&o), "{\"z\":8,\"v\":15}\n");
    assert_eq!(stats, Some((2, 1, 5)), "{}", stderr(&o));

    // without --cache there are no such figures
    let o = rask(&["run", f.to_str().unwrap(), "--stats"]);
    let s: serde_json::Value = serde_json::from_str(stderr(&o).trim()).unwrap();
    assert!(
        s.get("executed").is_none() && s.get("cached").is_none(),
        "{s}"
    );
}

/// x → a → b → step → c → out, where `step` runs `script` with the marker
/// file and b's value as $1 and $2.
fn chain(dir: &Path, script: &str) -> (PathBuf, PathBuf) {
    let marker = dir.join("marker");
    let text = serde_json::json!({
        "x": 1,
        "a": {"call": "inc", "args": ["x"]},
        "b": {"call": "inc", "args": ["a"]},
        "step": {"call": "shell", "args": ["sh", "-c", script, "sh", marker.to_str().unwrap(), "b"]},
        "c": {"call": "len", "args": ["step"]},
        "out": {"call": "add", "args": ["c", "b"]},
    });
    (write(dir, "chain.json", &text.to_string()), marker)
}

#[test]
fn a_failed_run_resumes_computing_only_what_did_not_finish() {
    for sched in ["sync", "threads"] {
        let dir = tempfile::tempdir().unwrap();
        let (f, marker) = chain(
            dir.path(),
            r#"if [ -e "$1" ]; then echo "node lost" >&2; exit 1; fi; echo "$2""#,
        );
        std::fs::write(&marker, "").unwrap();
        let cache = dir.path().join("cache");
        let (o, stats) = run_cached(&f, &cache, &["--scheduler", sched]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("task \"step\" failed"),
            "{}",
            stderr(&o)
        );
        assert_eq!(stats, Some((5, 0, 6)));

        std::fs::remove_file(&marker).unwrap();
        let (o, stats) = run_cached(&f, &cache, &["--scheduler", sched]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "{\"out\":5}\n");
        // step, c and out run; a and b load (b is an input of step and out)
        assert_eq!(stats, Some((3, 2, 4)), "{}", stderr(&o));
    }
}

#[test]
fn a_killed_run_resumes_computing_only_what_did_not_finish() {
    let dir = tempfile::tempdir().unwrap();
    // step waits while the marker exists
    let (f, marker) = chain(
        dir.path(),
        r#"while [ -e "$1" ]; do sleep 0.05; done; echo "$2""#,
    );
    std::fs::write(&marker, "").unwrap();
    let cache = dir.path().join("cache");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rask"))
        .args([
            "run",
            f.to_str().unwrap(),
            "--cache",
            cache.to_str().unwrap(),
            "--allow",
            "shell",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // a and b finish, then step hangs: kill the job
    let start = Instant::now();
    while entries(&cache).len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "a and b never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(&marker).unwrap(); // lets the orphaned `sh` end too
    assert_eq!(entries(&cache).len(), 2);

    let (o, stats) = run_cached(&f, &cache, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"out\":5}\n");
    assert_eq!(stats, Some((3, 2, 4)), "{}", stderr(&o));
}

#[test]
fn damaged_entries_are_recomputed_not_returned() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "g.json", GRAPH);
    let cache = dir.path().join("cache");
    let (first, _) = run_cached(&f, &cache, &[]);
    let mut files = entries(&cache);
    assert_eq!(files.len(), 3);
    // the last in its file first: a shorter entry moves what follows it
    files.sort_by(|a, b| b.cmp(a));
    for (i, at) in files.iter().enumerate() {
        let b = std::fs::read(&at.path).unwrap();
        let (start, end) = (at.offset as usize, (at.offset + at.len) as usize);
        let mut entry = b[start..end].to_vec();
        if i % 2 == 0 {
            let last = entry.len() - 1;
            entry[last] ^= 0x01; // flip a bit of the value
        } else {
            entry.truncate(entry.len() / 2);
        }
        std::fs::write(&at.path, [&b[..start], &entry[..], &b[end..]].concat()).unwrap();
    }
    let (o, stats) = run_cached(&f, &cache, &[]);
    assert_eq!(stdout(&o), stdout(&first), "{}", stderr(&o));
    assert_eq!(stats, Some((3, 0, 5)));
    let (_, stats) = run_cached(&f, &cache, &[]);
    assert_eq!(stats, Some((0, 3, 2)), "the entries were rewritten");
}

#[test]
fn an_unwritable_cache_directory_is_an_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "g.json", GRAPH);
    let not_dir = write(dir.path(), "a-file", "");
    let bad = not_dir.join("cache");
    let o = rask(&["run", f.to_str().unwrap(), "--cache", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).starts_with(&format!(
            "rask: error: cache directory {}: not writable: ",
            bad.display()
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn forked_workers_store_in_logs_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "g.json", GRAPH);
    let cache = dir.path().join("cache");
    let (o, stats) = run_cached(&f, &cache, &["--scheduler", "processes", "--workers", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"z\":7,\"v\":15}\n");
    assert_eq!(stats, Some((3, 0, 5)), "{}", stderr(&o));
    assert_eq!(entries(&cache).len(), 3);
    for sched in ["processes", "threads"] {
        let (again, stats) = run_cached(&f, &cache, &["--scheduler", sched]);
        assert_eq!(stdout(&again), stdout(&o), "{}", stderr(&again));
        assert_eq!(stats, Some((0, 3, 2)), "{sched}: {}", stderr(&again));
    }
}

#[test]
fn runs_sharing_a_cache_at_once_lose_nothing() {
    // four runs of one chain at once, then one that computes nothing
    let dir = tempfile::tempdir().unwrap();
    let n = 2000;
    let mut g = serde_json::Map::new();
    g.insert("c-0".into(), 0.into());
    for i in 1..n {
        g.insert(
            format!("c-{i}"),
            serde_json::json!({"call": "inc", "args": [format!("c-{}", i - 1)]}),
        );
    }
    let f = Arc::new(write(
        dir.path(),
        "chain.json",
        &serde_json::Value::Object(g).to_string(),
    ));
    let cache = Arc::new(dir.path().join("cache"));
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let (f, cache) = (f.clone(), cache.clone());
            std::thread::spawn(move || run_cached(&f, &cache, &[]))
        })
        .collect();
    for r in runs {
        let (o, stats) = r.join().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), format!("{{\"c-{}\":{}}}\n", n - 1, n - 1));
        let (executed, cached, _) = stats.unwrap();
        assert_eq!(executed + cached, n as u64 - 1);
    }
    let (o, stats) = run_cached(&f, &cache, &[]);
    assert_eq!(stdout(&o), format!("{{\"c-{}\":{}}}\n", n - 1, n - 1));
    assert_eq!(stats, Some((0, n as u64 - 1, 1)), "{}", stderr(&o));
}

#[test]
fn a_cache_that_cannot_be_written_serves_what_it_holds_with_a_warning() {
    if nix_root() {
        // root writes anyway: rask-cache's own tests cover this case by
        // making the log directory a file
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "g.json", GRAPH);
    let cache = dir.path().join("cache");
    let (first, _) = run_cached(&f, &cache, &[]);
    let set_mode = |p: &Path, mode| {
        let mut perms = std::fs::metadata(p).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, mode);
        std::fs::set_permissions(p, perms).unwrap();
    };
    set_mode(&cache.join("log"), 0o555);
    set_mode(&cache, 0o555);
    let (o, stats) = run_cached(&f, &cache, &[]);
    set_mode(&cache, 0o755);
    set_mode(&cache.join("log"), 0o755);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&first));
    assert_eq!(stats, Some((0, 3, 2)), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rask: warning: cache directory"),
        "{}",
        stderr(&o)
    );
}

/// Whether this process can write where permissions say it cannot.
fn nix_root() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    std::fs::set_permissions(&ro, perms).unwrap();
    let root = std::fs::write(ro.join("probe"), "").is_ok();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&ro, perms).unwrap();
    root
}
