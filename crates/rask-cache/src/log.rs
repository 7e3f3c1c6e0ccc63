//! Log files: where small entries live, many to a file.
//!
//! Every process that stores results appends them, one checksummed
//! *record* per result, to a log file of its own in `DIR/log/`; nobody
//! else ever writes to it, so writers need no lock between processes (or
//! hosts: ranks of an MPI job on a shared file system). Readers scan every
//! log, and remember for each token where its record starts.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "RASKREC1"
//!      8     4  payload length n, little-endian
//!     12    32  the token the record is stored under
//!     44    32  BLAKE3 of bytes 8..44 and the payload
//!     76     n  payload: codec::to_bytes(value)
//! ```
//!
//! A record is written with one `write` (so a process killed at any moment
//! leaves whole records and at most one torn record at the end of its
//! log), and is read back in full and checked (magic, token, length,
//! checksum) before its value is used, so a torn or damaged record is
//! never returned: its task runs again and appends a new record. A scan
//! trusts nothing either: where a record header does not parse, it looks
//! for the next magic, so one damaged record hides no other.
//!
//! Worked example: a log holding `a`, a torn record of `b`, and `c`
//!
//! ```text
//! | RASKREC1 len token(a) sum payload | RASKREC1 len tok… | RASKREC1 len token(c) sum payload |
//!   ^ 0: index a → 0                    ^ 93: header cut short:   ^ 140: index c → 140
//!                                         search the next magic
//! ```
//!
//! `b`'s record, torn, is found by no lookup: `b` counts as missing and
//! runs again.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::token::Token;

/// The magic that starts every record.
pub(crate) const RECORD_MAGIC: &[u8; 8] = b"RASKREC1";
/// The size of a record's header.
pub(crate) const RECORD_HEADER: usize = 8 + 4 + 32 + 32;
/// Payloads longer than this go to files of their own (a scan never takes
/// a longer length for a record's).
pub(crate) const INLINE_MAX: usize = 64 * 1024;
/// The directory of the logs, in the cache directory.
pub(crate) const LOG_DIR: &str = "log";
/// How much of a log a scan reads at a time.
const CHUNK: usize = 4 << 20;

/// Where the record of a token starts: its log's number (in
/// [`Logs::files`]) and its offset, packed in one word.
pub(crate) type Packed = u64;

const OFFSET_BITS: u32 = 40;

pub(crate) fn pack(log: u32, offset: u64) -> Packed {
    (u64::from(log) << OFFSET_BITS) | offset
}

pub(crate) fn unpack(p: Packed) -> (u32, u64) {
    ((p >> OFFSET_BITS) as u32, p & ((1 << OFFSET_BITS) - 1))
}

/// The key of a token in the index: its first eight bytes. Two tokens
/// sharing them (about one chance in 10^12 among 10^7 entries) cost a
/// recomputation, never a wrong value: a record is read back and its whole
/// token compared before it is used.
pub(crate) fn prefix(token: &Token) -> u64 {
    let b = token.as_bytes();
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// Fills in the header of a record whose payload follows
/// [`RECORD_HEADER`] bytes of room in `record`, under `token`.
pub(crate) fn seal(token: &Token, record: &mut [u8]) {
    let len = (record.len() - RECORD_HEADER) as u32;
    record[0..8].copy_from_slice(RECORD_MAGIC);
    record[8..12].copy_from_slice(&len.to_le_bytes());
    record[12..44].copy_from_slice(token.as_bytes());
    let (head, payload) = record.split_at_mut(RECORD_HEADER);
    let sum = checksum(&head[8..44], payload);
    head[44..76].copy_from_slice(sum.as_bytes());
}

fn checksum(len_and_token: &[u8], payload: &[u8]) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(len_and_token);
    h.update(payload);
    h.finalize()
}

/// Reads the record at `offset` of `file` and checks that it is whole and
/// is the one of `token`; its payload, or why not.
pub(crate) fn read_record(file: &File, offset: u64, token: &Token) -> Result<Vec<u8>, String> {
    let mut h = [0_u8; RECORD_HEADER];
    file.read_exact_at(&mut h, offset)
        .map_err(|e| format!("truncated record: {e}"))?;
    if &h[0..8] != RECORD_MAGIC {
        return Err("not a rask cache record (bad magic)".into());
    }
    if h[12..44] != token.as_bytes()[..] {
        return Err("stored under another token".into());
    }
    let len = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
    if len > INLINE_MAX {
        return Err(format!("wrong length ({len} bytes)"));
    }
    let mut payload = vec![0_u8; len];
    file.read_exact_at(&mut payload, offset + RECORD_HEADER as u64)
        .map_err(|e| format!("truncated record: {e}"))?;
    if h[44..76] != checksum(&h[8..44], &payload).as_bytes()[..] {
        return Err("checksum mismatch".into());
    }
    Ok(payload)
}

