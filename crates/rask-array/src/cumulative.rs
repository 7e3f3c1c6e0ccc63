//! Cumulative operations across chunks (`cumsum`, `cumprod`) and `diff`.
//!
//! A cumulative sum along an axis is computed in three layers, as Dask's
//! sequential `cumreduction`:
//!
//! ```text
//! local  (x, i) = cumsum of chunk i alone              one task per chunk
//! carry  (c, i) = carry (c, i-1) + last slice of (x, i-1)   i >= 1
//! out    (y, i) = local (x, i) + carry (c, i)          (y, 0) is (x, 0)
//! ```
//!
//! The carries run one after the other along the axis (a chain of
//! `numblocks` small tasks, each a slice of one element across the axis);
//! everything else is parallel. `diff` is `x[1:] - x[:-1]` along the axis,
//! an elementwise difference of two slices.

use std::sync::Arc;

use ndarray::{ArrayD, Axis, Slice};
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks};
use crate::element::Number;
use crate::error::ArrayError;
use crate::expr::chunk_of;
use crate::node::block_key;
use crate::token::Tokenizer;

/// `sum` or `prod`: the operation a cumulative operation accumulates.
#[derive(Clone, Copy, Debug)]
enum Accumulate {
    Sum,
    Prod,
}

impl Accumulate {
    fn name(self) -> &'static str {
        match self {
            Accumulate::Sum => "cumsum",
            Accumulate::Prod => "cumprod",
        }
    }
    fn identity<T: Number>(self) -> T {
        match self {
            Accumulate::Sum => T::ZERO,
            Accumulate::Prod => T::ONE,
        }
    }
    fn apply<T: Number>(self, a: T, b: T) -> T {
        match self {
            Accumulate::Sum => a + b,
            Accumulate::Prod => a * b,
        }
    }
}

impl<T: Number> Array<T> {
    /// The cumulative sums along `axis` (negative counts from the end), as
    /// NumPy's `cumsum(x, axis)`; chunks are kept.
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(6, 4) + 1;
    /// let y = x.cumsum(0).unwrap();
    /// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1, 3, 6, 10, 15, 21]);
    /// ```
    pub fn cumsum(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        self.require_known("cumsum")?;
        self.accumulate(axis, Accumulate::Sum)
    }

    /// The cumulative products along `axis`, as NumPy's `cumprod`.
    ///
    /// ```
    /// use rask::array::arange;
    /// let y = (arange(5, 2) + 1).cumprod(-1).unwrap();
    /// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1, 2, 6, 24, 120]);
    /// ```
    pub fn cumprod(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        self.require_known("cumprod")?;
        self.accumulate(axis, Accumulate::Prod)
    }

    /// The `n`-th differences along `axis`, as NumPy's `diff(x, n, axis)`:
    /// `x[1:] - x[:-1]`, `n` times (the axis is `n` shorter, at least 0).
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(6, 4).powi(2);
    /// assert_eq!(x.diff(1, 0).unwrap().compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1, 3, 5, 7, 9]);
    /// assert_eq!(x.diff(2, 0).unwrap().compute(&rask::Sync).unwrap().as_slice().unwrap(), &[2, 2, 2, 2]);
    /// ```
    pub fn diff(&self, n: usize, axis: isize) -> Result<Array<T>, ArrayError> {
        self.require_known("diff")?;
        let ax = self.cumulative_axis(axis)?;
        let mut out = self.clone();
        for _ in 0..n {
            let len = out.shape()[ax];
            if len == 0 {
                break;
            }
            let along = |lo: usize, hi: usize| -> Vec<ndarray::SliceInfoElem> {
                (0..out.ndim())
                    .map(|k| ndarray::SliceInfoElem::Slice {
                        start: if k == ax { lo as isize } else { 0 },
                        end: if k == ax { Some(hi as isize) } else { None },
                        step: 1,
                    })
                    .collect()
            };
            let hi = out.slice(along(1, len))?;
            let lo = out.slice(along(0, len - 1))?;
            out = hi.try_sub(&lo)?;
        }
        Ok(out)
    }

