//! `linalg` (TSQR `qr` and `svd`, `solve`, `lstsq`, `norm`) and the faer
//! block kernel of `matmul`, against plain ndarray references on random
//! shapes and chunkings, on `Sync` and `Threads` (`Processes`: see
//! `processes.rs`), and their errors.

mod common;

use common::*;
use ndarray::{Array2, ArrayD, Axis, Ix1, Ix2};
use proptest::prelude::*;
use rask_array::linalg::{self, NormOrd};
use rask_array::{from_ndarray, ArrayError};
use rask_scheduler::{Executor, Sync, Threads};

/// Random floats in [-1, 1] of shape `(m, n)`.
fn floats(m: usize, n: usize) -> BoxedStrategy<Array2<f64>> {
    prop::collection::vec(-1.0f64..1.0, m * n)
        .prop_map(move |v| Array2::from_shape_vec((m, n), v).unwrap())
        .boxed()
}

/// A tall matrix (m >= n) with its row chunks.
fn tall() -> impl Strategy<Value = (Array2<f64>, Vec<usize>)> {
    (0usize..5, 0usize..30).prop_flat_map(|(n, extra)| (floats(n + extra, n), cut(n + extra)))
}

fn near(a: &Array2<f64>, b: &Array2<f64>, tol: f64) -> bool {
    a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() <= tol)
}

fn two(a: ArrayD<f64>) -> Array2<f64> {
    a.into_dimensionality::<Ix2>().unwrap()
}

