//! Fuzzing of cache entries (issue 13, item 7): the log records and the
//! entry files, damaged in arbitrary ways, are misses: never a wrong value,
//! a panic, or a read of the size a damaged length claims. Few cases by
//! default; `RASK_FUZZ_CASES` scales them up (`scripts/fuzz.sh`).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rask_cache::{Cache, Token};
use rask_graph::Value;

fn cases(default: u32) -> u32 {
    std::env::var("RASK_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn token(n: u8) -> Token {
    Token::from_bytes([n; 32])
}

/// Values of several sizes: small ones go to a log, a large one (over
/// 64 KiB encoded) to a file of its own.
fn values() -> impl Strategy<Value = Vec<Value>> {
    let small = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        ".{0,12}".prop_map(|s: String| Value::Str(s.as_str().into())),
        prop::collection::vec(any::<i64>(), 0..6)
            .prop_map(|v| Value::list(v.into_iter().map(Value::Int))),
    ];
    let large = (any::<u8>(), 0_usize..64).prop_map(|(b, extra)| {
        Value::Str(
            ((b'a' + b % 26) as char)
                .to_string()
                .repeat(70_000 + extra)
                .as_str()
                .into(),
        )
    });
    (prop::collection::vec(small, 1..5), prop::option::of(large)).prop_map(|(mut v, l)| {
        v.extend(l);
        v
    })
}

#[derive(Debug, Clone)]
enum Damage {
    /// Bytes xor'ed at places within the entry.
    Flip(Vec<(prop::sample::Index, u8)>),
    /// The file cut at a place.
    Truncate(prop::sample::Index),
    /// Bytes appended to the file.
    Append(Vec<u8>),
    /// A run of bytes overwritten, possibly with a record magic in it.
    Overwrite(prop::sample::Index, Vec<u8>, bool),
    /// The whole file replaced.
    Replace(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        prop::collection::vec((any::<prop::sample::Index>(), 1..=255_u8), 1..4)
            .prop_map(Damage::Flip),
        any::<prop::sample::Index>().prop_map(Damage::Truncate),
        prop::collection::vec(any::<u8>(), 1..200).prop_map(Damage::Append),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(any::<u8>(), 1..120),
            any::<bool>()
        )
            .prop_map(|(i, b, m)| Damage::Overwrite(i, b, m)),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Damage::Replace),
    ]
}

fn apply(path: &Path, offset: u64, len: u64, damage: &Damage) {
    let mut bytes = std::fs::read(path).unwrap();
    let (offset, len) = (offset as usize, (len as usize).max(1));
    match damage {
        Damage::Flip(flips) => {
            for (i, b) in flips {
                let at = (offset + i.index(len)).min(bytes.len().saturating_sub(1));
                if let Some(x) = bytes.get_mut(at) {
                    *x ^= b;
                }
            }
        }
        Damage::Truncate(i) => bytes.truncate(offset + i.index(len)),
        Damage::Append(b) => bytes.extend_from_slice(b),
        Damage::Overwrite(i, b, magic) => {
            let mut b = b.clone();
            if *magic {
                b.splice(0..0, b"RASKREC1".iter().copied());
            }
            let at = (offset + i.index(len)).min(bytes.len());
            let end = (at + b.len()).min(bytes.len());
            bytes.splice(at..end, b);
        }
        Damage::Replace(b) => bytes = b.clone(),
    }
    std::fs::write(path, bytes).unwrap();
}

/// Every token loads as its value or not at all.
fn check(cache: &Cache, values: &[Value]) -> Result<(), TestCaseError> {
    for (i, v) in values.iter().enumerate() {
        if let Some(got) = cache.load(&token(i as u8)) {
            prop_assert_eq!(&got, v, "a wrong value for entry {}", i);
        }
    }
    Ok(())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(24), ..ProptestConfig::default() })]

    #[test]
    fn damaged_entries_are_misses_never_wrong_values(
        values in values(),
        which in any::<prop::sample::Index>(),
        damages in prop::collection::vec(damage(), 1..3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        cache.set_durable(false);
        for (i, v) in values.iter().enumerate() {
            cache.store(&token(i as u8), v).unwrap();
        }
        let at = cache.locate(&token(which.index(values.len()) as u8)).unwrap();
        for d in &damages {
            apply(&at.path, at.offset, at.len, d);
        }
        // the cache that wrote them, and a later run's
        check(&cache, &values)?;
        let again = Cache::open(dir.path()).unwrap();
        check(&again, &values)?;
        let _ = again.entries();
        let _ = again.stats();
    }

    #[test]
    fn arbitrary_files_in_a_cache_are_misses(
        values in values(),
        which in any::<prop::sample::Index>(),
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        magic_at in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        cache.set_durable(false);
        for (i, v) in values.iter().enumerate() {
            cache.store(&token(i as u8), v).unwrap();
        }
        let mut bytes = bytes;
        if let Some(i) = magic_at {
            let at = i.index(bytes.len() + 1);
            bytes.splice(at..at, b"RASKREC1".iter().copied());
        }
        // every file of the cache replaced by the same bytes
        let all = files(dir.path());
        let target = &all[which.index(all.len())];
        std::fs::write(target, &bytes).unwrap();
        // and an entry file where a token that was never stored would be
        std::fs::create_dir_all(cache.entry_path(&token(200)).parent().unwrap()).unwrap();
        std::fs::write(cache.entry_path(&token(200)), &bytes).unwrap();
        check(&cache, &values)?;
        let again = Cache::open(dir.path()).unwrap();
        check(&again, &values)?;
        prop_assert!(again.load(&token(200)).is_none());
    }
}
