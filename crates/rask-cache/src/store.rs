//! The cache directory: entries written atomically and checksummed (see
//! [`Cache`]).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rask_graph::{codec, Key, Value};

use crate::token::Token;

const MAGIC: &[u8; 8] = b"RASKCACH";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 32 + 8 + 32;

/// The tag that tells backup tools the directory holds a cache
/// (<https://bford.info/cachedir/>); writing it is also how
/// [`Cache::open`] checks that the directory is writable.
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by rask.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// What can go wrong with a cache, found before anything runs.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache directory cannot be created or written.
    #[error("cache directory {}: not writable: {source}", .dir.display())]
    NotWritable {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The graph is invalid (a missing key, a cycle, a wrong argument
    /// count): the same error a run without the cache reports.
    #[error(transparent)]
    Graph(#[from] rask_graph::GraphError),
}

/// A directory of results stored under their tasks' tokens. Cheap to
/// clone; clones share the directory and the counts.
///
/// An entry lives at `DIR/ab/cdef…`, the hex of its [`Token`] split after
/// two digits (so no directory holds more than a 256th of the entries).
/// Its bytes are a header and the value in the [`codec`] binary form:
///
/// ```text
/// offset  size  field
///      0     8  magic "RASKCACH"
///      8     4  format version (1), little-endian
///     12    32  the token the entry is stored under
///     44     8  payload length, little-endian
///     52    32  BLAKE3 of the payload
///     84     …  payload: codec::to_bytes(value)
/// ```
///
/// A writer writes the whole entry to a temporary file beside its final
/// name, flushes it to disk (`fsync`) and renames it into place, so a
/// reader sees no entry or a whole one, even when the process is killed
/// mid-write or several runs share the directory. Any entry that does not
/// verify (wrong magic, version, token or length, a checksum mismatch, a
/// payload that does not decode, a read error) is treated as missing.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let cache = rask::cache::Cache::open(dir.path().join("cache")).unwrap();
/// assert!(cache.dir().is_dir());
/// // a directory that cannot exist (its parent is a file) is an error naming it
/// let file = dir.path().join("file");
/// std::fs::write(&file, "").unwrap();
/// let err = rask::cache::Cache::open(file.join("cache")).unwrap_err();
/// assert!(err.to_string().contains("file/cache: not writable"), "{err}");
/// ```
#[derive(Clone, Debug)]
pub struct Cache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    dir: PathBuf,
    durable: AtomicBool,
    stored: AtomicUsize,
    loaded: AtomicUsize,
    unencodable: AtomicUsize,
    write_errors: AtomicUsize,
    first_problem: Mutex<Option<String>>,
}

/// What a cache did since it was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Results written to the directory.
    pub stored: usize,
    /// Results loaded from the directory.
    pub loaded: usize,
    /// Results not stored because their value has no codec (they were
    /// returned all the same).
    pub unencodable: usize,
    /// Results not stored because writing failed (disk full, ...; they
    /// were returned all the same).
    pub write_errors: usize,
    /// The first reason a result was not stored, naming its key.
    pub first_problem: Option<String>,
}

