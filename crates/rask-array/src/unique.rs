//! [`Array::unique`]: the sorted distinct values of an array, as Dask's
//! `da.unique`: each chunk's distinct values and their counts (one task
//! per chunk, fused with the expression making the chunk), merged by a
//! tree of fan-in [`SPLIT_EVERY`](crate::SPLIT_EVERY) into one chunk
//! whose length is unknown until computed.

use std::cmp::Ordering;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use rask_graph::{Arity, CallError, Function, Key, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks};
use crate::element::Element;
use crate::expr::{blockwise_tasks, eval_block, BlockCtx, Kernel};
use crate::node::{block_key, LazyTasks, Node};
use crate::token::Tokenizer;

/// NumPy's sort order: NaN last.
fn ascending<T: Element>(a: &T, b: &T) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// `pairs` sorted and coalesced: each distinct value once (NaNs as one,
/// as NumPy's `unique`), with the sum of its counts.
fn coalesce<T: Element>(mut pairs: Vec<(T, i64)>) -> Vec<(T, i64)> {
    pairs.sort_unstable_by(|a, b| ascending(&a.0, &b.0));
    let mut out: Vec<(T, i64)> = Vec::with_capacity(pairs.len());
    for (v, c) in pairs {
        match out.last_mut() {
            Some(last) if ascending(&last.0, &v) == Ordering::Equal => last.1 += c,
            _ => out.push((v, c)),
        }
    }
    out
}

/// The distinct values of `values`, sorted, with how often each occurs.
fn count_distinct<T: Element>(mut values: Vec<T>) -> Vec<(T, i64)> {
    values.sort_unstable_by(ascending);
    let mut out: Vec<(T, i64)> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some(last) if ascending(&last.0, &v) == Ordering::Equal => last.1 += 1,
            _ => out.push((v, 1)),
        }
    }
    out
}

/// The 1-d array of `pairs`.
fn pairs_array<T: Element>(pairs: Vec<(T, i64)>) -> Result<ArrayD<(T, i64)>, CallError> {
    ArrayD::from_shape_vec(IxDyn(&[pairs.len()]), pairs)
        .map_err(|e| CallError::msg(format!("unique: {e}")))
}

/// The pairs of a partial result.
fn pairs_of<T: Element>(v: &Value) -> Result<&ArrayD<(T, i64)>, CallError> {
    v.downcast_ref::<ArrayD<(T, i64)>>().ok_or_else(|| {
        CallError::msg(format!(
            "a partial unique must be an ArrayD<({}, i64)>, got {}",
            T::DTYPE,
            v.type_name()
        ))
    })
}

/// The tasks of `unique`: per-chunk partials, a tree of merges, and the
/// values (the node's one chunk).
struct Unique<T: Element> {
    input: Array<T>,
    hex: String,
    split_every: usize,
}

impl<T: Element> Unique<T> {
    /// The key of the merged pairs.
    fn merged(&self) -> Key {
        block_key(&format!("unique-merged-{}", self.hex), &[0])
    }
}

impl<T: Element> LazyTasks for Unique<T> {
    fn build(&self, node: &Node, fused: bool) -> (Vec<(Key, Task)>, Vec<Arc<Node>>) {
        let input = &self.input;
        let expr = if fused { input.source() } else { input.input() };
        let partial = format!("unique-partial-{}", self.hex);
        let body = |kernel: &mut dyn Kernel<T>, ctx: &BlockCtx<'_>| {
            let data = eval_block(kernel, ctx.len());
            let pairs = count_distinct(data);
            Ok(Value::new(pairs_array(pairs)?))
        };
        let (mut tasks, deps) = blockwise_tasks(
            "unique-chunk",
            &partial,
            input.shape(),
            input.chunks(),
            expr,
            Arc::new(body),
        );
        let combine = Function::dynamic("unique-combine", Arity::exactly(1), |args: &[Value]| {
            let mut all = Vec::new();
            for v in args[0].as_list().unwrap_or_default() {
                all.extend(pairs_of::<T>(v)?.iter().copied());
            }
            Ok(Value::new(pairs_array(coalesce(all))?))
        });
        let mut level: Vec<Key> = all_blocks(&numblocks(input.chunks()))
            .iter()
            .map(|b| block_key(&partial, b))
            .collect();
        let mut depth = 0;
        // one merge at least, so that the merged key always exists
        loop {
            depth += 1;
            let last = level.len() <= self.split_every;
            let next: Vec<Key> = level
                .chunks(self.split_every)
                .enumerate()
                .map(|(j, group)| {
                    let key = if last {
                        self.merged()
                    } else {
                        block_key(&format!("unique-combine{depth}-{}", self.hex), &[j])
                    };
                    let list = Task::List(group.iter().cloned().map(Task::Key).collect());
                    tasks.push((key.clone(), Task::Call(combine.clone(), Box::new([list]))));
                    key
                })
                .collect();
            if last {
                break;
            }
            level = next;
        }
        let values = Function::dynamic("unique-values", Arity::exactly(1), |args: &[Value]| {
            let pairs = pairs_of::<T>(&args[0])?;
            Ok(Value::new(pairs.mapv(|(v, _)| v)))
        });
        tasks.push((
            node.key(&[0]),
            Task::Call(values, Box::new([Task::Key(self.merged())])),
        ));
        (tasks, deps)
    }
}

