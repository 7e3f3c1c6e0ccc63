//! Reductions as trees: `sum`, `prod`, `min`, `max`, `mean`, `var`,
//! `std`, `argmin`, `argmax` over one, several or all axes.
//!
//! Each input chunk is folded into a *partial* (an array of accumulators:
//! the chunk's shape with the reduced axes of length 1), in a task that
//! also evaluates the input's fused elementwise expression, tile by tile,
//! so no chunk of the input need ever exist. Partials are then merged
//! `split_every` at a time (per axis, `split_every^(1/k)` for `k` reduced
//! axes, as Dask does) until one block remains along each reduced axis;
//! the last merge (*aggregate*) turns accumulators into results. For
//! `arange(15, 5).sum()`:
//!
//! ```text
//! ('sum-partial-T', 0)  ('sum-partial-T', 1)  ('sum-partial-T', 2)
//!            \                  |                  /
//!                    ('sum-aggregate-T',)
//! ```
//!
//! Accumulators are exact to merge in any grouping: sums, products,
//! extremes, `(count, mean, M2)` for `var` (Chan's parallel update), and
//! `(value, global index)` for `argmin`/`argmax` (ties go to the first
//! index, NaN wins, as in NumPy).

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use rask_graph::{Arity, CallError, Function, Key, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, c_strides, numblocks, walk_rows, Idx};
use crate::element::{Element, Number};
use crate::error::ArrayError;
use crate::expr::{blockwise_tasks, BlockCtx, Kernel, TILE};
use crate::node::{block_key, LazyTasks, Node};
use crate::token::Tokenizer;

/// The default fan-in of reduction trees (Dask's `split_every`).
pub const SPLIT_EVERY: usize = 16;

/// Which axes a reduction runs over, and how.
///
/// ```
/// use rask::array::{Reduce, RandomState};
/// let x = RandomState::new(0).random(&[6, 4], 2).unwrap();
/// let m = x.mean_with(&Reduce::axis(0).keepdims(true).split_every(2)).unwrap();
/// assert_eq!(m.shape(), &[1, 4]);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reduce {
    axes: Option<Vec<isize>>,
    keepdims: bool,
    split_every: Option<usize>,
    ddof: f64,
}

impl Reduce {
    /// Over all axes.
    pub fn all() -> Reduce {
        Reduce::default()
    }
    /// Over one axis (negative: from the end).
    pub fn axis(axis: isize) -> Reduce {
        Reduce {
            axes: Some(vec![axis]),
            ..Reduce::default()
        }
    }
    /// Over several axes.
    pub fn axes(axes: &[isize]) -> Reduce {
        Reduce {
            axes: Some(axes.to_vec()),
            ..Reduce::default()
        }
    }
    /// Keep the reduced axes, with length 1.
    pub fn keepdims(mut self, keepdims: bool) -> Reduce {
        self.keepdims = keepdims;
        self
    }
    /// How many partial results one task merges (at least 2).
    pub fn split_every(mut self, n: usize) -> Reduce {
        self.split_every = Some(n);
        self
    }
    /// Delta degrees of freedom of `var` and `std` (divisor `n - ddof`).
    pub fn ddof(mut self, ddof: f64) -> Reduce {
        self.ddof = ddof;
        self
    }
}

/// One reduction: how to fold elements into an accumulator, merge two
/// accumulators and finish one.
pub(crate) trait Reducer<T: Element>: Clone + Send + Sync + 'static {
    type Acc: Copy + Send + Sync + 'static;
    type Out: Element;
    /// The operation's name (`sum`, ...).
    const NAME: &'static str;
    /// The name of the operation skipping NaNs (`nansum`, ...).
    const NAN_NAME: &'static str = Self::NAME;
    /// Whether folding needs each element's index (`argmin`).
    const INDEXED: bool = false;
    /// Whether an empty reduction is an error (no identity).
    const NONEMPTY: bool = false;
    /// Whether `acc` has folded no element (checked when computed where
    /// the sizes were unknown when built).
    fn folded_none(&self, _acc: &Self::Acc) -> bool {
        false
    }
    fn init(&self) -> Self::Acc;
    fn fold(&self, acc: &mut Self::Acc, x: T);
    fn fold_slice(&self, acc: &mut Self::Acc, xs: &[T]) {
        for &x in xs {
            self.fold(acc, x);
        }
    }
    fn fold_at(&self, acc: &mut Self::Acc, x: T, _index: i64) {
        self.fold(acc, x);
    }
    fn merge(&self, a: &mut Self::Acc, b: &Self::Acc);
    fn finish(&self, a: &Self::Acc) -> Self::Out;
    /// Mixes the reducer's parameters into the token.
    fn tokenize(&self, _tok: &mut Tokenizer) {}
}

