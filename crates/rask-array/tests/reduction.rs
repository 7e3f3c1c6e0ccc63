//! Reductions against plain ndarray: every reduction, over random axes,
//! with keepdims and small fan-ins, on random shapes and chunkings.

mod common;

use common::*;
use ndarray::ArrayD;
use proptest::prelude::*;
use rask_array::{from_ndarray, ArrayError, Reduce};
use rask_scheduler::{Sync, Threads};

fn axes_for(nd: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(any::<bool>(), nd).prop_map(|m| {
        m.iter()
            .enumerate()
            .filter(|(_, &b)| b)
            .map(|(i, _)| i)
            .collect()
    })
}

fn case() -> impl Strategy<Value = (ArrayD<f64>, Vec<Vec<usize>>, Vec<usize>, bool, usize)> {
    array(3).prop_flat_map(|(a, c)| {
        let nd = a.ndim();
        (Just(a), Just(c), axes_for(nd), any::<bool>(), 2usize..6)
    })
}

fn opts(axes: &[usize], keep: bool, split: usize) -> Reduce {
    let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
    Reduce::axes(&ax).keepdims(keep).split_every(split)
}

fn finish<U: Clone>(r: ArrayD<U>, axes: &[usize], keep: bool) -> ArrayD<U> {
    if keep {
        r
    } else {
        squeeze(r, axes)
    }
}

fn var(xs: &[f64], ddof: f64) -> f64 {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - ddof).max(0.0)
}

fn first_extreme(xs: &[f64], max: bool) -> i64 {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if (max && x > xs[best]) || (!max && x < xs[best]) {
            best = i;
        }
    }
    best as i64
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sums_products_means_match((a, c, axes, keep, split) in case()) {
        let x = from_ndarray(&a, c).unwrap();
        let o = opts(&axes, keep, split);
        let want = finish(reduce_keep(&a, &axes, |l| l.iter().sum::<f64>()), &axes, keep);
        prop_assert!(close(&x.sum_with(&o).unwrap().compute(&Sync).unwrap(), &want));
        let want = finish(reduce_keep(&a, &axes, |l| l.iter().map(|v| v / 4.0 + 1.0).product::<f64>()), &axes, keep);
        let p = (&x / 4.0 + 1.0).prod_with(&o).unwrap();
        prop_assert!(close(&p.compute(&Threads::new(2)).unwrap(), &want));
        let want = finish(reduce_keep(&a, &axes, |l| l.iter().sum::<f64>() / l.len() as f64), &axes, keep);
        prop_assert!(close(&x.mean_with(&o).unwrap().compute(&Sync).unwrap(), &want));
    }

    #[test]
    fn var_std_match((a, c, axes, keep, split) in case(), ddof in 0u8..2) {
        let x = from_ndarray(&a, c).unwrap();
        let ddof = f64::from(ddof);
        let o = opts(&axes, keep, split).ddof(ddof);
        let want = finish(reduce_keep(&a, &axes, |l| var(l, ddof)), &axes, keep);
        prop_assert!(close(&x.var_with(&o).unwrap().compute(&Sync).unwrap(), &want));
        let want = want.mapv(f64::sqrt);
        prop_assert!(close(&x.std_with(&o).unwrap().compute(&Sync).unwrap(), &want));
    }

    #[test]
    fn min_max_match((a, c, axes, keep, split) in case()) {
        let x = from_ndarray(&a, c).unwrap();
        let o = opts(&axes, keep, split);
        let empty = axes.iter().any(|&k| a.shape()[k] == 0);
        match x.min_with(&o) {
            Err(ArrayError::EmptyReduction { op: "min", .. }) => prop_assert!(empty),
            Err(e) => prop_assert!(false, "{e}"),
            Ok(m) => {
                prop_assert!(!empty);
                let want = finish(reduce_keep(&a, &axes, |l| l.iter().copied().fold(f64::INFINITY, f64::min)), &axes, keep);
                prop_assert!(close(&m.compute(&Sync).unwrap(), &want));
                let want = finish(reduce_keep(&a, &axes, |l| l.iter().copied().fold(f64::NEG_INFINITY, f64::max)), &axes, keep);
                prop_assert!(close(&x.max_with(&o).unwrap().compute(&Sync).unwrap(), &want));
            }
        }
    }

    #[test]
    fn argmin_argmax_match((a, c) in array(3), axis in 0usize..3, all in any::<bool>()) {
        let x = from_ndarray(&a, c).unwrap();
        let nd = a.ndim();
        let axes: Vec<usize> = if all || nd == 0 { (0..nd).collect() } else { vec![axis % nd] };
        let empty = a.is_empty() && (axes.len() == nd || axes.iter().any(|&k| a.shape()[k] == 0));
        let o = if all || nd == 0 { Reduce::all() } else { Reduce::axis((axis % nd) as isize) };
        match x.argmin_with(&o) {
            Err(ArrayError::EmptyReduction { .. }) => prop_assert!(empty),
            Err(e) => prop_assert!(false, "{e}"),
            Ok(m) => {
                prop_assert!(!empty);
                let want = squeeze(reduce_keep(&a, &axes, |l| first_extreme(l, false)), &axes);
                prop_assert_eq!(m.compute(&Sync).unwrap(), want);
                let want = squeeze(reduce_keep(&a, &axes, |l| first_extreme(l, true)), &axes);
                prop_assert_eq!(x.argmax_with(&o).unwrap().compute(&Sync).unwrap(), want);
            }
        }
    }

    #[test]
    fn integer_sums((a, c, axes, keep, split) in case()) {
        let ai = a.mapv(|v| v as i64);
        let x = from_ndarray(&ai, c).unwrap();
        let want = finish(reduce_keep(&ai, &axes, |l| l.iter().sum::<i64>()), &axes, keep);
        prop_assert_eq!(x.sum_with(&opts(&axes, keep, split)).unwrap().compute(&Sync).unwrap(), want);
    }
}

