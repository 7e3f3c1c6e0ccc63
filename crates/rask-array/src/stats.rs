//! Summaries that are not elementwise reductions: `histogram`, `topk`,
//! `argtopk` and `argsort` (`percentile` has a module of its own).
//!
//! Each is one task per chunk (counts per bin, or the chunk's own top `k`
//! with their global indices) and one task merging them into a 1-d array
//! of one chunk, as Dask does:
//!
//! ```text
//! (hist-part, i) = counts of chunk i           one task per chunk
//! (hist, 0)      = sum of the counts           one task
//! ```

use std::cmp::Ordering;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks, offsets};
use crate::creation::linspace;
use crate::element::{Element, Number};
use crate::error::ArrayError;
use crate::expr::chunk_of;
use crate::node::block_key;
use crate::token::Tokenizer;

/// NumPy's `histogram(x, bins, range)`, as Dask's (which needs the range):
/// the counts of the elements in `bins` equal bins spanning `range`
/// (the last bin includes its right edge; elements outside the range and
/// NaNs are not counted), and the `bins + 1` bin edges.
///
/// ```
/// use rask::array::{arange, histogram};
/// let x = arange(10, 3);
/// let (counts, edges) = histogram(&x, 4, (0.0, 8.0)).unwrap();
/// assert_eq!(counts.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[2, 2, 2, 3]);
/// assert_eq!(edges.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0.0, 2.0, 4.0, 6.0, 8.0]);
/// ```
pub fn histogram<T: Number>(
    x: &Array<T>,
    bins: usize,
    range: (f64, f64),
) -> Result<(Array<i64>, Array<f64>), ArrayError> {
    // counts per chunk, whatever its length: unknown sizes are fine
    x.check_poison()?;
    let (lo, hi) = range;
    if bins == 0 || !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return Err(ArrayError::Shape {
            array: x.name().to_string(),
            message: format!(
                "histogram needs at least one bin and a finite range lo < hi, got {bins} bins over {range:?}"
            ),
        });
    }
    let mut tok = Tokenizer::new("histogram");
    tok.str(x.name())
        .u64(bins as u64)
        .u64(lo.to_bits())
        .u64(hi.to_bits());
    let name = tok.finish();
    let part_name = format!("{name}-part");
    let array = x.name().to_string();
    let width = (hi - lo) / bins as f64;
    let count = Function::dynamic(
        "histogram-part",
        Arity::exactly(1),
        move |args: &[Value]| {
            let c = chunk_of::<T>(&args[0], &array)?;
            let mut counts = vec![0_i64; bins];
            for &v in c.iter() {
                let v = v.to_f64();
                if v.is_nan() || v < lo || v > hi {
                    continue;
                }
                let b = (((v - lo) / width) as usize).min(bins - 1);
                counts[b] += 1;
            }
            Ok(Value::new(
                ArrayD::from_shape_vec(IxDyn(&[bins]), counts)
                    .map_err(|e| CallError::msg(format!("histogram of {array}: {e}")))?,
            ))
        },
    );
    let array = x.name().to_string();
    let sum = Function::dynamic("histogram", Arity::exactly(1), move |args: &[Value]| {
        let mut total = ArrayD::<i64>::zeros(IxDyn(&[bins]));
        for part in args[0].as_list().unwrap_or_default() {
            total += chunk_of::<i64>(part, &array)?;
        }
        Ok(Value::new(total))
    });
    let mut tasks = Vec::new();
    let mut parts = Vec::new();
    for b in all_blocks(&numblocks(x.chunks())) {
        let key = block_key(&part_name, &b);
        tasks.push((
            key.clone(),
            Task::Call(count.clone(), Box::new([Task::Key(x.node.key(&b))])),
        ));
        parts.push(Task::Key(key));
    }
    tasks.push((
        block_key(&name, &[0]),
        Task::Call(sum, Box::new([Task::List(parts.into())])),
    ));
    let counts = Array::from_tasks(
        name,
        vec![bins],
        vec![vec![bins]],
        tasks,
        vec![Arc::clone(&x.node)],
    )
    .with_unknown(Vec::new());
    let edges = linspace(lo, hi, bins + 1, bins + 1)?;
    Ok((counts, edges))
}

/// Orders elements largest first (NaN largest, as NumPy sorts it last).
fn descending<T: Element>(a: &T, b: &T) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => b.partial_cmp(a).unwrap_or(Ordering::Equal),
    }
}

