//! Faults: damaged entries are recomputed and never returned, a cache
//! directory that cannot be written is an error at start, values and
//! literals without codecs are computed but not cached, and task errors
//! read as they do without the cache.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use rask_cache::{prepare, tokens, Cache, CacheError, EntryLocation};
use rask_graph::{Function, Graph, Key, Plan, Task, Value};
use rask_scheduler::{Executor, Sync, Threads};

/// `x = [0..100]; total = sum(x); out = scale(total, 3)`, counting calls.
fn graph(calls: &Arc<AtomicUsize>) -> Graph {
    let c = calls.clone();
    let sum = Function::new("sum", move |xs: Vec<i64>| {
        c.fetch_add(1, SeqCst);
        xs.iter().sum::<i64>()
    });
    let c = calls.clone();
    let scale = Function::new("scale", move |x: i64, k: i64| {
        c.fetch_add(1, SeqCst);
        x * k
    });
    let mut g = Graph::new();
    g.insert(
        "x",
        Task::Value(Value::list((0..100).map(Value::Int).collect::<Vec<_>>())),
    );
    g.insert("total", Task::call(&sum, ["x"]));
    g.insert(
        "out",
        Task::call(&scale, [Task::key("total"), Task::from(3)]),
    );
    g
}

/// The entry of every call task of `g` for `keys`, by key.
fn entries(g: &Graph, keys: &[Key], cache: &Cache) -> Vec<(Key, EntryLocation)> {
    let plan = Plan::for_keys(g, keys).unwrap();
    let t = tokens(g, &plan);
    (0..plan.len() as u32)
        .filter(|&l| g.task(plan.graph_id(l)).function().is_some())
        .map(|l| {
            let key = g.key(plan.graph_id(l)).clone();
            (key, cache.locate(&t[l as usize].unwrap()).unwrap())
        })
        .collect()
}

/// The bytes of an entry.
fn bytes_of(at: &EntryLocation) -> Vec<u8> {
    let b = std::fs::read(&at.path).unwrap();
    b[at.offset as usize..(at.offset + at.len) as usize].to_vec()
}

type Damage = fn(&[u8]) -> Vec<u8>;

/// Replaces the bytes of an entry by `damage` of them (what follows it in
/// its file moves if their length changes).
fn damage_entry(at: &EntryLocation, damage: Damage) {
    let b = std::fs::read(&at.path).unwrap();
    let (start, end) = (at.offset as usize, (at.offset + at.len) as usize);
    let new = [&b[..start], &damage(&b[start..end])[..], &b[end..]].concat();
    std::fs::write(&at.path, new).unwrap();
}

#[test]
fn a_damaged_entry_is_recomputed_and_rewritten_never_returned() {
    let damages: [(&str, Damage); 6] = [
        ("flip a payload byte", |b| {
            let mut b = b.to_vec();
            let last = b.len() - 1;
            b[last] ^= 1;
            b
        }),
        ("flip a magic byte", |b| {
            let mut b = b.to_vec();
            b[0] ^= 1;
            b
        }),
        ("flip a checksum byte", |b| {
            let mut b = b.to_vec();
            b[60] ^= 0x80;
            b
        }),
        ("truncate the payload", |b| b[..b.len() - 8].to_vec()),
        ("truncate the header", |b| b[..10].to_vec()),
        ("empty", |_| Vec::new()),
    ];
    for (what, damage) in damages {
        for executor in [&Sync as &dyn Executor, &Threads::new(2)] {
            let dir = tempfile::tempdir().unwrap();
            let cache = Cache::open(dir.path()).unwrap();
            let calls = Arc::new(AtomicUsize::new(0));
            let g = graph(&calls);
            let keys = [Key::from("out")];
            let p = prepare(&g, &keys, &cache).unwrap();
            let good = rask_scheduler::get_with(executor, &p.graph, "out", &[]).unwrap();
            assert_eq!(good, Value::Int(3 * 4950));
            assert_eq!(calls.swap(0, SeqCst), 2);

            // damage the entry of `out`: out recomputes from total's entry
            let files = entries(&g, &keys, &cache);
            let (_, out_entry) = files.iter().find(|(k, _)| *k == keys[0]).unwrap();
            let bytes = bytes_of(out_entry);
            damage_entry(out_entry, damage);
            let p = prepare(&g, &keys, &cache).unwrap();
            assert_eq!((p.executed, p.cached, p.loaded), (1, 1, 1), "{what}");
            let v = rask_scheduler::get_with(executor, &p.graph, "out", &[]).unwrap();
            assert_eq!(v, good, "{what}");
            assert_eq!(calls.swap(0, SeqCst), 1, "{what}");
            let files = entries(&g, &keys, &cache);
            let (_, out_entry) = files.iter().find(|(k, _)| *k == keys[0]).unwrap();
            assert_eq!(bytes_of(out_entry), bytes, "{what}: rewritten");
            // another process finds the rewritten entry too
            let other = Cache::open(dir.path()).unwrap();
            let p = prepare(&g, &keys, &other).unwrap();
            assert_eq!((p.executed, p.cached), (0, 2), "{what}");
            drop(other);

            // damage both (the last in its file first: a shorter entry
            // moves what follows it): everything recomputes
            let mut files = files;
            files.sort_by(|a, b| b.1.cmp(&a.1));
            for (_, at) in &files {
                damage_entry(at, damage);
            }
            let p = prepare(&g, &keys, &cache).unwrap();
            assert_eq!((p.executed, p.cached), (2, 0), "{what}");
            let v = rask_scheduler::get_with(executor, &p.graph, "out", &[]).unwrap();
            assert_eq!(v, good, "{what}");
            let p = prepare(&g, &keys, &cache).unwrap();
            assert_eq!((p.executed, p.cached), (0, 2), "{what}: rewritten");
        }
    }
}

