use rask_graph::Value;

use super::*;

fn token(n: u8) -> Token {
    Token::from_bytes([n; 32])
}

/// A value whose encoding is larger than a record may hold.
fn large() -> Value {
    Value::from("x".repeat(log::INLINE_MAX + 1))
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn a_stored_value_loads_back_and_the_entry_is_where_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path().join("a/b")).unwrap();
    assert!(dir.path().join("a/b/CACHEDIR.TAG").is_file());
    let v = Value::list([Value::Int(1), Value::from("two"), Value::Float(3.5)]);
    assert!(cache.load(&token(1)).is_none());
    cache.store(&token(1), &v).unwrap();
    assert_eq!(cache.load(&token(1)), Some(v.clone()));
    // a small value is a record in this process's log
    let at = cache.locate(&token(1)).unwrap();
    assert!(
        at.path.starts_with(dir.path().join("a/b/log")),
        "{}",
        at.path.display()
    );
    let payload = codec::to_bytes(&v).unwrap().len() as u64;
    assert_eq!(
        (at.offset, at.len),
        (0, log::RECORD_HEADER as u64 + payload)
    );
    // a large one is a file of its own
    cache.store(&token(2), &large()).unwrap();
    assert_eq!(cache.load(&token(2)), Some(large()));
    let path = cache.entry_path(&token(2));
    assert!(path.starts_with(dir.path().join("a/b/02")));
    assert_eq!(path.file_name().unwrap().len(), 62);
    assert_eq!(cache.locate(&token(2)).unwrap().path, path);
    assert_eq!(cache.stats().stored, 2);
    // no temporary file is left behind, and one log
    assert_eq!(names(path.parent().unwrap()).len(), 1);
    assert_eq!(names(&dir.path().join("a/b/log")).len(), 1);
    assert_eq!(cache.entries().len(), 2);
}

#[test]
fn every_damage_of_a_file_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let v = large();
    cache.store(&token(2), &v).unwrap();
    let path = cache.entry_path(&token(2));
    let good = std::fs::read(&path).unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("header only", good[..HEADER].to_vec()),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("extended", [&good[..], b"x"].concat()),
    ];
    for at in [0, 9, 20, 50, 60, HEADER, good.len() - 1] {
        let mut b = good.clone();
        b[at] ^= 0x40;
        cases.push(("flipped", b));
    }
    for (what, bytes) in cases {
        std::fs::write(&path, &bytes).unwrap();
        assert!(!cache.contains(&token(2)), "{what}");
        assert!(cache.load(&token(2)).is_none(), "{what}");
    }
    // an entry copied under another token's name is not that token's
    std::fs::write(&path, &good).unwrap();
    let other = cache.entry_path(&token(3));
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    std::fs::copy(&path, &other).unwrap();
    assert!(cache.contains(&token(2)));
    assert!(!cache.contains(&token(3)));
}

#[test]
fn every_damage_of_a_record_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let v = Value::list((0..100).map(Value::Int).collect::<Vec<_>>());
    let cache = Cache::open(dir.path()).unwrap();
    cache.store(&token(2), &v).unwrap();
    let at = cache.locate(&token(2)).unwrap();
    let good = std::fs::read(&at.path).unwrap();
    assert_eq!(good.len() as u64, at.len);
    let n = good.len();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("header only", good[..log::RECORD_HEADER].to_vec()),
        ("truncated", good[..n - 1].to_vec()),
    ];
    for at in [0, 9, 20, 50, 60, log::RECORD_HEADER, n - 1] {
        let mut b = good.clone();
        b[at] ^= 0x40;
        cases.push(("flipped", b));
    }
    // stored under another token: the checksum covers the token
    let mut b = good.clone();
    b[12..44].copy_from_slice(token(3).as_bytes());
    cases.push(("another token", b));
    for (what, bytes) in cases {
        std::fs::write(&at.path, &bytes).unwrap();
        // in this process, and in another one that scans the log
        let other = Cache::open(dir.path()).unwrap();
        for c in [&cache, &other] {
            assert!(!c.contains(&token(2)), "{what}");
            assert!(c.load(&token(2)).is_none(), "{what}");
            assert!(!c.contains(&token(3)), "{what}");
        }
    }
    std::fs::write(&at.path, &good).unwrap();
    assert!(cache.contains(&token(2)));
    assert!(Cache::open(dir.path()).unwrap().contains(&token(2)));
}

