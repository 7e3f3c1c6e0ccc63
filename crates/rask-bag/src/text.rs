//! Text sources: bags of the lines of files, plain or compressed, and of
//! the JSON records they hold.
//!
//! [`read_text`] takes a glob (`"logs/2014-*.json.gz"`), a directory (its
//! files, without hidden ones), a path, or a list of any of these, and
//! makes one partition per file, or, for a plain file larger than the
//! block size, one per block of bytes. Files ending in `.gz`, `.bz2` and
//! `.zst` are decompressed as they are read (compressed files are never
//! split: a stream cannot be entered in the middle).
//!
//! A line belongs to the block in which it *starts*. The task for block
//! `[start, end)` seeks to `start - 1` and skips through the first
//! newline (if the byte before `start` is a newline, that skips just that
//! byte), then reads every line that starts before `end`, to its end even
//! past `end`:
//!
//! ```text
//! bytes    a a \n b b b b \n c \n      blocks of 4: [0,4) [4,8) [8,10)
//! [0,4)    "aa", "bbbb"   (bbbb starts at 3 < 4)
//! [4,8)    nothing        (skips to 8, not < 8)
//! [8,10)   "c"            (byte 7 is a newline: c starts at 8)
//! ```
//!
//! Lines are given without their `\n` (or `\r\n`). [`Bag::json`] parses
//! each line straight from the read buffer (blank lines are skipped), and
//! names the file and line of the first that is not valid JSON; with
//! [`Bag::json_skipping`] malformed lines are dropped and counted instead.

use std::cell::Cell;
use std::fs::File;
use std::hash::Hash;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use rask_graph::{Key, Value};
use serde::de::DeserializeOwned;

use crate::bag::{Bag, Element, Stage};
use crate::error::{BagError, Location, Skipped};
use crate::json::Field;
use crate::pipe::{reject, settle, Flow, Pipe, RefSink, SharedPipe, Sink, Stop};
use crate::project::{Projection, Shapes};
use crate::token;

/// The default block size of plain files: 64 MiB.
pub const DEFAULT_BLOCKSIZE: u64 = 64 << 20;

/// Bytes read from a file (and from a decompressor) at a time.
const BUFFER: usize = 256 << 10;

/// Files to read: glob patterns, directories or paths.
///
/// ```
/// use rask::bag::Paths;
/// let one: Paths = "logs/*.json.gz".into();
/// let many: Paths = vec!["a.txt", "b.txt"].into();
/// # let _ = (one, many);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths(Vec<PathBuf>);

impl From<&str> for Paths {
    fn from(p: &str) -> Paths {
        Paths(vec![PathBuf::from(p)])
    }
}
impl From<String> for Paths {
    fn from(p: String) -> Paths {
        Paths(vec![PathBuf::from(p)])
    }
}
impl From<&String> for Paths {
    fn from(p: &String) -> Paths {
        Paths(vec![PathBuf::from(p)])
    }
}
impl From<&Path> for Paths {
    fn from(p: &Path) -> Paths {
        Paths(vec![p.to_path_buf()])
    }
}
impl From<PathBuf> for Paths {
    fn from(p: PathBuf) -> Paths {
        Paths(vec![p])
    }
}
impl From<&PathBuf> for Paths {
    fn from(p: &PathBuf) -> Paths {
        Paths(vec![p.clone()])
    }
}
impl<P: AsRef<Path>> From<Vec<P>> for Paths {
    fn from(ps: Vec<P>) -> Paths {
        Paths(ps.iter().map(|p| p.as_ref().to_path_buf()).collect())
    }
}
impl<P: AsRef<Path>> From<&[P]> for Paths {
    fn from(ps: &[P]) -> Paths {
        Paths(ps.iter().map(|p| p.as_ref().to_path_buf()).collect())
    }
}
impl<P: AsRef<Path>, const N: usize> From<[P; N]> for Paths {
    fn from(ps: [P; N]) -> Paths {
        Paths(ps.iter().map(|p| p.as_ref().to_path_buf()).collect())
    }
}