fn executors() -> Vec<Box<dyn Executor>> {
    vec![Box::new(Sync), Box::new(Threads::new(2))]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn matmul_of_floats_matches_ndarray(
        (a, ca, b, cb) in (0usize..12, 0usize..12, 0usize..12).prop_flat_map(|(m, k, n)| {
            (floats(m, k), grid(&[m, k]), floats(k, n), grid(&[k, n]))
        })
    ) {
        let want = a.dot(&b);
        let x = from_ndarray(&a.clone().into_dyn(), ca).unwrap();
        let y = from_ndarray(&b.clone().into_dyn(), cb).unwrap();
        for ex in executors() {
            let got = two(x.matmul(&y).unwrap().compute(&*ex).unwrap());
            prop_assert!(near(&got, &want, 1e-12), "{got:?} vs {want:?}");
        }
        let (x32, y32) = (x.astype::<f32>(), y.astype::<f32>());
        let got = x32.dot(&y32).unwrap().compute(&Sync).unwrap().mapv(f64::from);
        prop_assert!(near(&two(got), &want, 1e-4));
    }

    #[test]
    fn qr_reconstructs_with_orthonormal_q((a, rows) in tall()) {
        let (m, n) = a.dim();
        let x = from_ndarray(&a.clone().into_dyn(), vec![rows.clone(), vec![n]]).unwrap();
        let (q, r) = linalg::qr(&x).unwrap();
        prop_assert_eq!(q.shape(), &[m, n][..]);
        prop_assert_eq!(&q.chunks()[0], &rows);
        for ex in executors() {
            let (qv, rv) = (two(q.compute(&*ex).unwrap()), two(r.compute(&*ex).unwrap()));
            prop_assert!(near(&qv.dot(&rv), &a, 1e-12));
            prop_assert!(near(&qv.t().dot(&qv), &Array2::eye(n), 1e-12));
            prop_assert!(rv.indexed_iter().all(|((i, j), v)| i <= j || *v == 0.0));
        }
    }

    #[test]
    fn svd_reconstructs((a, rows) in tall()) {
        let n = a.ncols();
        let x = from_ndarray(&a.clone().into_dyn(), vec![rows, vec![n]]).unwrap();
        let (u, s, vt) = linalg::svd(&x).unwrap();
        let (u, s, vt) = (
            two(u.compute(&Threads::new(2)).unwrap()),
            s.compute(&Sync).unwrap().into_dimensionality::<Ix1>().unwrap(),
            two(vt.compute(&Sync).unwrap()),
        );
        prop_assert!(near(&(&u * &s).dot(&vt), &a, 1e-12));
        prop_assert!(near(&u.t().dot(&u), &Array2::eye(n), 1e-12));
        prop_assert!(near(&vt.dot(&vt.t()), &Array2::eye(n), 1e-12));
        prop_assert!(s.windows(2).into_iter().all(|w| w[0] >= w[1]) && s.iter().all(|&v| v >= 0.0));
        // the Frobenius norm is the root of the sum of the squared singular values
        let fro = a.iter().map(|v| v * v).sum::<f64>().sqrt();
        prop_assert!((s.iter().map(|v| v * v).sum::<f64>().sqrt() - fro).abs() < 1e-12);
    }

    #[test]
    fn solve_satisfies_the_system(
        (a, b, ca, cb) in (0usize..10, 1usize..4).prop_flat_map(|(n, k)| {
            (floats(n, n), floats(n, k), grid(&[n, n]), grid(&[n, k]))
        })
    ) {
        let n = a.nrows();
        // diagonally dominant: well conditioned
        let a = a + Array2::<f64>::eye(n) * (n as f64 + 1.0);
        let x = from_ndarray(&a.clone().into_dyn(), ca.clone()).unwrap();
        let y = from_ndarray(&b.clone().into_dyn(), cb.clone()).unwrap();
        for ex in executors() {
            let sol = linalg::solve(&x, &y).unwrap();
            prop_assert_eq!(&sol.chunks()[0], &ca[1]);
            let got = two(sol.compute(&*ex).unwrap());
            prop_assert!(near(&a.dot(&got), &b, 1e-10));
        }
        // a vector right-hand side gives a vector
        let y1 = from_ndarray(&b.column(0).to_owned().into_dyn(), vec![cb[0].clone()]).unwrap();
        let got = linalg::solve(&x, &y1).unwrap().compute(&Sync).unwrap();
        let got = got.into_dimensionality::<Ix1>().unwrap();
        prop_assert!(a.dot(&got).iter().zip(b.column(0)).all(|(p, q)| (p - q).abs() < 1e-10));
    }

    #[test]
    fn lstsq_meets_the_normal_equations(
        ((a, rows), b, cb) in (1usize..5, 0usize..20).prop_flat_map(|(n, extra)| {
            let m = n + extra;
            ((floats(m, n), cut(m)), floats(m, 2), cut(2))
        })
    ) {
        let (m, n) = a.dim();
        // a full-rank top block
        let mut a = a;
        for i in 0..n {
            a[(i, i)] += 4.0;
        }
        let x = from_ndarray(&a.clone().into_dyn(), vec![rows.clone(), vec![n]]).unwrap();
        let y = from_ndarray(&b.clone().into_dyn(), vec![rows, cb]).unwrap();
        for ex in executors() {
            let fit = linalg::lstsq(&x, &y).unwrap();
            let sol = two(fit.solution.compute(&*ex).unwrap());
            let resid = &b - &a.dot(&sol);
            // Aᵀ (b - A x) = 0 at the minimum
            prop_assert!(a.t().dot(&resid).iter().all(|v| v.abs() < 1e-9));
            let want: Vec<f64> = resid.axis_iter(Axis(1)).map(|c| c.iter().map(|v| v * v).sum()).collect();
            let got = fit.residuals.compute(&*ex).unwrap();
            prop_assert!(got.iter().zip(&want).all(|(p, q)| (p - q).abs() < 1e-9));
            prop_assert_eq!(fit.rank.compute_scalar(&*ex).unwrap(), n as i64);
            let s = fit.singular_values.compute(&*ex).unwrap();
            prop_assert_eq!(s.len(), n);
            let fro = a.iter().map(|v| v * v).sum::<f64>();
            prop_assert!((s.iter().map(|v| v * v).sum::<f64>() - fro).abs() < 1e-9 * (1.0 + fro));
        }
        let _ = m;
    }

    #[test]
    fn norms_match_numpy_definitions(
        (a, c) in (1usize..8, 1usize..8).prop_flat_map(|(m, n)| (floats(m, n), grid(&[m, n])))
    ) {
        let x = from_ndarray(&a.clone().into_dyn(), c).unwrap();
        let abs = a.mapv(f64::abs);
        let col_sums = abs.sum_axis(Axis(0));
        let row_sums = abs.sum_axis(Axis(1));
        let max = |v: &ndarray::Array1<f64>| v.iter().cloned().fold(f64::MIN, f64::max);
        let min = |v: &ndarray::Array1<f64>| v.iter().cloned().fold(f64::MAX, f64::min);
        let cases = [
            (Some(NormOrd::P(1.0)), max(&col_sums)),
            (Some(NormOrd::P(-1.0)), min(&col_sums)),
            (Some(NormOrd::P(f64::INFINITY)), max(&row_sums)),
            (Some(NormOrd::P(f64::NEG_INFINITY)), min(&row_sums)),
            (Some(NormOrd::Fro), a.iter().map(|v| v * v).sum::<f64>().sqrt()),
            (None, a.iter().map(|v| v * v).sum::<f64>().sqrt()),
        ];
        for (ord, want) in cases {
            let got = linalg::norm(&x, ord, None).unwrap().compute_scalar(&Threads::new(2)).unwrap();
            prop_assert!((got - want).abs() < 1e-12, "{ord:?}: {got} vs {want}");
        }
        // the axes reversed: 1 and inf swap
        let got = linalg::norm(&x, Some(NormOrd::P(1.0)), Some(&[1, 0])).unwrap().compute_scalar(&Sync).unwrap();
        prop_assert!((got - max(&row_sums)).abs() < 1e-12);
        // 2, -2 and nuc from the singular values, in both orientations
        let (tall, wide) = if a.nrows() >= a.ncols() { (a.clone(), a.t().to_owned()) } else { (a.t().to_owned(), a.clone()) };
        let s = linalg::svd(&from_ndarray(&tall.clone().into_dyn(), [3, 8]).unwrap()).unwrap().1.compute(&Sync).unwrap();
        let w = from_ndarray(&wide.into_dyn(), 2).unwrap();
        let spectral = [(NormOrd::P(2.0), s[0]), (NormOrd::P(-2.0), s[s.len() - 1]), (NormOrd::Nuc, s.sum())];
        for (ord, want) in spectral {
            let got = linalg::norm(&w, Some(ord), None).unwrap().compute_scalar(&Sync).unwrap();
            prop_assert!((got - want).abs() < 1e-12, "{ord:?}: {got} vs {want}");
        }
        // vector norms along an axis
        let got = linalg::norm(&x, Some(NormOrd::P(1.0)), Some(&[-1])).unwrap().compute(&Sync).unwrap();
        prop_assert!(close(&got, &row_sums.into_dyn()));
    }
}