    fn cumulative_axis(&self, axis: isize) -> Result<usize, ArrayError> {
        let nd = self.ndim();
        let u = if axis < 0 { axis + nd as isize } else { axis };
        if u < 0 || u >= nd as isize {
            return Err(ArrayError::Axis {
                array: self.name().to_string(),
                axis,
                ndim: nd,
            });
        }
        Ok(u as usize)
    }

    fn accumulate(&self, axis: isize, op: Accumulate) -> Result<Array<T>, ArrayError> {
        let ax = self.cumulative_axis(axis)?;
        let name = op.name();
        // each chunk accumulated alone (its input's expression fused)
        let local = self.map_blocks(&format!("{name}-{ax}"), move |c, _| {
            let mut out = c.to_owned();
            out.accumulate_axis_inplace(Axis(ax), |&prev, cur| *cur = op.apply(prev, *cur));
            out
        });
        let nb = numblocks(self.chunks());
        if nb[ax] <= 1 {
            return Ok(local);
        }
        let mut tok = Tokenizer::new(name);
        tok.str(local.name()).u64(ax as u64);
        let out_name = tok.finish();
        let carry_name = format!("{name}-carry-{}", tok_suffix(&out_name));
        let array = local.name().to_string();
        // carry(prev or null, local chunk) -> the running total, 1 along ax
        let carry = Function::dynamic(
            &format!("{name}-carry"),
            Arity::exactly(2),
            move |args: &[Value]| {
                let c = chunk_of::<T>(&args[1], &array)?;
                let len = c.len_of(Axis(ax));
                let last: ArrayD<T> = if len == 0 {
                    let mut shape = c.shape().to_vec();
                    shape[ax] = 1;
                    ArrayD::from_elem(shape, op.identity())
                } else {
                    c.slice_axis(Axis(ax), Slice::from(len - 1..len)).to_owned()
                };
                Ok(Value::new(match args[0].downcast_ref::<ArrayD<T>>() {
                    None => last,
                    Some(prev) => {
                        let mut sum = prev.clone();
                        sum.zip_mut_with(&last, |a, &b| *a = op.apply(*a, b));
                        sum
                    }
                }))
            },
        );
        let array = local.name().to_string();
        let apply = Function::dynamic(name, Arity::exactly(2), move |args: &[Value]| {
            let c = chunk_of::<T>(&args[0], &array)?;
            let carry = args[1]
                .downcast_ref::<ArrayD<T>>()
                .ok_or_else(|| CallError::msg(format!("no running total for {array}")))?;
            let carry = carry.broadcast(c.raw_dim()).ok_or_else(|| {
                CallError::msg(format!("running total of {array} does not broadcast"))
            })?;
            let mut out = c.clone();
            out.zip_mut_with(&carry, |a, &b| *a = op.apply(b, *a));
            Ok(Value::new(out))
        });
        let mut tasks = Vec::new();
        for b in all_blocks(&nb) {
            let key = block_key(&out_name, &b);
            if b[ax] == 0 {
                tasks.push((key, Task::Key(local.node.key(&b))));
                continue;
            }
            let mut before = b.to_vec();
            before[ax] -= 1;
            let prev = if b[ax] == 1 {
                Task::Value(Value::Null)
            } else {
                Task::Key(block_key(&carry_name, &before))
            };
            tasks.push((
                block_key(&carry_name, &b),
                Task::Call(
                    carry.clone(),
                    Box::new([prev, Task::Key(local.node.key(&before))]),
                ),
            ));
            tasks.push((
                key,
                Task::Call(
                    apply.clone(),
                    Box::new([
                        Task::Key(local.node.key(&b)),
                        Task::Key(block_key(&carry_name, &b)),
                    ]),
                ),
            ));
        }
        Ok(Array::from_tasks(
            out_name,
            self.shape().to_vec(),
            self.chunks().to_vec(),
            tasks,
            vec![Arc::clone(&local.node)],
        ))
    }
}

/// The token of a name `op-<token>`.
fn tok_suffix(name: &str) -> &str {
    name.rsplit('-').next().unwrap_or(name)
}