/// How a file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// From the file's extension: `.gz`, `.bz2`, `.zst` (else plain).
    #[default]
    Infer,
    /// Not compressed.
    None,
    /// gzip (also several concatenated gzip members).
    Gzip,
    /// bzip2.
    Bzip2,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// The compression a file name's extension says.
    pub fn of_path(path: &Path) -> Compression {
        match path.extension().and_then(|e| e.to_str()) {
            Some("gz" | "gzip") => Compression::Gzip,
            Some("bz2") => Compression::Bzip2,
            Some("zst" | "zstd") => Compression::Zstd,
            _ => Compression::None,
        }
    }

    fn resolve(self, path: &Path) -> Compression {
        match self {
            Compression::Infer => Compression::of_path(path),
            c => c,
        }
    }

    fn format(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Zstd => "zstd",
            Compression::Infer | Compression::None => "plain",
        }
    }
}

/// Options of [`read_text`]: the block size for splitting plain files and
/// the compression.
///
/// ```no_run
/// use rask::bag::{Compression, ReadText};
/// let lines = ReadText::new("logs/")
///     .blocksize(Some(16 << 20))       // split plain files in 16 MiB blocks
///     .compression(Compression::Gzip)  // whatever the extensions say
///     .open()?;
/// # Ok::<(), rask::bag::BagError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReadText {
    paths: Paths,
    blocksize: Option<u64>,
    compression: Compression,
}

impl ReadText {
    /// Reading `paths` with the defaults: plain files split in blocks of
    /// [`DEFAULT_BLOCKSIZE`], compression from the extension.
    pub fn new(paths: impl Into<Paths>) -> ReadText {
        ReadText {
            paths: paths.into(),
            blocksize: Some(DEFAULT_BLOCKSIZE),
            compression: Compression::Infer,
        }
    }

    /// Splits plain files larger than `bytes` into blocks of `bytes`
    /// (`None`: one partition per file).
    ///
    /// # Panics
    ///
    /// When `bytes` is `Some(0)`.
    pub fn blocksize(mut self, bytes: Option<u64>) -> ReadText {
        assert!(bytes != Some(0), "blocksize must be at least 1 byte");
        self.blocksize = bytes;
        self
    }

    /// How the files are compressed (default: from each file's extension).
    pub fn compression(mut self, compression: Compression) -> ReadText {
        self.compression = compression;
        self
    }

    /// The bag of the files' lines: finds the files now (an error if none
    /// matches or one cannot be seen), reads them when computed.
    pub fn open(self) -> Result<Bag<String>, BagError> {
        let files = resolve(&self.paths)?;
        let mut blocks = Vec::new();
        let mut identity = Vec::new();
        for path in files {
            let meta = std::fs::metadata(&path).map_err(|e| BagError::Read {
                path: path.clone(),
                source: e,
            })?;
            let size = meta.len();
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            identity.push((path.clone(), size, modified));
            let codec = self.compression.resolve(&path);
            let path: Arc<Path> = Arc::from(path);
            match self.blocksize {
                Some(b) if codec == Compression::None && size > b => {
                    for start in (0..size).step_by(b as usize) {
                        blocks.push(Block {
                            path: path.clone(),
                            start,
                            end: Some((start + b).min(size)),
                            codec,
                        });
                    }
                }
                _ => blocks.push(Block {
                    path,
                    start: 0,
                    end: None,
                    codec,
                }),
            }
        }
        let name = token::name("read_text", (&identity, self.blocksize, self.compression));
        let source = Arc::new(TextSource { blocks });
        let pipe: SharedPipe<String> = Arc::new(TextPipe {
            source: source.clone(),
            parse: utf8_line,
            skipped: None,
        });
        Ok(Bag::with_text(name, source.stage(pipe), source))
    }
}

