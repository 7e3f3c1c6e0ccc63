//! The groupby shuffle under a memory budget small enough to spill: the
//! same groups as in memory, and no temporary file left behind, after
//! success, a failed task or a panic.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rask_bag::{from_sequence, BagError, Shuffle};
use rask_scheduler::{Callback, Executor, Sync, TaskEvent, Threads};

/// Records `(user, payload)`: 40 users, payloads of ~100 bytes.
fn records(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let user = format!("user{}", (i * 7919) % 40);
            (user, format!("{i:06}-{}", "x".repeat(90)))
        })
        .collect()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

/// Counts the spill files present when each split task ends.
struct SpillWatch<'a> {
    dir: &'a Path,
    most: AtomicUsize,
}

impl Callback for SpillWatch<'_> {
    fn task_finished(&self, event: &TaskEvent<'_>) {
        if event.key.name().starts_with("groupby-split") {
            let n = files_under(self.dir)
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "cbor"))
                .count();
            self.most.fetch_max(n, Ordering::SeqCst);
        }
    }
}

fn expected_groups(rs: &[(String, String)]) -> Vec<(String, Vec<(String, String)>)> {
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for r in rs {
        match groups.iter_mut().find(|g| g.0 == r.0) {
            Some(g) => g.1.push(r.clone()),
            None => groups.push((r.0.clone(), vec![r.clone()])),
        }
    }
    groups.sort();
    groups
}

#[test]
fn a_groupby_that_spills_gives_the_in_memory_groups_and_leaves_no_file() {
    let rs = records(20_000); // about 2.5 MB of records
    let expected = expected_groups(&rs);
    let bag = from_sequence(rs, 2_500);
    for ex in [&Sync as &dyn Executor, &Threads::new(2)] {
        let spill = tempfile::tempdir().unwrap();
        let shuffle = Shuffle::new()
            .npartitions(5)
            .memory_budget(64 << 10)
            .spill_dir(spill.path());
        let grouped = bag
            .map(|r| r)
            .groupby_with(|r: &(String, String)| r.0.clone(), &shuffle);
        let watch = SpillWatch {
            dir: spill.path(),
            most: AtomicUsize::new(0),
        };
        let mut got = grouped.compute_with(ex, &[&watch]).unwrap();
        got.sort();
        assert_eq!(got, expected, "{}", ex.name());
        assert!(
            watch.most.load(Ordering::SeqCst) >= 5,
            "the shuffle did not spill ({})",
            ex.name()
        );
        assert_eq!(files_under(spill.path()), Vec::<std::path::PathBuf>::new());
        // the same bag computes again, the same way
        let mut again = grouped.compute(ex).unwrap();
        again.sort();
        assert_eq!(again, expected);
        assert!(files_under(spill.path()).is_empty());
    }
}

#[test]
fn a_generous_budget_does_not_spill() {
    let rs = records(2_000);
    let spill = tempfile::tempdir().unwrap();
    let shuffle = Shuffle::new().spill_dir(spill.path());
    let watch = SpillWatch {
        dir: spill.path(),
        most: AtomicUsize::new(0),
    };
    let got = from_sequence(rs.clone(), 300)
        .groupby_with(|r: &(String, String)| r.0.clone(), &shuffle)
        .count()
        .compute_with(&Threads::new(2), &[&watch])
        .unwrap();
    assert_eq!(got, 40);
    assert_eq!(watch.most.load(Ordering::SeqCst), 0);
    assert!(files_under(spill.path()).is_empty());
}

#[test]
fn spill_files_are_removed_when_a_task_fails() {
    let rs = records(20_000);
    let spill = tempfile::tempdir().unwrap();
    let shuffle = Shuffle::new()
        .memory_budget(32 << 10)
        .spill_dir(spill.path());
    // the last partition fails, after the others have spilled
    let bag = from_sequence(rs, 2_000).try_map(|r: (String, String)| {
        if r.1.starts_with("019999") {
            Err("bad record")
        } else {
            Ok(r)
        }
    });
    let grouped = bag.groupby_with(|r: &(String, String)| r.0.clone(), &shuffle);
    let watch = SpillWatch {
        dir: spill.path(),
        most: AtomicUsize::new(0),
    };
    for ex in [&Sync as &dyn Executor, &Threads::new(2)] {
        let err = grouped.compute_with(ex, &[&watch]).unwrap_err();
        assert!(
            matches!(BagError::find(&err), Some(BagError::Record { .. })),
            "{err}"
        );
        assert!(files_under(spill.path()).is_empty(), "{}", ex.name());
    }
    assert!(
        watch.most.load(Ordering::SeqCst) > 0,
        "the shuffle did not spill"
    );
}

#[test]
fn spill_files_are_removed_when_a_task_panics() {
    let rs = records(20_000);
    let spill = tempfile::tempdir().unwrap();
    let shuffle = Shuffle::new()
        .memory_budget(32 << 10)
        .spill_dir(spill.path());
    let grouped = from_sequence(rs, 2_000).groupby_with(
        |r: &(String, String)| {
            assert!(!r.1.starts_with("019999"), "a key function panics");
            r.0.clone()
        },
        &shuffle,
    );
    for ex in [&Sync as &dyn Executor, &Threads::new(2)] {
        let err = grouped.compute(ex).unwrap_err();
        assert!(err.to_string().contains("a key function panics"), "{err}");
        assert!(files_under(spill.path()).is_empty(), "{}", ex.name());
    }
}

#[test]
fn json_records_group_by_field_with_spilling() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..5_000)
        .map(|i| format!("{{\"username\": \"u{}\", \"n\": {i}}}\n", i % 13))
        .collect();
    std::fs::write(dir.path().join("events.json"), lines).unwrap();
    let spill = tempfile::tempdir().unwrap();
    let shuffle = Shuffle::new()
        .memory_budget(16 << 10)
        .spill_dir(spill.path());
    let b = rask_bag::ReadText::new(dir.path().join("events.json"))
        .blocksize(Some(20_000))
        .open()
        .unwrap()
        .json::<serde_json::Value>();
    let groups = b.groupby_field_with("username", &shuffle);
    let got = groups.compute(&Threads::new(2)).unwrap();
    assert_eq!(got.len(), 13);
    for (user, records) in got {
        let u: i64 = user.as_str().unwrap()[1..].parse().unwrap();
        let ns: Vec<i64> = records.iter().map(|r| r["n"].as_i64().unwrap()).collect();
        let expected: Vec<i64> = (0..5_000).filter(|i| i % 13 == u).collect();
        assert_eq!(ns, expected, "{user}");
    }
    assert!(files_under(spill.path()).is_empty());
}
