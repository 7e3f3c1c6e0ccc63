//! Elementwise operations and broadcasting against plain ndarray.

mod common;

use common::*;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use rask_array::{from_ndarray, Array};
use rask_scheduler::{Sync, Threads};

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn fused_chain_matches_ndarray((a, chunks) in array(3)) {
        let x = from_ndarray(&a, chunks).unwrap();
        let y = ((2.0 * &x + 1.0).powi(3) - &x / 3.0).abs() + (-&x).powi(2) % 5.0;
        let want = a.mapv(|v| ((2.0 * v + 1.0).powi(3) - v / 3.0).abs() + (-v).powi(2) % 5.0);
        let got = y.compute(&Sync).unwrap();
        prop_assert!(close(&got, &want), "{got:?} vs {want:?}");
    }

    #[test]
    fn float_functions_match_ndarray((a, chunks) in array(2)) {
        let x = from_ndarray(&a, chunks).unwrap();
        let y = x.abs().sqrt() + (&x / 10.0).exp() + x.abs().powf(1.5) + (x.abs() + 1.0).ln();
        let want = a.mapv(|v| v.abs().sqrt() + (v / 10.0).exp() + v.abs().powf(1.5) + (v.abs() + 1.0).ln());
        prop_assert!(close(&y.compute(&Threads::new(2)).unwrap(), &want));
    }

    #[test]
    fn broadcasting_matches_ndarray(
        ((a, ca), (b, cb)) in shape(3).prop_flat_map(|s| {
            // b: a suffix of s with some axes of length 1
            let t = (0..=s.len(), prop::collection::vec(any::<bool>(), s.len()));
            (Just(s), t)
        }).prop_flat_map(|(s, (drop, ones))| {
            let bs: Vec<usize> = s.iter().zip(&ones).skip(drop).map(|(&d, &o)| if o { 1 } else { d }).collect();
            ((data(s.clone()), grid(&s)), (data(bs.clone()), grid(&bs)))
        }),
        swap in any::<bool>(),
    ) {
        let x = from_ndarray(&a, ca).unwrap();
        let y = from_ndarray(&b, cb).unwrap();
        let (got, want) = if swap {
            ((&y - &x) * 2.0, (&b - &a) * 2.0)
        } else {
            ((&x - &y) * &x, (&a - &b) * &a)
        };
        prop_assert!(close(&got.compute(&Sync).unwrap(), &want));
        prop_assert_eq!(got.shape(), want.shape());
    }

    #[test]
    fn different_chunkings_of_one_shape((a, ca, cb) in shape(3).prop_flat_map(|s| (data(s.clone()), grid(&s), grid(&s)))) {
        let x = from_ndarray(&a, ca).unwrap();
        let y = from_ndarray(&a, cb).unwrap();
        let z = (&x * &y + &y).compute(&Sync).unwrap();
        prop_assert!(close(&z, &a.mapv(|v| v * v + v)));
    }

    #[test]
    fn comparisons_and_select((a, chunks) in array(3)) {
        let x = from_ndarray(&a, chunks).unwrap();
        let m = x.gt(0.0).unwrap();
        let y = m.select(&x, &(-&x)).unwrap();
        prop_assert!(close(&y.compute(&Sync).unwrap(), &a.mapv(f64::abs)));
        let count = x.le(&x.abs()).unwrap().astype::<i64>().sum().compute_scalar(&Sync).unwrap();
        prop_assert_eq!(count as usize, a.len());
        let eq = x.equal(2.0).unwrap().compute(&Sync).unwrap();
        prop_assert_eq!(eq, a.mapv(|v| v == 2.0));
        let ne = x.not_equal(&x).unwrap().compute(&Sync).unwrap();
        prop_assert!(ne.iter().all(|&b| !b));
    }

    #[test]
    fn integers_and_f32((a, chunks) in array(2)) {
        let ai: ArrayD<i64> = a.mapv(|v| v as i64);
        let x = from_ndarray(&ai, chunks.clone()).unwrap();
        let y = (&x * 3 - 1).powi(2) % 7;
        prop_assert_eq!(y.compute(&Sync).unwrap(), ai.mapv(|v| (v * 3 - 1).pow(2) % 7));
        let af: ArrayD<f32> = a.mapv(|v| v as f32);
        let x = from_ndarray(&af, chunks).unwrap();
        let y = (2.0f32 * &x + 1.0).powi(3);
        prop_assert_eq!(y.compute(&Sync).unwrap(), af.mapv(|v| (2.0 * v + 1.0).powi(3)));
    }

    #[test]
    fn user_map_and_zip((a, chunks) in array(2)) {
        let x = from_ndarray(&a, chunks).unwrap();
        let y = x.map("sign", |v: f64| v.signum() as i64);
        prop_assert_eq!(y.compute(&Sync).unwrap(), a.mapv(|v| v.signum() as i64));
        let z = x.zip_with(&y, "scale", |a: f64, b: i64| a * b as f64).unwrap();
        prop_assert!(close(&z.compute(&Sync).unwrap(), &a.mapv(|v| v * v.signum())));
    }
}