/// The lines of text files, one partition per file or block (see
/// [`ReadText`] for the options).
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("a.txt"), "one\ntwo\n").unwrap();
/// # std::fs::write(dir.path().join("b.txt"), "three").unwrap();
/// let lines = rask::bag::read_text(dir.path().join("*.txt").to_str().unwrap())?;
/// assert_eq!(lines.npartitions(), 2);
/// assert_eq!(lines.compute(&rask::Sync).unwrap(), ["one", "two", "three"]);
/// # Ok::<(), rask::bag::BagError>(())
/// ```
pub fn read_text(paths: impl Into<Paths>) -> Result<Bag<String>, BagError> {
    ReadText::new(paths).open()
}

/// The lines of text files: the same as [`read_text`] (Dask's older name).
pub fn from_filenames(paths: impl Into<Paths>) -> Result<Bag<String>, BagError> {
    read_text(paths)
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Whether a path a glob or a directory gave is a file to read (not a
/// directory); a path whose metadata cannot be read, such as a symbolic
/// link to nothing, is an error naming it, not a file quietly left out.
fn is_file(path: &Path) -> Result<bool, BagError> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(meta.is_file()),
        Err(e) => {
            let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink());
            Err(BagError::Read {
                path: path.to_path_buf(),
                source: if link {
                    std::io::Error::new(
                        e.kind(),
                        format!("a symbolic link to a file that cannot be read: {e}"),
                    )
                } else {
                    e
                },
            })
        }
    }
}

/// The files `paths` name, in order (each glob's and directory's sorted).
fn resolve(paths: &Paths) -> Result<Vec<PathBuf>, BagError> {
    let mut files = Vec::new();
    for p in &paths.0 {
        let text = p.to_string_lossy();
        if has_glob(&text) {
            let matches = glob::glob(&text).map_err(|e| BagError::Pattern {
                pattern: text.to_string(),
                message: e.to_string(),
            })?;
            let before = files.len();
            for m in matches {
                let path = m.map_err(|e| BagError::Read {
                    path: e.path().to_path_buf(),
                    source: e.into(),
                })?;
                if is_file(&path)? {
                    files.push(path);
                }
            }
            if files.len() == before {
                return Err(BagError::NoMatch {
                    pattern: text.to_string(),
                });
            }
            files[before..].sort();
        } else if p.is_dir() {
            let read = |e| BagError::Read {
                path: p.clone(),
                source: e,
            };
            let mut found = Vec::new();
            for entry in std::fs::read_dir(p).map_err(read)? {
                let entry = entry.map_err(read)?;
                let hidden = entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with('.') || n.starts_with('_'));
                if !hidden && is_file(&entry.path())? {
                    found.push(entry.path());
                }
            }
            if found.is_empty() {
                return Err(BagError::NoMatch {
                    pattern: text.to_string(),
                });
            }
            found.sort();
            files.extend(found);
        } else {
            std::fs::metadata(p).map_err(|e| BagError::Read {
                path: p.clone(),
                source: e,
            })?;
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        return Err(BagError::NoMatch {
            pattern: "an empty list of paths".to_string(),
        });
    }
    Ok(files)
}

/// One partition of a text source: a whole file, or the lines starting in
/// `[start, end)` of a plain one.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) path: Arc<Path>,
    pub(crate) start: u64,
    pub(crate) end: Option<u64>,
    pub(crate) codec: Compression,
}

/// The blocks of a `read_text` bag, kept so that `json` can parse them
/// directly.
#[derive(Debug)]
pub(crate) struct TextSource {
    pub(crate) blocks: Vec<Block>,
}

impl TextSource {
    /// A stage of one task per block, with no inputs.
    fn stage<T>(&self, pipe: SharedPipe<T>) -> Stage<T> {
        let inputs: Arc<[Box<[Key]>]> = self.blocks.iter().map(|_| Box::from([])).collect();
        Stage {
            deps: Vec::new(),
            inputs,
            pipe,
            keyed: false,
            depth: 0,
        }
    }
}

