//! [`Array`]: a chunked n-dimensional array that builds a task graph.

use std::fmt;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn, SliceInfoElem};
use rask_graph::{Graph, Key, Task, Value};
use rask_scheduler::{get_with, Callback, Executor, Keys};

use crate::chunks::{
    all_blocks, block_shape, chunksize, fmt_grid_short, fmt_shape, numblocks, offsets, Idx,
};
use crate::element::Element;
use crate::error::ArrayError;
use crate::expr::{blockwise_tasks, fill_body, Expr, Input, MAX_FUSE_DEPTH};
use crate::node::{build_graph, inherit_poison, op_of, probe, LazyTasks, Node, NodeKind};

/// A lazy chunked n-dimensional array of `T`: a name, a shape, a chunk
/// grid and the graph that computes its chunks (each an
/// `ndarray::ArrayD<T>`, under the key `(name, i, j, ...)`).
///
/// Operations return new arrays and never run anything; [`compute`]
/// hands the graph to an executor. Elementwise operations stay lazy
/// expressions that the next operation fuses into its own tasks.
///
/// ```
/// use rask::array::arange;
/// use rask::Sync;
/// let x = arange(15, 5).named("x");
/// assert_eq!(x.to_string(), "rask.array<x, shape=(15,), chunks=((5, 5, 5)), chunksize=(5,), dtype=i64>");
/// assert_eq!(x.graph().len(), 3);              // ('x', 0), ('x', 1), ('x', 2)
/// assert_eq!((&x + 100).graph().len(), 6);     // one task per chunk more
/// assert_eq!(x.sum().graph().len(), 7);         // per-chunk sums and a final one
/// assert_eq!(x.sum().compute_scalar(&Sync).unwrap(), 105);
/// // a long axis shows a few chunks, as Dask's repr
/// let big = arange(1_000_000, 100).named("big");
/// assert_eq!(big.to_string(), "rask.array<big, shape=(1000000,), chunks=((100, 100, 100, ..., 100)), chunksize=(100,), dtype=i64>");
/// ```
///
/// [`compute`]: Array::compute
pub struct Array<T: Element> {
    pub(crate) node: Arc<Node>,
    /// The fused expression of a lazy elementwise array.
    pub(crate) expr: Option<Arc<dyn Expr<T>>>,
}

impl<T: Element> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            node: self.node.clone(),
            expr: self.expr.clone(),
        }
    }
}

impl<T: Element> fmt::Display for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.node.any_unknown() {
            let (shape, chunks, chunksize) = crate::unknown::fmt_unknown(&self.node);
            return write!(
                f,
                "rask.array<{}, shape={shape}, chunks={chunks}, chunksize={chunksize}, dtype={}>",
                self.node.name,
                T::DTYPE
            );
        }
        write!(
            f,
            "rask.array<{}, shape={}, chunks={}, chunksize={}, dtype={}>",
            self.node.name,
            fmt_shape(&self.node.shape),
            fmt_grid_short(&self.node.chunks),
            fmt_shape(&chunksize(&self.node.chunks)),
            T::DTYPE
        )
    }
}

impl<T: Element> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The tasks of a lazy elementwise array: its expression, fused or read
/// from its direct inputs.
pub(crate) struct Elementwise<T> {
    pub(crate) op: &'static str,
    pub(crate) fused: Arc<dyn Expr<T>>,
    pub(crate) shallow: Arc<dyn Expr<T>>,
}

impl<T: Element> LazyTasks for Elementwise<T> {
    fn build(&self, node: &Node, fused: bool) -> (Vec<(Key, Task)>, Vec<Arc<Node>>) {
        let expr = if fused { &self.fused } else { &self.shallow };
        blockwise_tasks(
            self.op,
            &node.name,
            &node.shape,
            &node.chunks,
            expr.clone(),
            fill_body::<T>(),
        )
    }
}