#[test]
fn an_entry_damaged_during_the_run_fails_its_task_and_is_not_returned() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let g = graph(&calls);
    let p = prepare(&g, &["out".into()], &cache).unwrap();
    Sync.get(&p.graph, "out").unwrap();
    let p = prepare(&g, &["out".into()], &cache).unwrap();
    assert_eq!(p.loaded, 1);
    // between prepare (which verified it) and the run, the entry breaks
    let files = entries(&g, &["out".into()], &cache);
    let (_, out_entry) = files.iter().find(|(k, _)| k.to_string() == "out").unwrap();
    damage_entry(out_entry, |b| {
        let mut b = b.to_vec();
        let last = b.len() - 1;
        b[last] ^= 1;
        b
    });
    let out_file = &out_entry.path;
    let err = Threads::new(2).get(&p.graph, "out").unwrap_err();
    assert_eq!(err.key(), Some(&Key::from("out")));
    let msg = err.to_string();
    assert!(msg.contains("checksum mismatch"), "{msg}");
    assert!(msg.contains(&out_file.display().to_string()), "{msg}");
    assert!(msg.contains("run again"), "{msg}");
}

#[test]
fn an_unwritable_cache_directory_is_an_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let err = Cache::open(file.join("cache")).unwrap_err();
    assert!(matches!(err, CacheError::NotWritable { .. }));
    assert_eq!(
        err.to_string().split(": not writable").next().unwrap(),
        format!("cache directory {}", file.join("cache").display())
    );
    // a read-only directory (only meaningful when not root: root writes anyway)
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    std::fs::set_permissions(&ro, perms).unwrap();
    let root = std::fs::write(ro.join("probe"), "").is_ok();
    let _ = std::fs::remove_file(ro.join("probe"));
    if !root {
        let err = Cache::open(&ro).unwrap_err();
        assert!(err.to_string().contains("not writable"), "{err}");
    }
}

#[test]
fn values_and_literals_without_codec_run_but_are_not_cached() {
    #[derive(Debug)]
    struct Handle(i64);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let open = Function::new("open", move |n: i64| {
        c.fetch_add(1, SeqCst);
        Arc::new(Handle(n))
    });
    let c = calls.clone();
    let read = Function::dynamic("read", rask_graph::Arity::exactly(1), move |a| {
        c.fetch_add(1, SeqCst);
        let h = a[0].downcast_ref::<Arc<Handle>>().unwrap();
        Ok(Value::Int(h.0 * 2))
    });
    let mut g = Graph::new();
    g.insert("h", Task::call(&open, [21]));
    g.insert("n", Task::call(&read, ["h"]));
    // a literal handle: no codec, no token
    g.insert("lit", Task::Value(Value::new(Arc::new(Handle(5)))));
    g.insert("m", Task::call(&read, ["lit"]));
    let keys = [Key::from("n"), Key::from("m")];
    let p = prepare(&g, &keys, &cache).unwrap();
    assert_eq!((p.executed, p.cached, p.uncacheable), (3, 0, 1));
    let v = Threads::new(2).get(&p.graph, vec!["n", "m"]).unwrap();
    assert_eq!(v, Value::list([Value::Int(42), Value::Int(10)]));
    let stats = cache.stats();
    assert_eq!((stats.stored, stats.unencodable), (1, 1));
    let problem = stats.first_problem.unwrap();
    assert!(
        problem.contains("task \"h\"") && problem.contains("has no codec"),
        "{problem}"
    );
    // n was stored although h was not: h is not needed any more; m runs again
    calls.store(0, SeqCst);
    let p = prepare(&g, &keys, &cache).unwrap();
    assert_eq!((p.executed, p.cached, p.uncacheable), (1, 2, 1));
    assert!(!p.graph.contains(&"h".into()));
    let again = Sync.get(&p.graph, vec!["n", "m"]).unwrap();
    assert_eq!(again, v);
    assert_eq!(calls.load(SeqCst), 1);
}

#[test]
fn task_errors_and_panics_read_as_without_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let div = Function::fallible("div", |a: i64, b: i64| {
        a.checked_div(b).ok_or("division by zero")
    });
    let boom = Function::new("boom", |_: i64| -> i64 { panic!("it blew up") });
    let mut g = Graph::new();
    g.insert("zero", 0);
    g.insert("q", Task::call(&div, [Task::from(1), Task::key("zero")]));
    g.insert("p", Task::call(&boom, ["zero"]));
    for key in ["q", "p"] {
        let plain = Sync.get(&g, key).unwrap_err().to_string();
        let p = prepare(&g, &[key.into()], &cache).unwrap();
        for executor in [&Sync as &dyn Executor, &Threads::new(2)] {
            let cached = rask_scheduler::get_with(executor, &p.graph, key, &[])
                .unwrap_err()
                .to_string();
            assert_eq!(cached, plain);
        }
    }
    assert_eq!(cache.stats().stored, 0);
}

#[test]
fn graph_errors_are_the_graphs() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let g = Graph::new();
    let err = prepare(&g, &["nope".into()], &cache).unwrap_err();
    assert!(matches!(err, CacheError::Graph(_)));
    assert_eq!(err.to_string(), "key \"nope\" is not in the graph");
}