#[test]
fn a_damaged_record_hides_no_other_and_a_rewrite_wins() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    for n in 1..=5 {
        cache.store(&token(n), &Value::Int(i64::from(n))).unwrap();
    }
    let at = cache.locate(&token(3)).unwrap();
    let mut bytes = std::fs::read(&at.path).unwrap();
    // record 2 loses its tail (a header whose length now runs into record
    // 3), record 3 its magic
    let two = cache.locate(&token(2)).unwrap();
    bytes.drain((two.offset + 20) as usize..(two.offset + two.len) as usize);
    let three = (at.offset - (two.len - 20)) as usize;
    bytes[three] ^= 1;
    std::fs::write(&at.path, &bytes).unwrap();
    let reader = Cache::open(dir.path()).unwrap();
    for n in [1, 4, 5] {
        assert_eq!(
            reader.load(&token(n)),
            Some(Value::Int(i64::from(n))),
            "{n}"
        );
    }
    assert!(!reader.contains(&token(2)) && !reader.contains(&token(3)));
    // written again by the reader, they are found by everyone
    reader.store(&token(3), &Value::Int(3)).unwrap();
    let third = Cache::open(dir.path()).unwrap();
    assert_eq!(third.load(&token(3)), Some(Value::Int(3)));
    assert!(!third.contains(&token(2)));
}

#[test]
fn caches_sharing_a_directory_see_each_others_entries() {
    let dir = tempfile::tempdir().unwrap();
    let a = Cache::open(dir.path()).unwrap();
    let b = Cache::open(dir.path()).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for n in 0..100 {
                a.store(&token(n), &Value::Int(i64::from(n))).unwrap();
            }
        });
        s.spawn(|| {
            for n in 100..200 {
                b.store(&token(n), &Value::Int(i64::from(n))).unwrap();
            }
        });
    });
    for n in 0..200 {
        assert_eq!(a.load(&token(n)), Some(Value::Int(i64::from(n))), "{n}");
        assert_eq!(b.load(&token(n)), Some(Value::Int(i64::from(n))), "{n}");
    }
    assert_eq!(a.entries().len(), 200);
    assert_eq!(names(&dir.path().join("log")).len(), 2);
    a.sync().unwrap();
}

#[test]
fn a_log_never_written_to_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    drop(Cache::open(dir.path()).unwrap());
    assert!(names(&dir.path().join("log")).is_empty());
    let c = Cache::open(dir.path()).unwrap();
    c.store(&token(1), &Value::Int(1)).unwrap();
    drop(c);
    assert_eq!(names(&dir.path().join("log")).len(), 1);
}

#[test]
fn opening_does_not_rewrite_the_cachedir_tag() {
    let dir = tempfile::tempdir().unwrap();
    drop(Cache::open(dir.path()).unwrap());
    let tag = dir.path().join("CACHEDIR.TAG");
    let mine = format!("{CACHEDIR_TAG}# kept as it is\n");
    std::fs::write(&tag, &mine).unwrap();
    let before = std::fs::metadata(&tag).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    drop(Cache::open(dir.path()).unwrap());
    assert_eq!(std::fs::read_to_string(&tag).unwrap(), mine);
    assert_eq!(std::fs::metadata(&tag).unwrap().modified().unwrap(), before);
}

#[test]
fn a_cache_that_cannot_be_written_still_serves_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let c = Cache::open(dir.path()).unwrap();
    c.store(&token(1), &large()).unwrap();
    drop(c);
    // no log can be made (even by root): `log` is a file
    std::fs::remove_dir_all(dir.path().join("log")).unwrap();
    std::fs::write(dir.path().join("log"), "").unwrap();
    let c = Cache::open(dir.path()).unwrap();
    let why = c.read_only().unwrap().to_string();
    assert!(why.contains("cannot be written"), "{why}");
    assert!(why.contains(&dir.path().display().to_string()), "{why}");
    assert_eq!(c.load(&token(1)), Some(large()));
    let err = c.store(&token(2), &Value::Int(2)).unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly(_)), "{err}");
    // in a run: counted and warned about, the value returned all the same
    c.shared()
        .store_result(&Key::from("k"), &token(2), &Value::Int(2));
    let stats = c.stats();
    assert_eq!(stats.write_errors, 1);
    let problem = stats.first_problem.unwrap();
    assert!(
        problem.starts_with("the result of task \"k\" was not cached: cache directory"),
        "{problem}"
    );
}