/// A file that remembers whether reading it failed, to tell the errors of
/// the disk from those of a decompressor reading it.
struct Tracked {
    file: File,
    failed: Rc<Cell<bool>>,
}

impl Read for Tracked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.file.read(buf);
        if r.is_err() {
            self.failed.set(true);
        }
        r
    }
}

/// An open block: its lines' bytes, and how to name an error.
struct Reader<'b> {
    block: &'b Block,
    bytes: Box<dyn BufRead>,
    file_failed: Rc<Cell<bool>>,
}

impl Reader<'_> {
    fn open(block: &Block) -> Result<Reader<'_>, BagError> {
        let read = |e| BagError::Read {
            path: block.path.to_path_buf(),
            source: e,
        };
        let mut file = File::open(&block.path).map_err(read)?;
        if block.start > 0 {
            file.seek(SeekFrom::Start(block.start - 1)).map_err(read)?;
        }
        let failed = Rc::new(Cell::new(false));
        let raw = Tracked {
            file,
            failed: failed.clone(),
        };
        let mut reader = Reader {
            block,
            bytes: Box::new(io::empty()),
            file_failed: failed,
        };
        reader.bytes = match block.codec {
            Compression::Gzip => Box::new(BufReader::with_capacity(
                BUFFER,
                flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(BUFFER, raw)),
            )),
            Compression::Bzip2 => Box::new(BufReader::with_capacity(
                BUFFER,
                bzip2::bufread::MultiBzDecoder::new(BufReader::with_capacity(BUFFER, raw)),
            )),
            Compression::Zstd => {
                let d =
                    zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(BUFFER, raw))
                        .map_err(|e| reader.error(e))?;
                Box::new(BufReader::with_capacity(BUFFER, d))
            }
            Compression::None | Compression::Infer => {
                Box::new(BufReader::with_capacity(BUFFER, raw))
            }
        };
        Ok(reader)
    }

    /// The error for a failed read: of the file, or of its decompressor.
    fn error(&self, e: io::Error) -> BagError {
        let path = self.block.path.to_path_buf();
        if self.file_failed.get() || matches!(self.block.codec, Compression::None) {
            BagError::Read { path, source: e }
        } else {
            BagError::Corrupt {
                path,
                format: self.block.codec.format(),
                source: e,
            }
        }
    }
}

/// Where the current line is, computed only when asked (for an error).
pub(crate) struct Locator<'b> {
    block: &'b Block,
    /// The offset of the block's first line.
    first: u64,
    /// The number of lines before the block's first line, once counted.
    before: Option<u64>,
    /// The line's number within the block, from 1.
    index: u64,
}

impl Locator<'_> {
    /// The file and line number of the current line.
    pub(crate) fn here(&mut self) -> Location {
        let before = *self
            .before
            .get_or_insert_with(|| count_newlines(&self.block.path, self.first));
        Location {
            path: self.block.path.to_path_buf(),
            line: before + self.index,
        }
    }
}