#[test]
fn the_tree_has_the_fan_in_asked_for() {
    let x = rask_array::arange(64, 1);
    // 64 partials, merged 4 at a time: 16, then 4, then the aggregate
    let s = x.sum_with(&Reduce::all().split_every(4)).unwrap();
    let g = s.graph();
    assert_eq!(g.len(), 64 + 64 + 16 + 4 + 1);
    assert_eq!(s.compute_scalar(&Sync).unwrap(), (0..64).sum::<i64>());
    // default fan-in 16: 64 -> 4 -> 1
    assert_eq!(x.sum().graph().len(), 64 + 64 + 4 + 1);
}

#[test]
fn bad_axes_are_errors_naming_the_array() {
    let x = rask_array::zeros(&[3, 4], 2).unwrap().named("x");
    let e = x.sum_axis(2).unwrap_err().to_string();
    assert_eq!(e, "array x: axis 2 out of range for 2 dimension(s)");
    assert!(x.sum_axis(-2).is_ok());
    assert!(x
        .sum_with(&Reduce::axes(&[0, -2]))
        .unwrap_err()
        .to_string()
        .contains("repeated"));
    assert!(x.sum_with(&Reduce::all().split_every(1)).is_err());
    let e = rask_array::zeros(&[0, 4], 2)
        .unwrap()
        .named("e")
        .max_axis(0)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "array e: max of an empty axis (length 0) has no value"
    );
    assert!(x.argmin_with(&Reduce::axes(&[0, 1])).is_ok());
}

#[test]
fn nan_wins_min_max_and_arg() {
    let a = ndarray::arr1(&[1.0, f64::NAN, -3.0, f64::NAN]).into_dyn();
    let x = from_ndarray(&a, 1).unwrap();
    assert!(x.min().unwrap().compute_scalar(&Sync).unwrap().is_nan());
    assert!(x.max().unwrap().compute_scalar(&Sync).unwrap().is_nan());
    assert_eq!(x.argmin().unwrap().compute_scalar(&Sync).unwrap(), 1);
    assert_eq!(x.argmax().unwrap().compute_scalar(&Sync).unwrap(), 1);
}
