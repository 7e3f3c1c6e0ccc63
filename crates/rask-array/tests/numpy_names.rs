//! The NumPy names of issue 14, against `ndarray` on random shapes and
//! chunkings, on `Sync` and `Threads`: scalar operands of any numeric
//! type, the ufuncs, `where_`, `clip`, `maximum`/`minimum` with scalars,
//! the NaN-skipping reductions, `any`/`all`/`count_nonzero`, `eye`,
//! `diag`, `tril`, `triu`, `squeeze`, `expand_dims`, `broadcast_to`, the
//! integer `arange` and the repr.

mod common;

use common::*;
use ndarray::{Array2, ArrayD, Axis, IxDyn};
use proptest::prelude::*;
use rask_array::{
    arange, diag, eye, from_array, from_ndarray, histogram, percentile, where_, Array,
    ChunkedSource, Reduce, SourceError,
};
use rask_scheduler::{Executor, Sync, Threads};

/// Computes `a` on `Sync` and on `Threads`, checks they agree, and returns
/// the result.
fn both<T: rask_array::Element>(a: &Array<T>) -> ArrayD<T> {
    let s = a.compute(&Sync).unwrap();
    let t = a.compute(&Threads::new(3) as &dyn Executor).unwrap();
    assert!(
        s.iter()
            .zip(t.iter())
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())),
        "Sync and Threads differ: {s:?} vs {t:?}"
    );
    assert_eq!(s.shape(), t.shape());
    s
}

/// Equal elementwise, NaN equal to NaN.
fn same(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter().zip(b.iter()).all(|(&x, &y)| {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-12 * (1.0 + x.abs())
        })
}

/// Data with NaNs in some places (where the data is -8 or 8).
fn with_nans(a: &ArrayD<f64>) -> ArrayD<f64> {
    a.mapv(|v| if v.abs() == 8.0 { f64::NAN } else { v })
}

/// Random reduction axes of an `nd`-axis array (sorted, distinct).
fn axes_of(nd: usize, pick: &[bool]) -> Vec<usize> {
    (0..nd)
        .filter(|&k| pick.get(k).copied().unwrap_or(false))
        .collect()
}

