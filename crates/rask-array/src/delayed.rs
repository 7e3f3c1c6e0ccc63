//! Arrays to and from delayed values (Dask's `to_delayed` and
//! `from_delayed`): a chunk is a `Delayed<ArrayD<T>>` that ordinary
//! delayed code can take, and delayed chunks are assembled into an array.
//!
//! ```
//! use rask::array::{arange, from_delayed};
//! use rask::delayed::{call, compute};
//! use rask::ndarray::ArrayD;
//! let x = arange(6, 4);
//! let chunks = x.to_delayed();
//! let doubled: Vec<_> = chunks
//!     .iter()
//!     .map(|c| call("double", |a: ArrayD<i64>| a * 2, (c,)))
//!     .collect();
//! let y = from_delayed(&doubled, &[6], vec![vec![4, 2]]).unwrap();
//! assert_eq!(y.sum().compute_scalar(&rask::Sync).unwrap(), 30);
//! assert_eq!(compute(&chunks[1]).unwrap().as_slice().unwrap(), &[4, 5]);
//! ```

use ndarray::ArrayD;
use rask_delayed::Delayed;
use rask_graph::Task;

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks, ChunkSpec};
use crate::element::Element;
use crate::error::ArrayError;
use crate::node::block_key;
use crate::token::Tokenizer;

impl<T: Element> Array<T> {
    /// The chunks as delayed values, in C order of their blocks (Dask's
    /// `to_delayed`, flattened): each computes its chunk from the array's
    /// graph, and chunks computed together share their common tasks.
    pub fn to_delayed(&self) -> Vec<Delayed<ArrayD<T>>> {
        let graph = self.optimized_graph();
        Delayed::from_graph(&graph, &self.keys())
            .unwrap_or_else(|e| unreachable!("an array's graph holds its keys: {e}"))
    }
}

/// Dask's `from_delayed` for many chunks: the array of `shape` in chunks
/// `chunks` whose blocks, in C order, are the delayed `chunks_values`. A
/// chunk of another shape than its block fails the computation when it
/// is assembled or used.
pub fn from_delayed<T: Element>(
    values: &[Delayed<ArrayD<T>>],
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, ArrayError> {
    let grid = chunks.into().normalize(shape, "from-delayed")?;
    let blocks = all_blocks(&numblocks(&grid));
    if blocks.len() != values.len() {
        return Err(ArrayError::Chunks {
            array: "from-delayed".into(),
            message: format!(
                "{} delayed chunks for a grid of {} blocks",
                values.len(),
                blocks.len()
            ),
        });
    }
    let mut tok = Tokenizer::new("from-delayed");
    for v in values {
        tok.str(&v.key().to_string());
    }
    tok.usizes(shape).chunks(&grid);
    let name = tok.finish();
    // the tasks of every chunk, each once (chunks share tasks)
    let mut seen = std::collections::HashSet::new();
    let mut tasks: Vec<_> = Vec::new();
    for v in values {
        for (k, t) in v.graph().iter() {
            if seen.insert(k.clone()) {
                tasks.push((k.clone(), t.clone()));
            }
        }
    }
    for (b, v) in blocks.iter().zip(values) {
        tasks.push((block_key(&name, b), Task::Key(v.key().clone())));
    }
    Ok(Array::from_tasks(name, shape.to_vec(), grid, tasks, vec![]))
}
