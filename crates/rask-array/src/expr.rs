//! Fused elementwise expressions: how one task computes a chain of
//! elementwise operations without intermediate arrays.
//!
//! An [`Expr`] is a tree whose leaves are chunks of other arrays
//! ([`Input`]) or generators (`arange`, `random`, constants, functions of
//! the index) and whose inner nodes are elementwise functions ([`Map`],
//! [`Zip`]). Inside a task the tree is *bound* to one block (its input
//! values found, its scratch buffers allocated) into a [`Kernel`], which
//! then fills the block [`TILE`] elements at a time: each tile goes through
//! every operation while it sits in the L1 cache, as numexpr does, so a
//! chunk is read or generated once and each operation is a tight loop the
//! compiler vectorizes. For `((2*x + 1)**3).sum()` with `x = arange(n)/n`
//! the per-chunk task runs, per tile:
//!
//! ```text
//! arange  t[i] = start + (base + i) * step     (no chunk of x is stored)
//! / n     t[i] = t[i] / n
//! 2 *     t[i] = 2 * t[i]
//! + 1     t[i] = t[i] + 1
//! **3     t[i] = t[i] * t[i] * t[i]
//! sum     acc += t[0..TILE]                    (8 running sums)
//! ```

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD};
use rask_graph::{Arity, CallError, Function, Key, Task, Value};

use crate::chunks::{block_at, c_strides, offsets, walk_rows, Idx};
use crate::element::{Element, Number};
use crate::node::{block_key, Node};

/// Elements per tile: 8 KiB of `f64`, so a few tiles fit in L1.
pub(crate) const TILE: usize = 1024;

/// The most operations fused into one expression; a longer chain reads
/// the chunks of its middle array (bounding the recursion of binding).
pub(crate) const MAX_FUSE_DEPTH: usize = 48;

/// One block of the array a task computes.
pub(crate) struct BlockCtx<'a> {
    /// Its block index.
    pub(crate) block: &'a [usize],
    /// Its shape.
    pub(crate) shape: &'a [usize],
    /// The global index of its first element.
    pub(crate) offset: &'a [usize],
    /// The shape of the whole array.
    pub(crate) array_shape: &'a [usize],
    names: &'a [Arc<str>],
    values: &'a [Value],
}

impl<'a> BlockCtx<'a> {
    /// The number of elements of the block.
    pub(crate) fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Evaluates the block with `kernel` and lends it, shaped, to
    /// `use_block`.
    pub(crate) fn with_view<T: Element, R>(
        &self,
        kernel: &mut dyn Kernel<T>,
        use_block: impl FnOnce(ArrayViewD<'_, T>) -> Result<R, CallError>,
    ) -> Result<R, CallError> {
        let data = eval_block(kernel, self.len());
        let view = ArrayViewD::from_shape(self.shape, &data).map_err(|e| self.shape_error(e))?;
        use_block(view)
    }

    /// The error of a block whose elements do not fit its shape.
    pub(crate) fn shape_error(&self, e: ndarray::ShapeError) -> CallError {
        CallError::msg(format!("block {:?}: {e}", self.block))
    }

    fn input(&self, name: &str) -> Result<&'a Value, CallError> {
        self.names
            .iter()
            .position(|n| &**n == name)
            .map(|i| &self.values[i])
            .ok_or_else(|| CallError::msg(format!("no input chunk of array {name}")))
    }
}

/// An elementwise expression over the blocks of some arrays.
pub(crate) trait Expr<T>: Send + Sync + 'static {
    /// Appends the arrays whose chunks this expression reads.
    fn leaves(&self, out: &mut Vec<Arc<Node>>);
    /// The expression bound to one block.
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<T> + 'a>, CallError>;
    /// Operations from the root to the deepest leaf (a leaf is 1).
    fn depth(&self) -> usize;
}

/// An expression bound to a block: fills tiles of it.
pub(crate) trait Kernel<T> {
    /// Fills `out` with the elements `lo..lo + out.len()` of the block
    /// (C order); `out.len() <= TILE`.
    fn fill(&mut self, lo: usize, out: &mut [T]);
}

/// Evaluates a kernel over a whole block of `n` elements.
pub(crate) fn eval_block<T: Element>(kernel: &mut dyn Kernel<T>, n: usize) -> Vec<T> {
    let mut out = vec![T::default(); n];
    for (i, tile) in out.chunks_mut(TILE).enumerate() {
        kernel.fill(i * TILE, tile);
    }
    out
}