#[derive(Clone, Copy)]
pub(crate) struct Sum;
impl<T: Number> Reducer<T> for Sum {
    type Acc = T;
    type Out = T;
    const NAME: &'static str = "sum";
    const NAN_NAME: &'static str = "nansum";
    fn init(&self) -> T {
        T::ZERO
    }
    #[inline]
    fn fold(&self, acc: &mut T, x: T) {
        *acc = *acc + x;
    }
    fn fold_slice(&self, acc: &mut T, xs: &[T]) {
        *acc = *acc + crate::simd::sum_lanes(xs);
    }
    fn merge(&self, a: &mut T, b: &T) {
        *a = *a + *b;
    }
    fn finish(&self, a: &T) -> T {
        *a
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Prod;
impl<T: Number> Reducer<T> for Prod {
    type Acc = T;
    type Out = T;
    const NAME: &'static str = "prod";
    fn init(&self) -> T {
        T::ONE
    }
    fn fold(&self, acc: &mut T, x: T) {
        *acc = *acc * x;
    }
    fn merge(&self, a: &mut T, b: &T) {
        *a = *a * *b;
    }
    fn finish(&self, a: &T) -> T {
        *a
    }
}

/// `min` (`MAX = false`) or `max`; NaN wins.
#[derive(Clone, Copy)]
pub(crate) struct Extreme<const MAX: bool>;
impl<T: Element, const MAX: bool> Reducer<T> for Extreme<MAX> {
    type Acc = Option<T>;
    type Out = T;
    const NAME: &'static str = if MAX { "max" } else { "min" };
    const NONEMPTY: bool = true;
    fn init(&self) -> Option<T> {
        None
    }
    #[inline]
    fn fold(&self, acc: &mut Option<T>, x: T) {
        match acc {
            None => *acc = Some(x),
            Some(a) => {
                if !a.is_nan() && (x.is_nan() || if MAX { x > *a } else { x < *a }) {
                    *a = x;
                }
            }
        }
    }
    fn merge(&self, a: &mut Option<T>, b: &Option<T>) {
        if let Some(b) = b {
            self.fold(a, *b);
        }
    }
    fn finish(&self, a: &Option<T>) -> T {
        a.unwrap_or_default()
    }
    fn folded_none(&self, acc: &Option<T>) -> bool {
        acc.is_none()
    }
}

/// `R` over the elements that are not NaN (`nansum`, `nanmean`,
/// `nanvar`): an all-NaN sum is 0, an all-NaN mean or variance NaN, as
/// NumPy's.
#[derive(Clone, Copy)]
pub(crate) struct SkipNan<R>(pub(crate) R);
impl<T: Element, R: Reducer<T>> Reducer<T> for SkipNan<R> {
    type Acc = R::Acc;
    type Out = R::Out;
    const NAME: &'static str = R::NAN_NAME;
    const NONEMPTY: bool = R::NONEMPTY;
    fn init(&self) -> R::Acc {
        self.0.init()
    }
    #[inline]
    fn fold(&self, acc: &mut R::Acc, x: T) {
        if !x.is_nan() {
            self.0.fold(acc, x);
        }
    }
    fn merge(&self, a: &mut R::Acc, b: &R::Acc) {
        self.0.merge(a, b);
    }
    fn finish(&self, a: &R::Acc) -> R::Out {
        self.0.finish(a)
    }
    fn tokenize(&self, tok: &mut Tokenizer) {
        self.0.tokenize(tok);
    }
}

/// `nanmin` (`MAX = false`) or `nanmax`: NaNs are skipped; an all-NaN
/// slice gives NaN, as NumPy's (which warns).
#[derive(Clone, Copy)]
pub(crate) struct NanExtreme<const MAX: bool>;
impl<T: Element, const MAX: bool> Reducer<T> for NanExtreme<MAX> {
    type Acc = Option<T>;
    type Out = T;
    const NAME: &'static str = if MAX { "nanmax" } else { "nanmin" };
    const NONEMPTY: bool = true;
    fn init(&self) -> Option<T> {
        None
    }
    #[inline]
    fn fold(&self, acc: &mut Option<T>, x: T) {
        if x.is_nan() {
            return;
        }
        match acc {
            None => *acc = Some(x),
            Some(a) => {
                if if MAX { x > *a } else { x < *a } {
                    *a = x;
                }
            }
        }
    }
    fn merge(&self, a: &mut Option<T>, b: &Option<T>) {
        if let Some(b) = b {
            self.fold(a, *b);
        }
    }
    fn finish(&self, a: &Option<T>) -> T {
        a.unwrap_or_else(T::nan)
    }
}

/// `any` (`ALL = false`) or `all`: whether any (every) element is not
/// zero (`false` for booleans); `any` of nothing is false, `all` true.
#[derive(Clone, Copy)]
pub(crate) struct Truth<const ALL: bool>;
impl<T: Element, const ALL: bool> Reducer<T> for Truth<ALL> {
    type Acc = bool;
    type Out = bool;
    const NAME: &'static str = if ALL { "all" } else { "any" };
    fn init(&self) -> bool {
        ALL
    }
    #[inline]
    fn fold(&self, acc: &mut bool, x: T) {
        let nonzero = x != T::default();
        if ALL {
            *acc &= nonzero;
        } else {
            *acc |= nonzero;
        }
    }
    fn merge(&self, a: &mut bool, b: &bool) {
        if ALL {
            *a &= *b;
        } else {
            *a |= *b;
        }
    }
    fn finish(&self, a: &bool) -> bool {
        *a
    }
}

/// `count_nonzero`: the elements that are not zero (NaN counts).
#[derive(Clone, Copy)]
pub(crate) struct CountNonzero;
impl<T: Element> Reducer<T> for CountNonzero {
    type Acc = i64;
    type Out = i64;
    const NAME: &'static str = "count_nonzero";
    fn init(&self) -> i64 {
        0
    }
    #[inline]
    fn fold(&self, acc: &mut i64, x: T) {
        *acc += (x != T::default()) as i64;
    }
    fn merge(&self, a: &mut i64, b: &i64) {
        *a += *b;
    }
    fn finish(&self, a: &i64) -> i64 {
        *a
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Mean;
impl<T: Number> Reducer<T> for Mean {
    type Acc = (f64, f64);
    type Out = f64;
    const NAME: &'static str = "mean";
    const NAN_NAME: &'static str = "nanmean";
    fn init(&self) -> (f64, f64) {
        (0.0, 0.0)
    }
    fn fold(&self, acc: &mut (f64, f64), x: T) {
        acc.0 += x.to_f64();
        acc.1 += 1.0;
    }
    fn fold_slice(&self, acc: &mut (f64, f64), xs: &[T]) {
        let mut lanes = [0.0f64; 8];
        let mut it = xs.chunks_exact(8);
        for c in &mut it {
            for (l, &x) in lanes.iter_mut().zip(c) {
                *l += x.to_f64();
            }
        }
        for &x in it.remainder() {
            lanes[0] += x.to_f64();
        }
        acc.0 += lanes.iter().sum::<f64>();
        acc.1 += xs.len() as f64;
    }
    fn merge(&self, a: &mut (f64, f64), b: &(f64, f64)) {
        a.0 += b.0;
        a.1 += b.1;
    }
    fn finish(&self, a: &(f64, f64)) -> f64 {
        a.0 / a.1
    }
}

/// `var` (or `std`, `sqrt`) with `n - ddof` as divisor.
#[derive(Clone, Copy)]
pub(crate) struct Var {
    pub(crate) ddof: f64,
    pub(crate) sqrt: bool,
}

/// Chan et al.'s merge of `(n, mean, M2)`.
fn chan(a: &mut (f64, f64, f64), b: &(f64, f64, f64)) {
    if b.0 == 0.0 {
        return;
    }
    if a.0 == 0.0 {
        *a = *b;
        return;
    }
    let n = a.0 + b.0;
    let d = b.1 - a.1;
    a.1 += d * b.0 / n;
    a.2 += b.2 + d * d * a.0 * b.0 / n;
    a.0 = n;
}

impl<T: Number> Reducer<T> for Var {
    type Acc = (f64, f64, f64);
    type Out = f64;
    const NAME: &'static str = "var";
    const NAN_NAME: &'static str = "nanvar";
    fn init(&self) -> (f64, f64, f64) {
        (0.0, 0.0, 0.0)
    }
    fn fold(&self, acc: &mut (f64, f64, f64), x: T) {
        chan(acc, &(1.0, x.to_f64(), 0.0));
    }
    fn fold_slice(&self, acc: &mut (f64, f64, f64), xs: &[T]) {
        if xs.is_empty() {
            return;
        }
        // two passes over the tile (in cache), then one merge
        let n = xs.len() as f64;
        let mean = xs.iter().map(|x| x.to_f64()).sum::<f64>() / n;
        let m2 = xs
            .iter()
            .map(|x| {
                let d = x.to_f64() - mean;
                d * d
            })
            .sum::<f64>();
        chan(acc, &(n, mean, m2));
    }
    fn merge(&self, a: &mut (f64, f64, f64), b: &(f64, f64, f64)) {
        chan(a, b);
    }
    fn finish(&self, a: &(f64, f64, f64)) -> f64 {
        let v = a.2 / (a.0 - self.ddof).max(0.0);
        if self.sqrt {
            v.sqrt()
        } else {
            v
        }
    }
    fn tokenize(&self, tok: &mut Tokenizer) {
        tok.u64(self.ddof.to_bits()).u64(self.sqrt as u64);
    }
}

/// `argmin` (`MAX = false`) or `argmax`: the first index of the extreme
/// (of the first NaN, if any).
#[derive(Clone, Copy)]
pub(crate) struct ArgExtreme<const MAX: bool>;
impl<T: Element, const MAX: bool> Reducer<T> for ArgExtreme<MAX> {
    type Acc = (T, i64);
    type Out = i64;
    const NAME: &'static str = if MAX { "argmax" } else { "argmin" };
    const INDEXED: bool = true;
    const NONEMPTY: bool = true;
    fn init(&self) -> (T, i64) {
        (T::default(), -1)
    }
    fn fold(&self, _: &mut (T, i64), _: T) {
        unreachable!("indexed reductions fold with fold_at")
    }
    #[inline]
    fn fold_at(&self, acc: &mut (T, i64), x: T, i: i64) {
        self.merge(acc, &(x, i));
    }
    fn merge(&self, a: &mut (T, i64), b: &(T, i64)) {
        if b.1 < 0 {
            return;
        }
        if a.1 < 0 {
            *a = *b;
            return;
        }
        let (x, y) = (a.0, b.0);
        let better = if x.is_nan() || y.is_nan() {
            !x.is_nan() || (y.is_nan() && b.1 < a.1)
        } else if MAX {
            y > x || (y == x && b.1 < a.1)
        } else {
            y < x || (y == x && b.1 < a.1)
        };
        if better {
            *a = *b;
        }
    }
    fn finish(&self, a: &(T, i64)) -> i64 {
        a.1
    }
}

/// The tasks of one reduction of `input`.
struct Reduction<T: Element, R> {
    reducer: R,
    input: Array<T>,
    axes: Vec<usize>,
    keepdims: bool,
    split_every: usize,
    hex: String,
}

fn partial_body<T: Element, R: Reducer<T>>(
    r: R,
    reduced: Vec<bool>,
) -> impl Fn(&mut dyn Kernel<T>, &BlockCtx<'_>) -> Result<Value, CallError> + Send + Sync {
    move |kernel, ctx| {
        let shape = ctx.shape;
        let nd = shape.len();
        let red: Idx = shape
            .iter()
            .zip(&reduced)
            .map(|(&d, &r)| if r { 1 } else { d })
            .collect();
        let mut acc = vec![r.init(); red.iter().product()];
        let n = ctx.len();
        let mut buf = vec![T::default(); TILE.min(n)];
        let all = reduced.iter().all(|&r| r);
        if all && !R::INDEXED {
            let mut lo = 0;
            while lo < n {
                let len = TILE.min(n - lo);
                kernel.fill(lo, &mut buf[..len]);
                r.fold_slice(&mut acc[0], &buf[..len]);
                lo += len;
            }
        } else {
            let mut rstr = c_strides(&red);
            for (s, &r) in rstr.iter_mut().zip(&reduced) {
                if r {
                    *s = 0;
                }
            }
            let last_reduced = nd > 0 && reduced[nd - 1];
            let gstr = c_strides(ctx.array_shape);
            // the axis whose index argmin reports (all axes: the flat index)
            let arg_axis = if all {
                None
            } else {
                reduced.iter().position(|&r| r)
            };
            let mut lo = 0;
            while lo < n {
                let len = TILE.min(n - lo);
                kernel.fill(lo, &mut buf[..len]);
                walk_rows(shape, lo, len, |idx, pos, run| {
                    let base: usize = idx.iter().zip(rstr.iter()).map(|(i, s)| i * s).sum();
                    let xs = &buf[pos..pos + run];
                    if R::INDEXED {
                        let (g0, gstep) = match arg_axis {
                            None => (
                                idx.iter()
                                    .zip(ctx.offset)
                                    .zip(gstr.iter())
                                    .map(|((i, o), s)| (i + o) * s)
                                    .sum::<usize>(),
                                1,
                            ),
                            Some(a) => (idx[a] + ctx.offset[a], usize::from(a == nd - 1)),
                        };
                        let ostep = usize::from(!last_reduced);
                        for (j, &x) in xs.iter().enumerate() {
                            r.fold_at(&mut acc[base + j * ostep], x, (g0 + j * gstep) as i64);
                        }
                    } else if last_reduced {
                        r.fold_slice(&mut acc[base], xs);
                    } else {
                        for (j, &x) in xs.iter().enumerate() {
                            r.fold(&mut acc[base + j], x);
                        }
                    }
                });
                lo += len;
            }
        }
        let a = ArrayD::from_shape_vec(IxDyn(&red), acc)
            .map_err(|e| CallError::msg(format!("partial of block {:?}: {e}", ctx.block)))?;
        Ok(Value::new(a))
    }
}

/// Merges the partials in `args[0]` (a list) into one array of
/// accumulators: into the first one itself when this task holds the only
/// reference to it (the usual case in the tree), into a copy otherwise.
fn merge_all<T: Element, R: Reducer<T>>(
    r: &R,
    args: &mut [Value],
) -> Result<ArrayD<R::Acc>, CallError> {
    let taken = match &mut args[0] {
        Value::List(parts) => Arc::get_mut(parts)
            .and_then(|parts| parts.first_mut())
            .and_then(Value::take_unique::<ArrayD<R::Acc>>),
        _ => None,
    };
    let parts = args[0].as_list().unwrap_or_default();
    let mut it = parts.iter();
    let first = it
        .next()
        .ok_or_else(|| CallError::msg("no partial to merge"))?;
    let bad =
        |v: &Value| CallError::msg(format!("a partial {} is of the wrong type", v.type_name()));
    let mut acc: ArrayD<R::Acc> = match taken {
        Some(acc) => acc,
        None => first
            .downcast_ref::<ArrayD<R::Acc>>()
            .ok_or_else(|| bad(first))?
            .clone(),
    };
    for v in it {
        let b = v.downcast_ref::<ArrayD<R::Acc>>().ok_or_else(|| bad(v))?;
        if b.shape() != acc.shape() {
            return Err(CallError::msg(format!(
                "partials of shapes {:?} and {:?}",
                acc.shape(),
                b.shape()
            )));
        }
        acc.zip_mut_with(b, |a, b| r.merge(a, b));
    }
    Ok(acc)
}

impl<T: Element, R: Reducer<T>> LazyTasks for Reduction<T, R> {
    fn build(&self, node: &Node, fused: bool) -> (Vec<(Key, Task)>, Vec<Arc<Node>>) {
        let input = &self.input;
        let nd = input.ndim();
        let mut reduced = vec![false; nd];
        for &a in &self.axes {
            reduced[a] = true;
        }
        let expr = if fused { input.source() } else { input.input() };
        let partial = format!("{}-partial-{}", R::NAME, self.hex);
        let body = partial_body::<T, R>(self.reducer.clone(), reduced.clone());
        let (mut tasks, deps) = blockwise_tasks(
            R::NAME,
            &partial,
            input.shape(),
            input.chunks(),
            expr,
            Arc::new(body),
        );
        let r = self.reducer.clone();
        let combine = Function::owning(
            &format!("{}-combine", R::NAME),
            Arity::exactly(1),
            move |args: &mut [Value]| Ok(Value::new(merge_all::<T, R>(&r, args)?)),
        );
        let r = self.reducer.clone();
        let keepdims = self.keepdims;
        let red_mask = reduced.clone();
        let aggregate = Function::owning(
            &format!("{}-aggregate", R::NAME),
            Arity::exactly(1),
            move |args: &mut [Value]| {
                let acc = merge_all::<T, R>(&r, args)?;
                if R::NONEMPTY && acc.iter().any(|a| r.folded_none(a)) {
                    return Err(CallError::msg(format!(
                        "{} of an empty axis (length 0) has no value",
                        R::NAME
                    )));
                }
                let out = acc.map(|a| r.finish(a));
                if keepdims {
                    return Ok(Value::new(out));
                }
                let shape: Vec<usize> = out
                    .shape()
                    .iter()
                    .zip(&red_mask)
                    .filter(|(_, &r)| !r)
                    .map(|(&d, _)| d)
                    .collect();
                let out = out
                    .into_shape_with_order(IxDyn(&shape))
                    .map_err(|e| CallError::msg(e.to_string()))?;
                Ok(Value::new(out))
            },
        );
        // tree levels
        let k = self.axes.len().max(1) as f64;
        let f = ((self.split_every as f64).powf(1.0 / k).floor() as usize).max(2);
        let mut cur_nb: Idx = numblocks(input.chunks());
        let mut cur_name = partial;
        let mut level = 0;
        loop {
            let next_nb: Idx = cur_nb
                .iter()
                .zip(&reduced)
                .map(|(&n, &r)| if r { n.div_ceil(f) } else { n })
                .collect();
            let last = cur_nb.iter().zip(&reduced).all(|(&n, &r)| !r || n <= f)
                || next_nb.iter().zip(&reduced).all(|(&n, &r)| !r || n == 1);
            let next_nb: Idx = if last {
                cur_nb
                    .iter()
                    .zip(&reduced)
                    .map(|(&n, &r)| if r { 1 } else { n })
                    .collect()
            } else {
                next_nb
            };
            let name = if last {
                node.name.to_string()
            } else {
                level += 1;
                format!("{}-combine{level}-{}", R::NAME, self.hex)
            };
            for b in all_blocks(&next_nb) {
                let ranges: Idx = b
                    .iter()
                    .zip(&reduced)
                    .zip(&cur_nb)
                    .map(|((&i, &r), &n)| if r { (n - i * f).min(f) } else { 1 })
                    .collect();
                let group: Vec<Task> = all_blocks(&ranges)
                    .iter()
                    .map(|o| {
                        let src: Idx = b
                            .iter()
                            .zip(o)
                            .zip(&reduced)
                            .map(|((&i, &q), &r)| if r { i * f + q } else { i })
                            .collect();
                        Task::Key(block_key(&cur_name, &src))
                    })
                    .collect();
                let (func, key) = if last {
                    let idx: Idx = if self.keepdims {
                        b.clone()
                    } else {
                        b.iter()
                            .zip(&reduced)
                            .filter(|(_, &r)| !r)
                            .map(|(&i, _)| i)
                            .collect()
                    };
                    (&aggregate, block_key(&name, &idx))
                } else {
                    (&combine, block_key(&name, &b))
                };
                tasks.push((
                    key,
                    Task::Call(func.clone(), Box::new([Task::List(group.into())])),
                ));
            }
            if last {
                break;
            }
            cur_nb = next_nb;
            cur_name = name;
        }
        (tasks, deps)
    }
}

impl<T: Element> Array<T> {
    /// The axes of `opts`, checked, sorted.
    fn reduce_axes(&self, opts: &Reduce) -> Result<Vec<usize>, ArrayError> {
        let nd = self.ndim();
        let Some(axes) = &opts.axes else {
            return Ok((0..nd).collect());
        };
        let mut out = Vec::with_capacity(axes.len());
        for &a in axes {
            let u = if a < 0 { a + nd as isize } else { a };
            if u < 0 || u >= nd as isize {
                return Err(ArrayError::Axis {
                    array: self.name().to_string(),
                    axis: a,
                    ndim: nd,
                });
            }
            let u = u as usize;
            if out.contains(&u) {
                return Err(ArrayError::Shape {
                    array: self.name().to_string(),
                    message: format!("axis {a} is repeated in {axes:?}"),
                });
            }
            out.push(u);
        }
        out.sort_unstable();
        Ok(out)
    }

    pub(crate) fn reduction<R: Reducer<T>>(
        &self,
        reducer: R,
        opts: &Reduce,
    ) -> Result<Array<R::Out>, ArrayError> {
        let axes = self.reduce_axes(opts)?;
        let split_every = opts.split_every.unwrap_or(SPLIT_EVERY);
        if split_every < 2 {
            return Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!("split_every must be at least 2, got {split_every}"),
            });
        }
        if R::INDEXED {
            self.require_known(R::NAME)?;
        }
        if R::NONEMPTY
            && axes
                .iter()
                .any(|&a| self.shape()[a] == 0 && !self.node.unknown_at(a))
        {
            return Err(ArrayError::EmptyReduction {
                array: self.name().to_string(),
                op: R::NAME,
            });
        }
        if R::INDEXED && axes.len() > 1 && axes.len() < self.ndim() {
            return Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!("{} takes one axis or all, got {axes:?}", R::NAME),
            });
        }
        let mut tok = Tokenizer::new(R::NAME);
        tok.str(self.name())
            .usizes(&axes)
            .u64(opts.keepdims as u64)
            .u64(split_every as u64);
        reducer.tokenize(&mut tok);
        let hex = tok.hex();
        let mut shape = Vec::new();
        let mut chunks = Vec::new();
        let mut unknown = Vec::new();
        for (a, (&d, c)) in self.shape().iter().zip(self.chunks()).enumerate() {
            if axes.contains(&a) {
                if opts.keepdims {
                    shape.push(1);
                    chunks.push(vec![1]);
                    unknown.push(false);
                }
            } else {
                shape.push(d);
                chunks.push(c.clone());
                unknown.push(self.node.unknown_at(a));
            }
        }
        let name = format!("{}-aggregate-{hex}", R::NAME);
        let lazy = Reduction {
            reducer,
            input: self.clone(),
            axes,
            keepdims: opts.keepdims,
            split_every,
            hex,
        };
        Ok(Array::from_lazy(
            name,
            shape,
            chunks,
            Arc::new(lazy),
            vec![Arc::clone(&self.node)],
        )
        .with_unknown(unknown))
    }

