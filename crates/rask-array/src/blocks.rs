//! Block-level operations: `map_blocks` (a user function of each chunk)
//! and `matmul` (products of 2-d arrays by blocks).

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, Ix2};
use rask_graph::{Arity, CallError, Function, Key, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks, refine};
use crate::creation::BlockInfo;
use crate::element::{Element, Number};
use crate::error::ArrayError;
use crate::expr::{blockwise_tasks, chunk_of};
use crate::node::{block_key, LazyTasks, Node};
use crate::token::Tokenizer;

type BlockFn<T, U> = dyn Fn(ArrayViewD<'_, T>, BlockInfo<'_>) -> ArrayD<U> + Send + Sync;

/// The tasks of `map_blocks`: the input's fused expression evaluated into
/// the chunk handed to the user's function.
struct MapBlocks<T: Element, U> {
    input: Array<T>,
    f: Arc<BlockFn<T, U>>,
    op: String,
}

impl<T: Element, U: Element> LazyTasks for MapBlocks<T, U> {
    fn build(&self, node: &Node, fused: bool) -> (Vec<(Key, Task)>, Vec<Arc<Node>>) {
        let expr = if fused {
            self.input.source()
        } else {
            self.input.input()
        };
        let f = self.f.clone();
        let out_chunks = node.chunks.clone();
        let op = self.op.clone();
        blockwise_tasks(
            &self.op,
            &node.name,
            self.input.shape(),
            self.input.chunks(),
            expr,
            Arc::new(move |kernel, ctx| {
                let info = BlockInfo {
                    block: ctx.block,
                    shape: ctx.shape,
                    offset: ctx.offset,
                };
                let out = ctx.with_view(kernel, |chunk| Ok(f(chunk, info)))?;
                let want: Vec<usize> = ctx
                    .block
                    .iter()
                    .enumerate()
                    .map(|(a, &i)| out_chunks[a][i])
                    .collect();
                if out.shape() != want.as_slice() {
                    return Err(CallError::msg(format!(
                        "{op} returned a chunk of shape {:?} for block {:?}, expected {want:?}",
                        out.shape(),
                        ctx.block
                    )));
                }
                Ok(Value::new(out))
            }),
        )
    }
}

impl<T: Element> Array<T> {
    /// A user function of each chunk (Dask's `map_blocks`), returning a
    /// chunk of the same shape. `name` identifies `f` in the keys. The
    /// chunk handed to `f` is evaluated in the same task from the input's
    /// fused expression.
    ///
    /// ```
    /// use rask::array::arange;
    /// let y = arange(6, 4).map_blocks("cumsum", |c, _| {
    ///     let mut acc = 0;
    ///     c.mapv(|v| { acc += v; acc })
    /// });
    /// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0, 1, 3, 6, 4, 9]);
    /// ```
    pub fn map_blocks<U: Element, F>(&self, name: &str, f: F) -> Array<U>
    where
        F: Fn(ArrayViewD<'_, T>, BlockInfo<'_>) -> ArrayD<U> + Send + Sync + 'static,
    {
        self.map_blocks_with_chunks(name, self.chunks().to_vec(), f)
            .unwrap_or_else(|e| unreachable!("the input's own chunks: {e}"))
    }

    /// [`map_blocks`](Array::map_blocks) with chunks of other sizes: one
    /// list of sizes per axis, with as many chunks per axis as the input.
    pub fn map_blocks_with_chunks<U: Element, F>(
        &self,
        name: &str,
        chunks: Vec<Vec<usize>>,
        f: F,
    ) -> Result<Array<U>, ArrayError>
    where
        F: Fn(ArrayViewD<'_, T>, BlockInfo<'_>) -> ArrayD<U> + Send + Sync + 'static,
    {
        if numblocks(&chunks) != numblocks(self.chunks()) {
            return Err(ArrayError::Chunks {
                array: self.name().to_string(),
                message: format!(
                    "map_blocks {name}: chunks {chunks:?} do not have the input's {:?} blocks per axis",
                    numblocks(self.chunks()).to_vec()
                ),
            });
        }
        let mut tok = Tokenizer::new("map-blocks");
        tok.str(name)
            .str(std::any::type_name::<F>())
            .str(self.name())
            .chunks(&chunks);
        let shape = chunks.iter().map(|c| c.iter().sum()).collect();
        let lazy = MapBlocks {
            input: self.clone(),
            f: Arc::new(f),
            op: name.to_string(),
        };
        Ok(Array::from_lazy(
            tok.finish(),
            shape,
            chunks,
            Arc::new(lazy),
            vec![Arc::clone(&self.node)],
        ))
    }
}