/// The leaf reading the chunks of an array, broadcast to the block.
pub(crate) struct Input<T> {
    node: Arc<Node>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Input<T> {
    pub(crate) fn new(node: Arc<Node>) -> Input<T> {
        Input {
            node,
            _t: PhantomData,
        }
    }
}

struct InputKernel<'a, T: Clone + 'static> {
    data: Cow<'a, [T]>,
    strides: Idx,
    shape: Idx,
    contiguous: bool,
}

/// The chunk in `v` as a C-order slice and its shape, or the error naming
/// `array`.
pub(crate) fn chunk_of<'a, T: Element>(
    v: &'a Value,
    array: &str,
) -> Result<&'a ArrayD<T>, CallError> {
    v.downcast_ref::<ArrayD<T>>().ok_or_else(|| {
        CallError::msg(format!(
            "a chunk of {array} must be an ArrayD<{}>, got {}",
            T::DTYPE,
            v.type_name()
        ))
    })
}

/// The elements of `a` in C order, borrowed when they already are.
pub(crate) fn c_order<T: Element>(a: &ArrayD<T>) -> Cow<'_, [T]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

impl<T: Element> Expr<T> for Input<T> {
    fn leaves(&self, out: &mut Vec<Arc<Node>>) {
        out.push(self.node.clone());
    }
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<T> + 'a>, CallError> {
        let a = chunk_of::<T>(ctx.input(&self.node.name)?, &self.node.name)?;
        let (nd, nl) = (ctx.shape.len(), a.ndim());
        let ok = nl <= nd
            && a.shape()
                .iter()
                .zip(&ctx.shape[nd - nl..])
                .all(|(&l, &o)| l == o || l == 1);
        if !ok {
            return Err(CallError::msg(format!(
                "chunk of {} has shape {:?}, which does not broadcast to the block shape {:?}",
                self.node.name,
                a.shape(),
                ctx.shape
            )));
        }
        let own = c_strides(a.shape());
        let strides: Idx = (0..nd)
            .map(|k| {
                if k < nd - nl {
                    0
                } else {
                    let kl = k - (nd - nl);
                    if a.shape()[kl] == 1 {
                        0
                    } else {
                        own[kl]
                    }
                }
            })
            .collect();
        Ok(Box::new(InputKernel {
            data: c_order(a),
            strides,
            shape: ctx.shape.iter().copied().collect(),
            contiguous: a.shape() == ctx.shape,
        }))
    }
    fn depth(&self) -> usize {
        1
    }
}

impl<T: Element> Kernel<T> for InputKernel<'_, T> {
    fn fill(&mut self, lo: usize, out: &mut [T]) {
        if self.contiguous {
            out.copy_from_slice(&self.data[lo..lo + out.len()]);
            return;
        }
        let (data, strides) = (&self.data, &self.strides);
        let last = strides.last().copied().unwrap_or(0);
        walk_rows(&self.shape, lo, out.len(), |idx, pos, run| {
            let base: usize = idx.iter().zip(strides.iter()).map(|(i, s)| i * s).sum();
            let dst = &mut out[pos..pos + run];
            match last {
                0 => dst.fill(data[base]),
                1 => dst.copy_from_slice(&data[base..base + run]),
                s => {
                    for (j, d) in dst.iter_mut().enumerate() {
                        *d = data[base + j * s];
                    }
                }
            }
        });
    }
}

/// `0..TILE` as `f64`, to make `base + i` exactly and vectorized.
fn iota() -> &'static [f64; TILE] {
    static IOTA: std::sync::OnceLock<Box<[f64; TILE]>> = std::sync::OnceLock::new();
    IOTA.get_or_init(|| {
        let mut a = Box::new([0.0; TILE]);
        for (i, v) in a.iter_mut().enumerate() {
            *v = i as f64;
        }
        a
    })
}

/// `start + i * step` at global index `i` of a 1-d array (arange,
/// linspace); `last` replaces the value at one index (linspace's end).
#[derive(Clone, Copy)]
pub(crate) struct Ramp {
    pub(crate) start: f64,
    pub(crate) step: f64,
    pub(crate) last: Option<(usize, f64)>,
}

struct RampKernel {
    ramp: Ramp,
    base: usize,
}

impl<T: Number> Expr<T> for Ramp {
    fn leaves(&self, _: &mut Vec<Arc<Node>>) {}
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<T> + 'a>, CallError> {
        Ok(Box::new(RampKernel {
            ramp: *self,
            base: ctx.offset.first().copied().unwrap_or(0),
        }))
    }
    fn depth(&self) -> usize {
        1
    }
}