#[test]
fn errors_name_the_array_and_the_problem() {
    let a = from_ndarray(&Array2::<f64>::eye(4).into_dyn(), [2, 2])
        .unwrap()
        .named("a");
    let err = linalg::qr(&a).unwrap_err();
    assert!(matches!(err, ArrayError::Chunks { .. }), "{err}");
    assert!(
        err.to_string().contains("one chunk along the columns"),
        "{err}"
    );
    assert!(linalg::svd(&a).is_err());
    let v = from_ndarray(&ndarray::arr1(&[1.0, 2.0]).into_dyn(), 1)
        .unwrap()
        .named("v");
    let err = linalg::qr(&v).unwrap_err();
    assert!(err.to_string().contains("2-d"), "{err}");

    let wide = from_ndarray(&Array2::<f64>::zeros((2, 3)).into_dyn(), [2, 3])
        .unwrap()
        .named("wide");
    let err = linalg::solve(&wide, &v).unwrap_err();
    assert!(err.to_string().contains("square"), "{err}");
    let err = linalg::lstsq(&wide, &v).unwrap_err();
    assert!(err.to_string().contains("at least as many rows"), "{err}");

    let b = from_ndarray(&ndarray::arr1(&[1.0, 2.0, 3.0]).into_dyn(), 1)
        .unwrap()
        .named("b");
    let err = linalg::solve(&a, &b).unwrap_err();
    assert!(
        err.to_string().contains("array b") && err.to_string().contains("(4,)"),
        "{err}"
    );

    let singular = from_ndarray(&ndarray::arr2(&[[1.0, 2.0], [2.0, 4.0]]).into_dyn(), 1)
        .unwrap()
        .named("s");
    let err = linalg::solve(&singular, &v)
        .unwrap()
        .compute(&Threads::new(2))
        .unwrap_err();
    assert!(err.to_string().contains("singular"), "{err}");

    let err = linalg::norm(&v, Some(NormOrd::Nuc), None).unwrap_err();
    assert!(err.to_string().contains("vectors"), "{err}");
    let err = linalg::norm(&a, Some(NormOrd::P(3.0)), None).unwrap_err();
    assert!(err.to_string().contains("matrices"), "{err}");
    let err = linalg::norm(&a, Some(NormOrd::P(1.0)), Some(&[0, 2])).unwrap_err();
    assert!(matches!(err, ArrayError::Axis { axis: 2, .. }), "{err}");
}
