use std::os::unix::fs::FileExt;

use super::*;

fn rec(n: u8, payload: &[u8]) -> Vec<u8> {
    let mut r = vec![0_u8; RECORD_HEADER];
    r.extend_from_slice(payload);
    seal(&Token::from_bytes([n; 32]), &mut r);
    r
}

fn scanned(file: &File, from: u64) -> (Vec<(u8, u64)>, u64) {
    let mut index = rustc_hash::FxHashMap::default();
    let next = scan(file, from, 3, &mut |k, p| {
        index.insert(k, p);
    })
    .unwrap();
    let mut found: Vec<(u8, u64)> = index
        .iter()
        .map(|(&k, &p)| {
            assert_eq!(unpack(p).0, 3);
            ((k & 0xff) as u8, unpack(p).1)
        })
        .collect();
    found.sort();
    (found, next)
}

#[test]
fn a_record_being_written_is_found_by_the_next_scan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let (a, b) = (rec(1, b"first"), rec(2, b"second"));
    // b's room is there but its bytes are not (yet)
    let mut bytes = a.clone();
    bytes.resize(a.len() + b.len(), 0);
    std::fs::write(&path, &bytes).unwrap();
    let file = File::open(&path).unwrap();
    let (found, next) = scanned(&file, 0);
    assert_eq!(found, [(1, 0)]);
    assert_eq!(next, a.len() as u64);
    // half of b: its header is there, so it is found, but it reads back
    // only when whole
    let w = OpenOptions::new().write(true).open(&path).unwrap();
    w.write_all_at(&b[..50], next).unwrap();
    let (found, end) = scanned(&file, next);
    assert_eq!(found, [(2, next)]);
    assert_eq!(end, (a.len() + b.len()) as u64);
    let t2 = Token::from_bytes([2; 32]);
    assert!(read_record(&file, next, &t2).is_err());
    w.write_all_at(&b, next).unwrap();
    assert_eq!(read_record(&file, next, &t2).unwrap(), b"second");
}

#[test]
fn torn_and_damaged_records_hide_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let (a, b, c, d) = (rec(1, b"a"), rec(2, b"bb"), rec(3, b"ccc"), rec(4, b"dddd"));
    let mut bad_len = c.clone();
    bad_len[8] = 200; // its length now runs into d
    let bytes = [&a[..], &b[..40], &bad_len[..], b"garbage", &d[..]].concat();
    std::fs::write(&path, &bytes).unwrap();
    let file = File::open(&path).unwrap();
    let (found, next) = scanned(&file, 0);
    let d_at = (bytes.len() - d.len()) as u64;
    assert_eq!(found, [(1, 0), (4, d_at)]);
    assert_eq!(next, bytes.len() as u64);
}

#[test]
fn a_record_reads_back_only_under_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    std::fs::write(&path, rec(1, b"value")).unwrap();
    let file = File::open(&path).unwrap();
    let t = |n| Token::from_bytes([n; 32]);
    assert_eq!(read_record(&file, 0, &t(1)).unwrap(), b"value");
    let err = read_record(&file, 0, &t(2)).unwrap_err();
    assert_eq!(err, "stored under another token");
    let err = read_record(&file, 1, &t(1)).unwrap_err();
    assert!(
        err.contains("bad magic") || err.contains("truncated"),
        "{err}"
    );
}