impl<T: Number> Array<T> {
    /// The matrix product of two 2-d arrays, by blocks: output block
    /// `(i, j)` is the sum over `k` of the products of blocks `(i, k)` and
    /// `(k, j)`, after cutting the inner axis of both alike.
    ///
    /// ```
    /// use rask::ndarray::array;
    /// use rask::array::from_ndarray;
    /// let a = from_ndarray(&array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [2, 1]).unwrap();
    /// let b = from_ndarray(&array![[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]], 2).unwrap();
    /// let c = a.matmul(&b).unwrap().compute(&rask::Sync).unwrap();
    /// assert_eq!(c, array![[1.0, 2.0, 8.0], [3.0, 4.0, 18.0], [5.0, 6.0, 28.0]].into_dyn());
    /// ```
    pub fn matmul(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        for a in [self, other] {
            if a.ndim() != 2 {
                return Err(ArrayError::Shape {
                    array: a.name().to_string(),
                    message: format!("matmul takes 2-d arrays, got shape {:?}", a.shape()),
                });
            }
        }
        if self.shape()[1] != other.shape()[0] {
            return Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!(
                    "matmul of shapes {:?} and {:?} ({}): inner lengths differ",
                    self.shape(),
                    other.shape(),
                    other.name()
                ),
            });
        }
        let k = refine(&self.chunks()[1], &other.chunks()[0]);
        let a = self.rechunk_grid(vec![self.chunks()[0].clone(), k.clone()]);
        let b = other.rechunk_grid(vec![k.clone(), other.chunks()[1].clone()]);
        let mut tok = Tokenizer::new("matmul");
        tok.str(a.name()).str(b.name());
        let name = tok.finish();
        let chunks = vec![a.chunks()[0].clone(), b.chunks()[1].clone()];
        let shape = vec![self.shape()[0], other.shape()[1]];
        let (an, bn) = (a.node.name.clone(), b.node.name.clone());
        let f = Function::dynamic("matmul", Arity::exactly(2), move |args: &[Value]| {
            let (la, lb) = (
                args[0].as_list().unwrap_or_default(),
                args[1].as_list().unwrap_or_default(),
            );
            fn two<'v, T: Element>(
                v: &'v Value,
                name: &str,
            ) -> Result<ndarray::ArrayView2<'v, T>, CallError> {
                let c = chunk_of::<T>(v, name)?;
                c.view()
                    .into_dimensionality::<Ix2>()
                    .map_err(|e| CallError::msg(format!("a chunk of {name}: {e}")))
            }
            let mut acc: Option<ndarray::Array2<T>> = None;
            for (x, y) in la.iter().zip(lb) {
                let (x, y) = (two::<T>(x, &an)?, two::<T>(y, &bn)?);
                if x.ncols() != y.nrows() {
                    return Err(CallError::msg(format!(
                        "matmul: blocks of shapes {:?} and {:?} of {an} and {bn} do not fit",
                        x.shape(),
                        y.shape()
                    )));
                }
                let acc = acc.get_or_insert_with(|| ndarray::Array2::zeros((x.nrows(), y.ncols())));
                T::gemm_add(acc.view_mut(), x, y);
            }
            Ok(Value::new(acc.unwrap_or_default().into_dyn()))
        });
        let nk = k.len();
        let tasks = all_blocks(&numblocks(&chunks))
            .iter()
            .map(|blk| {
                let (i, j) = (blk[0], blk[1]);
                let left: Vec<Task> = (0..nk).map(|q| Task::Key(a.node.key(&[i, q]))).collect();
                let right: Vec<Task> = (0..nk).map(|q| Task::Key(b.node.key(&[q, j]))).collect();
                (
                    block_key(&name, blk),
                    Task::Call(
                        f.clone(),
                        Box::new([Task::List(left.into()), Task::List(right.into())]),
                    ),
                )
            })
            .collect();
        Ok(Array::from_tasks(
            name,
            shape,
            chunks,
            tasks,
            vec![Arc::clone(&a.node), Arc::clone(&b.node)],
        ))
    }

    /// The matrix product, as NumPy's `dot` of 2-d arrays.
    pub fn dot(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        self.matmul(other)
    }
}

