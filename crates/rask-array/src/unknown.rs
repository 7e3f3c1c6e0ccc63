//! Unknown chunk sizes, as Dask's `nan` chunks: a boolean mask
//! ([`Array::mask`]) or [`Array::unique`] keeps an unknown number of
//! elements of each chunk, so the result's sizes along that axis are known
//! only once computed.
//!
//! Such an array records, per axis, whether its sizes are unknown (its
//! `shape` and `chunks` hold 0 there as placeholders, its repr prints
//! `nan`). Elementwise operations, reductions, masks, `unique`,
//! transposes, slices taking the unknown axes whole (`s![.., 1]`),
//! [`compute`](Array::compute) and [`persist`](Array::persist) work
//! without the sizes (each task reads the shape of the chunks it is
//! given). An operation that needs them (slicing an unknown axis by
//! position, rechunking, reshaping,
//! concatenating, matrix products, ...) is an
//! [`ArrayError::UnknownChunks`] telling the user to call
//! [`compute_chunk_sizes`](Array::compute_chunk_sizes), as Dask's message
//! does: when the operation is built where it checks, or else when the
//! array that used it is computed.
//!
//! ```
//! use rask::array::{from_ndarray, ArrayError};
//! use rask::ndarray::arr1;
//! let x = from_ndarray(&arr1(&[0.25_f64, 0.75, 1.5, 0.125, 0.5625]), 2).unwrap();
//! let y = x.mask(&x.gt(0.5).unwrap()).unwrap();
//! assert_eq!(y.dims(), vec![None::<usize>]);               // Dask: shape=(nan,)
//! assert!(matches!(y.slice(rask::ndarray::s![0..1]), Err(ArrayError::UnknownChunks { .. })));
//! assert_eq!((&y * 2.0).sum().compute_scalar(&rask::Sync).unwrap(), 5.625);
//! let y = y.compute_chunk_sizes(&rask::Sync).unwrap();
//! assert_eq!(y.chunks(), &[vec![1, 1, 1]]);
//! assert_eq!(y.slice(rask::ndarray::s![1..]).unwrap().compute(&rask::Sync).unwrap().as_slice().unwrap().to_vec(), vec![1.5, 0.5625]);
//! ```

use std::sync::Arc;

use rask_graph::{Arity, CallError, Function, Key, Task, Value};
use rask_scheduler::{get_with, Executor, Keys};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks};
use crate::element::Element;
use crate::error::ArrayError;
use crate::node::{inherit_poison, probe, Node};
use crate::token::Tokenizer;

/// The shape, chunks and chunksize of a node with unknown sizes, as
/// Dask prints them (`nan` where unknown).
pub(crate) fn fmt_unknown(node: &Node) -> (String, String, String) {
    let tuple = |items: Vec<String>| match items.len() {
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    };
    let dim = |k: usize, v: usize| {
        if node.unknown_at(k) {
            "nan".to_string()
        } else {
            v.to_string()
        }
    };
    let shape = tuple(
        node.shape
            .iter()
            .enumerate()
            .map(|(k, &d)| dim(k, d))
            .collect(),
    );
    let chunks = tuple(
        node.chunks
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let items: Vec<String> = c.iter().map(|&v| dim(k, v)).collect();
                if items.len() > crate::chunks::REPR_CHUNKS {
                    format!(
                        "({}, {}, {}, ..., {})",
                        items[0],
                        items[1],
                        items[2],
                        items[items.len() - 1]
                    )
                } else {
                    tuple(items)
                }
            })
            .collect(),
    );
    let chunksize = tuple(
        crate::chunks::chunksize(&node.chunks)
            .into_iter()
            .enumerate()
            .map(|(k, v)| dim(k, v))
            .collect(),
    );
    (shape, chunks, chunksize)
}

impl<T: Element> Array<T> {
    /// The same array with the sizes along the axes flagged in `unknown`
    /// unknown (its shape and chunks along them must be placeholders).
    /// Only the poison of the inputs is kept: this operation works
    /// without their sizes.
    pub(crate) fn with_unknown(&self, unknown: Vec<bool>) -> Array<T> {
        let n = &self.node;
        let reads = n.reads();
        let poison = inherit_poison(&reads, "", true);
        let unknown = if unknown.contains(&true) {
            unknown
        } else {
            Vec::new()
        };
        Array {
            node: Arc::new(Node {
                name: n.name.clone(),
                shape: n.shape.clone(),
                chunks: n.chunks.clone(),
                kind: n.kind.clone(),
                unknown,
                poison,
                probe: n.probe,
                inputs: n.inputs.clone(),
            }),
            expr: self.expr.clone(),
        }
    }