impl<T: Number> Kernel<T> for RampKernel {
    fn fill(&mut self, lo: usize, out: &mut [T]) {
        let Ramp { start, step, last } = self.ramp;
        let b = (self.base + lo) as f64;
        crate::simd::ramp(out, &iota()[..], start, b, step);
        if let Some((at, v)) = last {
            let g0 = self.base + lo;
            if (g0..g0 + out.len()).contains(&at) {
                out[at - g0] = T::from_f64(v);
            }
        }
    }
}

/// The same value everywhere.
pub(crate) struct Full<T>(pub(crate) T);

impl<T: Element> Expr<T> for Full<T> {
    fn leaves(&self, _: &mut Vec<Arc<Node>>) {}
    fn bind<'a>(&'a self, _: &BlockCtx<'a>) -> Result<Box<dyn Kernel<T> + 'a>, CallError> {
        Ok(Box::new(FullKernel(self.0)))
    }
    fn depth(&self) -> usize {
        1
    }
}

struct FullKernel<T>(T);
impl<T: Element> Kernel<T> for FullKernel<T> {
    fn fill(&mut self, _: usize, out: &mut [T]) {
        out.fill(self.0);
    }
}

/// A function of the global flat (C-order) index of each element: the
/// random generators.
pub(crate) struct FlatGen<T, F> {
    pub(crate) f: F,
    pub(crate) _t: PhantomData<fn() -> T>,
}

struct FlatGenKernel<'a, F> {
    f: &'a F,
    shape: Idx,
    start: usize,
    gstrides: Idx,
}

impl<T: Element, F: Fn(u64) -> T + Send + Sync + 'static> Expr<T> for FlatGen<T, F> {
    fn leaves(&self, _: &mut Vec<Arc<Node>>) {}
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<T> + 'a>, CallError> {
        let gstrides = c_strides(ctx.array_shape);
        let start = ctx.offset.iter().zip(&gstrides).map(|(o, s)| o * s).sum();
        Ok(Box::new(FlatGenKernel {
            f: &self.f,
            shape: ctx.shape.iter().copied().collect(),
            start,
            gstrides,
        }))
    }
    fn depth(&self) -> usize {
        1
    }
}

impl<T, F: Fn(u64) -> T> Kernel<T> for FlatGenKernel<'_, F> {
    fn fill(&mut self, lo: usize, out: &mut [T]) {
        let (f, start, gs) = (self.f, self.start, &self.gstrides);
        walk_rows(&self.shape, lo, out.len(), |idx, pos, run| {
            let g: usize = start + idx.iter().zip(gs.iter()).map(|(i, s)| i * s).sum::<usize>();
            crate::simd::gen_into(&mut out[pos..pos + run], g as u64, f);
        });
    }
}

/// A function of the global n-d index of each element (`fromfunction`).
pub(crate) struct IndexGen<T, F> {
    pub(crate) f: F,
    pub(crate) _t: PhantomData<fn() -> T>,
}

struct IndexGenKernel<'a, F> {
    f: &'a F,
    shape: Idx,
    offset: Idx,
    g: Idx,
}

impl<T: Element, F: Fn(&[usize]) -> T + Send + Sync + 'static> Expr<T> for IndexGen<T, F> {
    fn leaves(&self, _: &mut Vec<Arc<Node>>) {}
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<T> + 'a>, CallError> {
        Ok(Box::new(IndexGenKernel {
            f: &self.f,
            shape: ctx.shape.iter().copied().collect(),
            offset: ctx.offset.iter().copied().collect(),
            g: ctx.offset.iter().copied().collect(),
        }))
    }
    fn depth(&self) -> usize {
        1
    }
}

impl<T, F: Fn(&[usize]) -> T> Kernel<T> for IndexGenKernel<'_, F> {
    fn fill(&mut self, lo: usize, out: &mut [T]) {
        let (f, offset, g) = (self.f, &self.offset, &mut self.g);
        walk_rows(&self.shape, lo, out.len(), |idx, pos, run| {
            for (k, (&i, &o)) in idx.iter().zip(offset.iter()).enumerate() {
                g[k] = i + o;
            }
            for (j, out) in out[pos..pos + run].iter_mut().enumerate() {
                if let Some(l) = g.last_mut() {
                    *l = offset[offset.len() - 1] + idx[idx.len() - 1] + j;
                }
                *out = f(g);
            }
        });
    }
}