impl<T: Element> Array<T> {
    /// A lazy elementwise array.
    pub(crate) fn elementwise(
        name: String,
        op: &'static str,
        shape: Vec<usize>,
        chunks: Arc<Vec<Vec<usize>>>,
        fused: Arc<dyn Expr<T>>,
        shallow: Arc<dyn Expr<T>>,
    ) -> Array<T> {
        crate::element::register_codecs::<T>();
        let mut inputs = Vec::new();
        shallow.leaves(&mut inputs);
        let nd = shape.len();
        let unknown: Vec<bool> = (0..nd)
            .map(|k| {
                inputs.iter().any(|l| {
                    let off = nd.saturating_sub(l.shape.len());
                    k >= off && l.unknown_at(k - off)
                })
            })
            .collect();
        let poison = inherit_poison(&inputs, op, true);
        let lazy = Elementwise {
            op,
            fused: fused.clone(),
            shallow,
        };
        Array {
            node: Arc::new(Node {
                name: name.into(),
                shape,
                chunks,
                kind: NodeKind::Lazy(Arc::new(lazy)),
                unknown: if unknown.contains(&true) {
                    unknown
                } else {
                    Vec::new()
                },
                poison,
                probe: probe::<T>,
                inputs,
            }),
            expr: Some(fused),
        }
    }

    /// An array whose tasks are already built.
    pub(crate) fn from_tasks(
        name: impl Into<Arc<str>>,
        shape: Vec<usize>,
        chunks: Vec<Vec<usize>>,
        tasks: Vec<(Key, Task)>,
        deps: Vec<Arc<Node>>,
    ) -> Array<T> {
        crate::element::register_codecs::<T>();
        let name: Arc<str> = name.into();
        let poison = inherit_poison(&deps, op_of(&name), false);
        Array {
            node: Arc::new(Node {
                name,
                shape,
                chunks: Arc::new(chunks),
                kind: NodeKind::Tasks {
                    tasks: Arc::new(tasks),
                    deps,
                },
                unknown: Vec::new(),
                poison,
                probe: probe::<T>,
                inputs: Vec::new(),
            }),
            expr: None,
        }
    }

    /// An array whose tasks are built when a graph is made.
    pub(crate) fn from_lazy(
        name: impl Into<Arc<str>>,
        shape: Vec<usize>,
        chunks: Vec<Vec<usize>>,
        lazy: Arc<dyn LazyTasks>,
        inputs: Vec<Arc<Node>>,
    ) -> Array<T> {
        crate::element::register_codecs::<T>();
        let name: Arc<str> = name.into();
        let poison = inherit_poison(&inputs, op_of(&name), false);
        Array {
            node: Arc::new(Node {
                name,
                shape,
                chunks: Arc::new(chunks),
                kind: NodeKind::Lazy(lazy),
                unknown: Vec::new(),
                poison,
                probe: probe::<T>,
                inputs,
            }),
            expr: None,
        }
    }

    /// The expression reading this array in a fused task: its own
    /// elementwise expression, or its chunks.
    pub(crate) fn source(&self) -> Arc<dyn Expr<T>> {
        match &self.expr {
            Some(e) if e.depth() < MAX_FUSE_DEPTH => e.clone(),
            _ => self.input(),
        }
    }

    /// The expression reading this array's chunks.
    pub(crate) fn input(&self) -> Arc<dyn Expr<T>> {
        Arc::new(Input::<T>::new(self.node.clone()))
    }

    /// The name: the first element of every chunk key.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The shape. Along an axis whose length is unknown (after a boolean
    /// mask or `unique`, see [`dims`](Array::dims)) it holds 0, a
    /// placeholder: check [`has_unknown_chunks`](Array::has_unknown_chunks)
    /// or use [`shape_known`](Array::shape_known).
    pub fn shape(&self) -> &[usize] {
        &self.node.shape
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.node.shape.len()
    }

    /// The number of elements (0 when a length is unknown, see
    /// [`dims`](Array::dims)).
    pub fn len(&self) -> usize {
        self.node.shape.iter().product()
    }

    /// Whether the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chunk sizes along each axis (Dask's `chunks`). Along an axis of
    /// unknown sizes (Dask's `nan`, see [`dims`](Array::dims)) each chunk
    /// is listed as 0, a placeholder.
    pub fn chunks(&self) -> &[Vec<usize>] {
        &self.node.chunks
    }

    /// The number of chunks along each axis.
    pub fn numblocks(&self) -> Vec<usize> {
        numblocks(&self.node.chunks).to_vec()
    }