impl<T: Element> Array<T> {
    /// The sorted distinct values of the flattened array (NumPy's and
    /// Dask's `unique`; NaNs, last, count as one value). One chunk, whose
    /// length is unknown until computed (see [`dims`](Array::dims)).
    ///
    /// ```
    /// use rask::array::from_ndarray;
    /// let x = from_ndarray(&rask::ndarray::arr1(&[3, 1, 3, 2, 1, 3]), 4).unwrap();
    /// let u = x.unique();
    /// assert_eq!(u.dims(), vec![None::<usize>]);
    /// assert_eq!(u.compute(&rask::Sync).unwrap().as_slice().unwrap().to_vec(), vec![1, 2, 3]);
    /// ```
    pub fn unique(&self) -> Array<T> {
        self.unique_counts().0
    }

    /// The sorted distinct values and how many times each occurs (Dask's
    /// `unique(x, return_counts=True)`).
    ///
    /// ```
    /// use rask::array::from_ndarray;
    /// let x = from_ndarray(&rask::ndarray::arr1(&[3, 1, 3, 2, 1, 3]), 4).unwrap();
    /// let (u, n) = x.unique_counts();
    /// let [u, n] = [u.compute(&rask::Sync).unwrap().as_slice().unwrap().to_vec(), n.compute(&rask::Sync).unwrap().as_slice().unwrap().to_vec()];
    /// assert_eq!((u, n), (vec![1, 2, 3], vec![2, 1, 3]));
    /// ```
    pub fn unique_counts(&self) -> (Array<T>, Array<i64>) {
        let mut tok = Tokenizer::new("unique");
        tok.str(self.name()).u64(crate::SPLIT_EVERY as u64);
        let hex = tok.hex();
        let lazy = Unique {
            input: self.clone(),
            hex: hex.clone(),
            split_every: crate::SPLIT_EVERY,
        };
        let merged = lazy.merged();
        let values = Array::from_lazy(
            format!("unique-{hex}"),
            vec![0],
            vec![vec![0]],
            Arc::new(lazy),
            vec![Arc::clone(&self.node)],
        )
        .with_unknown(vec![true]);
        let counts_fn =
            Function::dynamic("unique-counts", Arity::exactly(1), |args: &[Value]| {
                let pairs = pairs_of::<T>(&args[0])?;
                Ok(Value::new(pairs.mapv(|(_, c)| c)))
            });
        let cname = format!("unique-counts-{hex}");
        let counts = Array::<i64>::from_tasks(
            cname.as_str(),
            vec![0],
            vec![vec![0]],
            vec![(
                block_key(&cname, &[0]),
                Task::Call(counts_fn, Box::new([Task::Key(merged)])),
            )],
            vec![Arc::clone(&values.node)],
        )
        .with_unknown(vec![true]);
        (values, counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_sorts_sums_counts_and_keeps_one_nan_last() {
        let got = coalesce(vec![
            (2.0, 1),
            (f64::NAN, 2),
            (-1.0, 3),
            (2.0, 4),
            (f64::NAN, 1),
        ]);
        assert_eq!(got.len(), 3);
        assert_eq!(&got[..2], &[(-1.0, 3), (2.0, 5)]);
        assert!(got[2].0.is_nan() && got[2].1 == 3);
        assert!(coalesce::<i64>(Vec::new()).is_empty());
        let got = count_distinct(vec![3, 1, 3, 3, 2]);
        assert_eq!(got, vec![(1, 1), (2, 1), (3, 3)]);
    }

    #[test]
    fn a_partial_of_another_type_is_an_error() {
        let err = pairs_of::<i64>(&Value::Int(3)).unwrap_err();
        assert!(err.to_string().contains("partial unique"), "{err}");
    }
}