#[test]
fn shapes_that_do_not_broadcast_are_an_error_naming_both() {
    let x = Array::<f64>::zeros(&[3, 4], 2).unwrap().named("x");
    let y = Array::<f64>::zeros(&[3], 2).unwrap().named("y");
    let e = x.try_add(&y).unwrap_err().to_string();
    assert!(e.contains("x [3, 4]") && e.contains("y [3]"), "{e}");
}

#[test]
#[should_panic(expected = "cannot be broadcast")]
fn operators_panic_on_bad_shapes() {
    let x = Array::<f64>::zeros(&[3, 4], 2).unwrap();
    let y = Array::<f64>::zeros(&[2], 2).unwrap();
    let _ = &x + &y;
}

#[test]
fn generators_match_ndarray() {
    let x = Array::<f64>::linspace(0.0, 1.0, 11, 3)
        .unwrap()
        .compute(&Sync)
        .unwrap();
    let want = ndarray::Array::linspace(0.0, 1.0, 11).into_dyn();
    assert!(close(&x, &want));
    assert_eq!(x[10], 1.0);
    let a = Array::<i64>::arange(-3.0, 9.0, 2.0, 4)
        .unwrap()
        .compute(&Sync)
        .unwrap();
    assert_eq!(a.as_slice().unwrap(), &[-3, -1, 1, 3, 5, 7]);
    let f = rask_array::full(&[2, 0, 3], 7_i64, 2)
        .unwrap()
        .compute(&Sync)
        .unwrap();
    assert_eq!(f.shape(), &[2, 0, 3]);
    let o = rask_array::ones(&[3, 2], [2, 1])
        .unwrap()
        .compute(&Sync)
        .unwrap();
    assert_eq!(o, ArrayD::from_elem(IxDyn(&[3, 2]), 1.0));
}

#[test]
fn random_is_the_same_whatever_the_chunking() {
    let r = rask_array::RandomState::new(7);
    let a = r
        .normal(1.0, 2.0, &[13, 7], [5, 3])
        .unwrap()
        .compute(&Sync)
        .unwrap();
    let b = r
        .normal(1.0, 2.0, &[13, 7], [13, 1])
        .unwrap()
        .compute(&Threads::new(2))
        .unwrap();
    assert_eq!(a, b);
    let m = a.mean().unwrap();
    assert!((m - 1.0).abs() < 0.6, "{m}");
    let i = r
        .randint(-2, 3, &[1000], 64)
        .unwrap()
        .compute(&Sync)
        .unwrap();
    assert!(i.iter().all(|v| (-2..3).contains(v)));
    assert!((-2..3).all(|k| i.iter().any(|&v| v == k)));
    let other = rask_array::RandomState::new(8)
        .random(&[13, 7], 4)
        .unwrap()
        .compute(&Sync)
        .unwrap();
    assert_ne!(
        other,
        r.random(&[13, 7], 4).unwrap().compute(&Sync).unwrap()
    );
}

#[test]
fn reductions_broadcast_back_against_their_input() {
    let a = ndarray::Array::from_shape_fn((7, 5), |(i, j)| (i * 5 + j) as f64).into_dyn();
    let x = from_ndarray(&a, [3, 2]).unwrap();
    // x - x.mean(): a 0-d array broadcast to every chunk
    let centered = (&x - &x.mean()).compute(&Threads::new(2)).unwrap();
    assert!(close(&centered, &a.mapv(|v| v - 17.0)));
    // x / x.sum(axis=0): a row broadcast down the columns
    let cols = x.sum_axis(0).unwrap();
    let share = (&x / &cols).sum_axis(0).unwrap().compute(&Sync).unwrap();
    assert!(close(&share, &ArrayD::from_elem(IxDyn(&[5]), 1.0)));
}