    /// The smallest element (NaN if any is NaN), over all axes.
    pub fn min(&self) -> Result<Array<T>, ArrayError> {
        self.reduction(Extreme::<false>, &Reduce::all())
    }
    /// The smallest elements along `axis`.
    pub fn min_axis(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        self.reduction(Extreme::<false>, &Reduce::axis(axis))
    }
    /// The smallest elements as `opts` say.
    pub fn min_with(&self, opts: &Reduce) -> Result<Array<T>, ArrayError> {
        self.reduction(Extreme::<false>, opts)
    }
    /// The largest element (NaN if any is NaN), over all axes.
    pub fn max(&self) -> Result<Array<T>, ArrayError> {
        self.reduction(Extreme::<true>, &Reduce::all())
    }
    /// The largest elements along `axis`.
    pub fn max_axis(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        self.reduction(Extreme::<true>, &Reduce::axis(axis))
    }
    /// The largest elements as `opts` say.
    pub fn max_with(&self, opts: &Reduce) -> Result<Array<T>, ArrayError> {
        self.reduction(Extreme::<true>, opts)
    }
    /// The flat (C-order) index of the smallest element.
    pub fn argmin(&self) -> Result<Array<i64>, ArrayError> {
        self.reduction(ArgExtreme::<false>, &Reduce::all())
    }
    /// The indices of the smallest elements along `axis`.
    pub fn argmin_axis(&self, axis: isize) -> Result<Array<i64>, ArrayError> {
        self.reduction(ArgExtreme::<false>, &Reduce::axis(axis))
    }
    /// `argmin` as `opts` say (one axis or all).
    pub fn argmin_with(&self, opts: &Reduce) -> Result<Array<i64>, ArrayError> {
        self.reduction(ArgExtreme::<false>, opts)
    }
    /// The flat (C-order) index of the largest element.
    pub fn argmax(&self) -> Result<Array<i64>, ArrayError> {
        self.reduction(ArgExtreme::<true>, &Reduce::all())
    }
    /// The indices of the largest elements along `axis`.
    pub fn argmax_axis(&self, axis: isize) -> Result<Array<i64>, ArrayError> {
        self.reduction(ArgExtreme::<true>, &Reduce::axis(axis))
    }
    /// `argmax` as `opts` say (one axis or all).
    pub fn argmax_with(&self, opts: &Reduce) -> Result<Array<i64>, ArrayError> {
        self.reduction(ArgExtreme::<true>, opts)
    }
}

