//! Text sources: plain and compressed files give the same records, byte
//! ranges never lose or duplicate a line, errors name the file and line.

use std::io::Write;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rask_bag::{read_text, BagError, Compression, ReadText, Skipped};
use rask_scheduler::{Executor, Sync, Threads};

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut z = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 1).unwrap()
}

/// What `BufRead::lines` gives (our reference): lines without `\n` or `\r\n`.
fn reference_lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

fn path_str(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn plain_gzip_bzip2_and_zstd_files_give_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..500)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"user{}\"}}\n", i % 17))
        .collect();
    write(&dir.path().join("a.json"), text.as_bytes());
    write(&dir.path().join("b.json.gz"), &gzip(text.as_bytes()));
    write(&dir.path().join("c.json.bz2"), &bzip2(text.as_bytes()));
    write(&dir.path().join("d.json.zst"), &zstd(text.as_bytes()));
    let expected: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for file in ["a.json", "b.json.gz", "c.json.bz2", "d.json.zst"] {
        let b = read_text(dir.path().join(file)).unwrap();
        assert_eq!(b.compute(&Sync).unwrap(), reference_lines(&text), "{file}");
        let records = b.json::<serde_json::Value>().compute(&Sync).unwrap();
        assert_eq!(records, expected, "{file}");
    }
    // all four at once, by glob, in name order
    let all = read_text(path_str(&dir.path().join("*")))
        .unwrap()
        .json::<serde_json::Value>();
    assert_eq!(all.npartitions(), 4);
    let got = all.compute(&Threads::new(2)).unwrap();
    assert_eq!(got.len(), 4 * expected.len());
    assert!(got.chunks(expected.len()).all(|c| c == expected.as_slice()));
}

#[test]
fn concatenated_gzip_members_are_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = gzip(b"a\nb\n");
    bytes.extend(gzip(b"c\n"));
    write(&dir.path().join("x.gz"), &bytes);
    let b = read_text(dir.path().join("x.gz")).unwrap();
    assert_eq!(b.compute(&Sync).unwrap(), ["a", "b", "c"]);
}

#[test]
fn a_directory_a_list_and_a_forced_compression() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("2.txt"), b"two\n");
    write(&dir.path().join("1.txt"), b"one\n");
    write(&dir.path().join(".hidden"), b"not me\n");
    let b = read_text(dir.path()).unwrap();
    assert_eq!(b.compute(&Sync).unwrap(), ["one", "two"]);
    let b = read_text(vec![dir.path().join("2.txt"), dir.path().join("1.txt")]).unwrap();
    assert_eq!(b.compute(&Sync).unwrap(), ["two", "one"]);
    write(&dir.path().join("z.data"), &gzip(b"zipped\n"));
    let b = ReadText::new(dir.path().join("z.data"))
        .compression(Compression::Gzip)
        .open()
        .unwrap();
    assert_eq!(b.compute(&Sync).unwrap(), ["zipped"]);
}

/// Reads `text` split into blocks of `blocksize` bytes.
fn read_blocks(dir: &Path, text: &[u8], blocksize: u64) -> (usize, Vec<String>) {
    let path = dir.join("lines.txt");
    write(&path, text);
    let b = ReadText::new(&path)
        .blocksize(Some(blocksize))
        .open()
        .unwrap();
    (b.npartitions(), b.compute(&Sync).unwrap())
}

#[test]
fn byte_ranges_at_every_split_point_of_small_files() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[&str] = &[
        "",
        "\n",
        "\n\n\n",
        "a",
        "a\n",
        "ab\ncd",
        "ab\ncd\n",
        "a\n\nb\n\n",
        "long line here\nx\ny\nanother long line without end",
        "crlf\r\nlines\r\n",
        "\u{e9}t\u{e9}\nna\u{ef}ve\n",
    ];
    for text in cases {
        for blocksize in 1..=text.len().max(1) as u64 + 1 {
            let (n, lines) = read_blocks(dir.path(), text.as_bytes(), blocksize);
            assert_eq!(
                lines,
                reference_lines(text),
                "{text:?} in blocks of {blocksize} ({n} partitions)"
            );
        }
    }
}