    /// The element type's name (`f64`, `f32`, `i64`, `bool`).
    pub fn dtype(&self) -> &'static str {
        T::DTYPE
    }

    /// The keys of the chunks, in C order of their block index.
    pub fn keys(&self) -> Vec<Key> {
        all_blocks(&numblocks(&self.node.chunks))
            .iter()
            .map(|b| self.node.key(b))
            .collect()
    }

    /// The graph as Dask shows it before optimizing: one layer of tasks
    /// per operation, each reading the chunks of its inputs.
    pub fn graph(&self) -> Graph {
        build_graph(&[&self.node], false)
    }

    /// The graph [`compute`](Array::compute) runs: chains of elementwise
    /// operations fused into the tasks that consume them.
    pub fn optimized_graph(&self) -> Graph {
        build_graph(&[&self.node], true)
    }

    /// The same array under the name `name`: its chunks become
    /// `(name, i, ...)`.
    ///
    /// ```
    /// let x = rask::array::arange(4, 2).named("x");
    /// assert_eq!(x.keys()[1].to_string(), "('x', 1)");
    /// ```
    pub fn named(&self, name: &str) -> Array<T> {
        match &self.node.kind {
            NodeKind::Lazy(lazy) => Array {
                node: Arc::new(Node {
                    name: name.into(),
                    shape: self.node.shape.clone(),
                    chunks: self.node.chunks.clone(),
                    kind: NodeKind::Lazy(lazy.clone()),
                    unknown: self.node.unknown.clone(),
                    poison: self.node.poison.clone(),
                    probe: self.node.probe,
                    inputs: self.node.inputs.clone(),
                }),
                expr: self.expr.clone(),
            },
            NodeKind::Tasks { .. } => {
                let blocks = all_blocks(&numblocks(&self.node.chunks));
                let tasks = blocks
                    .iter()
                    .map(|b| (crate::node::block_key(name, b), Task::Key(self.node.key(b))))
                    .collect();
                Array::from_tasks(
                    name,
                    self.node.shape.clone(),
                    self.node.chunks.to_vec(),
                    tasks,
                    vec![self.node.clone()],
                )
                .with_unknown(self.node.unknown.clone())
            }
        }
    }

    /// The array with its chunks computed by tasks of their own (an
    /// elementwise expression is then evaluated once, not in each
    /// consumer).
    pub fn materialize(&self) -> Array<T> {
        Array {
            node: self.node.clone(),
            expr: None,
        }
    }

    /// Computes the chunks now and returns the array holding them (Dask's
    /// `persist`): the same name, shape and chunks, each chunk a value in
    /// the graph, so that later computations start from them instead of
    /// recomputing the inputs.
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = (arange(6, 4) * 2).persist(&rask::Threads::new(2)).unwrap();
    /// assert_eq!(x.graph().len(), 2);              // two chunks, no other task
    /// assert_eq!(x.sum().compute_scalar(&rask::Sync).unwrap(), 30);
    /// ```
    pub fn persist(&self, executor: &dyn Executor) -> Result<Array<T>, ArrayError> {
        self.check_poison()?;
        let graph = self.optimized_graph();
        let keys = self.keys();
        let values = get_with(
            executor,
            &graph,
            Keys::Many(keys.iter().map(Keys::from).collect()),
            &[],
        )?;
        let values = values.as_list().unwrap_or_default();
        // the values tell the sizes a boolean mask left unknown
        let grid = self.grid_of(values, &keys)?;
        let tasks = keys
            .iter()
            .zip(values)
            .map(|(k, v)| (k.clone(), Task::Value(v.clone())))
            .collect();
        Ok(Array::from_tasks(
            self.node.name.clone(),
            grid.iter().map(|c| c.iter().sum()).collect(),
            grid,
            tasks,
            vec![],
        ))
    }

    /// Computes the array with `executor`.
    ///
    /// ```
    /// use rask::array::arange;
    /// let y = (arange(6, 4) * 2).compute(&rask::Sync).unwrap();
    /// assert_eq!(y.as_slice().unwrap(), &[0, 2, 4, 6, 8, 10]);
    /// ```
    pub fn compute(&self, executor: &dyn Executor) -> Result<ArrayD<T>, ArrayError> {
        self.compute_with(executor, &[])
    }

    /// Computes the array with `executor`, calling `callbacks`.
    pub fn compute_with(
        &self,
        executor: &dyn Executor,
        callbacks: &[&dyn Callback],
    ) -> Result<ArrayD<T>, ArrayError> {
        self.check_poison()?;
        let graph = self.optimized_graph();
        let keys = self.keys();
        let values = get_with(
            executor,
            &graph,
            Keys::Many(keys.iter().map(Keys::from).collect()),
            callbacks,
        )?;
        self.assemble(values.as_list().unwrap_or_default(), &keys)
    }

    /// The array from the values of its chunks, in [`keys`](Array::keys)
    /// order.
    pub(crate) fn assemble(&self, values: &[Value], keys: &[Key]) -> Result<ArrayD<T>, ArrayError> {
        let grid = self.grid_of(values, keys)?;
        let chunks = &grid;
        let shape: Vec<usize> = grid.iter().map(|c| c.iter().sum()).collect();
        let blocks = all_blocks(&numblocks(chunks));
        if blocks.len() == 1 {
            if let Some(v) = values.first() {
                let c = crate::expr::chunk_of::<T>(v, &self.node.name)
                    .map_err(|e| self.bad_chunk(&keys[0], e))?;
                return Ok(c.clone());
            }
        }
        let mut out = ArrayD::from_elem(IxDyn(&shape), T::default());
        let offs: Vec<Vec<usize>> = chunks.iter().map(|c| offsets(c)).collect();
        for ((b, v), key) in blocks.iter().zip(values).zip(keys) {
            let c = crate::expr::chunk_of::<T>(v, &self.node.name)
                .map_err(|e| self.bad_chunk(key, e))?;
            let want: Idx = block_shape(chunks, b);
            if c.shape() != &want[..] {
                return Err(ArrayError::Shape {
                    array: self.node.name.to_string(),
                    message: format!(
                        "chunk {key} has shape {:?}, expected {:?}",
                        c.shape(),
                        &want[..]
                    ),
                });
            }
            let region: Vec<SliceInfoElem> = b
                .iter()
                .enumerate()
                .map(|(a, &i)| SliceInfoElem::Slice {
                    start: offs[a][i] as isize,
                    end: Some(offs[a][i + 1] as isize),
                    step: 1,
                })
                .collect();
            out.slice_mut(region.as_slice()).assign(c);
        }
        Ok(out)
    }

    fn bad_chunk(&self, key: &Key, e: rask_graph::CallError) -> ArrayError {
        ArrayError::Shape {
            array: self.node.name.to_string(),
            message: format!("chunk {key}: {e}"),
        }
    }

    /// Computes a 0-d array (a full reduction) and returns its value; for
    /// other arrays, the first element.
    ///
    /// # Errors
    ///
    /// A failed computation, or an empty array.
    pub fn compute_scalar(&self, executor: &dyn Executor) -> Result<T, ArrayError> {
        let a = self.compute(executor)?;
        a.iter().next().copied().ok_or_else(|| ArrayError::Shape {
            array: self.node.name.to_string(),
            message: "the array is empty: no scalar to return".into(),
        })
    }
}

