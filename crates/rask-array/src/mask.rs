//! Boolean masks: [`Array::mask`], Dask's `x[m]` for a boolean array `m`.
//!
//! How many elements a chunk keeps is known only when it is computed, so
//! the result's sizes along the masked axis are unknown (see the
//! `unknown` module), as Dask's `nan` chunks: one task per chunk selects
//! its elements, and nothing waits for the sizes.

use std::sync::Arc;

use ndarray::{ArrayD, Axis, IxDyn};
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks, refine};
use crate::element::Element;
use crate::error::ArrayError;
use crate::expr::{c_order, chunk_of};
use crate::token::Tokenizer;

impl<T: Element> Array<T> {
    /// The elements where `m` is true, as NumPy's and Dask's `x[m]`:
    ///
    /// - `m` of the same shape as `self`: a 1-d array of the selected
    ///   elements in C order (an array of two or more axes is first
    ///   rechunked into whole rows, as Dask's `ravel`);
    /// - `m` of one axis, as long as `self`'s first: the rows (slices along
    ///   axis 0) where `m` is true, the other axes unchanged.
    ///
    /// The length of the masked axis is unknown until computed
    /// ([`dims`](Array::dims) gives `None`, the repr `nan`); elementwise
    /// operations, reductions, further masks and `unique` work on the
    /// result, and [`compute_chunk_sizes`](Array::compute_chunk_sizes)
    /// makes the sizes known for the rest.
    ///
    /// ```
    /// use rask::array::from_ndarray;
    /// use rask::ndarray::{arr1, arr2};
    /// let x = from_ndarray(&arr2(&[[1.0, 0.2], [0.7, 0.9], [0.1, 0.6]]), 2).unwrap();
    /// let big = x.mask(&x.gt(0.5).unwrap()).unwrap();          // x[x > 0.5]
    /// assert_eq!(big.to_string().contains("shape=(nan,)"), true);
    /// assert_eq!(big.compute(&rask::Sync).unwrap().as_slice().unwrap().to_vec(), vec![1.0, 0.7, 0.9, 0.6]);
    /// let rows = from_ndarray(&arr1(&[true, false, true]), 2).unwrap();
    /// assert_eq!(x.mask(&rows).unwrap().compute(&rask::Sync).unwrap(), arr2(&[[1.0, 0.2], [0.1, 0.6]]).into_dyn());
    /// ```
    ///
    /// # Errors
    ///
    /// [`ArrayError::Shape`] if `m` fits neither form, or `self` has no
    /// axis; [`ArrayError::UnknownChunks`] if the chunks of `self` and `m`
    /// cannot be aligned without sizes that are unknown.
    pub fn mask(&self, m: &Array<bool>) -> Result<Array<T>, ArrayError> {
        let (nd, mnd) = (self.ndim(), m.ndim());
        let misfit = || ArrayError::Shape {
            array: self.name().to_string(),
            message: format!(
                "the boolean mask {} of shape {:?} fits neither the shape {:?} nor its first axis",
                m.name(),
                m.dims(),
                self.dims()
            ),
        };
        if nd == 0 {
            return Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: "a boolean mask needs an array of at least one axis".into(),
            });
        }
        if mnd == 1 {
            if self.dims()[0] != m.dims()[0] {
                return Err(misfit());
            }
            return self.mask_rows(m);
        }
        if mnd != nd || self.dims() != m.dims() {
            return Err(misfit());
        }
        self.require_known("a boolean mask of two or more axes (it flattens the array)")?;
        m.require_known("a boolean mask of two or more axes (it flattens the array)")?;
        // whole rows, so that the blocks in order are the elements in C order
        let mut grid = vec![refine(&self.chunks()[0], &m.chunks()[0])];
        grid.extend(self.shape()[1..].iter().map(|&d| vec![d]));
        let x = self.rechunk_grid(grid.clone());
        let m = m.rechunk_grid(grid);
        x.select_where(&m, true)
    }

    /// `self[m]` for a 1-d `m` as long as axis 0.
    fn mask_rows(&self, m: &Array<bool>) -> Result<Array<T>, ArrayError> {
        let (ux, um) = (self.node.unknown_at(0), m.node.unknown_at(0));
        if ux || um {
            if !(ux && um) || self.chunks()[0].len() != m.chunks()[0].len() {
                let (array, other) = if ux {
                    (self.name(), m.name())
                } else {
                    (m.name(), self.name())
                };
                return Err(ArrayError::UnknownChunks {
                    array: array.to_string(),
                    op: format!("aligning a boolean mask with {other} (both need the same chunks)"),
                });
            }
            return self.select_where(m, false);
        }
        let g0 = refine(&self.chunks()[0], &m.chunks()[0]);
        let mut grid = self.chunks().to_vec();
        grid[0] = g0.clone();
        let x = if self.node.any_unknown() {
            // only axis 0 is cut, and its sizes are known
            if grid != **self.node.chunks {
                self.require_known("aligning the chunks of a boolean mask")?;
            }
            self.clone()
        } else {
            self.rechunk_grid(grid)
        };
        x.select_where(&m.rechunk_grid(vec![g0]), false)
    }

    /// One task per block: the rows (or, `flat`, the elements) of `self`
    /// where the block of `m` along axis 0 (or the same block) is true.
    /// Their chunks are aligned along axis 0 (and, `flat`, whole rows).
    fn select_where(&self, m: &Array<bool>, flat: bool) -> Result<Array<T>, ArrayError> {
        let mut tok = Tokenizer::new("mask");
        tok.str(self.name()).str(m.name()).u64(flat as u64);
        let name = tok.finish();
        let (xname, mname) = (self.name().to_string(), m.name().to_string());
        let f = Function::dynamic("mask", Arity::exactly(2), move |args: &[Value]| {
            let x = chunk_of::<T>(&args[0], &xname)?;
            let m = chunk_of::<bool>(&args[1], &mname)?;
            let out = if flat || x.ndim() == 1 {
                if x.shape() != m.shape() {
                    return Err(CallError::msg(format!(
                        "a chunk of {xname} has shape {:?}, its mask's {:?}",
                        x.shape(),
                        m.shape()
                    )));
                }
                let (xs, ms) = (c_order(x), c_order(m));
                let kept: Vec<T> = xs
                    .iter()
                    .zip(ms.iter())
                    .filter(|(_, &k)| k)
                    .map(|(&v, _)| v)
                    .collect();
                ArrayD::from_shape_vec(IxDyn(&[kept.len()]), kept)
                    .map_err(|e| CallError::msg(format!("mask of {xname}: {e}")))?
            } else {
                if x.shape().first() != m.shape().first() || m.ndim() != 1 {
                    return Err(CallError::msg(format!(
                        "a chunk of {xname} has shape {:?}, its mask's {:?}",
                        x.shape(),
                        m.shape()
                    )));
                }
                let rows: Vec<usize> = m
                    .iter()
                    .enumerate()
                    .filter(|(_, &k)| k)
                    .map(|(i, _)| i)
                    .collect();
                x.select(Axis(0), &rows)
            };
            Ok(Value::new(out))
        });
        let nb = numblocks(self.chunks());
        let blocks: Vec<crate::chunks::Idx> = if flat {
            (0..nb[0]).map(|i| std::iter::once(i).collect()).collect()
        } else {
            all_blocks(&nb)
        };
        let zeros: Vec<usize> = vec![0; self.ndim().saturating_sub(1)];
        let tasks = blocks
            .iter()
            .map(|b| {
                let xb: Vec<usize> = if flat {
                    std::iter::once(b[0]).chain(zeros.iter().copied()).collect()
                } else {
                    b.to_vec()
                };
                let args: Box<[Task]> = Box::new([
                    Task::Key(self.node.key(&xb)),
                    Task::Key(m.node.key(if flat { &xb } else { &b[..1] })),
                ]);
                (
                    crate::node::block_key(&name, b),
                    Task::Call(f.clone(), args),
                )
            })
            .collect();
        let (shape, chunks, unknown) = if flat {
            (vec![0], vec![vec![0; nb[0]]], vec![true])
        } else {
            let mut chunks = self.chunks().to_vec();
            chunks[0] = vec![0; nb[0]];
            let mut shape = self.shape().to_vec();
            shape[0] = 0;
            let mut unknown = self.node.unknown.clone();
            unknown.resize(self.ndim(), false);
            unknown[0] = true;
            (shape, chunks, unknown)
        };
        Ok(Array::from_tasks(
            name,
            shape,
            chunks,
            tasks,
            vec![Arc::clone(&self.node), Arc::clone(&m.node)],
        )
        .with_unknown(unknown))
    }
}