/// Reads `file` from `from` to its end and calls `found` with the token
/// prefix and place of each record found
/// (header only, where the next record follows: records are checked when
/// read); returns where the next scan starts (the end of the last record
/// taken).
pub(crate) fn scan(
    file: &File,
    from: u64,
    log: u32,
    found: &mut impl FnMut(u64, Packed),
) -> io::Result<u64> {
    let finder = memchr::memmem::Finder::new(RECORD_MAGIC);
    let mut buf: Vec<u8> = Vec::new();
    let mut base = from; // the file offset of buf[0]
                         // the end of the last record taken: a scan after this one starts
                         // there, so a record being written when this one passed (its bytes
                         // not all there yet, or still zeros) is found next time
    let mut good_end = from;
    loop {
        let old = buf.len();
        buf.resize(old + CHUNK, 0);
        let n = read_some(file, &mut buf[old..], base + old as u64)?;
        buf.truncate(old + n);
        let eof = n == 0;
        let mut pos = 0;
        while buf.len() - pos >= RECORD_HEADER {
            let h = &buf[pos..pos + RECORD_HEADER];
            let len = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
            if &h[0..8] != RECORD_MAGIC || len > INLINE_MAX {
                // not a record: resume at the next magic
                pos = resync(&finder, &buf, pos);
                continue;
            }
            let end = pos + RECORD_HEADER + len;
            if end > buf.len() {
                if !eof {
                    break; // not whole yet: read on
                }
                // not whole at the end of the log: being written (the
                // next scan looks again), or torn (look on for others)
                pos = resync(&finder, &buf, pos);
                continue;
            }
            // a record is taken on its header's word when the next one
            // starts where it ends (it is checked in full when read);
            // otherwise (a torn record, whose length runs into the next
            // one) only if its checksum holds, or the scan would skip
            // what follows
            let next = &buf[end..buf.len().min(end + RECORD_MAGIC.len())];
            if next.len() < RECORD_MAGIC.len() && !eof {
                break; // read on
            }
            let followed = next == RECORD_MAGIC || next.is_empty();
            if !followed
                && buf[pos + 44..pos + RECORD_HEADER]
                    != checksum(&buf[pos + 8..pos + 44], &buf[pos + RECORD_HEADER..end]).as_bytes()
                        [..]
            {
                pos = resync(&finder, &buf, pos);
                continue;
            }
            let key = u64::from_le_bytes([h[12], h[13], h[14], h[15], h[16], h[17], h[18], h[19]]);
            found(key, pack(log, base + pos as u64));
            pos = end;
            good_end = base + end as u64;
        }
        buf.drain(..pos);
        base += pos as u64;
        if eof {
            return Ok(good_end);
        }
    }
}

/// Where to look for a record after a bad one at `pos`: the next magic,
/// or near the end of what was read (a magic may straddle the next read).
fn resync(finder: &memchr::memmem::Finder<'_>, buf: &[u8], pos: usize) -> usize {
    match finder.find(&buf[pos + 1..]) {
        Some(i) => pos + 1 + i,
        None => (buf.len() - (RECORD_MAGIC.len() - 1)).max(pos + 1),
    }
}

/// `read_at` until `buf` is full or the end of the file.
fn read_some(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], at + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// This process's log: the only writer of its file.
#[derive(Debug)]
pub(crate) struct Writer {
    /// The process that created it: a forked child makes its own.
    pub(crate) pid: u32,
    pub(crate) file: Arc<File>,
    pub(crate) path: PathBuf,
    /// Bytes written (the offset of the next record).
    pub(crate) len: u64,
    /// Bytes written at the last `fsync`.
    pub(crate) synced: u64,
    pub(crate) last_sync: std::time::Instant,
}

impl Writer {
    /// Creates a new log in `dir/log` (flushing the directory to disk if
    /// `durable`, so the log's name survives a crash). Its name is unique
    /// to this process (pid, clock, counter); creating it exclusively
    /// makes a clash with another host's an error, never a shared file.
    pub(crate) fn create(dir: &Path, durable: bool) -> io::Result<(PathBuf, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let logs = dir.join(LOG_DIR);
        fs::create_dir_all(&logs)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = logs.join(format!(
            "{nanos:x}-{}-{}.log",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        if durable {
            File::open(&logs)?.sync_all()?;
        }
        Ok((path, file))
    }

    /// Appends `record` in one write; its offset.
    /// Writes `record` at the end of the log in one `pwrite`; its offset.
    /// After an error the next record goes after the room this one would
    /// have taken (a scan skips whatever is left there), so a torn record
    /// never hides the next.
    pub(crate) fn append(&mut self, record: &[u8]) -> io::Result<u64> {
        let at = self.len;
        self.len += record.len() as u64;
        self.file.write_all_at(record, at)?;
        Ok(at)
    }
}

#[cfg(test)]
mod tests;
