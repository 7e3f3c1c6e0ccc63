//! Shared strategies and reference helpers for the property tests.
#![allow(dead_code, unreachable_pub)]

use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;

/// A shape of 0 to `max_nd` axes of lengths 0..=6 (0-length axes included).
pub fn shape(max_nd: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..=6, 0..=max_nd)
}

/// A random cut of an axis of length `len` into chunks (odd last chunks,
/// uneven chunks; `[0]` for an empty axis).
pub fn cut(len: usize) -> BoxedStrategy<Vec<usize>> {
    if len == 0 {
        return Just(vec![0]).boxed();
    }
    prop::collection::vec(1usize..=len, len)
        .prop_map(move |sizes| {
            let mut out = Vec::new();
            let mut left = len;
            for s in sizes {
                if left == 0 {
                    break;
                }
                let s = s.min(left);
                out.push(s);
                left -= s;
            }
            out
        })
        .boxed()
}

/// Chunks for `shape`.
pub fn grid(shape: &[usize]) -> BoxedStrategy<Vec<Vec<usize>>> {
    shape.iter().map(|&d| cut(d)).collect::<Vec<_>>().boxed()
}

/// Data of `shape`: small integers as f64 (exact sums), some negative.
pub fn data(shape: Vec<usize>) -> BoxedStrategy<ArrayD<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec(-8i32..=8, n)
        .prop_map(move |v| {
            ArrayD::from_shape_vec(IxDyn(&shape), v.into_iter().map(f64::from).collect()).unwrap()
        })
        .boxed()
}

/// An array with its chunks.
pub fn array(max_nd: usize) -> impl Strategy<Value = (ArrayD<f64>, Vec<Vec<usize>>)> {
    shape(max_nd).prop_flat_map(|s| (data(s.clone()), grid(&s)))
}

/// Close within a relative 1e-9, NaNs equal.
pub fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter().zip(b.iter()).all(|(&x, &y)| {
            (x.is_nan() && y.is_nan())
                || x == y
                || (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs()))
        })
}

/// Reduces `a` over `axes` (sorted) with `f` on each lane, keeping dims.
pub fn reduce_keep<T: Copy, U: Clone>(
    a: &ArrayD<T>,
    axes: &[usize],
    f: impl Fn(&[T]) -> U,
) -> ArrayD<U> {
    // move the reduced axes last, flatten them, apply f per row
    let nd = a.ndim();
    let kept: Vec<usize> = (0..nd).filter(|x| !axes.contains(x)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes.iter()).copied().collect();
    let p = a.view().permuted_axes(perm);
    let p = p.as_standard_layout();
    let kept_shape: Vec<usize> = kept.iter().map(|&k| a.shape()[k]).collect();
    let m: usize = axes.iter().map(|&k| a.shape()[k]).product();
    let rows: usize = kept_shape.iter().product();
    let flat = p.as_slice().unwrap();
    let out: Vec<U> = (0..rows).map(|r| f(&flat[r * m..(r + 1) * m])).collect();
    let keep_shape: Vec<usize> = (0..nd)
        .map(|k| if axes.contains(&k) { 1 } else { a.shape()[k] })
        .collect();
    ArrayD::from_shape_vec(IxDyn(&keep_shape), out).unwrap()
}

/// Drops the axes `axes` (of length 1) of `a`.
pub fn squeeze<U: Clone>(a: ArrayD<U>, axes: &[usize]) -> ArrayD<U> {
    let mut a = a;
    for &ax in axes.iter().rev() {
        a = a.index_axis_move(Axis(ax), 0);
    }
    a
}