/// `f(x)` of each element, in place.
pub(crate) struct Map<T, F> {
    pub(crate) inner: Arc<dyn Expr<T>>,
    pub(crate) f: F,
}

struct MapKernel<'a, T, F> {
    inner: Box<dyn Kernel<T> + 'a>,
    f: &'a F,
}

impl<T: Element, F: Fn(T) -> T + Send + Sync + 'static> Expr<T> for Map<T, F> {
    fn leaves(&self, out: &mut Vec<Arc<Node>>) {
        self.inner.leaves(out);
    }
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<T> + 'a>, CallError> {
        Ok(Box::new(MapKernel {
            inner: self.inner.bind(ctx)?,
            f: &self.f,
        }))
    }
    fn depth(&self) -> usize {
        1 + self.inner.depth()
    }
}

impl<T: Element, F: Fn(T) -> T> Kernel<T> for MapKernel<'_, T, F> {
    fn fill(&mut self, lo: usize, out: &mut [T]) {
        self.inner.fill(lo, out);
        crate::simd::map_in_place(out, self.f);
    }
}

/// `f(x)` of each element, into another type.
pub(crate) struct Convert<T, U, F> {
    pub(crate) inner: Arc<dyn Expr<T>>,
    pub(crate) f: F,
    pub(crate) _u: PhantomData<fn() -> U>,
}

struct ConvertKernel<'a, T, F> {
    inner: Box<dyn Kernel<T> + 'a>,
    f: &'a F,
    scratch: Vec<T>,
}

impl<T: Element, U: Element, F: Fn(T) -> U + Send + Sync + 'static> Expr<U> for Convert<T, U, F> {
    fn leaves(&self, out: &mut Vec<Arc<Node>>) {
        self.inner.leaves(out);
    }
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<U> + 'a>, CallError> {
        Ok(Box::new(ConvertKernel {
            inner: self.inner.bind(ctx)?,
            f: &self.f,
            scratch: vec![T::default(); TILE.min(ctx.len())],
        }))
    }
    fn depth(&self) -> usize {
        1 + self.inner.depth()
    }
}

impl<T: Element, U, F: Fn(T) -> U> Kernel<U> for ConvertKernel<'_, T, F> {
    fn fill(&mut self, lo: usize, out: &mut [U]) {
        let s = &mut self.scratch[..out.len()];
        self.inner.fill(lo, s);
        crate::simd::convert_into(s, out, self.f);
    }
}

/// `f(a, b)` of the elements of two expressions of one type, into `a`'s
/// tile.
pub(crate) struct ZipSame<T, F> {
    pub(crate) a: Arc<dyn Expr<T>>,
    pub(crate) b: Arc<dyn Expr<T>>,
    pub(crate) f: F,
}

struct ZipSameKernel<'a, T, F> {
    a: Box<dyn Kernel<T> + 'a>,
    b: Box<dyn Kernel<T> + 'a>,
    f: &'a F,
    scratch: Vec<T>,
}

impl<T: Element, F: Fn(T, T) -> T + Send + Sync + 'static> Expr<T> for ZipSame<T, F> {
    fn leaves(&self, out: &mut Vec<Arc<Node>>) {
        self.a.leaves(out);
        self.b.leaves(out);
    }
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<T> + 'a>, CallError> {
        Ok(Box::new(ZipSameKernel {
            a: self.a.bind(ctx)?,
            b: self.b.bind(ctx)?,
            f: &self.f,
            scratch: vec![T::default(); TILE.min(ctx.len())],
        }))
    }
    fn depth(&self) -> usize {
        1 + self.a.depth().max(self.b.depth())
    }
}

impl<T: Element, F: Fn(T, T) -> T> Kernel<T> for ZipSameKernel<'_, T, F> {
    fn fill(&mut self, lo: usize, out: &mut [T]) {
        self.a.fill(lo, out);
        let s = &mut self.scratch[..out.len()];
        self.b.fill(lo, s);
        crate::simd::zip_in_place(out, s, self.f);
    }
}

/// `f(a, b, c)` of three expressions (`where`, `zip` of other types).
pub(crate) struct Zip3<A, B, C, V, F> {
    pub(crate) a: Arc<dyn Expr<A>>,
    pub(crate) b: Arc<dyn Expr<B>>,
    pub(crate) c: Arc<dyn Expr<C>>,
    pub(crate) f: F,
    pub(crate) _v: PhantomData<fn() -> V>,
}

