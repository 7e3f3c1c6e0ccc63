//! The cache directory: small entries as checksummed records in per-process
//! logs, large ones in files of their own (see [`Cache`]).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use rask_graph::{codec, Key, Value};
use rustc_hash::FxHashMap;

use crate::log::{self, Packed, Writer};
use crate::token::Token;

const MAGIC: &[u8; 8] = b"RASKCACH";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 32 + 8 + 32;

/// How long a durable cache lets records wait before one `fsync` flushes
/// them all (a group commit).
const SYNC_EVERY: Duration = Duration::from_millis(100);

/// The tag that tells backup tools the directory holds a cache
/// (<https://bford.info/cachedir/>). Written when missing, never rewritten.
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by rask.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// What can go wrong with a cache, found before anything runs.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache directory cannot be created or written (and holds no
    /// cache to read from).
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
/// clone; clones share the directory, the index and the counts.
///
/// **Small entries** (an encoded value up to 64 KiB) are records appended
/// to a log file, `DIR/log/….log`, one per process that stores results:
/// each record holds its token, its length and a BLAKE3 checksum of both
/// and of the value (the format is in the docs of the `log` module). A
/// record is appended with one `write` before its task returns, so a
/// process killed at any moment loses nothing it stored and leaves at most
/// a torn last record. With [durability](Cache::set_durable) on, the
/// records are flushed to disk (`fsync`) together: by the first store at
/// least 100 ms after the last flush, and when the run ends
/// ([`Cache::sync`]) — a group commit. A machine that crashes may lose the
/// records written since the last flush, which only costs their
/// recomputation.
///
/// **Large entries** live in a file of their own, `DIR/ab/cdef…` (the hex
/// of the token split after two digits), written to a temporary file,
/// flushed and renamed into place; its bytes are a header and the value:
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
/// Any entry that does not verify (wrong magic, version, token or length, a
/// checksum mismatch, a payload that does not decode, a read error) is
/// treated as missing. Several processes may share the directory: each
/// writes only its own log, and reads everyone's.
///
/// A directory that holds a cache (a `CACHEDIR.TAG`) but cannot be
/// written — read-only, or a log cannot be created — still opens: it
/// serves what it holds, and every result it cannot store is counted in
/// [`CacheStats::write_errors`] with a warning in
/// [`CacheStats::first_problem`]. So does a full disk. Opening never
/// rewrites `CACHEDIR.TAG`.
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
    /// Why nothing can be stored, if so.
    read_only: Option<String>,
    index: RwLock<Index>,
    writer: Mutex<Option<Writer>>,
    stored: AtomicUsize,
    loaded: AtomicUsize,
    unencodable: AtomicUsize,
    write_errors: AtomicUsize,
    first_problem: Mutex<Option<String>>,
}

/// Where every entry found so far is.
#[derive(Debug, Default)]
struct Index {
    /// The logs, by number.
    logs: Vec<LogFile>,
    by_name: FxHashMap<OsString, u32>,
    /// Token prefix → record.
    records: FxHashMap<u64, Packed>,
    /// Tokens with a file of their own.
    files: HashSet<Token>,
}

#[derive(Debug)]
struct LogFile {
    path: PathBuf,
    /// Opened when a record is first read from it (a cache shared by
    /// many runs has many logs: a scan does not keep them open).
    file: OnceLock<Arc<File>>,
    /// Where the next scan starts.
    scanned: u64,
}

impl LogFile {
    /// The log, opened for reading once.
    fn open(&self) -> io::Result<Arc<File>> {
        if let Some(f) = self.file.get() {
            return Ok(f.clone());
        }
        let f = Arc::new(File::open(&self.path)?);
        Ok(self.file.get_or_init(|| f).clone())
    }

    /// The log, open if it is, or opened for the caller alone.
    fn peek(&self) -> io::Result<Arc<File>> {
        match self.file.get() {
            Some(f) => Ok(f.clone()),
            None => File::open(&self.path).map(Arc::new),
        }
    }
}

