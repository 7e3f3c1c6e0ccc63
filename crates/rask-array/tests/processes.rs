//! The operations of issue 14 on the `Processes` executor: chunks and
//! partial results cross the pipes through their codecs, and every
//! result equals `Sync`'s on random shapes and chunkings (boolean masks
//! and `unique` included).
//!
//! One `#[test]` runs every case in turn: forking while other test
//! threads run is what the docs tell programs not to do.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rask::Processes;
use rask_array::{from_ndarray, where_, Array, Element};
use rask_scheduler::Sync;

fn agree<T: Element>(a: &Array<T>, p: &Processes) {
    let s = a.compute(&Sync).unwrap();
    let q = a.compute(p).unwrap();
    assert_eq!(s.shape(), q.shape());
    assert!(
        s.iter()
            .zip(q.iter())
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())),
        "{a}: Sync {s:?}, Processes {q:?}"
    );
}

#[test]
fn issue_14_operations_on_processes() {
    let p = Processes::new(2);
    let mut runner = TestRunner::new(Config {
        cases: 12,
        ..Config::default()
    });
    runner
        .run(&array(3), |(a, c)| {
            let x = from_ndarray(&a, c).unwrap();
            let xi = x.astype::<i64>();
            agree(&(&x / 8).sin().log1p(), &p);
            agree(&(2 * &xi + 100), &p);
            agree(&where_(&x.gt(0).unwrap(), &x, -1).unwrap(), &p);
            agree(&x.clip(-2, 3).unwrap(), &p);
            agree(&x.nansum(), &p);
            agree(&x.nanstd(), &p);
            agree(&x.count_nonzero(), &p);
            agree(&x.any(), &p);
            if x.ndim() > 0 {
                agree(&xi.cumsum(0).unwrap(), &p);
                agree(&xi.diff(1, -1).unwrap(), &p);
                agree(&x.expand_dims(0).unwrap().squeeze().unwrap(), &p);
            }
            agree(&rask_array::histogram(&x, 3, (-4.0, 4.0)).unwrap().0, &p);
            agree(&rask_array::percentile(&x, &[10.0, 50.0]).unwrap(), &p);
            if x.ndim() == 1 {
                agree(&x.topk(3).unwrap(), &p);
                agree(&x.argtopk(-2).unwrap(), &p);
            }
            // boolean masks and unique: unknown chunk sizes, and the
            // (value, count) partials of unique cross the pipes
            agree(&x.unique(), &p);
            agree(&x.unique_counts().1, &p);
            if x.ndim() > 0 {
                let y = x.mask(&x.gt(0).unwrap()).unwrap();
                agree(&y, &p);
                agree(&(&y * 2).sum(), &p);
                agree(&rask_array::histogram(&y, 3, (-4.0, 4.0)).unwrap().0, &p);
                agree(&rask_array::percentile(&y, &[50.0]).unwrap(), &p);
                let k = y.compute_chunk_sizes(&p).unwrap();
                let ks = y.compute_chunk_sizes(&Sync).unwrap();
                prop_assert_eq!(k.chunks(), ks.chunks());
                let rows = x
                    .sum_with(&rask_array::Reduce::axes(
                        &(1..x.ndim() as isize).collect::<Vec<_>>(),
                    ))
                    .unwrap();
                agree(&x.mask(&rows.gt(0).unwrap()).unwrap(), &p);
            }
            if x.ndim() == 2 {
                agree(&x.tril(0).unwrap(), &p);
            }
            prop_assert!(true);
            Ok(())
        })
        .unwrap();
    linalg_and_fft(&p);
}

/// Sync and Processes within rounding: faer's kernels may take other
/// SIMD paths for buffers at other alignments, so the last bits differ.
fn near(a: &Array<f64>, p: &Processes) {
    let s = a.compute(&Sync).unwrap();
    let q = a.compute(p).unwrap();
    assert_eq!(s.shape(), q.shape());
    assert!(
        s.iter()
            .zip(q.iter())
            .all(|(x, y)| (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs()))),
        "{a}: Sync {s:?}, Processes {q:?}"
    );
}

/// Issue 14's linear algebra and FFTs: tall matrices of random floats in
/// random row chunks (one column chunk, as TSQR needs).
fn linalg_and_fft(p: &Processes) {
    use rask_array::{fft, linalg};
    let mut runner = TestRunner::new(Config {
        cases: 8,
        ..Config::default()
    });
    let tall = (1usize..5, 0usize..12).prop_flat_map(|(n, extra)| {
        let m = n + extra;
        (
            prop::collection::vec(-1.0f64..1.0, m * n),
            cut(m),
            Just((m, n)),
        )
    });
    runner
        .run(&tall, |(v, rows, (m, n))| {
            let mut a = ndarray::Array2::from_shape_vec((m, n), v).unwrap();
            for i in 0..n {
                a[(i, i)] += 4.0;
            }
            let x = from_ndarray(&a.clone().into_dyn(), vec![rows.clone(), vec![n]]).unwrap();
            let (q, r) = linalg::qr(&x).unwrap();
            near(&q, p);
            near(&r, p);
            let (u, s, vt) = linalg::svd(&x).unwrap();
            near(&u, p);
            near(&s, p);
            near(&vt, p);
            let b = x.sum_with(&rask_array::Reduce::axis(1)).unwrap();
            let fit = linalg::lstsq(&x, &b).unwrap();
            near(&fit.solution, p);
            near(&fit.residuals, p);
            agree(&fit.rank, p);
            near(&fit.singular_values, p);
            let sq = x.slice(rask::ndarray::s![..n, ..]).unwrap();
            near(
                &linalg::solve(&sq, &b.slice(rask::ndarray::s![..n]).unwrap()).unwrap(),
                p,
            );
            near(
                &linalg::norm(&x, Some(linalg::NormOrd::P(2.0)), None).unwrap(),
                p,
            );
            near(&x.matmul(&x.t()).unwrap(), p);
            let f = fft::fft(&x, None, 1).unwrap();
            near(&f.re(), p);
            near(&f.im(), p);
            let whole = x.rechunk(vec![vec![m], vec![n]]).unwrap();
            let g = fft::ifft(&fft::fft(&whole, Some(7), 0).unwrap(), None, 0).unwrap();
            near(&g.re(), p);
            near(&g.abs(), p);
            near(
                &fft::irfft(&fft::rfft(&x, Some(5), 1).unwrap(), Some(5), 1).unwrap(),
                p,
            );
            Ok(())
        })
        .unwrap();
}