/// Dask's `blockwise` over arrays of one element type, for the common
/// case of aligned blocks: the inputs are broadcast together (NumPy's
/// rules) and cut to common chunks, and output block `b` is
/// `f(&[block b of each input])` — an input broadcast along an axis gives
/// its one block there. Each call must return a chunk of the output
/// block's shape. `name` identifies `f` in the keys.
///
/// ```
/// use rask::array::{arange, blockwise};
/// let x = arange(6, 4);
/// let y = arange(6, 3) * 10;
/// let z = blockwise("x-plus-y", &[&x, &y], |c| &c[0] + &c[1]).unwrap();
/// assert_eq!(z.chunks(), &[vec![3, 1, 2]]);
/// assert_eq!(z.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0, 11, 22, 33, 44, 55]);
/// ```
pub fn blockwise<T: Element, U: Element, F>(
    name: &str,
    inputs: &[&Array<T>],
    f: F,
) -> Result<Array<U>, ArrayError>
where
    F: Fn(&[ArrayViewD<'_, T>]) -> ArrayD<U> + Send + Sync + 'static,
{
    if inputs.is_empty() {
        return Err(ArrayError::Shape {
            array: name.to_string(),
            message: "blockwise needs at least one input".into(),
        });
    }
    let nodes: Vec<&Node> = inputs.iter().map(|a| &*a.node).collect();
    let (shape, grid, targets) = crate::elementwise::unify(&nodes)?;
    let cut: Vec<Array<T>> = inputs.iter().zip(&targets).map(|(a, t)| a.cut(t)).collect();
    let mut tok = Tokenizer::new("blockwise");
    tok.str(name).str(std::any::type_name::<F>());
    for a in &cut {
        tok.str(a.name());
    }
    let out = tok.finish();
    let names: Vec<String> = cut.iter().map(|a| a.name().to_string()).collect();
    let out_grid = grid.clone();
    let op = name.to_string();
    let func = Function::dynamic(name, Arity::at_least(1), move |args: &[Value]| {
        let (block, chunks) = args.split_last().unwrap_or((&args[0], &[]));
        let idx: Vec<usize> = block
            .get::<Vec<i64>>()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i as usize)
            .collect();
        let mut views = Vec::with_capacity(chunks.len());
        for (v, n) in chunks.iter().zip(&names) {
            views.push(chunk_of::<T>(v, n)?.view());
        }
        let result = f(&views);
        let want = crate::chunks::block_shape(&out_grid, &idx);
        if result.shape() != &want[..] {
            return Err(CallError::msg(format!(
                "{op} returned a chunk of shape {:?} for block {idx:?}, expected {:?}",
                result.shape(),
                &want[..]
            )));
        }
        Ok(Value::new(result))
    });
    let nd = shape.len();
    let tasks = all_blocks(&numblocks(&grid))
        .iter()
        .map(|b| {
            let mut args: Vec<Task> = cut
                .iter()
                .map(|a| {
                    let off = nd - a.ndim();
                    let own: Vec<usize> = (0..a.ndim())
                        .map(|k| {
                            if a.shape()[k] == shape[k + off] {
                                b[k + off]
                            } else {
                                0
                            }
                        })
                        .collect();
                    Task::Key(a.node.key(&own))
                })
                .collect();
            args.push(Task::Value(Value::list(
                b.iter().map(|&i| Value::Int(i as i64)),
            )));
            (block_key(&out, b), Task::Call(func.clone(), args.into()))
        })
        .collect();
    let deps = cut.iter().map(|a| Arc::clone(&a.node)).collect();
    Ok(Array::from_tasks(out, shape, grid, tasks, deps))
}