struct Zip3Kernel<'a, A, B, C, F> {
    a: Box<dyn Kernel<A> + 'a>,
    b: Box<dyn Kernel<B> + 'a>,
    c: Box<dyn Kernel<C> + 'a>,
    f: &'a F,
    sa: Vec<A>,
    sb: Vec<B>,
    sc: Vec<C>,
}

impl<A, B, C, V, F> Expr<V> for Zip3<A, B, C, V, F>
where
    A: Element,
    B: Element,
    C: Element,
    V: Element,
    F: Fn(A, B, C) -> V + Send + Sync + 'static,
{
    fn leaves(&self, out: &mut Vec<Arc<Node>>) {
        self.a.leaves(out);
        self.b.leaves(out);
        self.c.leaves(out);
    }
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<V> + 'a>, CallError> {
        let n = TILE.min(ctx.len());
        Ok(Box::new(Zip3Kernel {
            a: self.a.bind(ctx)?,
            b: self.b.bind(ctx)?,
            c: self.c.bind(ctx)?,
            f: &self.f,
            sa: vec![A::default(); n],
            sb: vec![B::default(); n],
            sc: vec![C::default(); n],
        }))
    }
    fn depth(&self) -> usize {
        1 + self.a.depth().max(self.b.depth()).max(self.c.depth())
    }
}

impl<A: Element, B: Element, C: Element, V, F: Fn(A, B, C) -> V> Kernel<V>
    for Zip3Kernel<'_, A, B, C, F>
{
    fn fill(&mut self, lo: usize, out: &mut [V]) {
        let n = out.len();
        let (sa, sb, sc) = (&mut self.sa[..n], &mut self.sb[..n], &mut self.sc[..n]);
        self.a.fill(lo, sa);
        self.b.fill(lo, sb);
        self.c.fill(lo, sc);
        let f = self.f;
        for (i, o) in out.iter_mut().enumerate() {
            *o = f(sa[i], sb[i], sc[i]);
        }
    }
}

/// `f(a, b)` of two expressions of any types.
pub(crate) struct Zip<A, B, V, F> {
    pub(crate) a: Arc<dyn Expr<A>>,
    pub(crate) b: Arc<dyn Expr<B>>,
    pub(crate) f: F,
    pub(crate) _v: PhantomData<fn() -> V>,
}

struct ZipKernel<'a, A, B, F> {
    a: Box<dyn Kernel<A> + 'a>,
    b: Box<dyn Kernel<B> + 'a>,
    f: &'a F,
    sa: Vec<A>,
    sb: Vec<B>,
}

impl<A: Element, B: Element, V: Element, F: Fn(A, B) -> V + Send + Sync + 'static> Expr<V>
    for Zip<A, B, V, F>
{
    fn leaves(&self, out: &mut Vec<Arc<Node>>) {
        self.a.leaves(out);
        self.b.leaves(out);
    }
    fn bind<'a>(&'a self, ctx: &BlockCtx<'a>) -> Result<Box<dyn Kernel<V> + 'a>, CallError> {
        let n = TILE.min(ctx.len());
        Ok(Box::new(ZipKernel {
            a: self.a.bind(ctx)?,
            b: self.b.bind(ctx)?,
            f: &self.f,
            sa: vec![A::default(); n],
            sb: vec![B::default(); n],
        }))
    }
    fn depth(&self) -> usize {
        1 + self.a.depth().max(self.b.depth())
    }
}

impl<A: Element, B: Element, V, F: Fn(A, B) -> V> Kernel<V> for ZipKernel<'_, A, B, F> {
    fn fill(&mut self, lo: usize, out: &mut [V]) {
        let n = out.len();
        let (sa, sb) = (&mut self.sa[..n], &mut self.sb[..n]);
        self.a.fill(lo, sa);
        self.b.fill(lo, sb);
        let f = self.f;
        for (i, o) in out.iter_mut().enumerate() {
            *o = f(sa[i], sb[i]);
        }
    }
}