#[test]
fn an_empty_file_is_one_empty_partition() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("empty.txt"), b"");
    write(&dir.path().join("empty.gz"), &gzip(b""));
    let b = read_text(path_str(&dir.path().join("empty.*"))).unwrap();
    assert_eq!(b.npartitions(), 2);
    assert!(b.compute(&Sync).unwrap().is_empty());
    assert_eq!(b.count().compute(&Sync).unwrap(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random lines (some empty, some long, with or without a final
    /// newline) in random block sizes: every line exactly once, in order.
    #[test]
    fn byte_ranges_never_lose_or_duplicate_a_line(
        lines in prop::collection::vec("[a-z]{0,40}", 0..60),
        final_newline in any::<bool>(),
        blocksize in 1_u64..200,
    ) {
        let mut text = lines.join("\n");
        if final_newline && !lines.is_empty() {
            text.push('\n');
        }
        let dir = tempfile::tempdir().unwrap();
        let (_, got) = read_blocks(dir.path(), text.as_bytes(), blocksize);
        prop_assert_eq!(got, reference_lines(&text));
    }
}

#[test]
fn a_glob_that_matches_nothing_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = path_str(&dir.path().join("*.json.gz"));
    let err = read_text(pattern.as_str()).unwrap_err();
    assert!(
        matches!(&err, BagError::NoMatch { pattern: p } if *p == pattern),
        "{err}"
    );
    assert_eq!(err.to_string(), format!("no file matches {pattern:?}"));
    let err = read_text(dir.path().join("missing.txt")).unwrap_err();
    assert!(matches!(err, BagError::Read { .. }), "{err}");
    assert!(err.to_string().contains("missing.txt"), "{err}");
}

#[test]
fn a_broken_symlink_a_glob_or_directory_gives_is_an_error_naming_it() {
    // regression: the glob skipped it silently (given as a path, it was
    // an error already)
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.txt"), b"one\n");
    let link = dir.path().join("b.txt");
    std::os::unix::fs::symlink(dir.path().join("gone.txt"), &link).unwrap();
    for source in [path_str(&dir.path().join("*.txt")), path_str(dir.path())] {
        let err = read_text(source.as_str()).unwrap_err();
        assert!(
            matches!(&err, BagError::Read { path, .. } if *path == link),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("cannot read {}: a symbolic link", link.display())),
            "{err}"
        );
    }
    // a directory a glob matches is still left out
    std::fs::create_dir(dir.path().join("c.txt")).unwrap();
    std::fs::remove_file(&link).unwrap();
    let bag = read_text(path_str(&dir.path().join("*.txt")).as_str()).unwrap();
    assert_eq!(bag.compute(&Sync).unwrap(), vec!["one".to_string()]);
}

/// The `BagError` a computation failed with.
fn failure<T: Clone + Send + std::marker::Sync + std::fmt::Debug + 'static>(
    b: &rask_bag::Bag<T>,
    ex: &dyn Executor,
) -> String {
    let err = b.compute(ex).unwrap_err();
    let bag_error = BagError::find(&err).unwrap_or_else(|| panic!("no BagError in {err}"));
    bag_error.to_string()
}

#[test]
fn a_corrupt_gzip_stream_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = gzip(&b"some line\n".repeat(1000));
    let path = dir.path().join("bad.gz");
    // a wrong checksum
    let mut bytes = good.clone();
    let n = bytes.len();
    bytes[n - 8] ^= 0xff;
    write(&path, &bytes);
    let msg = failure(&read_text(&path).unwrap(), &Sync);
    assert!(
        msg.starts_with(&format!("{}: corrupt gzip stream", path.display())),
        "{msg}"
    );
    // garbage in the middle: corrupt, or lines that are not text; either
    // way an error naming the file
    let mut bytes = good.clone();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 8].copy_from_slice(b"garbage!");
    write(&path, &bytes);
    let msg = failure(&read_text(&path).unwrap(), &Sync);
    assert!(msg.starts_with(&path.display().to_string()), "{msg}");
    // truncated
    let bytes = gzip(&b"some line\n".repeat(1000));
    write(&path, &bytes[..bytes.len() / 2]);
    let msg = failure(&read_text(&path).unwrap(), &Sync);
    assert!(msg.contains("corrupt gzip stream"), "{msg}");
    // not gzip at all
    write(&path, b"plain text\n");
    let msg = failure(&read_text(&path).unwrap(), &Sync);
    assert!(msg.contains("corrupt gzip stream"), "{msg}");
}

#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.txt");
    write(&path, b"here now\n");
    let b = read_text(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let msg = failure(&b, &Sync);
    assert!(
        msg.starts_with(&format!("cannot read {}", path.display())),
        "{msg}"
    );
}