fn all_axes<O: Element>(r: Result<Array<O>, ArrayError>) -> Array<O> {
    r.unwrap_or_else(|e| unreachable!("a reduction over all axes with defaults: {e}"))
}

impl<T: Number> Array<T> {
    /// The sum of all elements (a 0-d array).
    pub fn sum(&self) -> Array<T> {
        all_axes(self.reduction(Sum, &Reduce::all()))
    }
    /// The sums along `axis`.
    pub fn sum_axis(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        self.reduction(Sum, &Reduce::axis(axis))
    }
    /// The sums as `opts` say.
    pub fn sum_with(&self, opts: &Reduce) -> Result<Array<T>, ArrayError> {
        self.reduction(Sum, opts)
    }
    /// The product of all elements.
    pub fn prod(&self) -> Array<T> {
        all_axes(self.reduction(Prod, &Reduce::all()))
    }
    /// The products along `axis`.
    pub fn prod_axis(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        self.reduction(Prod, &Reduce::axis(axis))
    }
    /// The products as `opts` say.
    pub fn prod_with(&self, opts: &Reduce) -> Result<Array<T>, ArrayError> {
        self.reduction(Prod, opts)
    }
    /// The mean of all elements, as `f64` (NaN for an empty array).
    pub fn mean(&self) -> Array<f64> {
        all_axes(self.reduction(Mean, &Reduce::all()))
    }
    /// The means along `axis`.
    pub fn mean_axis(&self, axis: isize) -> Result<Array<f64>, ArrayError> {
        self.reduction(Mean, &Reduce::axis(axis))
    }
    /// The means as `opts` say.
    pub fn mean_with(&self, opts: &Reduce) -> Result<Array<f64>, ArrayError> {
        self.reduction(Mean, opts)
    }
    /// The variance of all elements (divisor `n`), as `f64`.
    pub fn var(&self) -> Array<f64> {
        all_axes(self.reduction(
            Var {
                ddof: 0.0,
                sqrt: false,
            },
            &Reduce::all(),
        ))
    }
    /// The variances along `axis`.
    pub fn var_axis(&self, axis: isize) -> Result<Array<f64>, ArrayError> {
        self.reduction(
            Var {
                ddof: 0.0,
                sqrt: false,
            },
            &Reduce::axis(axis),
        )
    }
    /// The variances as `opts` say (with its `ddof`).
    pub fn var_with(&self, opts: &Reduce) -> Result<Array<f64>, ArrayError> {
        self.reduction(
            Var {
                ddof: opts.ddof,
                sqrt: false,
            },
            opts,
        )
    }
    /// The standard deviation of all elements (divisor `n`), as `f64`.
    pub fn std(&self) -> Array<f64> {
        all_axes(self.reduction(
            Var {
                ddof: 0.0,
                sqrt: true,
            },
            &Reduce::all(),
        ))
    }
    /// The standard deviations along `axis`.
    pub fn std_axis(&self, axis: isize) -> Result<Array<f64>, ArrayError> {
        self.reduction(
            Var {
                ddof: 0.0,
                sqrt: true,
            },
            &Reduce::axis(axis),
        )
    }
    /// The standard deviations as `opts` say (with its `ddof`).
    pub fn std_with(&self, opts: &Reduce) -> Result<Array<f64>, ArrayError> {
        self.reduction(
            Var {
                ddof: opts.ddof,
                sqrt: true,
            },
            opts,
        )
    }
}