/// Where an entry's bytes are: a record in a log, or a file of its own
/// (`offset` 0, `len` the file's length).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryLocation {
    /// The file.
    pub path: PathBuf,
    /// Where the entry starts in it.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
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
    /// Results not stored because writing failed (disk full, read-only
    /// directory, ...; they were returned all the same).
    pub write_errors: usize,
    /// The first reason a result was not stored, naming its key.
    pub first_problem: Option<String>,
}

impl Cache {
    /// Opens the cache in `dir`, creating the directory if it is missing
    /// and checking that it is writable: a clear error naming the
    /// directory otherwise, before anything runs — unless it already holds
    /// a cache (a `CACHEDIR.TAG`), which then opens
    /// [read-only](Cache::read_only).
    pub fn open(dir: impl AsRef<Path>) -> Result<Cache, CacheError> {
        let dir = dir.as_ref().to_path_buf();
        let not_writable = |source| CacheError::NotWritable {
            dir: dir.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(not_writable)?;
        let tag = dir.join("CACHEDIR.TAG");
        let had_tag = tag.is_file();
        if !had_tag {
            write_atomically(&dir, &tag, &[CACHEDIR_TAG.as_bytes()], true).map_err(not_writable)?;
        }
        let mut index = Index::default();
        let mut read_only = None;
        // the check that the directory is writable: this process's log
        let writer = match Writer::create(&dir, true) {
            Ok((path, file)) => Some(index.own_log(path, file)),
            Err(e) if had_tag => {
                read_only = Some(format!(
                    "cache directory {} cannot be written: {e}",
                    dir.display()
                ));
                None
            }
            Err(e) => return Err(not_writable(e)),
        };
        Ok(Cache {
            inner: Arc::new(Inner {
                dir,
                durable: AtomicBool::new(true),
                read_only,
                index: RwLock::new(index),
                writer: Mutex::new(writer),
                stored: AtomicUsize::new(0),
                loaded: AtomicUsize::new(0),
                unencodable: AtomicUsize::new(0),
                write_errors: AtomicUsize::new(0),
                first_problem: Mutex::new(None),
            }),
        })
    }

    /// Sets whether entries are flushed to disk (`fsync`); on by default.
    /// Records are flushed together (by the first store at least 100 ms
    /// after the last flush, and by [`sync`](Cache::sync)), large entries
    /// each before they are renamed into place. Without it, a killed
    /// process still loses nothing it stored, and a machine that crashes
    /// may lose or tear its most recent entries, which the checksum catches: the cost
    /// is recomputing them, never a wrong value.
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

    /// Whether entries are flushed to disk
    /// ([`set_durable`](Cache::set_durable)).
    pub fn is_durable(&self) -> bool {
        self.inner.durable.load(Ordering::Relaxed)
    }

    /// Flushes the records this process stored to disk (`fsync`), if the
    /// cache is durable; a run calls it when it ends (dropping the last
    /// clone of the cache does too).
    pub fn sync(&self) -> Result<(), StoreError> {
        self.inner.sync()
    }

    /// Why nothing can be stored, if the directory could not be written
    /// when it was opened (it still serves what it holds).
    pub fn read_only(&self) -> Option<&str> {
        self.inner.read_only.as_deref()
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The file a large entry with `token` is stored in (it may not
    /// exist; small entries are records in a log: see
    /// [`locate`](Cache::locate)).
    pub fn entry_path(&self, token: &Token) -> PathBuf {
        self.inner.entry_path(token)
    }

    /// Where the entry of `token` is, if there is one (it may not
    /// verify).
    pub fn locate(&self, token: &Token) -> Option<EntryLocation> {
        self.inner.refresh();
        self.inner.locate(token)
    }

    /// Where every entry is (each may not verify), in the order of their
    /// files and offsets.
    pub fn entries(&self) -> Vec<EntryLocation> {
        self.inner.refresh();
        self.inner.entries()
    }

    /// Whether an entry for `token` exists and verifies: header, checksum
    /// and decoding of the payload.
    pub fn contains(&self, token: &Token) -> bool {
        self.load(token).is_some()
    }

    /// The value stored under `token`, if its entry exists and verifies.
    pub fn load(&self, token: &Token) -> Option<Value> {
        self.inner.read(token).ok().or_else(|| {
            // a new entry, or one written again since the last look
            self.inner.refresh();
            self.inner.read(token).ok()
        })
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
    /// let at = cache.locate(&token).unwrap();
    /// let mut bytes = std::fs::read(&at.path).unwrap();
    /// bytes[(at.offset + at.len - 1) as usize] ^= 1;
    /// std::fs::write(&at.path, bytes).unwrap();
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
        /// The entry's file (a log, or a file of its own).
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The directory could not be written when the cache was opened.
    #[error("{0}")]
    ReadOnly(String),
}

impl Index {
    /// Registers this process's new log; the writer of it.
    fn own_log(&mut self, path: PathBuf, file: File) -> Writer {
        let file = Arc::new(file);
        let log = self.logs.len() as u32;
        let pid = std::process::id();
        if let Some(name) = path.file_name() {
            self.by_name.insert(name.to_os_string(), log);
        }
        self.logs.push(LogFile {
            path: path.clone(),
            file: OnceLock::from(file.clone()),
            scanned: 0,
        });
        Writer {
            pid,
            file,
            path,
            len: 0,
            synced: 0,
            last_sync: Instant::now(),
        }
    }
}

impl Inner {
    pub(crate) fn entry_path(&self, token: &Token) -> PathBuf {
        let hex = token.to_string();
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    fn index(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn index_mut(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Option<Writer>> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Finds what was stored since the last refresh, by this process or
    /// others: new logs, new records in known logs, files of large
    /// entries. A log or directory that cannot be read is skipped (its
    /// entries count as missing).
    pub(crate) fn refresh(&self) {
        let mut idx = self.index_mut();
        let idx = &mut *idx;
        if let Ok(names) = fs::read_dir(self.dir.join(log::LOG_DIR)) {
            for e in names.flatten() {
                let name = e.file_name();
                if !name.to_string_lossy().ends_with(".log") || idx.by_name.contains_key(&name) {
                    continue;
                }
                idx.by_name.insert(name, idx.logs.len() as u32);
                idx.logs.push(LogFile {
                    path: e.path(),
                    file: OnceLock::new(),
                    scanned: 0,
                });
            }
        }
        // this process's own log too: its records are not indexed as they
        // are written (that would cost every store a lock and an insert)
        // a token found twice (an entry written again, or by two runs at
        // once) keeps a record that verifies: logs are scanned in no
        // particular order, and the first may be the damaged one
        let mut again: Vec<(u64, Packed)> = Vec::new();
        let records = &mut idx.records;
        for (n, l) in idx.logs.iter_mut().enumerate() {
            let Ok(file) = l.peek() else {
                continue;
            };
            let mut found = |k, p| match records.entry(k) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(p);
                }
                std::collections::hash_map::Entry::Occupied(_) => again.push((k, p)),
            };
            if let Ok(next) = log::scan(&file, l.scanned, n as u32, &mut found) {
                l.scanned = next;
            }
        }
        for (k, p) in again {
            let kept = idx.records.get(&k).copied();
            if kept.is_none_or(|kept| !record_verifies(idx, kept)) {
                idx.records.insert(k, p);
            }
        }
        let Ok(shards) = fs::read_dir(&self.dir) else {
            return;
        };
        for shard in shards.flatten() {
            let name = shard.file_name();
            let Some(hi) = name.to_str().filter(|n| n.len() == 2) else {
                continue;
            };
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            for f in files.flatten() {
                if let Some(token) = f.file_name().to_str().and_then(|lo| parse_token(hi, lo)) {
                    idx.files.insert(token);
                }
            }
        }
    }

    fn locate(&self, token: &Token) -> Option<EntryLocation> {
        let idx = self.index();
        if let Some(&p) = idx.records.get(&log::prefix(token)) {
            let (n, offset) = unpack_checked(&idx, p)?;
            let l = &idx.logs[n];
            if let Some(len) = record_len(&*l.peek().ok()?, offset, token) {
                return Some(EntryLocation {
                    path: l.path.clone(),
                    offset,
                    len,
                });
            }
        }
        if idx.files.contains(token) {
            let path = self.entry_path(token);
            let len = fs::metadata(&path).ok()?.len();
            return Some(EntryLocation {
                path,
                offset: 0,
                len,
            });
        }
        None
    }

    fn entries(&self) -> Vec<EntryLocation> {
        let idx = self.index();
        let mut out: Vec<EntryLocation> = idx
            .records
            .values()
            .filter_map(|&p| {
                let (n, offset) = unpack_checked(&idx, p)?;
                let l = &idx.logs[n];
                let mut h = [0_u8; log::RECORD_HEADER];
                l.peek().ok()?.read_exact_at(&mut h, offset).ok()?;
                let len = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
                Some(EntryLocation {
                    path: l.path.clone(),
                    offset,
                    len: (log::RECORD_HEADER as u64) + u64::from(len),
                })
            })
            .collect();
        out.extend(idx.files.iter().filter_map(|t| {
            let path = self.entry_path(t);
            let len = fs::metadata(&path).ok()?.len();
            Some(EntryLocation {
                path,
                offset: 0,
                len,
            })
        }));
        out.sort();
        out
    }

    /// Reads and verifies the entry of `token`, and decodes it; looks in
    /// what is indexed only (see [`refresh`](Inner::refresh)).
    pub(crate) fn read(&self, token: &Token) -> Result<Value, String> {
        let (record, file) = {
            let idx = self.index();
            let record = idx
                .records
                .get(&log::prefix(token))
                .and_then(|&p| unpack_checked(&idx, p))
                .map(|(n, offset)| (idx.logs[n].open(), offset));
            (record, idx.files.contains(token))
        };
        let mut why = String::from("no entry");
        if let Some((f, offset)) = record {
            match f
                .map_err(|e| format!("cannot open the log: {e}"))
                .and_then(|f| log::read_record(&f, offset, token))
                .and_then(|p| codec::from_bytes(&p).map_err(|e| e.to_string()))
            {
                Ok(v) => return Ok(v),
                Err(e) => why = e,
            }
        }
        if file {
            let bytes = read_entry(&self.entry_path(token))?;
            let payload = verify(&bytes, token)?;
            return codec::from_bytes(payload).map_err(|e| e.to_string());
        }
        Err(why)
    }

    /// Where the entry of `token` is, for messages.
    pub(crate) fn describe(&self, token: &Token) -> String {
        match self.locate(token) {
            Some(at) if at.offset > 0 || at.path.starts_with(self.dir.join(log::LOG_DIR)) => {
                format!("{} (offset {})", at.path.display(), at.offset)
            }
            Some(at) => at.path.display().to_string(),
            None => format!("{} (token {token})", self.dir.display()),
        }
    }

    /// [`read`](Inner::read), counted, for the load tasks of a run.
    pub(crate) fn load(&self, token: &Token) -> Result<Value, String> {
        let v = self.read(token)?;
        self.loaded.fetch_add(1, Ordering::Relaxed);
        Ok(v)
    }

    pub(crate) fn write(&self, token: &Token, value: &Value) -> Result<(), StoreError> {
        // the record's header, then the value's bytes
        let mut record = vec![0_u8; log::RECORD_HEADER];
        codec::write(value, &mut record)?;
        if let Some(why) = &self.read_only {
            return Err(StoreError::ReadOnly(why.clone()));
        }
        let durable = self.durable.load(Ordering::Relaxed);
        if record.len() - log::RECORD_HEADER > log::INLINE_MAX {
            self.write_file(token, &record[log::RECORD_HEADER..], durable)?;
        } else {
            log::seal(token, &mut record);
            self.append(&record, durable)?;
        }
        self.stored.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Appends the record of a small entry to this process's log (made
    /// first if this process has none: a forked child never writes to
    /// its parent's), and flushes the log if it is due.
    fn append(&self, record: &[u8], durable: bool) -> Result<(), StoreError> {
        let me = std::process::id();
        let mut w = self.writer();
        let writer = match &mut *w {
            Some(writer) if writer.pid == me => writer,
            slot => {
                let (path, file) =
                    Writer::create(&self.dir, durable).map_err(|source| StoreError::Write {
                        path: self.dir.join(log::LOG_DIR),
                        source,
                    })?;
                slot.insert(self.index_mut().own_log(path, file))
            }
        };
        writer.append(record).map_err(|source| StoreError::Write {
            path: writer.path.clone(),
            source,
        })?;
        let due = durable && writer.last_sync.elapsed() >= SYNC_EVERY;
        let to_sync = if due {
            writer.last_sync = Instant::now();
            writer.synced = writer.len;
            Some((writer.file.clone(), writer.path.clone()))
        } else {
            None
        };
        drop(w);
        if let Some((file, path)) = to_sync {
            // outside the lock: the other workers go on appending
            file.sync_data()
                .map_err(|source| StoreError::Write { path, source })?;
        }
        Ok(())
    }

    /// Writes a large entry to a file of its own.
    fn write_file(&self, token: &Token, payload: &[u8], durable: bool) -> Result<(), StoreError> {
        let path = self.entry_path(token);
        let header = header(token, payload);
        let shard = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(shard)
            .and_then(|()| write_atomically(shard, &path, &[&header, payload], durable))
            .map_err(|source| StoreError::Write {
                path: path.clone(),
                source,
            })?;
        self.index_mut().files.insert(*token);
        Ok(())
    }

    /// Flushes this process's log to disk, if durable and not flushed yet.
    pub(crate) fn sync(&self) -> Result<(), StoreError> {
        if !self.durable.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut w = self.writer();
        let Some(writer) = w.as_mut().filter(|w| w.pid == std::process::id()) else {
            return Ok(());
        };
        if writer.synced == writer.len {
            return Ok(());
        }
        writer
            .file
            .sync_data()
            .map_err(|source| StoreError::Write {
                path: writer.path.clone(),
                source,
            })?;
        writer.synced = writer.len;
        writer.last_sync = Instant::now();
        Ok(())
    }

    /// Stores the result of the task `key`; a failure is counted and
    /// remembered, never an error of the run (the value is returned all
    /// the same).
    pub(crate) fn store_result(&self, key: &Key, token: &Token, value: &Value) {
        if let Err(e) = self.write(token, value) {
            match e {
                StoreError::NoCodec(_) => &self.unencodable,
                StoreError::Write { .. } | StoreError::ReadOnly(_) => &self.write_errors,
            }
            .fetch_add(1, Ordering::Relaxed);
            let mut first = self.first_problem.lock().unwrap_or_else(|e| e.into_inner());
            if first.is_none() {
                *first = Some(format!("the result of task {key:?} was not cached: {e}"));
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.sync();
        // a log this process made and never wrote to is removed
        let w = self.writer.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = w.as_ref().filter(|w| w.pid == std::process::id()) {
            if w.len == 0 {
                let _ = fs::remove_file(&w.path);
            }
        }
    }
}

/// A record's number and offset, if the log exists.
fn unpack_checked(idx: &Index, p: Packed) -> Option<(usize, u64)> {
    let (n, offset) = log::unpack(p);
    ((n as usize) < idx.logs.len()).then_some((n as usize, offset))
}

/// Whether the record at `p` is whole and its checksum holds.
fn record_verifies(idx: &Index, p: Packed) -> bool {
    let Some((n, offset)) = unpack_checked(idx, p) else {
        return false;
    };
    let Ok(file) = idx.logs[n].peek() else {
        return false;
    };
    let mut h = [0_u8; log::RECORD_HEADER];
    if file.read_exact_at(&mut h, offset).is_err() {
        return false;
    }
    let mut token = [0_u8; 32];
    token.copy_from_slice(&h[12..44]);
    log::read_record(&file, offset, &Token::from_bytes(token)).is_ok()
}

/// The length of the record of `token` at `offset`, if its header is
/// that of `token`.
fn record_len(file: &File, offset: u64, token: &Token) -> Option<u64> {
    let mut h = [0_u8; log::RECORD_HEADER];
    file.read_exact_at(&mut h, offset).ok()?;
    (h[12..44] == token.as_bytes()[..]).then(|| {
        (log::RECORD_HEADER as u64) + u64::from(u32::from_le_bytes([h[8], h[9], h[10], h[11]]))
    })
}

/// The token of the file `lo` in the shard `hi`, if its name is one.
fn parse_token(hi: &str, lo: &str) -> Option<Token> {
    if lo.len() != 62 {
        return None;
    }
    let hex = [hi, lo].concat();
    let mut bytes = [0_u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(Token::from_bytes(bytes))
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

/// The payload of an entry file, if the entry is whole and is the one of
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
