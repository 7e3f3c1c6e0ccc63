//! `from_array` over any chunked source: a trait that a reader of HDF5,
//! NetCDF or any other chunked store implements to become an array whose
//! chunks are read lazily, one task per chunk, each reading only its
//! region.
//!
//! ```
//! use std::ops::Range;
//! use rask::array::{from_array, ChunkedSource, SourceError};
//! /// A "file" whose element (i, j) is 10 i + j, read region by region.
//! #[derive(Debug)]
//! struct Grid;
//! impl ChunkedSource<i64> for Grid {
//!     fn shape(&self) -> Vec<usize> { vec![3, 4] }
//!     fn token(&self) -> String { "grid-v1".into() }
//!     fn read(&self, region: &[Range<usize>]) -> Result<rask::ndarray::ArrayD<i64>, SourceError> {
//!         let (r, c) = (region[0].clone(), region[1].clone());
//!         Ok(rask::ndarray::Array2::from_shape_fn((r.len(), c.len()), |(i, j)| {
//!             (10 * (r.start + i) + c.start + j) as i64
//!         }).into_dyn())
//!     }
//! }
//! let x = from_array(Grid, [2, 3]).unwrap();
//! assert_eq!(x.chunks(), &[vec![2, 1], vec![3, 1]]);
//! assert_eq!(x.sum().compute_scalar(&rask::Sync).unwrap(), (0..3).flat_map(|i| (0..4).map(move |j| 10 * i + j)).sum::<i64>());
//! ```

use std::ops::Range;
use std::sync::Arc;

use ndarray::ArrayD;
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks, offsets, ChunkSpec};
use crate::element::Element;
use crate::error::ArrayError;
use crate::node::block_key;
use crate::token::Tokenizer;

/// The error a source's `read` returns: any error, carried as the cause
/// of the failed task.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// A chunked store of `T`s that [`from_array`] reads region by region.
pub trait ChunkedSource<T: Element>: Send + Sync + 'static {
    /// The shape of the whole array.
    fn shape(&self) -> Vec<usize>;
    /// A token naming the data (file path and modification time, a
    /// version, ...): arrays of equal tokens and chunks have the same keys,
    /// so make it change when the data does.
    fn token(&self) -> String;
    /// The elements of `region` (a range per axis), in an array of the
    /// region's shape.
    fn read(&self, region: &[Range<usize>]) -> Result<ArrayD<T>, SourceError>;
}

/// An in-memory `ndarray` is a source too (its token is its contents).
impl<T: Element> ChunkedSource<T> for ArrayD<T> {
    fn shape(&self) -> Vec<usize> {
        ArrayD::shape(self).to_vec()
    }
    fn token(&self) -> String {
        let mut tok = Tokenizer::new("ndarray");
        tok.usizes(ArrayD::shape(self));
        for &v in self.iter() {
            tok.u64(v.bits());
        }
        tok.hex()
    }
    fn read(&self, region: &[Range<usize>]) -> Result<ArrayD<T>, SourceError> {
        let info: Vec<ndarray::SliceInfoElem> = region
            .iter()
            .map(|r| ndarray::SliceInfoElem::Slice {
                start: r.start as isize,
                end: Some(r.end as isize),
                step: 1,
            })
            .collect();
        Ok(self
            .slice(info.as_slice())
            .as_standard_layout()
            .into_owned())
    }
}

/// Dask's `from_array` over a lazy source: an array in chunks of `chunks`
/// whose chunk tasks each read their region from `source` when they run
/// (nothing is read now). A read that fails, or returns an array of
/// another shape, fails its task with an error naming the region.
pub fn from_array<T: Element, S: ChunkedSource<T>>(
    source: S,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, ArrayError> {
    let shape = source.shape();
    let grid = chunks.into().normalize(&shape, "from-array")?;
    let mut tok = Tokenizer::new("array");
    tok.str(&source.token())
        .str(T::DTYPE)
        .usizes(&shape)
        .chunks(&grid);
    let name = tok.finish();
    let offs: Vec<Vec<usize>> = grid.iter().map(|c| offsets(c)).collect();
    let source = Arc::new(source);
    let array = name.clone();
    let read = Function::dynamic("read-region", Arity::exactly(1), move |args: &[Value]| {
        let bounds: Vec<usize> = args[0]
            .get::<Vec<i64>>()
            .map_or_else(Vec::new, |v| v.into_iter().map(|x| x as usize).collect());
        let region: Vec<Range<usize>> = bounds.chunks(2).map(|p| p[0]..p[1]).collect();
        let chunk = source
            .read(&region)
            .map_err(|e| CallError::msg(format!("{array}: reading region {region:?}: {e}")))?;
        let want: Vec<usize> = region.iter().map(|r| r.len()).collect();
        if chunk.shape() != want.as_slice() {
            return Err(CallError::msg(format!(
                "{array}: reading region {region:?} gave shape {:?}, not {want:?}",
                chunk.shape()
            )));
        }
        Ok(Value::new(chunk))
    });
    let tasks = all_blocks(&numblocks(&grid))
        .iter()
        .map(|b| {
            let bounds: Vec<Value> = b
                .iter()
                .enumerate()
                .flat_map(|(ax, &i)| [offs[ax][i], offs[ax][i + 1]])
                .map(|x| Value::Int(x as i64))
                .collect();
            (
                block_key(&name, b),
                Task::Call(read.clone(), Box::new([Task::Value(Value::list(bounds))])),
            )
        })
        .collect();
    Ok(Array::from_tasks(name, shape, grid, tasks, vec![]))
}