/// What a blockwise task does with its bound expression: fill a chunk,
/// fold it into a partial reduction, write it to a file, ...
pub(crate) type Body<T> =
    dyn Fn(&mut dyn Kernel<T>, &BlockCtx<'_>) -> Result<Value, CallError> + Send + Sync;

/// The tasks of the array `name` (grid `chunks`, shape `shape`): one per
/// block, named `fname` in the graph, calling `body` with `expr` bound to
/// the block. Returns the tasks and the arrays they read.
pub(crate) fn blockwise_tasks<T: Element>(
    fname: &str,
    name: &str,
    shape: &[usize],
    chunks: &[Vec<usize>],
    expr: Arc<dyn Expr<T>>,
    body: Arc<Body<T>>,
) -> (Vec<(Key, Task)>, Vec<Arc<Node>>) {
    let mut all = Vec::new();
    expr.leaves(&mut all);
    let mut leaves: Vec<Arc<Node>> = Vec::new();
    for l in all {
        if !leaves.iter().any(|x| x.name == l.name) {
            leaves.push(l);
        }
    }
    let names: Arc<[Arc<str>]> = leaves.iter().map(|l| l.name.clone()).collect();
    let nd = shape.len();
    // per axis of unknown sizes, the leaves whose chunks tell them
    let unknown: Arc<Vec<Vec<(usize, usize, Probe)>>> = Arc::new(
        (0..nd)
            .map(|k| {
                leaves
                    .iter()
                    .enumerate()
                    .filter_map(|(li, l)| {
                        let off = nd.checked_sub(l.shape.len())?;
                        (k >= off && l.unknown_at(k - off)).then(|| (li, k - off, l.probe))
                    })
                    .collect()
            })
            .collect(),
    );
    let offs: Arc<Vec<Vec<usize>>> = Arc::new(chunks.iter().map(|c| offsets(c)).collect());
    let shape_v: Arc<[usize]> = shape.into();
    let fnames = names.clone();
    let f = Function::dynamic(fname, Arity::at_least(1), move |args: &[Value]| {
        let (block, mut bshape, offset) = block_at(&args[0], &offs);
        for (k, from) in unknown.iter().enumerate() {
            read_unknown(&mut bshape, k, from, &args[1..], &fnames)?;
        }
        let ctx = BlockCtx {
            block: &block,
            shape: &bshape,
            offset: &offset,
            array_shape: &shape_v,
            names: &fnames,
            values: &args[1..],
        };
        let mut kernel = expr.bind(&ctx)?;
        body(&mut *kernel, &ctx)
    });
    let mut tasks = Vec::new();
    for b in crate::chunks::all_blocks(&crate::chunks::numblocks(chunks)) {
        let mut args: Vec<Task> = Vec::with_capacity(1 + leaves.len());
        args.push(Task::List(
            b.iter()
                .map(|&i| Task::Value(Value::Int(i as i64)))
                .collect(),
        ));
        for l in &leaves {
            let nl = l.shape.len();
            let lb: Idx = (0..nl)
                .map(|kl| {
                    let k = kl + nd - nl;
                    if l.shape[kl] == shape[k] {
                        b[k]
                    } else {
                        0
                    }
                })
                .collect();
            args.push(Task::Key(block_key(&l.name, &lb)));
        }
        tasks.push((block_key(name, &b), Task::Call(f.clone(), args.into())));
    }
    (tasks, leaves)
}

/// Reads the shape of a chunk value ([`Node::probe`]).
type Probe = fn(&Value) -> Option<Vec<usize>>;

/// Sets the length of axis `k` of a block, unknown in the grid, from the
/// chunks of the leaves in `from` (leaf index, its axis, its probe), which
/// must agree.
fn read_unknown(
    bshape: &mut Idx,
    k: usize,
    from: &[(usize, usize, Probe)],
    values: &[Value],
    names: &[Arc<str>],
) -> Result<(), CallError> {
    let mut found: Option<(usize, usize)> = None;
    for &(li, kl, probe) in from {
        let s = probe(&values[li]).ok_or_else(|| {
            CallError::msg(format!(
                "a chunk of {} is a {}, not an array chunk",
                names[li],
                values[li].type_name()
            ))
        })?;
        let d = s.get(kl).copied().unwrap_or(0);
        match found {
            Some((o, first)) if o != d => {
                return Err(CallError::msg(format!(
                    "chunks of {} and {} have lengths {o} and {d} along an axis of unknown size: they do not align",
                    names[first], names[li]
                )))
            }
            None => found = Some((d, li)),
            _ => {}
        }
    }
    if let Some((d, _)) = found {
        bshape[k] = d;
    }
    Ok(())
}

/// The body that computes the block as an `ArrayD`.
pub(crate) fn fill_body<T: Element>() -> Arc<Body<T>> {
    Arc::new(|kernel: &mut dyn Kernel<T>, ctx: &BlockCtx<'_>| {
        let data = eval_block(kernel, ctx.len());
        let a = ArrayD::from_shape_vec(ctx.shape.to_vec(), data).map_err(|e| ctx.shape_error(e))?;
        Ok(Value::new(a))
    })
}