#[test]
fn a_forked_child_writes_its_own_log() {
    // what a process pool's workers do: the child must not append to
    // the parent's log at the parent's offsets
    let dir = tempfile::tempdir().unwrap();
    let c = Cache::open(dir.path()).unwrap();
    c.store(&token(1), &Value::Int(1)).unwrap();
    let parent_log = c.locate(&token(1)).unwrap().path;
    let mut w = c.inner.writer();
    // pretend the writer was made by another process
    if let Some(w) = w.as_mut() {
        w.pid = w.pid.wrapping_add(1);
    }
    drop(w);
    c.store(&token(2), &Value::Int(2)).unwrap();
    let child_log = c.locate(&token(2)).unwrap().path;
    assert_ne!(child_log, parent_log);
    assert_eq!(names(&dir.path().join("log")).len(), 2);
    let other = Cache::open(dir.path()).unwrap();
    assert_eq!(other.load(&token(1)), Some(Value::Int(1)));
    assert_eq!(other.load(&token(2)), Some(Value::Int(2)));
}

#[test]
fn a_value_without_codec_is_not_stored() {
    struct Opaque;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let err = cache.store(&token(4), &Value::new(Opaque)).unwrap_err();
    assert!(err.to_string().contains("has no codec"), "{err}");
    assert!(!cache.contains(&token(4)));
}

#[test]
fn an_unwritable_directory_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "").unwrap();
    for bad in [file.clone(), file.join("sub")] {
        let err = Cache::open(&bad).unwrap_err();
        assert!(matches!(&err, CacheError::NotWritable { dir, .. } if *dir == bad));
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "cache directory {}: not writable: ",
                bad.display()
            )),
            "{msg}"
        );
    }
}

#[test]
fn a_value_nested_a_million_deep_stores_and_loads() {
    // regression: encoding, decoding and dropping recursed on depth
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let mut v = Value::from("leaf");
    for _ in 0..1_000_000 {
        v = Value::list([v]);
    }
    cache.store(&token(9), &v).unwrap();
    assert!(cache.load(&token(9)) == Some(v));
}

#[test]
fn an_entry_that_is_not_a_regular_file_is_a_miss_read_at_once() {
    // regression: a link to /dev/zero grew memory without bound, and a
    // FIFO would block the run
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    // large entries are files of their own (small ones are log records)
    cache.store(&token(3), &large()).unwrap();
    let path = cache.entry_path(&token(3));
    let start = std::time::Instant::now();
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    assert_eq!(cache.load(&token(3)), None);
    assert!(!cache.contains(&token(3)));
    std::fs::remove_file(&path).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    if made.is_ok_and(|s| s.success()) {
        assert_eq!(cache.load(&token(3)), None);
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    // a regular file longer than its header says is refused too
    std::fs::remove_file(&path).unwrap();
    cache.store(&token(3), &large()).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0; 1000]);
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(cache.load(&token(3)), None);
    cache.store(&token(3), &large()).unwrap();
    assert_eq!(cache.load(&token(3)), Some(large()));
}

#[test]
fn token_file_names_parse_back() {
    let t = Token::from_bytes(core::array::from_fn(|i| i as u8 * 7));
    let hex = t.to_string();
    assert_eq!(parse_token(&hex[..2], &hex[2..]), Some(t));
    assert_eq!(parse_token(&hex[..2], &hex[3..]), None);
    assert_eq!(parse_token("zz", &hex[2..]), None);
}

#[test]
fn a_scan_keeps_no_log_open() {
    // a cache shared by many runs has many logs: at most the ones read
    // from stay open
    let dir = tempfile::tempdir().unwrap();
    for n in 0..40 {
        let c = Cache::open(dir.path()).unwrap();
        c.store(&token(n), &Value::Int(i64::from(n))).unwrap();
    }
    let fds = || std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
    let reader = Cache::open(dir.path()).unwrap();
    let before = fds();
    assert_eq!(reader.entries().len(), 40);
    assert_eq!(reader.load(&token(7)), Some(Value::Int(7)));
    // other tests open files at the same time: leave them room
    assert!(fds() < before + 20, "{} -> {}", before, fds());
}

#[test]
fn a_good_record_wins_over_a_damaged_one_whatever_the_order_of_the_logs() {
    for damaged_first in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            Cache::open(dir.path()).unwrap(),
            Cache::open(dir.path()).unwrap(),
        );
        a.store(&token(1), &Value::Int(1)).unwrap();
        b.store(&token(1), &Value::Int(1)).unwrap();
        // the one record of one of the two logs is damaged
        let damaged = if damaged_first { &a } else { &b };
        let path = damaged.inner.writer().as_ref().unwrap().path.clone();
        let mut bytes = std::fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let reader = Cache::open(dir.path()).unwrap();
        assert_eq!(
            reader.load(&token(1)),
            Some(Value::Int(1)),
            "{damaged_first}"
        );
        let at = reader.locate(&token(1)).unwrap();
        assert_ne!(at.path, path, "{damaged_first}");
    }
}