fn opts(axes: &[usize]) -> Reduce {
    let a: Vec<isize> = axes.iter().map(|&k| k as isize).collect();
    Reduce::axes(&a).keepdims(true)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn ufuncs_match_ndarray((a, c) in array(3)) {
        let x = from_ndarray(&a, c).unwrap();
        // into [-1, 1] for arcsin/arccos, positive for the logarithms
        let unit = &x / 8;
        let ua = a.mapv(|v| v / 8.0);
        let pos = x.abs() + 0.5;
        let pa = a.mapv(|v| v.abs() + 0.5);
        type F = fn(f64) -> f64;
        let cases: Vec<(Array<f64>, ArrayD<f64>, F)> = vec![
            (unit.sin(), ua.clone(), f64::sin),
            (unit.cos(), ua.clone(), f64::cos),
            (unit.tan(), ua.clone(), f64::tan),
            (unit.arcsin(), ua.clone(), f64::asin),
            (unit.arccos(), ua.clone(), f64::acos),
            (unit.arctan(), ua.clone(), f64::atan),
            (unit.sinh(), ua.clone(), f64::sinh),
            (unit.cosh(), ua.clone(), f64::cosh),
            (unit.tanh(), ua.clone(), f64::tanh),
            (unit.exp(), ua.clone(), f64::exp),
            (unit.expm1(), ua.clone(), f64::exp_m1),
            (pos.log(), pa.clone(), f64::ln),
            (unit.log1p(), ua.clone(), f64::ln_1p),
            (pos.log2(), pa.clone(), f64::log2),
            (pos.log10(), pa.clone(), f64::log10),
            (pos.sqrt(), pa.clone(), f64::sqrt),
            (x.cbrt(), a.clone(), f64::cbrt),
            ((&x / 4).floor(), a.mapv(|v| v / 4.0), f64::floor),
            ((&x / 4).ceil(), a.mapv(|v| v / 4.0), f64::ceil),
            ((&x / 2).round(), a.mapv(|v| v / 2.0), f64::round_ties_even),
            ((&x / 4).trunc(), a.mapv(|v| v / 4.0), f64::trunc),
            (x.sign(), a.clone(), |v: f64| if v > 0.0 { 1.0 } else if v < 0.0 { -1.0 } else { v }),
            (unit.exp2(), ua.clone(), f64::exp2),
            (x.degrees(), a.clone(), f64::to_degrees),
            (x.radians(), a.clone(), f64::to_radians),
            (pos.reciprocal(), pa.clone(), |v: f64| 1.0 / v),
            (x.square(), a.clone(), |v: f64| v * v),
            (x.absolute(), a.clone(), f64::abs),
            (x.negative(), a.clone(), |v: f64| -v),
        ];
        for (i, (got, input, f)) in cases.into_iter().enumerate() {
            let want = input.mapv(f);
            let got = both(&got);
            prop_assert!(same(&got, &want), "case {}: {:?} vs {:?}", i, got, want);
        }
        // the binary ones, against a broadcast other operand
        let other = &x * 0.5 + 1;
        let oa = a.mapv(|v| v * 0.5 + 1.0);
        let mut want = a.clone();
        ndarray::Zip::from(&mut want).and(&a).and(&oa).for_each(|w, &p, &q| *w = p.atan2(q));
        prop_assert!(same(&both(&x.arctan2(&other).unwrap()), &want));
        ndarray::Zip::from(&mut want).and(&a).and(&oa).for_each(|w, &p, &q| *w = p.hypot(q));
        prop_assert!(same(&both(&x.hypot(&other).unwrap()), &want));
    }

    #[test]
    fn tests_of_values_match_ndarray((a, c) in array(3)) {
        // NaN where |v| = 8, infinities where |v| = 7
        let b = with_nans(&a).mapv(|v| if v.abs() == 7.0 { v * f64::INFINITY } else { v });
        let x = from_ndarray(&b, c).unwrap();
        prop_assert_eq!(both(&x.isnan()), b.mapv(f64::is_nan));
        prop_assert_eq!(both(&x.isinf()), b.mapv(f64::is_infinite));
        prop_assert_eq!(both(&x.isfinite()), b.mapv(f64::is_finite));
    }

    #[test]
    fn scalars_of_any_type_on_either_side((a, c) in array(3), k in -5i32..5) {
        let ai = a.mapv(|v| v as i64);
        let xi = from_ndarray(&ai, c.clone()).unwrap();
        let k64 = k as i64;
        prop_assert_eq!(both(&(&xi + 100)), ai.mapv(|v| v + 100));
        prop_assert_eq!(both(&(2 * &xi)), ai.mapv(|v| 2 * v));
        prop_assert_eq!(both(&(&xi - k)), ai.mapv(|v| v - k64));
        prop_assert_eq!(both(&(&xi * 3_u8)), ai.mapv(|v| v * 3));
        prop_assert_eq!(both(&(&xi + 7_usize)), ai.mapv(|v| v + 7));
        prop_assert_eq!(both(&(10 - &xi)), ai.mapv(|v| 10 - v));
        let x = from_ndarray(&a, c).unwrap();
        prop_assert_eq!(both(&(&x + 100)), a.mapv(|v| v + 100.0));
        prop_assert_eq!(both(&(2 * &x)), a.mapv(|v| 2.0 * v));
        prop_assert_eq!(both(&(&x * 1.5_f32)), a.mapv(|v| v * 1.5));
        prop_assert!(same(&both(&(&x / k)), &a.mapv(|v| v / k as f64)));
        prop_assert_eq!(both(&(0.5 - &x)), a.mapv(|v| 0.5 - v));
        prop_assert_eq!(both(&x.maximum(k).unwrap()), a.mapv(|v| v.max(k as f64)));
        prop_assert_eq!(both(&x.minimum(0.5).unwrap()), a.mapv(|v| v.min(0.5)));
        prop_assert_eq!(both(&xi.maximum(k).unwrap()), ai.mapv(|v| v.max(k64)));
    }

    #[test]
    fn where_and_clip_with_scalars_or_arrays((a, c) in array(3), lo in -4i32..0, hi in 0i32..4) {
        let x = from_ndarray(&a, c).unwrap();
        let cond = x.gt(0).unwrap();
        let ca = a.mapv(|v| v > 0.0);
        let pick = |t: &ArrayD<f64>, e: &ArrayD<f64>| {
            let mut out = e.clone();
            ndarray::Zip::from(&mut out).and(&ca).and(t).for_each(|o, &c, &t| if c { *o = t });
            out
        };
        let neg = -&x;
        let na = a.mapv(|v| -v);
        let full = |v: f64| ArrayD::from_elem(a.shape(), v);
        prop_assert_eq!(both(&where_(&cond, &x, &neg).unwrap()), pick(&a, &na));
        prop_assert_eq!(both(&where_(&cond, &x, -1).unwrap()), pick(&a, &full(-1.0)));
        prop_assert_eq!(both(&where_(&cond, 2.5, &x).unwrap()), pick(&full(2.5), &a));
        prop_assert_eq!(both(&where_::<f64>(&cond, 1, 0).unwrap()), pick(&full(1.0), &full(0.0)));
        // different scalars are different arrays (their keys differ)
        let (w1, w2) = (where_(&cond, &x, 1).unwrap(), where_(&cond, &x, 2).unwrap());
        prop_assert_ne!(w1.name(), w2.name());
        let clip = |v: f64| v.max(lo as f64).min(hi as f64);
        prop_assert_eq!(both(&x.clip(lo, hi).unwrap()), a.mapv(clip));
        prop_assert_eq!(both(&x.clip(&neg, hi).unwrap()), a.mapv(|v| v.max(-v).min(hi as f64)));
    }

    #[test]
    fn nan_reductions_skip_nans((a, c) in array(3), pick in prop::collection::vec(any::<bool>(), 3)) {
        let b = with_nans(&a);
        let x = from_ndarray(&b, c).unwrap();
        let axes = axes_of(b.ndim(), &pick);
        let o = opts(&axes);
        let kept = |xs: &[f64]| xs.iter().copied().filter(|v| !v.is_nan()).collect::<Vec<f64>>();
        let sum = reduce_keep(&b, &axes, |xs| kept(xs).iter().sum::<f64>());
        prop_assert!(same(&both(&x.nansum_with(&o).unwrap()), &sum));
        let mean = reduce_keep(&b, &axes, |xs| {
            let k = kept(xs);
            k.iter().sum::<f64>() / k.len() as f64
        });
        prop_assert!(close(&both(&x.nanmean_with(&o).unwrap()), &mean));
        let var = |xs: &[f64]| {
            let k = kept(xs);
            let m = k.iter().sum::<f64>() / k.len() as f64;
            k.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / k.len() as f64
        };
        prop_assert!(close(&both(&x.nanvar_with(&o).unwrap()), &reduce_keep(&b, &axes, var)));
        prop_assert!(close(
            &both(&x.nanstd_with(&o).unwrap()),
            &reduce_keep(&b, &axes, |xs| var(xs).sqrt())
        ));
        let empty = axes.iter().any(|&k| b.shape()[k] == 0);
        if empty {
            prop_assert!(x.nanmin_with(&o).is_err());
        } else {
            let min = reduce_keep(&b, &axes, |xs| kept(xs).into_iter().fold(f64::NAN, f64::min));
            let max = reduce_keep(&b, &axes, |xs| kept(xs).into_iter().fold(f64::NAN, f64::max));
            prop_assert!(same(&both(&x.nanmin_with(&o).unwrap()), &min));
            prop_assert!(same(&both(&x.nanmax_with(&o).unwrap()), &max));
        }
    }

    #[test]
    fn any_all_count_nonzero((a, c) in array(3), pick in prop::collection::vec(any::<bool>(), 3)) {
        let x = from_ndarray(&a, c).unwrap();
        let axes = axes_of(a.ndim(), &pick);
        let o = opts(&axes);
        prop_assert_eq!(both(&x.any_with(&o).unwrap()), reduce_keep(&a, &axes, |xs| xs.iter().any(|&v| v != 0.0)));
        prop_assert_eq!(both(&x.all_with(&o).unwrap()), reduce_keep(&a, &axes, |xs| xs.iter().all(|&v| v != 0.0)));
        prop_assert_eq!(
            both(&x.count_nonzero_with(&o).unwrap()),
            reduce_keep(&a, &axes, |xs| xs.iter().filter(|&&v| v != 0.0).count() as i64)
        );
        let b = x.gt(2).unwrap();
        prop_assert_eq!(both(&b.any()).into_iter().next(), Some(a.iter().any(|&v| v > 2.0)));
        prop_assert_eq!(both(&b.all()).into_iter().next(), Some(a.iter().all(|&v| v > 2.0)));
    }

    #[test]
    fn triangles_and_diagonals(
        (n, m) in (0usize..7, 0usize..7),
        k in -7isize..7,
        cn in 1usize..4,
        cm in 1usize..4,
    ) {
        let a = Array2::from_shape_fn((n, m), |(i, j)| (i * 10 + j) as i64 + 1);
        let x = from_ndarray(&a, [cn, cm]).unwrap();
        let lower = Array2::from_shape_fn((n, m), |(i, j)| if j as isize - i as isize <= k { a[[i, j]] } else { 0 });
        let upper = Array2::from_shape_fn((n, m), |(i, j)| if j as isize - i as isize >= k { a[[i, j]] } else { 0 });
        prop_assert_eq!(both(&x.tril(k).unwrap()), lower.into_dyn());
        prop_assert_eq!(both(&x.triu(k).unwrap()), upper.into_dyn());
        let e = Array2::from_shape_fn((n, m), |(i, j)| (j as isize - i as isize == k) as i64);
        prop_assert_eq!(both(&Array::<i64>::eye(n, m, k, [cn, cm]).unwrap()), e.into_dyn());
        // the diagonal k of a matrix
        let d: Vec<i64> = (0..n)
            .filter_map(|i| {
                let j = i as isize + k;
                (j >= 0 && (j as usize) < m).then(|| a[[i, j as usize]])
            })
            .collect();
        prop_assert_eq!(both(&x.diag(k).unwrap()).into_raw_vec_and_offset().0, d);
        // the matrix of a vector on diagonal k
        let v = ndarray::Array1::from_iter((0..n as i64).map(|i| i + 1));
        let xv = from_ndarray(&v, cn).unwrap();
        let size = n + k.unsigned_abs();
        let want = Array2::from_shape_fn((size, size), |(i, j)| {
            let d = j as isize - i as isize;
            if d != k { 0 } else if k >= 0 { v[i] } else { v[j] }
        });
        prop_assert_eq!(both(&xv.diag(k).unwrap()), want.into_dyn());
    }

    #[test]
    fn squeeze_expand_dims_broadcast_to((a, c) in array(3), at in 0usize..4, lead in 0usize..3) {
        let x = from_ndarray(&a, c).unwrap();
        let at = at.min(a.ndim());
        let e = x.expand_dims(at as isize).unwrap();
        prop_assert_eq!(e.chunks()[at].clone(), vec![1]);
        prop_assert_eq!(both(&e), a.clone().insert_axis(Axis(at)));
        let s = e.squeeze().unwrap();
        let ones: Vec<usize> = (0..e.ndim()).filter(|&k| e.shape()[k] == 1).collect();
        prop_assert_eq!(both(&s), squeeze(a.clone().insert_axis(Axis(at)), &ones));
        // broadcast: `lead` new axes of length 2, and axes of length 1 to 3
        let mut target: Vec<usize> = vec![2; lead];
        target.extend(a.shape().iter().map(|&d| if d == 1 { 3 } else { d }));
        let b = x.broadcast_to(&target).unwrap();
        prop_assert_eq!(both(&b), a.broadcast(IxDyn(&target)).unwrap().to_owned());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn cumulative_operations_across_chunks((a, c) in array(3), axis in 0usize..3, n in 0usize..3) {
        prop_assume!(a.ndim() > 0);
        let axis = axis % a.ndim();
        let ai = a.mapv(|v| v as i64);
        let x = from_ndarray(&ai, c).unwrap();
        let mut sum = ai.clone();
        sum.accumulate_axis_inplace(Axis(axis), |&p, c| *c += p);
        prop_assert_eq!(both(&x.cumsum(axis as isize).unwrap()), sum);
        let small = ai.mapv(|v| v.clamp(-2, 2));
        let xs = from_ndarray(&small, x.chunks().to_vec()).unwrap();
        let mut prod = small.clone();
        prod.accumulate_axis_inplace(Axis(axis), |&p, c| *c *= p);
        prop_assert_eq!(both(&xs.cumprod(axis as isize - a.ndim() as isize).unwrap()), prod);
        let mut d = ai.clone();
        for _ in 0..n {
            let len = d.len_of(Axis(axis));
            if len == 0 {
                break;
            }
            let hi = d.slice_axis(Axis(axis), ndarray::Slice::from(1..));
            let lo = d.slice_axis(Axis(axis), ndarray::Slice::from(..len - 1));
            d = &hi - &lo;
        }
        prop_assert_eq!(both(&x.diff(n, axis as isize).unwrap()), d);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn histogram_matches_a_count((a, c) in array(3), bins in 1usize..6, lo in -10i32..0, width in 1i32..20) {
        let b = with_nans(&a);
        let x = from_ndarray(&b, c).unwrap();
        let (lo, hi) = (lo as f64, (lo + width) as f64);
        let (counts, edges) = histogram(&x, bins, (lo, hi)).unwrap();
        let w = (hi - lo) / bins as f64;
        let mut want = vec![0_i64; bins];
        for &v in b.iter() {
            if !v.is_nan() && v >= lo && v <= hi {
                want[(((v - lo) / w) as usize).min(bins - 1)] += 1;
            }
        }
        prop_assert_eq!(both(&counts).into_raw_vec_and_offset().0, want);
        let e = both(&edges);
        prop_assert_eq!(e.len(), bins + 1);
        prop_assert_eq!((e[0], e[bins]), (lo, hi));
    }

    #[test]
    fn vector_norms_match_ndarray((a, c) in array(3), pick in prop::collection::vec(any::<bool>(), 3), which in 0usize..6) {
        let x = from_ndarray(&a, c).unwrap();
        let axes = axes_of(a.ndim(), &pick);
        let o = opts(&axes);
        let ord = [1.0, 2.0, 3.0, 0.0, f64::INFINITY, f64::NEG_INFINITY][which];
        let got = x.norm_with(ord, &o);
        if ord.is_infinite() && axes.iter().any(|&k| a.shape()[k] == 0) {
            // the largest of nothing: an error, as NumPy's
            prop_assert!(got.is_err());
            return Ok(());
        }
        let f = |xs: &[f64]| -> f64 {
            let abs = xs.iter().map(|v| v.abs());
            if ord == f64::INFINITY {
                abs.fold(f64::NEG_INFINITY, f64::max)
            } else if ord == f64::NEG_INFINITY {
                abs.fold(f64::INFINITY, f64::min)
            } else if ord == 0.0 {
                abs.filter(|v| *v != 0.0).count() as f64
            } else {
                abs.map(|v| v.powf(ord)).sum::<f64>().powf(1.0 / ord)
            }
        };
        prop_assert!(close(&both(&got.unwrap()), &reduce_keep(&a, &axes, f)));
        let all = a.iter().map(|v| v * v).sum::<f64>().sqrt();
        prop_assert!((both(&x.norm()).into_iter().next().unwrap() - all).abs() < 1e-9 * (1.0 + all));
    }

    #[test]
    fn percentile_matches_a_sort((a, c) in array(3), q in prop::collection::vec(0.0f64..=100.0, 1..5)) {
        let x = from_ndarray(&a, c).unwrap();
        let mut sorted: Vec<f64> = a.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let want: Vec<f64> = q
            .iter()
            .map(|&q| {
                if n == 0 {
                    return f64::NAN;
                }
                let at = q / 100.0 * (n - 1) as f64;
                let lo = at.floor() as usize;
                let hi = (lo + 1).min(n - 1);
                sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
            })
            .collect();
        let got = both(&percentile(&x, &q).unwrap());
        prop_assert!(close(&got, &ArrayD::from_shape_vec(IxDyn(&[q.len()]), want).unwrap()));
        prop_assert!(percentile(&x, &[101.0]).is_err());
    }

    #[test]
    fn percentile_is_exact_on_data_that_bins_badly(
        values in prop::collection::vec(
            prop_oneof![
                4 => (-3i32..3).prop_map(f64::from),
                1 => prop::num::f64::NORMAL,
                1 => Just(1e300),
                1 => Just(-0.0),
                1 => Just(f64::INFINITY),
                1 => Just(f64::NEG_INFINITY),
                1 => Just(f64::NAN),
            ],
            0..60,
        ),
        chunk in 1usize..9,
        q in prop::collection::vec(0.0f64..=100.0, 1..5),
    ) {
        // many equal values, huge and infinite outliers, NaNs: the bins
        // are uneven or unusable, and the answer stays NumPy's exactly
        let a = ndarray::Array1::from(values.clone()).into_dyn();
        let x = from_ndarray(&a, chunk).unwrap();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let want: Vec<f64> = q
            .iter()
            .map(|&q| {
                if n == 0 || sorted.iter().any(|v| v.is_nan()) {
                    return f64::NAN;
                }
                let at = q / 100.0 * (n - 1) as f64;
                let lo = at.floor() as usize;
                let frac = at - lo as f64;
                if frac > 0.0 && lo + 1 < n {
                    sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac
                } else {
                    sorted[lo]
                }
            })
            .collect();
        let got = both(&percentile(&x, &q).unwrap());
        for (g, w) in got.iter().zip(&want) {
            prop_assert!(g == w || (g.is_nan() && w.is_nan()), "got {got:?}, want {want:?} of {sorted:?}");
        }
        // integers too
        let ints: Vec<i64> = values.iter().filter(|v| v.is_finite()).map(|v| v.clamp(-1e6, 1e6) as i64).collect();
        let xi = from_ndarray(&ndarray::Array1::from(ints.clone()).into_dyn(), chunk).unwrap();
        let mut si: Vec<f64> = ints.iter().map(|&v| v as f64).collect();
        si.sort_by(f64::total_cmp);
        let got = both(&percentile(&xi, &[0.0, 50.0, 100.0]).unwrap());
        if si.is_empty() {
            prop_assert!(got.iter().all(|v| v.is_nan()));
        } else {
            prop_assert_eq!(got[0], si[0]);
            prop_assert_eq!(got[2], si[si.len() - 1]);
        }
    }

    #[test]
    fn blockwise_of_broadcast_inputs_matches_ndarray((a, c) in array(3), chunk in 1usize..4) {
        prop_assume!(a.ndim() > 0);
        let x = from_ndarray(&a, c).unwrap();
        // a row along the last axis, in other chunks, broadcast against x
        let n = a.shape()[a.ndim() - 1];
        let row = ndarray::Array1::from_iter((0..n).map(|i| i as f64 * 10.0)).into_dyn();
        let r = from_ndarray(&row, chunk).unwrap();
        let z = rask_array::blockwise("sum-prod", &[&x, &r], |c| {
            let mut out = c[0].to_owned();
            out.zip_mut_with(&c[1], |a, &b| *a = *a * 2.0 + b);
            out
        })
        .unwrap();
        let mut want = a.clone();
        want.zip_mut_with(&row, |a, &b| *a = *a * 2.0 + b);
        prop_assert_eq!(both(&z), want);
    }

    #[test]
    fn argsort_matches_a_stable_sort(v in prop::collection::vec(-5i64..5, 0..30), chunk in 1usize..8) {
        let x = from_ndarray(&ndarray::Array1::from(v.clone()), chunk).unwrap();
        let mut idx: Vec<i64> = (0..v.len() as i64).collect();
        idx.sort_by_key(|&i| v[i as usize]);
        let s = x.argsort().unwrap();
        prop_assert_eq!(s.chunks(), x.chunks());
        prop_assert_eq!(both(&s).into_raw_vec_and_offset().0, idx);
    }

    #[test]
    fn topk_and_argtopk_match_a_sort(v in prop::collection::vec(-20i64..20, 0..30), chunk in 1usize..8, k in -12isize..12) {
        let x = from_ndarray(&ndarray::Array1::from(v.clone()), chunk).unwrap();
        let mut idx: Vec<usize> = (0..v.len()).collect();
        if k >= 0 {
            idx.sort_by(|&i, &j| v[j].cmp(&v[i]).then(i.cmp(&j)));
        } else {
            idx.sort_by(|&i, &j| v[i].cmp(&v[j]).then(i.cmp(&j)));
        }
        idx.truncate(k.unsigned_abs());
        let want: Vec<i64> = idx.iter().map(|&i| v[i]).collect();
        prop_assert_eq!(both(&x.topk(k).unwrap()).into_raw_vec_and_offset().0, want);
        let want: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
        prop_assert_eq!(both(&x.argtopk(k).unwrap()).into_raw_vec_and_offset().0, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn from_array_reads_each_region_once((a, c) in array(3)) {
        let x = from_array(a.clone(), c.clone()).unwrap();
        prop_assert_eq!(x.chunks(), c.as_slice());
        prop_assert_eq!(both(&x), a.clone());
        // the same data and chunks: the same keys
        let again = from_array(a.clone(), c.clone()).unwrap();
        prop_assert_eq!(again.name(), x.name());
        let counted = Counted { data: a.clone(), reads: Default::default() };
        let reads = counted.reads.clone();
        let y = from_array(counted, c).unwrap();
        prop_assert_eq!(y.compute(&Sync).unwrap(), a);
        prop_assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), y.keys().len());
    }
}

/// A source that counts its reads.
struct Counted {
    data: ArrayD<f64>,
    reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ChunkedSource<f64> for Counted {
    fn shape(&self) -> Vec<usize> {
        self.data.shape().to_vec()
    }
    fn token(&self) -> String {
        "counted".into()
    }
    fn read(&self, region: &[std::ops::Range<usize>]) -> Result<ArrayD<f64>, SourceError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.data.read(region)
    }
}

/// A source whose reads fail.
struct Broken;

impl ChunkedSource<f64> for Broken {
    fn shape(&self) -> Vec<usize> {
        vec![4]
    }
    fn token(&self) -> String {
        "broken".into()
    }
    fn read(&self, _: &[std::ops::Range<usize>]) -> Result<ArrayD<f64>, SourceError> {
        Err("disk on fire".into())
    }
}

#[test]
fn a_failed_read_names_the_region() {
    let e = from_array(Broken, 2)
        .unwrap()
        .compute(&Sync)
        .unwrap_err()
        .to_string();
    assert!(e.contains("disk on fire") && e.contains("0..2"), "{e}");
}

#[test]
fn integer_arange_and_its_repr() {
    let x = arange(15, 5);
    assert_eq!(x.dtype(), "i64");
    assert_eq!(
        both(&x).into_raw_vec_and_offset().0,
        (0..15).collect::<Vec<i64>>()
    );
    let y = arange(1_000_000, 100).named("y");
    let repr = y.to_string();
    assert_eq!(
        repr,
        "rask.array<y, shape=(1000000,), chunks=((100, 100, 100, ..., 100)), chunksize=(100,), dtype=i64>"
    );
    assert!(repr.len() < 120);
    assert!(arange(7, 3)
        .named("z")
        .to_string()
        .contains("chunks=((3, 3, 1)), chunksize=(3,)"));
}

#[test]
fn persist_computes_once_and_keeps_name_shape_and_chunks() {
    let x = (arange(10, 3) * 3 + 1).named("x");
    for ex in [&Sync as &dyn Executor, &Threads::new(2)] {
        let p = x.persist(ex).unwrap();
        assert_eq!(
            (p.name(), p.shape(), p.chunks()),
            (x.name(), x.shape(), x.chunks())
        );
        assert_eq!(p.graph().len(), 4);
        assert_eq!(both(&p), both(&x));
        assert_eq!(both(&p.cumsum(0).unwrap()), both(&x.cumsum(0).unwrap()));
    }
}

#[test]
fn errors_name_the_array() {
    let x = arange(6, 4).named("x");
    assert!(x.tril(0).unwrap_err().to_string().contains("array x"));
    assert!(x
        .squeeze_axes(&[0])
        .unwrap_err()
        .to_string()
        .contains("length 6"));
    assert!(x
        .broadcast_to(&[3, 5])
        .unwrap_err()
        .to_string()
        .contains("cannot broadcast"));
    assert!(x.expand_dims(3).is_err());
    assert!(histogram(&x, 0, (0.0, 1.0))
        .unwrap_err()
        .to_string()
        .contains("array x"));
    assert!(histogram(&x, 3, (1.0, 1.0)).is_err());
    assert!(x.reshape(&[2, 3]).unwrap().topk(1).is_err());
    assert_eq!(eye(3, 2).unwrap().shape(), &[3, 3]);
    assert!(diag(&x.expand_dims(0).unwrap().expand_dims(0).unwrap()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn to_delayed_and_back((a, c) in array(3)) {
        let x = from_ndarray(&a, c.clone()).unwrap();
        let y = &x * 2 - 1;
        let chunks = y.to_delayed();
        prop_assert_eq!(chunks.len(), y.keys().len());
        let back = rask_array::from_delayed(&chunks, a.shape(), c).unwrap();
        prop_assert_eq!(both(&back), a.mapv(|v| 2.0 * v - 1.0));
        let blocks = rask::delayed::compute_with(&Threads::new(2), &chunks).unwrap();
        prop_assert_eq!(blocks.iter().map(|b| b.len()).sum::<usize>(), a.len());
    }
}

#[test]
fn from_delayed_checks_the_number_of_chunks() {
    let chunks = arange(6, 4).to_delayed();
    let e = rask_array::from_delayed(&chunks, &[6], 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 delayed chunks for a grid of 3 blocks"), "{e}");
    // chunks of other shapes than their blocks fail when assembled
    let wrong = rask_array::from_delayed(&chunks, &[6], 3).unwrap();
    assert!(wrong.compute(&Sync).is_err());
}