    /// Whether some chunk sizes are unknown (after a boolean mask or
    /// [`unique`](Array::unique)); [`dims`](Array::dims) says along which
    /// axes.
    pub fn has_unknown_chunks(&self) -> bool {
        self.node.any_unknown()
    }

    /// The length of each axis, `None` where it is unknown (Dask's `nan`
    /// in `shape`).
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(10, 4);
    /// assert_eq!(x.dims(), vec![Some(10)]);
    /// assert_eq!(x.mask(&x.lt(3).unwrap()).unwrap().dims(), vec![None::<usize>]);
    /// ```
    pub fn dims(&self) -> Vec<Option<usize>> {
        self.node
            .shape
            .iter()
            .enumerate()
            .map(|(k, &d)| (!self.node.unknown_at(k)).then_some(d))
            .collect()
    }

    /// The shape, if every length is known.
    pub fn shape_known(&self) -> Option<&[usize]> {
        (!self.node.any_unknown()).then_some(&self.node.shape[..])
    }

    /// An error if the sizes are unknown: `op` needs them.
    pub(crate) fn require_known(&self, op: &str) -> Result<(), ArrayError> {
        if let Some((array, op)) = &self.node.poison {
            return Err(ArrayError::UnknownChunks {
                array: array.to_string(),
                op: op.to_string(),
            });
        }
        if self.node.any_unknown() {
            return Err(ArrayError::UnknownChunks {
                array: self.name().to_string(),
                op: op.to_string(),
            });
        }
        Ok(())
    }