/// Computes several arrays together, in one graph: the work they share
/// (a common input, an elementwise expression they all read) is done
/// once, as Dask's `compute(a, b)` does.
///
/// ```
/// use rask::array::{compute_many, RandomState};
/// let x = RandomState::new(0).random(&[1000], 100).unwrap().materialize();
/// let [m, s] = compute_many(&[&x.mean(), &x.std()], &rask::Sync).unwrap().try_into().unwrap();
/// assert!((m[[]] - 0.5).abs() < 0.05 && (s[[]] - 0.29).abs() < 0.05);
/// ```
pub fn compute_many<T: Element>(
    arrays: &[&Array<T>],
    executor: &dyn Executor,
) -> Result<Vec<ArrayD<T>>, ArrayError> {
    for a in arrays {
        a.check_poison()?;
    }
    let roots: Vec<&Arc<Node>> = arrays.iter().map(|a| &a.node).collect();
    let graph = build_graph(&roots, true);
    let keys: Vec<Vec<Key>> = arrays.iter().map(|a| a.keys()).collect();
    let nested = Keys::Many(
        keys.iter()
            .map(|ks| Keys::Many(ks.iter().map(Keys::from).collect()))
            .collect(),
    );
    let values = get_with(executor, &graph, nested, &[])?;
    let values = values.as_list().unwrap_or_default();
    arrays
        .iter()
        .zip(&keys)
        .zip(values)
        .map(|((a, ks), v)| a.assemble(v.as_list().unwrap_or_default(), ks))
        .collect()
}
