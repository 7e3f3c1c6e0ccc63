//! `rechunk`: the same array cut into other chunks. Each new chunk is
//! assembled from the old chunks it overlaps; a new chunk that is exactly
//! an old one is an alias of it.

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn, SliceInfoElem};
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks, offsets, ChunkSpec, Idx};
use crate::element::Element;
use crate::error::ArrayError;
use crate::expr::chunk_of;
use crate::node::block_key;
use crate::token::Tokenizer;

/// Along one axis, for each new chunk: the old chunks it overlaps, each
/// with the range taken from it and where that goes in the new chunk.
/// A part of a new chunk along one axis: the old chunk, the range taken
/// from it, and where that range starts in the new chunk.
type Part = (usize, (usize, usize), usize);

fn overlaps(old: &[usize], new: &[usize]) -> Vec<Vec<Part>> {
    let (oo, no) = (offsets(old), offsets(new));
    let mut out = Vec::with_capacity(new.len());
    let mut first = 0;
    for j in 0..new.len() {
        let (lo, hi) = (no[j], no[j + 1]);
        while first + 1 < old.len() && oo[first + 1] <= lo {
            first += 1;
        }
        let mut parts = Vec::new();
        for k in first..old.len() {
            if oo[k] >= hi {
                break;
            }
            let (a, b) = (lo.max(oo[k]), hi.min(oo[k + 1]));
            if b > a {
                parts.push((k, (a - oo[k], b - oo[k]), a - lo));
            }
        }
        if parts.is_empty() {
            // an empty new chunk: an empty range of the old chunk at `lo`
            let at = lo - oo[first];
            parts.push((first, (at, at), 0));
        }
        out.push(parts);
    }
    out
}

fn range(a: usize, b: usize) -> SliceInfoElem {
    SliceInfoElem::Slice {
        start: a as isize,
        end: Some(b as isize),
        step: 1,
    }
}

impl<T: Element> Array<T> {
    /// The same array in other chunks (Dask's `rechunk`).
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(10, 3).rechunk(5).unwrap();
    /// assert_eq!(x.chunks(), &[vec![5, 5]]);
    /// assert_eq!(x.compute(&rask::Sync).unwrap(), rask::ndarray::Array::from_iter(0..10_i64).into_dyn());
    /// ```
    pub fn rechunk(&self, chunks: impl Into<ChunkSpec>) -> Result<Array<T>, ArrayError> {
        self.require_known("rechunk")?;
        let grid = chunks.into().normalize(self.shape(), self.name())?;
        Ok(self.rechunk_grid(grid))
    }

    /// Rechunks to a grid already checked against the shape.
    pub(crate) fn rechunk_grid(&self, grid: Vec<Vec<usize>>) -> Array<T> {
        if grid == **self.node.chunks {
            return self.clone();
        }
        let mut tok = Tokenizer::new("rechunk");
        tok.str(self.name()).chunks(&grid);
        let name = tok.finish();
        let per_axis: Vec<_> = self
            .chunks()
            .iter()
            .zip(&grid)
            .map(|(old, new)| overlaps(old, new))
            .collect();
        let old_nb = numblocks(self.chunks());
        let mut tasks = Vec::new();
        for b in all_blocks(&numblocks(&grid)) {
            let key = block_key(&name, &b);
            let parts: Vec<&Vec<Part>> = b
                .iter()
                .enumerate()
                .map(|(a, &j)| &per_axis[a][j])
                .collect();
            let out_shape: Idx = b.iter().enumerate().map(|(a, &j)| grid[a][j]).collect();
            // one old chunk taken whole: an alias
            let whole = parts.iter().enumerate().all(|(a, p)| {
                p.len() == 1
                    && p[0].1 == (0, self.chunks()[a][p[0].0])
                    && p[0].1 .1 - p[0].1 .0 == out_shape[a]
            });
            if whole {
                let src: Idx = parts.iter().map(|p| p[0].0).collect();
                tasks.push((key, Task::Key(self.node.key(&src))));
                continue;
            }
            // every combination of the per-axis parts
            let counts: Idx = parts.iter().map(|p| p.len()).collect();
            let combos = all_blocks(&counts);
            let mut keys = Vec::with_capacity(combos.len());
            let mut pieces: Vec<(Vec<SliceInfoElem>, Vec<SliceInfoElem>)> = Vec::new();
            for c in &combos {
                let src: Idx = c.iter().enumerate().map(|(a, &q)| parts[a][q].0).collect();
                debug_assert!(src.iter().zip(&old_nb).all(|(s, n)| s < n));
                let from = c
                    .iter()
                    .enumerate()
                    .map(|(a, &q)| range(parts[a][q].1 .0, parts[a][q].1 .1))
                    .collect();
                let to = c
                    .iter()
                    .enumerate()
                    .map(|(a, &q)| {
                        let (lo, hi) = parts[a][q].1;
                        range(parts[a][q].2, parts[a][q].2 + hi - lo)
                    })
                    .collect();
                keys.push(Task::Key(self.node.key(&src)));
                pieces.push((from, to));
            }
            let array = self.node.name.clone();
            let f = Function::dynamic(
                "rechunk-merge",
                Arity::exactly(1),
                move |args: &[Value]| {
                    let inputs = args[0].as_list().unwrap_or_default();
                    let mut out = ArrayD::from_elem(IxDyn(&out_shape), T::default());
                    for (v, (from, to)) in inputs.iter().zip(&pieces) {
                        let c = chunk_of::<T>(v, &array)?;
                        if c.ndim() != from.len() {
                            return Err(CallError::msg(format!(
                                "a chunk of {array} has {} axes",
                                c.ndim()
                            )));
                        }
                        out.slice_mut(to.as_slice())
                            .assign(&c.slice(from.as_slice()));
                    }
                    Ok(Value::new(out))
                },
            );
            tasks.push((key, Task::Call(f, Box::new([Task::List(keys.into())]))));
        }
        Array::from_tasks(
            name,
            self.shape().to_vec(),
            grid,
            tasks,
            vec![Arc::clone(&self.node)],
        )
    }
}