/// The three spellings of a reduction: over all axes, along one axis, as
/// a [`Reduce`] says.
macro_rules! reductions {
    ($bound:ident; $($all:ident $axis:ident $with:ident -> $out:ty = $make:expr, $doc:literal;)*) => {
        impl<T: $bound> Array<T> {$(
            #[doc = concat!($doc, ", over all axes (a 0-d array).")]
            pub fn $all(&self) -> Array<$out> {
                all_axes(self.reduction($make, &Reduce::all()))
            }
            #[doc = concat!($doc, ", along `axis`.")]
            pub fn $axis(&self, axis: isize) -> Result<Array<$out>, ArrayError> {
                self.reduction($make, &Reduce::axis(axis))
            }
            #[doc = concat!($doc, ", as `opts` say.")]
            pub fn $with(&self, opts: &Reduce) -> Result<Array<$out>, ArrayError> {
                self.reduction($make, opts)
            }
        )*}
    };
}

reductions! { Number;
    nansum nansum_axis nansum_with -> T = SkipNan(Sum),
        "The sum of the elements that are not NaN (NumPy's `nansum`; 0 if none is)";
    nanmean nanmean_axis nanmean_with -> f64 = SkipNan(Mean),
        "The mean of the elements that are not NaN, as `f64` (NumPy's `nanmean`)";
}