/// The number of newlines in the first `upto` bytes of a file (0 when it
/// cannot be read: this only numbers an error's line).
fn count_newlines(path: &Path, upto: u64) -> u64 {
    let Ok(file) = File::open(path) else {
        return 0;
    };
    let mut reader = BufReader::with_capacity(BUFFER, file.take(upto));
    let mut n = 0;
    while let Ok(buf) = reader.fill_buf() {
        if buf.is_empty() {
            break;
        }
        n += memchr::memchr_iter(b'\n', buf).count() as u64;
        let len = buf.len();
        reader.consume(len);
    }
    n
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Calls `each` with every line of `block` (without its line end) and
/// where it is.
pub(crate) fn scan(block: &Block, each: &mut dyn FnMut(&[u8], &mut Locator<'_>) -> Flow) -> Flow {
    let mut reader = Reader::open(block)?;
    let mut pos = block.start;
    if block.start > 0 {
        // at start - 1: skip the rest of the line that starts before
        let skipped = reader
            .bytes
            .skip_until(b'\n')
            .map_err(|e| reader.error(e))?;
        pos = block.start - 1 + skipped as u64;
    }
    let end = block.end.unwrap_or(u64::MAX);
    let mut at = Locator {
        block,
        first: pos,
        before: (block.start == 0).then_some(0),
        index: 0,
    };
    let mut partial: Vec<u8> = Vec::new();
    while pos < end {
        // at the start of a line: read it whole
        loop {
            let buf = match reader.bytes.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Stop::Failed(reader.error(e))),
            };
            if buf.is_empty() {
                // the end: a last line without a newline
                if !partial.is_empty() {
                    at.index += 1;
                    each(strip_cr(&partial), &mut at)?;
                }
                return Ok(());
            }
            match memchr::memchr(b'\n', buf) {
                Some(i) => {
                    at.index += 1;
                    let flow = if partial.is_empty() {
                        each(strip_cr(&buf[..i]), &mut at)
                    } else {
                        partial.extend_from_slice(&buf[..i]);
                        let flow = each(strip_cr(&partial), &mut at);
                        partial.clear();
                        flow
                    };
                    reader.bytes.consume(i + 1);
                    pos += i as u64 + 1;
                    flow?;
                    break;
                }
                None => {
                    let n = buf.len();
                    partial.extend_from_slice(buf);
                    reader.bytes.consume(n);
                    pos += n as u64;
                }
            }
        }
    }
    Ok(())
}