impl<T: Element> Array<T> {
    /// The indices that sort a 1-d array (NumPy's `argsort`, stable: equal
    /// elements keep their order; NaN last), in the input's chunks. One
    /// task gathers and sorts the elements, then the result is cut into
    /// chunks.
    ///
    /// ```
    /// use rask::array::from_ndarray;
    /// let x = from_ndarray(&rask::ndarray::arr1(&[3, 1, 2, 1]), 3).unwrap();
    /// assert_eq!(x.argsort().unwrap().compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1, 3, 2, 0]);
    /// ```
    pub fn argsort(&self) -> Result<Array<i64>, ArrayError> {
        self.require_known("argsort")?;
        if self.ndim() != 1 {
            return Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!("argsort takes a 1-d array, got {} axes", self.ndim()),
            });
        }
        let n = self.len();
        let mut tok = Tokenizer::new("argsort");
        tok.str(self.name());
        let name = tok.finish();
        let array = self.name().to_string();
        let sort = Function::dynamic("argsort", Arity::exactly(1), move |args: &[Value]| {
            let mut all: Vec<T> = Vec::with_capacity(n);
            for part in args[0].as_list().unwrap_or_default() {
                all.extend(chunk_of::<T>(part, &array)?.iter().copied());
            }
            let mut idx: Vec<i64> = (0..all.len() as i64).collect();
            idx.sort_by(|&i, &j| descending(&all[j as usize], &all[i as usize]));
            let out = ArrayD::from_shape_vec(IxDyn(&[idx.len()]), idx)
                .map_err(|e| CallError::msg(format!("argsort of {array}: {e}")))?;
            Ok(Value::new(out))
        });
        let parts: Vec<Task> = (0..numblocks(self.chunks())[0])
            .map(|b| Task::Key(self.node.key(&[b])))
            .collect();
        let tasks = vec![(
            block_key(&name, &[0]),
            Task::Call(sort, Box::new([Task::List(parts.into())])),
        )];
        let whole = Array::from_tasks(
            name,
            vec![n],
            vec![vec![n]],
            tasks,
            vec![Arc::clone(&self.node)],
        );
        Ok(whole.rechunk_grid(self.chunks().to_vec()))
    }

    /// The `k` largest elements of a 1-d array, largest first, or for a
    /// negative `k` the `-k` smallest, smallest first (Dask's `topk`).
    ///
    /// ```
    /// use rask::array::from_ndarray;
    /// let x = from_ndarray(&rask::ndarray::arr1(&[5, 1, 9, 3, 7, 2]), 4).unwrap();
    /// assert_eq!(x.topk(2).unwrap().compute(&rask::Sync).unwrap().as_slice().unwrap(), &[9, 7]);
    /// assert_eq!(x.topk(-2).unwrap().compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1, 2]);
    /// assert_eq!(x.argtopk(2).unwrap().compute(&rask::Sync).unwrap().as_slice().unwrap(), &[2, 4]);
    /// ```
    pub fn topk(&self, k: isize) -> Result<Array<T>, ArrayError> {
        self.require_known("topk")?;
        self.top("topk", k, |v: T, _| v)
    }

    /// The indices of [`topk`](Array::topk)'s elements (Dask's
    /// `argtopk`); of equal elements, the first ones.
    pub fn argtopk(&self, k: isize) -> Result<Array<i64>, ArrayError> {
        self.require_known("argtopk")?;
        self.top("argtopk", k, |_, i| i)
    }

    fn top<U: Element>(
        &self,
        op: &'static str,
        k: isize,
        out: fn(T, i64) -> U,
    ) -> Result<Array<U>, ArrayError> {
        if self.ndim() != 1 {
            return Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!("{op} takes a 1-d array, got {} axes", self.ndim()),
            });
        }
        let n = k.unsigned_abs().min(self.len());
        let largest = k >= 0;
        // the partial results cross process boundaries
        rask_graph::codec::register::<Vec<(T, i64)>>();
        let mut tok = Tokenizer::new(op);
        tok.str(self.name()).u64(k as u64);
        let name = tok.finish();
        let part_name = format!("{name}-part");
        let order = move |a: &(T, i64), b: &(T, i64)| {
            let o = if largest {
                descending(&a.0, &b.0)
            } else {
                descending(&b.0, &a.0)
            };
            o.then(a.1.cmp(&b.1))
        };
        let offs = Arc::new(offsets(&self.chunks()[0]));
        let array = self.name().to_string();
        let part = Function::dynamic(
            &format!("{op}-part"),
            Arity::exactly(2),
            move |args: &[Value]| {
                let c = chunk_of::<T>(&args[0], &array)?;
                let block = args[1].get::<usize>().unwrap_or(0);
                let base = offs.get(block).copied().unwrap_or(0) as i64;
                let mut v: Vec<(T, i64)> = c
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| (x, base + i as i64))
                    .collect();
                v.sort_by(order);
                v.truncate(n);
                Ok(Value::new(v))
            },
        );
        let merge = Function::dynamic(op, Arity::exactly(1), move |args: &[Value]| {
            let mut all: Vec<(T, i64)> = Vec::new();
            for p in args[0].as_list().unwrap_or_default() {
                let p = p.downcast_ref::<Vec<(T, i64)>>().ok_or_else(|| {
                    CallError::msg(format!("{op}: a partial result is a {}", p.type_name()))
                })?;
                all.extend_from_slice(p);
            }
            all.sort_by(order);
            all.truncate(n);
            let values: Vec<U> = all.into_iter().map(|(v, i)| out(v, i)).collect();
            let a = ArrayD::from_shape_vec(IxDyn(&[values.len()]), values)
                .map_err(|e| CallError::msg(format!("{op}: {e}")))?;
            Ok(Value::new(a))
        });
        let mut tasks = Vec::new();
        let mut parts = Vec::new();
        for b in 0..numblocks(self.chunks())[0] {
            let key = block_key(&part_name, &[b]);
            tasks.push((
                key.clone(),
                Task::Call(
                    part.clone(),
                    Box::new([
                        Task::Key(self.node.key(&[b])),
                        Task::Value(Value::Int(b as i64)),
                    ]),
                ),
            ));
            parts.push(Task::Key(key));
        }
        tasks.push((
            block_key(&name, &[0]),
            Task::Call(merge, Box::new([Task::List(parts.into())])),
        ));
        Ok(Array::from_tasks(
            name,
            vec![n],
            vec![vec![n]],
            tasks,
            vec![Arc::clone(&self.node)],
        ))
    }
}