reductions! { Element;
    any any_axis any_with -> bool = Truth::<false>,
        "Whether any element is not zero (NumPy's `any`; false for no element)";
    all all_axis all_with -> bool = Truth::<true>,
        "Whether every element is not zero (NumPy's `all`; true for no element)";
    count_nonzero count_nonzero_axis count_nonzero_with -> i64 = CountNonzero,
        "The number of elements that are not zero (NumPy's `count_nonzero`; NaN counts)";
}

impl<T: Element> Array<T> {
    /// The smallest element that is not NaN (NumPy's `nanmin`; NaN if all
    /// are), over all axes; an error for an empty array.
    ///
    /// ```
    /// use rask::array::from_ndarray;
    /// let x = from_ndarray(&rask::ndarray::arr1(&[3.0, f64::NAN, 1.0, 2.0]), 2).unwrap();
    /// assert_eq!(x.nanmin().unwrap().compute_scalar(&rask::Sync).unwrap(), 1.0);
    /// assert_eq!(x.nanmax().unwrap().compute_scalar(&rask::Sync).unwrap(), 3.0);
    /// assert_eq!(x.nansum().compute_scalar(&rask::Sync).unwrap(), 6.0);
    /// assert_eq!(x.nanmean().compute_scalar(&rask::Sync).unwrap(), 2.0);
    /// assert!(x.min().unwrap().compute_scalar(&rask::Sync).unwrap().is_nan());
    /// ```
    pub fn nanmin(&self) -> Result<Array<T>, ArrayError> {
        self.reduction(NanExtreme::<false>, &Reduce::all())
    }
    /// The smallest elements that are not NaN along `axis`.
    pub fn nanmin_axis(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        self.reduction(NanExtreme::<false>, &Reduce::axis(axis))
    }
    /// The smallest elements that are not NaN as `opts` say.
    pub fn nanmin_with(&self, opts: &Reduce) -> Result<Array<T>, ArrayError> {
        self.reduction(NanExtreme::<false>, opts)
    }
    /// The largest element that is not NaN (NumPy's `nanmax`; NaN if all
    /// are), over all axes.
    pub fn nanmax(&self) -> Result<Array<T>, ArrayError> {
        self.reduction(NanExtreme::<true>, &Reduce::all())
    }
    /// The largest elements that are not NaN along `axis`.
    pub fn nanmax_axis(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        self.reduction(NanExtreme::<true>, &Reduce::axis(axis))
    }
    /// The largest elements that are not NaN as `opts` say.
    pub fn nanmax_with(&self, opts: &Reduce) -> Result<Array<T>, ArrayError> {
        self.reduction(NanExtreme::<true>, opts)
    }
}

