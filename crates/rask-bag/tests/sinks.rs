//! Sinks (`to_textfiles`, atomic, gzip by extension), graphs and progress
//! callbacks.

use std::sync::atomic::{AtomicUsize, Ordering};

use rask_bag::{from_sequence, read_text, BagError};
use rask_scheduler::{Callback, RunInfo, Sync, TaskEvent, Threads};

#[test]
fn to_textfiles_round_trips_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let b = from_sequence((0..1000).collect::<Vec<i64>>(), 300).map(|x| x * 2);
    for pattern in [
        "plain/*.txt",
        "zipped/part-*.txt.gz",
        "bz/*.bz2",
        "zs/*.zst",
    ] {
        let paths = b
            .to_textfiles(dir.path().join(pattern))
            .compute(&Threads::new(2))
            .unwrap();
        assert_eq!(paths.len(), 4);
        let back: Vec<i64> = read_text(paths.clone())
            .unwrap()
            .compute(&Sync)
            .unwrap()
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(
            back,
            (0..1000).map(|x| x * 2).collect::<Vec<_>>(),
            "{pattern}"
        );
    }
    // gzip really is gzip
    let bytes = std::fs::read(dir.path().join("zipped/part-0.txt.gz")).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    // a directory: DIR/i.part
    let paths = b
        .to_textfiles(dir.path().join("out"))
        .compute(&Sync)
        .unwrap();
    assert_eq!(paths[3], dir.path().join("out/3.part"));
}

#[test]
fn a_failed_partition_leaves_no_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let b = from_sequence((0..100).collect::<Vec<i64>>(), 25).try_map(|x| {
        if x == 60 {
            Err("sixty")
        } else {
            Ok(x)
        }
    });
    let err = b
        .to_textfiles(dir.path().join("*.txt.gz"))
        .compute(&Sync)
        .unwrap_err();
    assert!(matches!(
        BagError::find(&err),
        Some(BagError::Record { .. })
    ));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.contains(&"2.txt.gz".to_string()), "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    // the files that are there are whole
    for n in names {
        let lines = read_text(dir.path().join(&n))
            .unwrap()
            .compute(&Sync)
            .unwrap();
        assert_eq!(lines.len(), 25, "{n}");
    }
}

#[derive(Default)]
struct Progress {
    total: AtomicUsize,
    done: AtomicUsize,
    finished: AtomicUsize,
}

impl Callback for Progress {
    fn start(&self, info: &RunInfo<'_>) {
        self.total.store(info.plan.len(), Ordering::SeqCst);
    }
    fn task_finished(&self, _: &TaskEvent<'_>) {
        self.done.fetch_add(1, Ordering::SeqCst);
    }
    fn finish(&self, _: Option<&rask_scheduler::ComputeError>) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn progress_callbacks_see_every_task_of_a_bag() {
    let b = from_sequence((0..100).collect::<Vec<i64>>(), 10); // 10 partitions
    let progress = Progress::default();
    let n = b
        .map(|x| x + 1)
        .frequencies()
        .count()
        .compute_with(&Threads::new(2), &[&progress])
        .unwrap();
    assert_eq!(n, 100);
    // 10 chunks, 10 partial frequencies + 2 combines + 1 final, 1 partial count, 1 final count
    let total = progress.total.load(Ordering::SeqCst);
    assert_eq!(total, 10 + 10 + 2 + 1 + 1 + 1);
    assert_eq!(progress.done.load(Ordering::SeqCst), total);
    assert_eq!(progress.finished.load(Ordering::SeqCst), 1);
}

#[test]
fn a_bag_exposes_its_graph_and_keys_for_any_executor() {
    let b = from_sequence(vec![1_i64, 2, 3, 4], 2).map(|x| x * x);
    let g = b.graph();
    let values = rask_scheduler::get_with(&Sync, &g, b.keys(), &[]).unwrap();
    let parts: Vec<Vec<i64>> = values
        .as_list()
        .unwrap()
        .iter()
        .map(|v| v.downcast_ref::<Vec<i64>>().unwrap().clone())
        .collect();
    assert_eq!(parts, [vec![1, 4], vec![9, 16]]);
    let count = b.count();
    let v = rask_scheduler::get(&count.graph(), count.key()).unwrap();
    assert_eq!(v.downcast_ref::<usize>(), Some(&4));
}