fn json_files(dir: &Path) -> (PathBuf, PathBuf) {
    let good: String = (0..50).map(|i| format!("{{\"n\": {i}}}\n")).collect();
    let mut bad = good.clone();
    bad.push_str("{\"n\": oops}\n\n{\"n\": 50}\nnot json\n");
    let a = dir.join("a.json");
    let b = dir.join("b.json.gz");
    write(&a, good.as_bytes());
    write(&b, &gzip(bad.as_bytes()));
    (a, b)
}

#[test]
fn a_bad_json_line_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bad) = json_files(dir.path());
    let b = read_text(path_str(&dir.path().join("*.json*")))
        .unwrap()
        .json::<serde_json::Value>();
    for ex in [&Sync as &dyn Executor, &Threads::new(2)] {
        let err = b.compute(ex).unwrap_err();
        let bag_error = BagError::find(&err).unwrap();
        let at = bag_error.location().unwrap();
        assert_eq!((at.path.as_path(), at.line), (bad.as_path(), 51));
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("{}:51: invalid JSON", bad.display())),
            "{msg}"
        );
    }
}

#[test]
fn json_fields_read_what_json_reads_and_name_file_and_line_of_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..300)
        .map(|i| match i % 3 {
            0 => format!("{{\"type\": \"P\", \"actor\": {{\"id\": {i}, \"login\": \"u{}\"}}, \"payload\": {{\"size\": {i}}}}}\n", i % 7),
            1 => format!("{{\"actor\": {{\"login\": \"u{}\"}}, \"type\": \"W\", \"payload\": {{}}}}\n", i % 7),
            _ => format!("  {{\"type\":\"C\",\"actor\":{{\"login\":\"u\\\"{}\"}}}}  \n\n", i % 7),
        })
        .collect();
    write(&dir.path().join("a.json"), text.as_bytes());
    write(&dir.path().join("b.json.gz"), &gzip(text.as_bytes()));
    let records: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let logins: Vec<String> = records
        .iter()
        .map(|r| r["actor"]["login"].as_str().unwrap().to_string())
        .collect();
    let pairs: Vec<(String, Option<u64>)> = records
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_string(),
                r["payload"]["size"].as_u64(),
            )
        })
        .collect();
    for file in ["a.json", "b.json.gz"] {
        let lines = read_text(dir.path().join(file)).unwrap();
        for ex in [&Sync as &dyn Executor, &Threads::new(2)] {
            let got = lines
                .json_field::<String>("actor.login")
                .compute(ex)
                .unwrap();
            assert_eq!(got, logins, "{file}");
            let got = lines
                .json_fields::<(String, Option<u64>)>(["type", "payload.size"])
                .compute(ex)
                .unwrap();
            assert_eq!(got, pairs, "{file}");
        }
        // the same from lines that came from memory
        let from_memory = rask_bag::from_sequence(lines.compute(&Sync).unwrap(), 3);
        let got = from_memory
            .json_field::<String>("actor.login")
            .compute(&Sync)
            .unwrap();
        assert_eq!(got, logins);
    }

    // a missing field (line 2 has no payload.size), a value of the wrong
    // type, a malformed line: each names the file and line
    let path = dir.path().join("a.json");
    let lines = read_text(&path).unwrap();
    let msg = failure(&lines.json_field::<u64>("payload.size"), &Sync);
    assert_eq!(
        msg,
        format!("{}:2: record has no field \"payload.size\"", path.display())
    );
    let msg = failure(&lines.json_field::<u64>("actor.login"), &Threads::new(2));
    assert!(
        msg.starts_with(&format!(
            "{}:1: field \"actor.login\": invalid type: string",
            path.display()
        )),
        "{msg}"
    );
    let (_, bad) = json_files(dir.path());
    let msg = failure(&read_text(&bad).unwrap().json_field::<i64>("n"), &Sync);
    assert!(
        msg.starts_with(&format!("{}:51: invalid JSON", bad.display())),
        "{msg}"
    );
}