impl<T: Number> Array<T> {
    /// The variance of the elements that are not NaN (divisor `n`), as
    /// `f64` (NumPy's `nanvar`).
    pub fn nanvar(&self) -> Array<f64> {
        all_axes(self.nanvar_with(&Reduce::all()))
    }
    /// The variances of the elements that are not NaN along `axis`.
    pub fn nanvar_axis(&self, axis: isize) -> Result<Array<f64>, ArrayError> {
        self.nanvar_with(&Reduce::axis(axis))
    }
    /// The variances of the elements that are not NaN as `opts` say (with
    /// its `ddof`).
    pub fn nanvar_with(&self, opts: &Reduce) -> Result<Array<f64>, ArrayError> {
        let var = Var {
            ddof: opts.ddof,
            sqrt: false,
        };
        self.reduction(SkipNan(var), opts)
    }
    /// The standard deviation of the elements that are not NaN (divisor
    /// `n`), as `f64` (NumPy's `nanstd`).
    pub fn nanstd(&self) -> Array<f64> {
        all_axes(self.nanstd_with(&Reduce::all()))
    }
    /// The standard deviations of the elements that are not NaN along
    /// `axis`.
    pub fn nanstd_axis(&self, axis: isize) -> Result<Array<f64>, ArrayError> {
        self.nanstd_with(&Reduce::axis(axis))
    }
    /// The standard deviations of the elements that are not NaN as `opts`
    /// say (with its `ddof`).
    pub fn nanstd_with(&self, opts: &Reduce) -> Result<Array<f64>, ArrayError> {
        let var = Var {
            ddof: opts.ddof,
            sqrt: true,
        };
        self.reduction(SkipNan(var), opts)
    }
}