impl Cache {
    /// Opens the cache in `dir`, creating the directory if it is missing
    /// and checking that it is writable: a clear error naming the
    /// directory otherwise, before anything runs.
    pub fn open(dir: impl AsRef<Path>) -> Result<Cache, CacheError> {
        let dir = dir.as_ref().to_path_buf();
        let not_writable = |source| CacheError::NotWritable {
            dir: dir.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(not_writable)?;
        // the check does what every store does: write a file, rename it
        write_atomically(
            &dir,
            &dir.join("CACHEDIR.TAG"),
            &[CACHEDIR_TAG.as_bytes()],
            true,
        )
        .map_err(not_writable)?;
        Ok(Cache {
            inner: Arc::new(Inner {
                dir,
                durable: AtomicBool::new(true),
                stored: AtomicUsize::new(0),
                loaded: AtomicUsize::new(0),
                unencodable: AtomicUsize::new(0),
                write_errors: AtomicUsize::new(0),
                first_problem: Mutex::new(None),
            }),
        })
    }

    /// Sets whether each entry is flushed to disk (`fsync`) before it is
    /// renamed into place; on by default. Without it, writes are much
    /// cheaper (an `fsync` costs milliseconds on many disks), a killed
    /// process still loses nothing it stored, and a machine that crashes
    /// may lose or tear its most recent entries, which the checksum
    /// catches: the cost is recomputing them, never a wrong value.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let cache = rask::cache::Cache::open(dir.path()).unwrap();
    /// cache.set_durable(false);
    /// assert!(!cache.is_durable());
    /// ```
    pub fn set_durable(&self, on: bool) {
        self.inner.durable.store(on, Ordering::Relaxed);
    }

    /// Whether entries are flushed to disk before they are renamed into
    /// place ([`set_durable`](Cache::set_durable)).
    pub fn is_durable(&self) -> bool {
        self.inner.durable.load(Ordering::Relaxed)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The file an entry with `token` is stored in (it may not exist).
    pub fn entry_path(&self, token: &Token) -> PathBuf {
        self.inner.entry_path(token)
    }

    /// Whether an entry for `token` exists and verifies: header, checksum
    /// and decoding of the payload.
    pub fn contains(&self, token: &Token) -> bool {
        self.inner.read(token).is_ok()
    }

    /// The value stored under `token`, if its entry exists and verifies.
    pub fn load(&self, token: &Token) -> Option<Value> {
        self.inner.read(token).ok()
    }

    /// Stores `value` under `token` (atomically, checksummed). A value
    /// with no codec is an error naming its type.
    ///
    /// ```
    /// use rask::cache::{Cache, Token};
    /// use rask::Value;
    /// let dir = tempfile::tempdir().unwrap();
    /// let cache = Cache::open(dir.path()).unwrap();
    /// let token = Token::from_bytes([7; 32]);
    /// cache.store(&token, &Value::from("done")).unwrap();
    /// assert!(cache.contains(&token));
    /// assert_eq!(cache.load(&token), Some(Value::from("done")));
    /// // a damaged entry is never returned
    /// let path = cache.entry_path(&token);
    /// let mut bytes = std::fs::read(&path).unwrap();
    /// *bytes.last_mut().unwrap() ^= 1;
    /// std::fs::write(&path, bytes).unwrap();
    /// assert_eq!(cache.load(&token), None);
    /// ```
    pub fn store(&self, token: &Token, value: &Value) -> Result<(), StoreError> {
        self.inner.write(token, value)
    }

    /// What the cache did since it was opened, in this process (results
    /// stored by the workers of a process pool are counted there).
    ///
    /// ```
    /// use rask::cache::{prepare, Cache};
    /// use rask::{Function, Graph, Task};
    /// use rask::{Executor, Sync};
    /// struct Handle; // no codec: returned, not stored
    /// let open = Function::new("open", |_: i64| std::sync::Arc::new(Handle));
    /// let mut g = Graph::new();
    /// g.insert("h", Task::call(&open, [1]));
    /// let dir = tempfile::tempdir().unwrap();
    /// let cache = Cache::open(dir.path()).unwrap();
    /// let p = prepare(&g, &["h".into()], &cache).unwrap();
    /// Sync.get(&p.graph, "h").unwrap();
    /// let stats = cache.stats();
    /// assert_eq!((stats.stored, stats.unencodable), (0, 1));
    /// assert!(stats.first_problem.unwrap().starts_with("the result of task \"h\" was not cached"));
    /// ```
    pub fn stats(&self) -> CacheStats {
        let i = &self.inner;
        CacheStats {
            stored: i.stored.load(Ordering::Relaxed),
            loaded: i.loaded.load(Ordering::Relaxed),
            unencodable: i.unencodable.load(Ordering::Relaxed),
            write_errors: i.write_errors.load(Ordering::Relaxed),
            first_problem: i
                .first_problem
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    pub(crate) fn shared(&self) -> Arc<Inner> {
        self.inner.clone()
    }
}

/// Why a result was not stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The value has no codec.
    #[error(transparent)]
    NoCodec(#[from] codec::NoCodec),
    /// Writing the entry failed.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The entry's file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl Inner {
    pub(crate) fn entry_path(&self, token: &Token) -> PathBuf {
        let hex = token.to_string();
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    /// Reads and verifies the entry of `token`, and decodes it.
    pub(crate) fn read(&self, token: &Token) -> Result<Value, String> {
        let path = self.entry_path(token);
        let bytes = read_entry(&path)?;
        let payload = verify(&bytes, token)?;
        codec::from_bytes(payload).map_err(|e| e.to_string())
    }

    /// [`read`](Inner::read), counted, for the load tasks of a run.
    pub(crate) fn load(&self, token: &Token) -> Result<Value, String> {
        let v = self.read(token)?;
        self.loaded.fetch_add(1, Ordering::Relaxed);
        Ok(v)
    }

    pub(crate) fn write(&self, token: &Token, value: &Value) -> Result<(), StoreError> {
        let payload = codec::to_bytes(value)?;
        let path = self.entry_path(token);
        let header = header(token, &payload);
        let shard = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(shard)
            .and_then(|()| {
                let durable = self.durable.load(Ordering::Relaxed);
                write_atomically(shard, &path, &[&header, &payload], durable)
            })
            .map_err(|source| StoreError::Write {
                path: path.clone(),
                source,
            })?;
        self.stored.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Stores the result of the task `key`; a failure is counted and
    /// remembered, never an error of the run (the value is returned all
    /// the same).
    pub(crate) fn store_result(&self, key: &Key, token: &Token, value: &Value) {
        if let Err(e) = self.write(token, value) {
            match e {
                StoreError::NoCodec(_) => &self.unencodable,
                StoreError::Write { .. } => &self.write_errors,
            }
            .fetch_add(1, Ordering::Relaxed);
            let mut first = self.first_problem.lock().unwrap_or_else(|e| e.into_inner());
            if first.is_none() {
                *first = Some(format!("the result of task {key:?} was not cached: {e}"));
            }
        }
    }
}

fn header(token: &Token, payload: &[u8]) -> [u8; HEADER] {
    let mut h = [0_u8; HEADER];
    h[0..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[12..44].copy_from_slice(token.as_bytes());
    h[44..52].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    h[52..84].copy_from_slice(blake3::hash(payload).as_bytes());
    h
}

/// The payload of an entry, if the entry is whole and is the one of
/// `token`.
/// The bytes of a cache entry. A regular file only: a symbolic link, a
/// FIFO or a device is refused before a byte is read (a link to
/// `/dev/zero` would fill memory, a FIFO would block), and the length the
/// header gives is checked against the file's before the payload is read.
fn read_entry(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // a link is not followed, and opening a FIFO does not wait
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| {
        if fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink()) {
            "a symbolic link, not a cache entry".to_string()
        } else {
            e.to_string()
        }
    })?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(format!("not a regular file ({:?})", meta.file_type()));
    }
    let len = meta.len();
    let mut bytes = Vec::with_capacity(HEADER);
    let mut file = file.take(len);
    (&mut file)
        .take(HEADER as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() == HEADER {
        let mut declared = [0_u8; 8];
        declared.copy_from_slice(&bytes[44..52]);
        if u64::from_le_bytes(declared) != len - HEADER as u64 {
            return Err("truncated or extended: wrong length".into());
        }
        bytes.reserve_exact(usize::try_from(len).unwrap_or(0).saturating_sub(HEADER));
        file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    }
    Ok(bytes)
}

fn verify<'b>(bytes: &'b [u8], token: &Token) -> Result<&'b [u8], String> {
    if bytes.len() < HEADER {
        return Err(format!("truncated: {} bytes", bytes.len()));
    }
    let (h, payload) = bytes.split_at(HEADER);
    if &h[0..8] != MAGIC {
        return Err("not a rask cache entry (bad magic)".into());
    }
    if h[8..12] != VERSION.to_le_bytes() {
        return Err("written by another version of rask".into());
    }
    if h[12..44] != token.as_bytes()[..] {
        return Err("stored under another token".into());
    }
    if h[44..52] != (payload.len() as u64).to_le_bytes() {
        return Err("truncated or extended: wrong length".into());
    }
    if h[52..84] != blake3::hash(payload).as_bytes()[..] {
        return Err("checksum mismatch".into());
    }
    Ok(payload)
}

/// Writes `parts` to a temporary file in `dir`, flushes it to disk (if
/// `durable`) and renames it to `path`.
fn write_atomically(dir: &Path, path: &Path, parts: &[&[u8]], durable: bool) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("entry");
    // unique across threads (counter), processes (pid) and, for ranks on
    // several machines sharing the directory, very likely across hosts too
    // (the clock); a clash could only tear a file, which the checksum
    // catches
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(
        ".{name}.{}.{nanos}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        for p in parts {
            f.write_all(p)?;
        }
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests;