/// Reductions that only look at items (`count`, `frequencies`, `topk`,
/// `max`) get the fields of a JSON line lent, made in place in one item
/// line after line: they must see what the items by value are, a field
/// missing after a line that had it included, and the same errors.
#[test]
fn lent_fields_are_the_fields_read_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..200)
        .map(|i| match i % 4 {
            0 => format!(
                "{{\"type\": \"P{}\", \"payload\": {{\"size\": {i}}}}}\n",
                i % 3
            ),
            1 => "{\"type\": \"W\"}\n".to_string(),
            2 => "\n".to_string(),
            _ => format!(
                "{{\"type\": \"C\\\"{}\", \"payload\": {{\"size\": null}}}}\n",
                i % 5
            ),
        })
        .collect();
    write(&dir.path().join("a.json"), text.as_bytes());
    write(&dir.path().join("b.json.gz"), &gzip(text.as_bytes()));
    for file in ["a.json", "b.json.gz"] {
        let lines = read_text(dir.path().join(file)).unwrap();
        let from_memory = rask_bag::from_sequence(lines.compute(&Sync).unwrap(), 3);
        for source in [&lines, &from_memory] {
            let pairs = source.json_fields::<(String, Option<u64>)>(["type", "payload.size"]);
            let by_value = pairs.compute(&Sync).unwrap();
            assert_eq!(by_value.len(), 150);
            for ex in [&Sync as &dyn Executor, &Threads::new(2)] {
                let mut counts: Vec<((String, Option<u64>), u64)> = Vec::new();
                for p in &by_value {
                    match counts.iter_mut().find(|(q, _)| q == p) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((p.clone(), 1)),
                    }
                }
                assert_eq!(pairs.frequencies().compute(ex).unwrap(), counts, "{file}");
                assert_eq!(pairs.count().compute(ex).unwrap(), 150);
                let top = pairs.topk(3, |p| p.1).compute(ex).unwrap();
                assert_eq!(
                    top.iter().map(|p| p.1).collect::<Vec<_>>(),
                    [Some(196), Some(192), Some(188)]
                );
                let kinds = source.json_field::<String>("type");
                assert_eq!(kinds.max().compute(ex).unwrap().as_deref(), Some("W"));
                assert_eq!(
                    kinds.frequencies_sorted().compute(ex).unwrap()[0],
                    ("W".to_string(), 50)
                );
            }
        }
    }
    // an error met while lending names the file and line
    let path = dir.path().join("a.json");
    let sizes = read_text(&path).unwrap().json_field::<u64>("payload.size");
    let err = sizes.count().compute(&Sync).unwrap_err();
    assert_eq!(
        BagError::find(&err).unwrap().to_string(),
        format!("{}:2: record has no field \"payload.size\"", path.display())
    );
}

#[test]
fn bad_json_lines_in_a_split_file_are_numbered_from_the_file_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut text: String = (0..100).map(|i| format!("{{\"n\": {i}}}\n")).collect();
    text.push_str("{broken\n");
    let path = dir.path().join("big.json");
    write(&path, text.as_bytes());
    let b = ReadText::new(&path).blocksize(Some(64)).open().unwrap();
    assert!(b.npartitions() > 10);
    let err = b.json::<serde_json::Value>().compute(&Sync).unwrap_err();
    let at = BagError::find(&err).unwrap().location().unwrap().clone();
    assert_eq!(at.line, 101);
}

#[test]
fn malformed_lines_can_be_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bad) = json_files(dir.path());
    let skipped = Skipped::new();
    #[derive(serde::Deserialize, Clone)]
    struct N {
        n: i64,
    }
    let b = read_text(path_str(&dir.path().join("*.json*")))
        .unwrap()
        .json_skipping::<N>(&skipped)
        .map(|r| r.n);
    let got = b.compute(&Threads::new(2)).unwrap();
    let mut expected: Vec<i64> = (0..50).chain(0..50).collect();
    expected.push(50);
    assert_eq!(got, expected);
    assert_eq!(skipped.count(), 2);
    let examples = skipped.examples();
    assert!(
        examples[0].starts_with(&format!("{}:51: invalid JSON", bad.display())),
        "{examples:?}"
    );
    assert!(
        examples[1].starts_with(&format!("{}:54: invalid JSON", bad.display())),
        "{examples:?}"
    );
}

#[test]
fn take_reads_only_the_start_of_the_first_file() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.txt"), b"1\n2\n3\n");
    write(&dir.path().join("b.txt"), b"4\n");
    let b = read_text(path_str(&dir.path().join("*.txt"))).unwrap();
    // once the graph is built, the second file could go: take(2) never opens it
    std::fs::remove_file(dir.path().join("b.txt")).unwrap();
    assert_eq!(b.take(2).compute(&Sync).unwrap(), ["1", "2"]);
    assert_eq!(
        b.take(3).compute(&Threads::new(2)).unwrap(),
        ["1", "2", "3"]
    );
    assert!(b.take(4).compute(&Sync).is_err());
}