impl<T: Number> Array<T> {
    /// The 2-norm of all elements taken as one vector (NumPy's
    /// `linalg.norm(x)`: the Frobenius norm of a matrix), as `f64`.
    ///
    /// ```
    /// use rask::array::from_ndarray;
    /// let x = from_ndarray(&rask::ndarray::arr2(&[[3, 0], [0, -4]]), 1).unwrap();
    /// assert_eq!(x.norm().compute_scalar(&rask::Sync).unwrap(), 5.0);
    /// assert_eq!(x.norm_with(1.0, &rask::array::Reduce::axis(0)).unwrap()
    ///     .compute(&rask::Sync).unwrap().as_slice().unwrap(), &[3.0, 4.0]);
    /// ```
    pub fn norm(&self) -> Array<f64> {
        all_axes(self.norm_with(2.0, &Reduce::all()))
    }

    /// The vector norm of order `ord` over the axes of `opts` (NumPy's
    /// `linalg.norm(x, ord, axis)` for vectors): `f64::INFINITY` the
    /// largest `|x|`, `-f64::INFINITY` the smallest, 0 the number of
    /// elements not zero, otherwise `(sum |x|^ord)^(1/ord)`. Over several
    /// axes the elements are one vector (for `ord` 2, the Frobenius
    /// norm); NumPy's matrix norms (largest column or row sums, singular
    /// values) are [`linalg::norm`](crate::linalg::norm)'s.
    pub fn norm_with(&self, ord: f64, opts: &Reduce) -> Result<Array<f64>, ArrayError> {
        let mut tok = Tokenizer::new("norm-abs");
        tok.str(self.name());
        let abs: Array<f64> = self.convert("absolute", tok, |v: T| v.to_f64().abs());
        if ord == f64::INFINITY {
            abs.max_with(opts)
        } else if ord == f64::NEG_INFINITY {
            abs.min_with(opts)
        } else if ord == 0.0 {
            Ok(abs.count_nonzero_with(opts)?.astype::<f64>())
        } else if ord == 1.0 {
            abs.sum_with(opts)
        } else if ord == 2.0 {
            Ok(abs.powi(2).sum_with(opts)?.sqrt())
        } else if ord.is_finite() {
            Ok(abs.powf(ord).sum_with(opts)?.powf(1.0 / ord))
        } else {
            Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!("norm of order {ord}: an order is a number or ±infinity"),
            })
        }
    }
}