/// A line as a `String`.
fn utf8_line(line: &[u8]) -> Result<Option<String>, BagError> {
    match std::str::from_utf8(line) {
        Ok(s) => Ok(Some(s.to_owned())),
        Err(_) => Err(BagError::Utf8 { at: None }),
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// A line as JSON (`None` for a blank line).
fn json_line<T: DeserializeOwned>(line: &[u8]) -> Result<Option<T>, BagError> {
    if is_blank(line) {
        return Ok(None);
    }
    serde_json::from_slice(line)
        .map(Some)
        .map_err(|e| BagError::Json {
            at: None,
            source: e,
        })
}

/// The items of a text source: each line through `parse` (`None`: no
/// item), in one pass over the file.
struct TextPipe<P> {
    source: Arc<TextSource>,
    parse: P,
    skipped: Option<Skipped>,
}

impl<T, P> Pipe<T> for TextPipe<P>
where
    P: Fn(&[u8]) -> Result<Option<T>, BagError> + Send + Sync + 'static,
{
    fn run(&self, part: usize, _inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow {
        let block = &self.source.blocks[part];
        items_of(block, &self.parse, &self.skipped, sink)
    }
}

/// Gives `sink` the item `parse` makes of each line of `block` (`None`:
/// no item); an error names the line.
fn items_of<T>(
    block: &Block,
    mut parse: impl FnMut(&[u8]) -> Result<Option<T>, BagError>,
    skipped: &Option<Skipped>,
    sink: &mut Sink<'_, T>,
) -> Flow {
    scan(block, &mut |line, at| match parse(line) {
        Ok(Some(x)) => settle(sink(x), || Some(at.here())),
        Ok(None) => Ok(()),
        Err(e) => settle(Err(reject(e, skipped)), || Some(at.here())),
    })
}

/// Fields of the JSON lines of a text source. Lent items are made in
/// place, line after line, in one item (a `String` field keeps its
/// buffer): reductions that only look at items allocate nothing per line.
struct ProjectText<T> {
    source: Arc<TextSource>,
    projection: Arc<Projection>,
    _items: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + 'static> Pipe<T> for ProjectText<T> {
    fn run(&self, part: usize, _inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow {
        let mut shapes = Shapes::default();
        let parse = |line: &[u8]| self.projection.parse::<T>(line, &mut shapes);
        items_of(&self.source.blocks[part], parse, &None, sink)
    }

    fn run_ref(&self, part: usize, _inputs: &[Value], sink: &mut RefSink<'_, T>) -> Flow {
        let mut slot = None;
        let mut shapes = Shapes::default();
        scan(&self.source.blocks[part], &mut |line, at| {
            let flow = self
                .projection
                .lend(line, &mut slot, &mut shapes, &mut *sink);
            settle(flow, || Some(at.here()))
        })
    }

    fn lends(&self) -> bool {
        true
    }
}

/// JSON records from lines of text that came from elsewhere than a file.
struct ParseJson<T> {
    inner: SharedPipe<String>,
    skipped: Option<Skipped>,
    _items: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + 'static> Pipe<T> for ParseJson<T> {
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow {
        self.inner
            .run(part, inputs, &mut |line| match json_line(line.as_bytes()) {
                Ok(Some(x)) => sink(x),
                Ok(None) => Ok(()),
                Err(e) => Err(reject(e, &self.skipped)),
            })
    }
}

/// Fields of JSON records from lines of text that came from elsewhere
/// than a file.
struct ProjectJson<T> {
    inner: SharedPipe<String>,
    projection: Arc<Projection>,
    _items: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + 'static> Pipe<T> for ProjectJson<T> {
    fn run(&self, part: usize, inputs: &[Value], sink: &mut Sink<'_, T>) -> Flow {
        let mut shapes = Shapes::default();
        self.inner.run_ref(part, inputs, &mut |line| match self
            .projection
            .parse(line.as_bytes(), &mut shapes)
        {
            Ok(Some(x)) => sink(x),
            Ok(None) => Ok(()),
            Err(e) => Err(Stop::Failed(e)),
        })
    }

    fn run_ref(&self, part: usize, inputs: &[Value], sink: &mut RefSink<'_, T>) -> Flow {
        let mut slot = None;
        let mut shapes = Shapes::default();
        self.inner.run_ref(part, inputs, &mut |line| {
            self.projection
                .lend(line.as_bytes(), &mut slot, &mut shapes, &mut *sink)
        })
    }

    fn lends(&self) -> bool {
        true
    }
}

impl Bag<String> {
    /// Parses every line as JSON into a `T` (a `serde_json::Value`, or any
    /// type that implements `Deserialize`), skipping blank lines. The
    /// first line that does not parse fails the computation with
    /// [`BagError::Json`], naming its file and line.
    ///
    /// On a bag from [`read_text`], the lines are parsed straight from the
    /// read buffer (no `String` per line).
    ///
    /// ```
    /// #[derive(serde::Deserialize, Clone, Debug, PartialEq)]
    /// struct Point { x: i64, y: i64 }
    /// let lines = rask::bag::from_sequence(vec![r#"{"x": 1, "y": 2}"#.to_string()], 1);
    /// let points = lines.json::<Point>().compute(&rask::Sync).unwrap();
    /// assert_eq!(points, [Point { x: 1, y: 2 }]);
    /// ```
    pub fn json<T: DeserializeOwned + Element>(&self) -> Bag<T> {
        self.parse_json(None)
    }

    /// Parses every line as JSON like [`json`](Bag::json), but drops the
    /// lines that do not parse and counts them in `skipped` (with the
    /// file and line of the first few), since real logs have such lines.
    pub fn json_skipping<T: DeserializeOwned + Element>(&self, skipped: &Skipped) -> Bag<T> {
        self.parse_json(Some(skipped.clone()))
    }

    /// Reads one field of every JSON line into a `T`, without building
    /// the rest of the record: the line is validated as a whole while the
    /// members nobody asked for are skipped (a SIMD scan, several times
    /// faster than parsing every member). Blank lines are skipped. A line
    /// without the field fails the computation with
    /// [`BagError::MissingField`] unless `T` is an `Option`; a value not
    /// of type `T` fails it with [`BagError::FieldType`]; a line that is
    /// not valid JSON with [`BagError::Json`]; each names its file and
    /// line.
    ///
    /// ```
    /// let lines = rask::bag::from_sequence(vec![
    ///     r#"{"actor": {"login": "ada", "id": 1}, "payload": {"size": 2}}"#.to_string(),
    ///     r#"{"actor": {"login": "bob", "id": 2}}"#.to_string(),
    /// ], 1);
    /// let logins = lines.json_field::<String>("actor.login");
    /// assert_eq!(logins.compute(&rask::Sync).unwrap(), ["ada", "bob"]);
    /// let sizes = lines.json_field::<Option<u64>>("payload.size");
    /// assert_eq!(sizes.compute(&rask::Sync).unwrap(), [Some(2), None]);
    /// ```
    pub fn json_field<T: DeserializeOwned + Element>(&self, field: impl Into<Field>) -> Bag<T> {
        self.project(Projection::new(vec![field.into()], true))
    }

    /// Reads the named fields of every JSON line into a `T` made of their
    /// values in order: a tuple, or a struct whose members are the fields
    /// in the order given. Otherwise as [`json_field`](Bag::json_field): a
    /// missing field is `None` for an `Option` member and an error for any
    /// other.
    ///
    /// ```
    /// #[derive(serde::Deserialize, Clone, Debug, PartialEq)]
    /// struct Push { kind: String, size: Option<u64> }
    /// let lines = rask::bag::from_sequence(vec![
    ///     r#"{"type": "PushEvent", "payload": {"size": 3}}"#.to_string(),
    ///     r#"{"type": "WatchEvent", "payload": {}}"#.to_string(),
    /// ], 1);
    /// let events = lines.json_fields::<Push>(["type", "payload.size"]);
    /// assert_eq!(events.compute(&rask::Sync).unwrap(), [
    ///     Push { kind: "PushEvent".into(), size: Some(3) },
    ///     Push { kind: "WatchEvent".into(), size: None },
    /// ]);
    /// let pairs = lines.json_fields::<(String, Option<u64>)>(["type", "payload.size"]);
    /// assert_eq!(pairs.compute(&rask::Sync).unwrap()[0], ("PushEvent".to_string(), Some(3)));
    /// ```
    pub fn json_fields<T: DeserializeOwned + Element>(
        &self,
        fields: impl IntoIterator<Item = impl Into<Field>>,
    ) -> Bag<T> {
        self.project(Projection::new(
            fields.into_iter().map(Into::into).collect(),
            false,
        ))
    }

    fn project<T: DeserializeOwned + Element>(&self, projection: Projection) -> Bag<T> {
        let name = token::name(
            "json_fields",
            (
                self.name(),
                std::any::type_name::<T>(),
                projection.paths(),
                projection.is_one(),
            ),
        );
        let projection = Arc::new(projection);
        match self.text() {
            Some(source) => {
                let pipe: SharedPipe<T> = Arc::new(ProjectText::<T> {
                    source: source.clone(),
                    projection,
                    _items: std::marker::PhantomData,
                });
                Bag::from_stage(name, source.stage(pipe))
            }
            None => self.derive_named(name, |inner| ProjectJson::<T> {
                inner,
                projection,
                _items: std::marker::PhantomData,
            }),
        }
    }

    fn parse_json<T: DeserializeOwned + Element>(&self, skipped: Option<Skipped>) -> Bag<T> {
        let seq = skipped.as_ref().map(|_| token::sequence());
        let name = token::name("json", (self.name(), std::any::type_name::<T>(), seq));
        match self.text() {
            Some(source) => {
                let pipe: SharedPipe<T> = Arc::new(TextPipe {
                    source: source.clone(),
                    parse: json_line::<T>,
                    skipped,
                });
                Bag::from_stage(name, source.stage(pipe))
            }
            None => self.derive_named(name, |inner| ParseJson::<T> {
                inner,
                skipped,
                _items: std::marker::PhantomData,
            }),
        }
    }
}
