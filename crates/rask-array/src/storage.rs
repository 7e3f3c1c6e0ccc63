//! Storage: [`Array::store`] streams an array into a [`ChunkSink`] chunk
//! by chunk (each store task computes one chunk, writes it and keeps
//! nothing, so an array larger than memory is written in bounded memory);
//! `.npy` files and Zarr v3 stores are read and written that way.
//!
//! A `.npy` file is written by every store task at its chunk's offsets
//! (`pwrite`, after the header and the file's length are set), and read
//! likewise, each task reading the rows of its chunk. A Zarr store is
//! written with one Zarr chunk per array chunk (regular chunks needed,
//! as Dask's `to_zarr` does) and read with any chunks, through `zarrs`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use rask_graph::{Arity, CallError, Function, Key, Task, Value};
use rask_scheduler::{get_with, Callback, Executor, Keys};
use zarrs::array::{Array as ZArray, ArrayBuilder};
use zarrs::array_subset::ArraySubset;
use zarrs::filesystem::FilesystemStore;

use crate::array::Array;
use crate::chunks::{all_blocks, c_strides, numblocks, offsets, walk_rows, ChunkSpec, Idx};
use crate::element::Element;
use crate::error::ArrayError;
use crate::expr::blockwise_tasks;
use crate::node::{block_key, build_graph, LazyTasks, Node};
use crate::token::Tokenizer;

/// Where [`Array::store`] writes chunks. Chunks are written concurrently
/// from the executor's workers, each once.
pub trait ChunkSink<T>: Send + Sync {
    /// Writes the chunk whose first element has global index `offset`.
    fn write_chunk(&self, offset: &[usize], chunk: ArrayViewD<'_, T>) -> Result<(), String>;

    /// What the sink writes to (a path), for the keys of the store tasks:
    /// two sinks of one name storing one array get the same keys.
    fn name(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }
}

/// The tasks of a store: compute each chunk (fused) and write it.
struct Store<T: Element> {
    input: Array<T>,
    sink: Arc<dyn ChunkSink<T>>,
}

impl<T: Element> LazyTasks for Store<T> {
    fn build(&self, node: &Node, fused: bool) -> (Vec<(Key, Task)>, Vec<Arc<Node>>) {
        let expr = if fused {
            self.input.source()
        } else {
            self.input.input()
        };
        let sink = self.sink.clone();
        blockwise_tasks(
            "store",
            &node.name,
            self.input.shape(),
            self.input.chunks(),
            expr,
            Arc::new(move |kernel, ctx| {
                ctx.with_view(kernel, |chunk| {
                    sink.write_chunk(ctx.offset, chunk).map_err(CallError::msg)
                })?;
                Ok(Value::Null)
            }),
        )
    }
}

impl<T: Element> Array<T> {
    /// The node whose tasks write this array's chunks into `sink`.
    fn store_node(&self, sink: Arc<dyn ChunkSink<T>>) -> Array<bool> {
        let mut tok = Tokenizer::new("store");
        tok.str(self.name()).str(&sink.name());
        let lazy = Store {
            input: self.clone(),
            sink,
        };
        Array::from_lazy(
            tok.finish(),
            self.shape().to_vec(),
            self.chunks().to_vec(),
            Arc::new(lazy),
            vec![Arc::clone(&self.node)],
        )
    }

    /// The graph that writes this array into `sink` (fused, as
    /// [`store`](Array::store) runs it) and the keys of its store tasks,
    /// one per chunk, each computing `null`: to run with other work.
    pub fn store_graph(&self, sink: Arc<dyn ChunkSink<T>>) -> (rask_graph::Graph, Vec<Key>) {
        let stored = self.store_node(sink);
        (build_graph(&[&stored.node], true), stored.keys())
    }

    /// Writes the array into `sink` chunk by chunk with `executor`;
    /// only the chunks being written are in memory.
    pub fn store(
        &self,
        sink: Arc<dyn ChunkSink<T>>,
        executor: &dyn Executor,
    ) -> Result<(), ArrayError> {
        self.store_with(sink, executor, &[])
    }

    /// [`store`](Array::store), calling `callbacks`.
    pub fn store_with(
        &self,
        sink: Arc<dyn ChunkSink<T>>,
        executor: &dyn Executor,
        callbacks: &[&dyn Callback],
    ) -> Result<(), ArrayError> {
        self.require_known("store")?;
        let (graph, keys) = self.store_graph(sink);
        let keys: Vec<Keys> = keys.iter().map(Keys::from).collect();
        get_with(executor, &graph, Keys::Many(keys), callbacks)?;
        Ok(())
    }

