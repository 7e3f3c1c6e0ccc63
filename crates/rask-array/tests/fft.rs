//! `fft`, `ifft`, `rfft`, `irfft` against a plain O(n²) discrete Fourier
//! transform, on random shapes, chunkings, axes and `n`, on `Sync` and
//! `Threads` (`Processes`: see `processes.rs`), and their errors.

mod common;

use common::*;
use ndarray::{ArrayD, Axis};
use proptest::prelude::*;
use rask_array::{fft, from_ndarray, ArrayError, Complex64};
use rask_scheduler::{Sync, Threads};

/// The DFT of `x` along `axis` over `n` points (padded or truncated),
/// `sign` -1 forward, +1 inverse (then divided by `n`).
fn dft(x: &ArrayD<Complex64>, axis: usize, n: usize, sign: f64) -> ArrayD<Complex64> {
    let mut shape = x.shape().to_vec();
    shape[axis] = n;
    let mut out = ArrayD::<Complex64>::default(shape);
    for (lane, mut dst) in x
        .lanes(Axis(axis))
        .into_iter()
        .zip(out.lanes_mut(Axis(axis)))
    {
        for (k, d) in dst.iter_mut().enumerate() {
            let (mut re, mut im) = (0.0, 0.0);
            for (j, v) in lane.iter().take(n).enumerate() {
                let t = sign * 2.0 * std::f64::consts::PI * (j * k % n) as f64 / n as f64;
                re += v.re * t.cos() - v.im * t.sin();
                im += v.re * t.sin() + v.im * t.cos();
            }
            let s = if sign > 0.0 { 1.0 / n as f64 } else { 1.0 };
            *d = Complex64::new(re * s, im * s);
        }
    }
    out
}

fn near(a: &ArrayD<Complex64>, b: &ArrayD<Complex64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x.re - y.re).abs() < 1e-9 && (x.im - y.im).abs() < 1e-9)
}

/// An array of at least one axis, its chunks with the FFT axis whole,
/// the axis, and an `n`.
fn case() -> impl Strategy<Value = (ArrayD<f64>, Vec<Vec<usize>>, usize, Option<usize>)> {
    prop::collection::vec(1usize..=6, 1..=3)
        .prop_flat_map(|s| {
            let nd = s.len();
            (
                data(s.clone()),
                grid(&s),
                0..nd,
                prop::option::of(1usize..9),
            )
        })
        .prop_map(|(a, mut c, axis, n)| {
            c[axis] = vec![a.shape()[axis]];
            (a, c, axis, n)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn transforms_match_the_plain_dft((a, c, axis, n) in case()) {
        let x = from_ndarray(&a, c).unwrap();
        let len = a.shape()[axis];
        let nn = n.unwrap_or(len);
        let za = a.mapv(|v| Complex64::new(v, 0.0));
        let want = dft(&za, axis, nn, -1.0);
        let ax = axis as isize - a.ndim() as isize; // negative axes too
        let f = fft::fft(&x, n, ax).unwrap();
        prop_assert!(near(&f.compute(&Threads::new(2)).unwrap(), &want));
        // ifft inverts fft
        let back = fft::ifft(&f, None, ax).unwrap().compute(&Sync).unwrap();
        prop_assert!(near(&back, &dft(&want, axis, nn, 1.0)));
        // rfft: the first n/2 + 1 coefficients
        let r = fft::rfft(&x, n, axis as isize).unwrap().compute(&Sync).unwrap();
        let half = want.slice_axis(Axis(axis), (0..nn / 2 + 1).into()).to_owned();
        prop_assert!(near(&r, &half));
        // irfft inverts rfft on the (padded or truncated) input
        let inv = fft::irfft(&fft::rfft(&x, n, axis as isize).unwrap(), Some(nn), axis as isize)
            .unwrap()
            .compute(&Threads::new(2))
            .unwrap();
        let mut padded = ArrayD::<f64>::zeros(want.shape());
        for (src, mut dst) in a.lanes(Axis(axis)).into_iter().zip(padded.lanes_mut(Axis(axis))) {
            for (d, s) in dst.iter_mut().zip(src.iter()) {
                *d = *s;
            }
        }
        prop_assert!(close(&inv, &padded) || inv.iter().zip(padded.iter()).all(|(p, q)| (p - q).abs() < 1e-9));
        // the complex results go through real views
        let re = f.re().compute(&Sync).unwrap();
        prop_assert!(re.iter().zip(want.iter()).all(|(p, q)| (p - q.re).abs() < 1e-9));
    }
}

#[test]
fn errors_name_the_axis_and_the_chunks() {
    let x = from_ndarray(&ArrayD::<f64>::zeros(vec![4, 6]), [2, 3])
        .unwrap()
        .named("x");
    let err = fft::fft(&x, None, 1).unwrap_err();
    assert!(matches!(err, ArrayError::Chunks { .. }), "{err}");
    assert!(
        err.to_string().contains("[3, 3]") && err.to_string().contains("rechunk"),
        "{err}"
    );
    let err = fft::rfft(&x, None, 2).unwrap_err();
    assert!(matches!(err, ArrayError::Axis { axis: 2, .. }), "{err}");
    let whole = x.rechunk([2, 6]).unwrap();
    let err = fft::fft(&whole, Some(0), -1).unwrap_err();
    assert!(err.to_string().contains("at least one"), "{err}");
    // one coefficient gives no default length for irfft, as NumPy's
    let one = fft::rfft(&whole, Some(1), -1).unwrap();
    assert!(fft::irfft(&one, None, -1).is_err());
}

#[test]
fn complex_arrays_print_store_and_order_as_numpy() {
    let z = from_ndarray(
        &ndarray::arr1(&[Complex64::new(1.0, -2.0), Complex64::new(0.5, 3.0)]).into_dyn(),
        1,
    )
    .unwrap();
    assert!(z.to_string().contains("dtype=c128"), "{z}");
    assert_eq!(Complex64::new(1.0, -2.0).to_string(), "(1-2j)");
    assert!(Complex64::new(0.5, 3.0) < Complex64::new(1.0, -2.0));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("z.zarr");
    z.to_zarr(&path, &Sync).unwrap();
    let back = rask_array::Array::<Complex64>::from_zarr(&path, None).unwrap();
    assert_eq!(back.compute(&Sync).unwrap(), z.compute(&Sync).unwrap());
    assert_eq!(z.abs().compute(&Sync).unwrap()[0], 5f64.sqrt());
}