    /// An error if an operation this array is made of needed the sizes of
    /// an array whose sizes are unknown.
    pub(crate) fn check_poison(&self) -> Result<(), ArrayError> {
        match &self.node.poison {
            Some((array, op)) => Err(ArrayError::UnknownChunks {
                array: array.to_string(),
                op: op.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// The chunk grid, its unknown sizes read from the shapes of the
    /// chunks in `values` (one per key of [`keys`](Array::keys)).
    pub(crate) fn grid_of(
        &self,
        values: &[Value],
        keys: &[Key],
    ) -> Result<Vec<Vec<usize>>, ArrayError> {
        let shapes: Vec<Vec<usize>> = values
            .iter()
            .zip(keys)
            .map(|(v, k)| {
                (self.node.probe)(v).ok_or_else(|| ArrayError::Shape {
                    array: self.name().to_string(),
                    message: format!(
                        "chunk {k} must be an ArrayD<{}>, got {}",
                        T::DTYPE,
                        v.type_name()
                    ),
                })
            })
            .collect::<Result<_, _>>()?;
        self.grid_from_shapes(&shapes)
    }

    /// The chunk grid from the shapes of the chunks (in keys order).
    fn grid_from_shapes(&self, shapes: &[Vec<usize>]) -> Result<Vec<Vec<usize>>, ArrayError> {
        let mut grid = self.node.chunks.to_vec();
        if !self.node.any_unknown() {
            return Ok(grid);
        }
        let blocks = all_blocks(&numblocks(&grid));
        if blocks.len() != shapes.len() {
            return Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!("{} chunks for {} blocks", shapes.len(), blocks.len()),
            });
        }
        let mut seen: Vec<Vec<bool>> = grid.iter().map(|c| vec![false; c.len()]).collect();
        for (b, s) in blocks.iter().zip(shapes) {
            if s.len() != grid.len() {
                return Err(ArrayError::Shape {
                    array: self.name().to_string(),
                    message: format!(
                        "chunk {:?} has {} axes, the array {}",
                        &b[..],
                        s.len(),
                        grid.len()
                    ),
                });
            }
            for (k, (&i, &d)) in b.iter().zip(s).enumerate() {
                if !self.node.unknown_at(k) {
                    continue;
                }
                if seen[k][i] && grid[k][i] != d {
                    return Err(ArrayError::Shape {
                        array: self.name().to_string(),
                        message: format!(
                            "chunks in block column {i} of axis {k} have lengths {} and {d}",
                            grid[k][i]
                        ),
                    });
                }
                seen[k][i] = true;
                grid[k][i] = d;
            }
        }
        Ok(grid)
    }

    /// Computes the sizes of the chunks that are unknown (after a boolean
    /// mask or [`unique`](Array::unique)) and returns the same array with
    /// them known, as Dask's `compute_chunk_sizes()`: the chunks are
    /// computed (only their shapes are kept), so slicing, rechunking and
    /// the other operations needing sizes work on the result. An array
    /// whose sizes are known is returned as it is.
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(10, 4);
    /// let y = x.mask(&x.ge(5).unwrap()).unwrap().compute_chunk_sizes(&rask::Sync).unwrap();
    /// assert_eq!((y.shape(), y.chunks()), (&[5][..], &[vec![0, 3, 2]][..]));
    /// ```
    ///
    /// # Errors
    ///
    /// A failed computation, or an operation of the array that needed
    /// unknown sizes ([`ArrayError::UnknownChunks`]).
    pub fn compute_chunk_sizes(&self, executor: &dyn Executor) -> Result<Array<T>, ArrayError> {
        self.check_poison()?;
        if !self.node.any_unknown() {
            return Ok(self.clone());
        }
        let mut graph = self.optimized_graph();
        let probe_fn = self.node.probe;
        let array = self.name().to_string();
        let shape_of =
            Function::dynamic("chunk-shape", Arity::exactly(1), move |args: &[Value]| {
                let s = probe_fn(&args[0]).ok_or_else(|| {
                    CallError::msg(format!(
                        "a chunk of {array} must be an ArrayD<{}>, got {}",
                        T::DTYPE,
                        args[0].type_name()
                    ))
                })?;
                Ok(Value::list(s.into_iter().map(|d| Value::Int(d as i64))))
            });
        let mut tok = Tokenizer::new("chunk-sizes");
        tok.str(self.name());
        let name = tok.finish();
        let mut keys = Vec::new();
        for b in all_blocks(&numblocks(&self.node.chunks)) {
            let key = crate::node::block_key(&name, &b);
            graph.insert(
                key.clone(),
                Task::Call(shape_of.clone(), Box::new([Task::Key(self.node.key(&b))])),
            );
            keys.push(key);
        }
        let values = get_with(
            executor,
            &graph,
            Keys::Many(keys.iter().map(Keys::from).collect()),
            &[],
        )?;
        let shapes: Vec<Vec<usize>> = values
            .as_list()
            .unwrap_or_default()
            .iter()
            .map(|v| {
                v.as_list()
                    .unwrap_or_default()
                    .iter()
                    .map(|d| d.get::<usize>().unwrap_or(0))
                    .collect()
            })
            .collect();
        let grid = self.grid_from_shapes(&shapes)?;
        Ok(self.with_grid(grid))
    }

    /// The same array (same tasks) with the known chunk grid `grid`.
    fn with_grid(&self, grid: Vec<Vec<usize>>) -> Array<T> {
        let n = &self.node;
        Array {
            node: Arc::new(Node {
                name: n.name.clone(),
                shape: grid.iter().map(|c| c.iter().sum()).collect(),
                chunks: Arc::new(grid),
                kind: n.kind.clone(),
                unknown: Vec::new(),
                poison: None,
                probe: probe::<T>,
                inputs: n.inputs.clone(),
            }),
            expr: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::creation::{arange, from_ndarray};
    use crate::error::ArrayError;

    #[test]
    fn chunks_of_one_block_column_must_agree() {
        let a = ndarray::Array2::<f64>::zeros((3, 2));
        let x = from_ndarray(&a, [2, 1]).unwrap();
        let rows = arange(3, 2).gt(0).unwrap();
        let y = x.mask(&rows).unwrap();
        assert_eq!(y.dims(), vec![None, Some(2)]);
        // 2 x 2 blocks: lengths 1 and 0 along axis 0, read from the shapes
        let ok = [vec![1, 1], vec![1, 1], vec![0, 1], vec![0, 1]];
        assert_eq!(
            y.grid_from_shapes(&ok).unwrap(),
            vec![vec![1, 0], vec![1, 1]]
        );
        // blocks of one row of blocks that disagree
        let bad = [vec![1, 1], vec![2, 1], vec![0, 1], vec![0, 1]];
        assert!(matches!(
            y.grid_from_shapes(&bad),
            Err(ArrayError::Shape { .. })
        ));
        // a chunk of another number of axes, or too few chunks
        let bad = [vec![1], vec![1, 1], vec![0, 1], vec![0, 1]];
        assert!(matches!(
            y.grid_from_shapes(&bad),
            Err(ArrayError::Shape { .. })
        ));
        assert!(matches!(
            y.grid_from_shapes(&ok[..2]),
            Err(ArrayError::Shape { .. })
        ));
    }

    #[test]
    fn known_arrays_pass_through() {
        let x = arange(5, 2);
        assert!(!x.has_unknown_chunks());
        assert_eq!(x.shape_known(), Some(&[5][..]));
        assert!(x.require_known("anything").is_ok());
        let y = x.compute_chunk_sizes(&rask_scheduler::Sync).unwrap();
        assert_eq!(y.chunks(), x.chunks());
    }
}