    /// Writes the array to a `.npy` file, chunk by chunk.
    ///
    /// ```
    /// use rask::array::{arange, Array};
    /// use rask::Sync;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("x.npy");
    /// let x = arange(12, 5).reshape(&[3, 4]).unwrap();
    /// x.to_npy(&path, &Sync).unwrap();
    /// let y = Array::<i64>::from_npy(&path, [2, 3]).unwrap();
    /// assert_eq!(y.compute(&Sync).unwrap(), x.compute(&Sync).unwrap());
    /// ```
    pub fn to_npy(
        &self,
        path: impl AsRef<Path>,
        executor: &dyn Executor,
    ) -> Result<(), ArrayError> {
        self.require_known("to_npy")?;
        let sink = NpySink::create(path.as_ref(), self.shape(), T::NPY_DESCR, T::SIZE)?;
        self.store(Arc::new(sink), executor)
    }

    /// An array reading a `.npy` file chunk by chunk. The header is read
    /// now: a missing file, another element type, Fortran order or a
    /// truncated file are errors here.
    pub fn from_npy(
        path: impl AsRef<Path>,
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<T>, ArrayError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let io = |source| ArrayError::Io {
            path: shown.clone(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let header = read_npy_header(&file, &shown)?;
        if header.descr != T::NPY_DESCR {
            return Err(ArrayError::Format {
                path: shown,
                message: format!(
                    "holds elements '{}', not {} ('{}')",
                    header.descr,
                    T::DTYPE,
                    T::NPY_DESCR
                ),
            });
        }
        if header.fortran_order && header.shape.len() > 1 {
            return Err(ArrayError::Format {
                path: shown,
                message: "Fortran-order arrays are not supported".into(),
            });
        }
        // the shape's product may overflow: such a file is truncated too
        let need = header
            .shape
            .iter()
            .try_fold(T::SIZE as u64, |n, &d| n.checked_mul(d as u64))
            .and_then(|n| n.checked_add(header.data_start as u64));
        let need = match need {
            Some(need) => need,
            None => {
                return Err(ArrayError::Format {
                    path: shown,
                    message: format!("the header announces a shape too large: {:?}", header.shape),
                })
            }
        };
        if meta.len() < need {
            return Err(ArrayError::Format {
                path: shown,
                message: format!(
                    "truncated: {} bytes, the header announces {need}",
                    meta.len()
                ),
            });
        }
        let shape = header.shape;
        let grid = chunks.into().normalize(&shape, &shown)?;
        let mut tok = Tokenizer::new("from-npy");
        tok.str(&shown)
            .str(T::DTYPE)
            .usizes(&shape)
            .chunks(&grid)
            .u64(meta.len());
        if let Ok(m) = meta.modified() {
            if let Ok(d) = m.duration_since(std::time::UNIX_EPOCH) {
                tok.u64(d.as_nanos() as u64);
            }
        }
        let name = tok.finish();
        let file = Arc::new(file);
        let offs: Arc<Vec<Vec<usize>>> = Arc::new(grid.iter().map(|c| offsets(c)).collect());
        let gstr = c_strides(&shape);
        let start = header.data_start;
        let f = Function::dynamic("read-npy", Arity::exactly(1), move |args: &[Value]| {
            let block = block_of(&args[0]);
            let bshape: Idx = block
                .iter()
                .enumerate()
                .map(|(a, &i)| offs[a][i + 1] - offs[a][i])
                .collect();
            let origin: Idx = block.iter().enumerate().map(|(a, &i)| offs[a][i]).collect();
            let len: usize = bshape.iter().product();
            let mut out = Vec::with_capacity(len);
            let mut buf = Vec::new();
            let mut err = None;
            walk_rows(&bshape, 0, len, |idx, _, run| {
                if err.is_some() {
                    return;
                }
                let g: usize = idx
                    .iter()
                    .zip(origin.iter())
                    .zip(gstr.iter())
                    .map(|((i, o), s)| (i + o) * s)
                    .sum();
                buf.resize(run * T::SIZE, 0);
                match file.read_exact_at(&mut buf, (start + g * T::SIZE) as u64) {
                    Ok(()) => out.extend(buf.chunks_exact(T::SIZE).map(T::read_le)),
                    Err(e) => err = Some(e),
                }
            });
            if let Some(e) = err {
                return Err(CallError::msg(e));
            }
            ArrayD::from_shape_vec(IxDyn(&bshape), out)
                .map(Value::new)
                .map_err(|e| CallError::msg(e.to_string()))
        });
        Ok(Array::from_tasks(
            name.clone(),
            shape,
            grid.clone(),
            read_tasks(&name, &grid, &f),
            vec![],
        ))
    }

    /// Writes the array as a Zarr v3 array at `path` (a directory, made if
    /// missing), one Zarr chunk per chunk, uncompressed.
    ///
    /// ```
    /// use rask::array::{Array, RandomState};
    /// use rask::Threads;
    /// let dir = tempfile::tempdir().unwrap();
    /// let x = RandomState::new(1).random(&[10, 7], [4, 3]).unwrap();
    /// x.to_zarr(dir.path(), &Threads::new(2)).unwrap();
    /// let y = Array::<f64>::from_zarr(dir.path(), None).unwrap();
    /// assert_eq!(y.chunks(), x.chunks());
    /// assert_eq!(y.compute(&Threads::new(2)).unwrap(), x.compute(&Threads::new(2)).unwrap());
    /// ```
    pub fn to_zarr(
        &self,
        path: impl AsRef<Path>,
        executor: &dyn Executor,
    ) -> Result<(), ArrayError> {
        self.to_zarr_with(path, None, executor)
    }

    /// [`to_zarr`](Array::to_zarr), compressing chunks with gzip at
    /// `gzip` level (0 to 9) when given.
    pub fn to_zarr_with(
        &self,
        path: impl AsRef<Path>,
        gzip: Option<u32>,
        executor: &dyn Executor,
    ) -> Result<(), ArrayError> {
        self.require_known("to_zarr")?;
        let path = path.as_ref();
        let shown = path.display().to_string();
        let zerr = |message: String| ArrayError::Zarr {
            path: shown.clone(),
            message,
        };
        // one Zarr chunk per chunk: all chunks but the last of each axis equal
        let mut chunk_shape = Vec::with_capacity(self.ndim());
        for (a, c) in self.chunks().iter().enumerate() {
            if c.len() > 1 && c[..c.len() - 1].iter().any(|&s| s != c[0])
                || c.len() > 1 && c[c.len() - 1] > c[0]
            {
                return Err(ArrayError::Chunks {
                    array: self.name().to_string(),
                    message: format!(
                        "Zarr needs regular chunks, axis {a} has {c:?}: rechunk first (e.g. to {})",
                        c.iter().max().unwrap_or(&1)
                    ),
                });
            }
            chunk_shape.push(c[0].max(1) as u64);
        }
        std::fs::create_dir_all(path).map_err(|source| ArrayError::Io {
            path: shown.clone(),
            source,
        })?;
        let store = Arc::new(FilesystemStore::new(path).map_err(|e| zerr(e.to_string()))?);
        let shape: Vec<u64> = self.shape().iter().map(|&d| d as u64).collect();
        let mut builder = ArrayBuilder::new(
            shape,
            chunk_shape,
            T::zarr_data_type(),
            T::zarr_fill_value(),
        );
        if let Some(level) = gzip {
            let codec =
                zarrs::array::codec::GzipCodec::new(level).map_err(|e| zerr(e.to_string()))?;
            builder.bytes_to_bytes_codecs(vec![Arc::new(codec)]);
        }
        let array = builder.build(store, "/").map_err(|e| zerr(e.to_string()))?;
        array.store_metadata().map_err(|e| zerr(e.to_string()))?;
        let sink = ZarrSink {
            array,
            path: shown.clone(),
        };
        self.store(Arc::new(sink), executor)
    }

    /// An array reading the Zarr v3 array at `path`, in its own chunks
    /// (`None`) or others. The metadata is read now: a missing store, a
    /// corrupt one or another element type are errors here.
    pub fn from_zarr(
        path: impl AsRef<Path>,
        chunks: Option<ChunkSpec>,
    ) -> Result<Array<T>, ArrayError> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let zerr = |message: String| ArrayError::Zarr {
            path: shown.clone(),
            message,
        };
        if !path.join("zarr.json").is_file() {
            return Err(zerr("no zarr.json: not a Zarr v3 array".into()));
        }
        let store = Arc::new(FilesystemStore::new(&path).map_err(|e| zerr(e.to_string()))?);
        let array = ZArray::open(store, "/").map_err(|e| zerr(e.to_string()))?;
        if *array.data_type() != T::zarr_data_type() {
            return Err(zerr(format!(
                "holds elements {}, not {}",
                array.data_type(),
                T::DTYPE
            )));
        }
        let shape: Vec<usize> = array.shape().iter().map(|&d| d as usize).collect();
        let spec = match chunks {
            Some(c) => c,
            None => {
                let first = vec![0u64; shape.len()];
                let c = array
                    .chunk_shape_usize(&first)
                    .map_err(|e| zerr(e.to_string()))?;
                ChunkSpec::PerAxis(c)
            }
        };
        let grid = spec.normalize(&shape, &shown)?;
        let mut tok = Tokenizer::new("from-zarr");
        tok.str(&shown).str(T::DTYPE).usizes(&shape).chunks(&grid);
        if let Ok(m) = std::fs::metadata(path.join("zarr.json")).and_then(|m| m.modified()) {
            if let Ok(d) = m.duration_since(std::time::UNIX_EPOCH) {
                tok.u64(d.as_nanos() as u64);
            }
        }
        let name = tok.finish();
        let array = Arc::new(array);
        let offs: Arc<Vec<Vec<usize>>> = Arc::new(grid.iter().map(|c| offsets(c)).collect());
        let at = shown.clone();
        let f = Function::dynamic("read-zarr", Arity::exactly(1), move |args: &[Value]| {
            let block = block_of(&args[0]);
            let bshape: Vec<usize> = block
                .iter()
                .enumerate()
                .map(|(a, &i)| offs[a][i + 1] - offs[a][i])
                .collect();
            let origin: Vec<u64> = block
                .iter()
                .enumerate()
                .map(|(a, &i)| offs[a][i] as u64)
                .collect();
            let data: Vec<T> = if bshape.iter().product::<usize>() == 0 {
                Vec::new()
            } else {
                let subset = ArraySubset::new_with_start_shape(
                    origin,
                    bshape.iter().map(|&d| d as u64).collect(),
                )
                .map_err(|e| CallError::msg(e.to_string()))?;
                array
                    .retrieve_array_subset_elements::<T>(&subset)
                    .map_err(|e| CallError::msg(format!("zarr store {at}: {e}")))?
            };
            ArrayD::from_shape_vec(IxDyn(&bshape), data)
                .map(Value::new)
                .map_err(|e| CallError::msg(e.to_string()))
        });
        Ok(Array::from_tasks(
            name.clone(),
            shape,
            grid.clone(),
            read_tasks(&name, &grid, &f),
            vec![],
        ))
    }
}

/// The block index in a task's first argument.
fn block_of(v: &Value) -> Idx {
    v.as_list()
        .unwrap_or_default()
        .iter()
        .map(|v| v.get::<usize>().unwrap_or(0))
        .collect()
}

/// One task per block calling `f` with the block index.
fn read_tasks(name: &str, grid: &[Vec<usize>], f: &Function) -> Vec<(Key, Task)> {
    all_blocks(&numblocks(grid))
        .iter()
        .map(|b| {
            let idx = Task::List(
                b.iter()
                    .map(|&i| Task::Value(Value::Int(i as i64)))
                    .collect(),
            );
            (block_key(name, b), Task::Call(f.clone(), Box::new([idx])))
        })
        .collect()
}

/// A `.npy` file being written: header and length set, chunks written at
/// their offsets.
#[derive(Debug)]
pub struct NpySink {
    file: File,
    path: String,
    shape: Vec<usize>,
    data_start: usize,
}

impl NpySink {
    /// Creates (or truncates) `path` as a `.npy` file of `shape` and
    /// element type `descr` (`<f8`, ...), of `size` bytes each.
    pub fn create(
        path: &Path,
        shape: &[usize],
        descr: &str,
        size: usize,
    ) -> Result<NpySink, ArrayError> {
        let shown = path.display().to_string();
        let io = |source| ArrayError::Io {
            path: shown.clone(),
            source,
        };
        let header = npy_header(descr, shape);
        let file = File::create(path).map_err(io)?;
        file.write_all_at(&header, 0).map_err(io)?;
        let n: usize = shape.iter().product();
        file.set_len((header.len() + n * size) as u64).map_err(io)?;
        Ok(NpySink {
            file,
            path: shown,
            shape: shape.to_vec(),
            data_start: header.len(),
        })
    }
}

impl<T: Element> ChunkSink<T> for NpySink {
    fn write_chunk(&self, offset: &[usize], chunk: ArrayViewD<'_, T>) -> Result<(), String> {
        let gstr = c_strides(&self.shape);
        let data: Vec<T> = chunk.iter().copied().collect();
        let mut buf = Vec::new();
        let mut err = None;
        walk_rows(chunk.shape(), 0, data.len(), |idx, pos, run| {
            if err.is_some() {
                return;
            }
            let g: usize = idx
                .iter()
                .zip(offset)
                .zip(gstr.iter())
                .map(|((i, o), s)| (i + o) * s)
                .sum();
            buf.clear();
            for &v in &data[pos..pos + run] {
                v.write_le(&mut buf);
            }
            if let Err(e) = self
                .file
                .write_all_at(&buf, (self.data_start + g * T::SIZE) as u64)
            {
                err = Some(e);
            }
        });
        match err {
            Some(e) => Err(format!("{}: {e}", self.path)),
            None => Ok(()),
        }
    }

