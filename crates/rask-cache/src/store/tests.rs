use rask_graph::Value;

use super::*;

fn token(n: u8) -> Token {
    Token::from_bytes([n; 32])
}

#[test]
fn a_stored_value_loads_back_and_the_file_is_where_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path().join("a/b")).unwrap();
    assert!(dir.path().join("a/b/CACHEDIR.TAG").is_file());
    let v = Value::list([Value::Int(1), Value::from("two"), Value::Float(3.5)]);
    assert!(cache.load(&token(1)).is_none());
    cache.store(&token(1), &v).unwrap();
    assert_eq!(cache.load(&token(1)), Some(v));
    let path = cache.entry_path(&token(1));
    assert!(
        path.starts_with(dir.path().join("a/b/01")),
        "{}",
        path.display()
    );
    assert_eq!(path.file_name().unwrap().len(), 62);
    assert_eq!(cache.stats().stored, 1);
    // no temporary file is left behind
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn every_damage_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let v = Value::list((0..100).map(Value::Int).collect::<Vec<_>>());
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
    cache.store(&token(3), &Value::Int(3)).unwrap();
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
    cache.store(&token(3), &Value::Int(3)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0; 1000]);
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(cache.load(&token(3)), None);
    cache.store(&token(3), &Value::Int(3)).unwrap();
    assert_eq!(cache.load(&token(3)), Some(Value::Int(3)));
}
