//! Sinks: writing a bag's partitions to text files.

use std::fmt::Display;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rask_graph::{Arity, Function, Key, Task, Value};

use crate::bag::{part_arg, part_task, Bag, Element};
use crate::error::BagError;
use crate::fragment::Fragment;
use crate::item::Item;
use crate::pipe;
use crate::text::Compression;
use crate::token;

/// The file of partition `i`: `*` in the pattern's file name replaced by
/// `i`, or, for a pattern without `*` (a directory), `DIR/i.part`.
fn partition_path(pattern: &Path, i: usize) -> PathBuf {
    let text = pattern.to_string_lossy();
    if text.contains('*') {
        PathBuf::from(text.replacen('*', &i.to_string(), 1))
    } else {
        pattern.join(format!("{i}.part"))
    }
}

/// Writes one partition's lines to `path` atomically: into a hidden
/// temporary file beside it, renamed over `path` once complete.
fn write_partition(
    path: &Path,
    write_lines: &mut dyn FnMut(&mut dyn Write) -> Result<(), BagError>,
) -> Result<(), BagError> {
    let failed = |e: std::io::Error| BagError::Write {
        path: path.to_path_buf(),
        source: e,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(failed)?;
    let file_name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    // dropped (and so deleted) on any error or panic before `persist`
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(failed)?;
    {
        let file = BufWriter::with_capacity(256 << 10, tmp.as_file());
        match Compression::of_path(path) {
            Compression::Gzip => {
                let mut z = flate2::write::GzEncoder::new(file, flate2::Compression::default());
                write_lines(&mut z)?;
                z.finish().map_err(failed)?.flush().map_err(failed)?;
            }
            Compression::Bzip2 => {
                let mut z = bzip2::write::BzEncoder::new(file, bzip2::Compression::default());
                write_lines(&mut z)?;
                z.finish().map_err(failed)?.flush().map_err(failed)?;
            }
            Compression::Zstd => {
                let mut z = zstd::stream::write::Encoder::new(file, 3).map_err(failed)?;
                write_lines(&mut z)?;
                z.finish().map_err(failed)?.flush().map_err(failed)?;
            }
            Compression::None | Compression::Infer => {
                let mut file = file;
                write_lines(&mut file)?;
                file.flush().map_err(failed)?;
            }
        }
    }
    tmp.as_file().sync_all().map_err(failed)?;
    tmp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

impl<T: Element + Display> Bag<T> {
    /// Writes each partition to a text file, one item per line (its
    /// `Display`), and gives the paths written. `pattern` is a path whose
    /// `*` is replaced by the partition number (`"out/*.json.gz"`: files
    /// `out/0.json.gz`, `out/1.json.gz`, ...) or a directory (files
    /// `DIR/0.part`, ...). A name ending in `.gz`, `.bz2` or `.zst` is
    /// compressed. Each file appears whole or not at all: it is written
    /// beside, under a hidden temporary name, and renamed when complete.
    ///
    /// Like everything on a bag, this is lazy: the files are written when
    /// the returned item is computed.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let pattern = dir.path().join("*.txt.gz");
    /// let b = rask::bag::from_sequence(vec![1, 2, 3], 2);
    /// let paths = b.to_textfiles(&pattern).compute(&rask::Sync).unwrap();
    /// assert_eq!(paths, [dir.path().join("0.txt.gz"), dir.path().join("1.txt.gz")]);
    /// let back = rask::bag::read_text(pattern.to_str().unwrap())?.compute(&rask::Sync).unwrap();
    /// assert_eq!(back, ["1", "2", "3"]);
    /// # Ok::<(), rask::bag::BagError>(())
    /// ```
    pub fn to_textfiles(&self, pattern: impl AsRef<Path>) -> Item<Vec<PathBuf>> {
        crate::wire::list::<PathBuf>();
        let pattern = pattern.as_ref().to_path_buf();
        let name = token::name("to_textfiles", (self.name(), &pattern));
        let part_name = token::name("to_textfiles-part", &*name);
        let stage = self.stage();
        let pipe = stage.pipe.clone();
        let paths: Arc<Vec<PathBuf>> = Arc::new(
            (0..self.npartitions())
                .map(|i| partition_path(&pattern, i))
                .collect(),
        );
        let write = {
            let paths = paths.clone();
            Function::dynamic(
                "to_textfiles-part",
                Arity::at_least(1),
                move |args: &[Value]| {
                    let part = part_arg(args);
                    let path = &paths[part];
                    write_partition(path, &mut |out| {
                        let mut failure = None;
                        pipe::finish(pipe.run_ref(part, &args[1..], &mut |x| {
                            if let Err(e) = writeln!(out, "{x}") {
                                failure = Some(e);
                                return Err(pipe::Stop::Done);
                            }
                            Ok(())
                        }))?;
                        match failure {
                            Some(e) => Err(BagError::Write {
                                path: path.clone(),
                                source: e,
                            }),
                            None => Ok(()),
                        }
                    })?;
                    Ok(Value::Null)
                },
            )
        };
        let done = Function::dynamic("to_textfiles", Arity::at_least(0), move |_: &[Value]| {
            Ok(Value::opaque(paths.as_ref().clone()))
        });
        let mut tasks = Vec::with_capacity(self.npartitions() + 1);
        let mut written = Vec::with_capacity(self.npartitions());
        for (i, inputs) in stage.inputs.iter().enumerate() {
            let key = Key::from((&*part_name, i));
            tasks.push((key.clone(), part_task(&write, i, inputs)));
            written.push(key);
        }
        tasks.push((Key::from((&*name, 0)), Task::call(&done, written.iter())));
        Item::new(name, Fragment::new(tasks, stage.deps.clone()))
    }
}