    fn name(&self) -> String {
        self.path.clone()
    }
}

/// A Zarr array being written.
struct ZarrSink {
    array: ZArray<FilesystemStore>,
    path: String,
}

impl<T: Element> ChunkSink<T> for ZarrSink {
    fn write_chunk(&self, offset: &[usize], chunk: ArrayViewD<'_, T>) -> Result<(), String> {
        if chunk.is_empty() {
            return Ok(());
        }
        let data: Vec<T> = chunk.iter().copied().collect();
        let subset = ArraySubset::new_with_start_shape(
            offset.iter().map(|&o| o as u64).collect(),
            chunk.shape().iter().map(|&d| d as u64).collect(),
        )
        .map_err(|e| e.to_string())?;
        self.array
            .store_array_subset_elements(&subset, &data)
            .map_err(|e| format!("zarr store {}: {e}", self.path))
    }

    fn name(&self) -> String {
        self.path.clone()
    }
}

/// The header of a `.npy` file (version 1.0), padded to 64 bytes.
fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let shape_txt = crate::chunks::fmt_shape(shape);
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    let total = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

struct NpyHeader {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
    data_start: usize,
}

fn read_npy_header(file: &File, path: &str) -> Result<NpyHeader, ArrayError> {
    let bad = |message: &str| ArrayError::Format {
        path: path.to_string(),
        message: format!("not a .npy file: {message}"),
    };
    let mut pre = [0u8; 12];
    file.read_exact_at(&mut pre[..10], 0)
        .map_err(|_| bad("shorter than a header"))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(bad("no magic string"));
    }
    let (len, start) = match pre[6] {
        1 => (u16::from_le_bytes([pre[8], pre[9]]) as usize, 10),
        2 | 3 => {
            file.read_exact_at(&mut pre[..12], 0)
                .map_err(|_| bad("shorter than a header"))?;
            (
                u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]) as usize,
                12,
            )
        }
        v => return Err(bad(&format!("unknown version {v}"))),
    };
    // the length is checked against the file before it sizes a buffer: a
    // damaged header does not allocate gigabytes
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if (start + len) as u64 > size {
        return Err(bad("truncated header"));
    }
    let mut dict = vec![0u8; len];
    file.read_exact_at(&mut dict, start as u64)
        .map_err(|_| bad("truncated header"))?;
    let dict = String::from_utf8_lossy(&dict).to_string();
    let value = |key: &str| -> Option<String> {
        let at = dict.find(&format!("'{key}':"))? + key.len() + 3;
        Some(dict[at..].trim_start().to_string())
    };
    let descr = value("descr")
        .and_then(|v| {
            let v = v.strip_prefix('\'')?;
            Some(v[..v.find('\'')?].to_string())
        })
        .ok_or_else(|| bad("no descr"))?;
    let fortran_order = value("fortran_order")
        .map(|v| v.starts_with("True"))
        .ok_or_else(|| bad("no fortran_order"))?;
    let shape = value("shape")
        .and_then(|v| {
            let inner = v.strip_prefix('(')?;
            let inner = &inner[..inner.find(')')?];
            inner
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.trim_end_matches('L').parse::<usize>().ok())
                .collect::<Option<Vec<usize>>>()
        })
        .ok_or_else(|| bad("no shape"))?;
    Ok(NpyHeader {
        descr,
        fortran_order,
        shape,
        data_start: start + len,
    })
}
