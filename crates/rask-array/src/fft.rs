//! Dask's `da.fft`: [`fft`], [`ifft`], [`rfft`] and [`irfft`] along one
//! axis, with `rustfft` inside each task.
//!
//! As Dask, the transformed axis must be one chunk (the other axes may be
//! chunked freely, one task per chunk): an FFT mixes every element of
//! its axis, so a chunked axis is an error that says to rechunk, rather
//! than a silent gather. `n` pads with zeros or truncates the axis, as
//! NumPy's. The spectra are [`Complex64`] arrays (NumPy's `complex128`),
//! normalized as NumPy's default (`"backward"`: `ifft` and `irfft` divide
//! by `n`).
//!
//! ```
//! use rask::array::{fft, from_ndarray};
//! let x = from_ndarray(&rask::ndarray::array![[1.0, 0.0, -1.0, 0.0], [1.0, 1.0, 1.0, 1.0]], [1, 4]).unwrap();
//! let f = fft::fft(&x, None, -1).unwrap().compute(&rask::Sync).unwrap();
//! assert_eq!((f[[0, 1]].re, f[[1, 0]].re), (2.0, 4.0));
//! let back = fft::irfft(&fft::rfft(&x, None, -1).unwrap(), Some(4), -1).unwrap();
//! assert_eq!(back.compute(&rask::Sync).unwrap(), x.compute(&rask::Sync).unwrap());
//! ```

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, Axis};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use crate::array::Array;
use crate::complex::Complex64;
use crate::element::Element;
use crate::error::ArrayError;

/// The element types an FFT takes: the real ones (`f64`, `f32`, `i64`)
/// and [`Complex64`].
pub trait FftInput: Element {
    /// The value as a complex number.
    fn to_complex(self) -> Complex<f64>;
}

macro_rules! real_input {
    ($($t:ty),*) => {$(
        impl FftInput for $t {
            fn to_complex(self) -> Complex<f64> {
                Complex::new(self as f64, 0.0)
            }
        }
    )*};
}
real_input!(f64, f32, i64);

impl FftInput for Complex64 {
    fn to_complex(self) -> Complex<f64> {
        self.into()
    }
}

/// The real element types [`rfft`] takes.
pub trait RealFftInput: FftInput {}
impl RealFftInput for f64 {}
impl RealFftInput for f32 {}
impl RealFftInput for i64 {}

/// What one lane becomes.
#[derive(Clone, Copy)]
enum Kind {
    /// Complex to complex, forward or inverse.
    Full { inverse: bool },
    /// Real to the first `n/2 + 1` coefficients.
    Real,
    /// The first `n/2 + 1` coefficients of a Hermitian spectrum to `n`
    /// real values.
    InverseReal,
}

/// Checks the axis (one chunk) and resolves it and `n`.
fn axis_of<T: Element>(
    x: &Array<T>,
    op: &str,
    n: Option<usize>,
    axis: isize,
    default_n: impl Fn(usize) -> usize,
) -> Result<(usize, usize), ArrayError> {
    let nd = x.ndim() as isize;
    let a = if axis < 0 { axis + nd } else { axis };
    if a < 0 || a >= nd {
        return Err(ArrayError::Axis {
            array: x.name().to_string(),
            axis,
            ndim: x.ndim(),
        });
    }
    let a = a as usize;
    if x.chunks()[a].len() != 1 {
        return Err(ArrayError::Chunks {
            array: x.name().to_string(),
            message: format!(
                "{op} along axis {axis}, which has chunks {:?}: an FFT's axis must be one chunk \
                 (as Dask's); rechunk it first, e.g. with FULL along that axis",
                x.chunks()[a]
            ),
        });
    }
    let n = n.unwrap_or_else(|| default_n(x.shape()[a]));
    if n == 0 {
        return Err(ArrayError::Shape {
            array: x.name().to_string(),
            message: format!("{op}: {n} points along axis {axis}; an FFT needs at least one"),
        });
    }
    Ok((a, n))
}

/// The transform of every lane of `chunk` along `axis`.
fn transform<T: FftInput, U: Element>(
    chunk: ArrayViewD<'_, T>,
    axis: usize,
    n: usize,
    out_len: usize,
    kind: Kind,
    plan: &Arc<dyn Fft<f64>>,
    put: impl Fn(Complex<f64>) -> U,
) -> ArrayD<U> {
    let mut shape = chunk.shape().to_vec();
    shape[axis] = out_len;
    let mut out = ArrayD::<U>::default(shape);
    let mut buf = vec![Complex::new(0.0, 0.0); n];
    let mut scratch = vec![Complex::new(0.0, 0.0); plan.get_inplace_scratch_len()];
    let scale = match kind {
        Kind::Full { inverse: false } | Kind::Real => 1.0,
        _ => 1.0 / n as f64,
    };
    for (lane, mut dst) in chunk
        .lanes(Axis(axis))
        .into_iter()
        .zip(out.lanes_mut(Axis(axis)))
    {
        buf.iter_mut().for_each(|b| *b = Complex::new(0.0, 0.0));
        match kind {
            Kind::InverseReal => {
                // the Hermitian spectrum from its first n/2 + 1 values
                let half = n / 2 + 1;
                for (k, v) in lane.iter().take(half).enumerate() {
                    let c = v.to_complex();
                    buf[k] = c;
                    if k > 0 && n - k >= half {
                        buf[n - k] = c.conj();
                    }
                }
            }
            _ => {
                for (b, v) in buf.iter_mut().zip(lane.iter()) {
                    *b = v.to_complex();
                }
            }
        }
        plan.process_with_scratch(&mut buf, &mut scratch);
        for (d, b) in dst.iter_mut().zip(&buf) {
            *d = put(b * scale);
        }
    }
    out
}

fn run<T: FftInput, U: Element>(
    x: &Array<T>,
    op: &'static str,
    n: Option<usize>,
    axis: isize,
    kind: Kind,
    put: fn(Complex<f64>) -> U,
) -> Result<Array<U>, ArrayError> {
    let default_n = |len: usize| match kind {
        Kind::InverseReal => 2 * len.saturating_sub(1),
        _ => len,
    };
    let (a, n) = axis_of(x, op, n, axis, default_n)?;
    let out_len = match kind {
        Kind::Real => n / 2 + 1,
        _ => n,
    };
    let mut planner = FftPlanner::<f64>::new();
    let plan = match kind {
        Kind::Full { inverse: false } | Kind::Real => planner.plan_fft_forward(n),
        _ => planner.plan_fft_inverse(n),
    };
    let mut chunks = x.chunks().to_vec();
    chunks[a] = vec![out_len];
    let name = format!("{op}-n{n}-axis{a}");
    x.map_blocks_with_chunks(&name, chunks, move |chunk, _| {
        transform(chunk, a, n, out_len, kind, &plan, put)
    })
}

/// NumPy's and Dask's `fft.fft(x, n, axis)`: the discrete Fourier
/// transform along `axis` (negative counts from the end; `-1` is Dask's
/// default), over `n` points (default: the axis length; shorter lanes
/// are padded with zeros, longer ones truncated). The axis must be one
/// chunk.
pub fn fft<T: FftInput>(
    x: &Array<T>,
    n: Option<usize>,
    axis: isize,
) -> Result<Array<Complex64>, ArrayError> {
    run(
        x,
        "fft",
        n,
        axis,
        Kind::Full { inverse: false },
        Complex64::from,
    )
}

/// NumPy's `fft.ifft`: the inverse of [`fft`], divided by `n`.
pub fn ifft<T: FftInput>(
    x: &Array<T>,
    n: Option<usize>,
    axis: isize,
) -> Result<Array<Complex64>, ArrayError> {
    run(
        x,
        "ifft",
        n,
        axis,
        Kind::Full { inverse: true },
        Complex64::from,
    )
}

/// NumPy's `fft.rfft`: the transform of real input, its first `n/2 + 1`
/// coefficients (the others are their conjugates).
pub fn rfft<T: RealFftInput>(
    x: &Array<T>,
    n: Option<usize>,
    axis: isize,
) -> Result<Array<Complex64>, ArrayError> {
    run(x, "rfft", n, axis, Kind::Real, Complex64::from)
}

/// NumPy's `fft.irfft`: the inverse of [`rfft`], `n` real values per
/// lane (default `2 (m - 1)` for `m` coefficients) from the first
/// `n/2 + 1` coefficients, divided by `n`.
pub fn irfft<T: FftInput>(
    x: &Array<T>,
    n: Option<usize>,
    axis: isize,
) -> Result<Array<f64>, ArrayError> {
    run(x, "irfft", n, axis, Kind::InverseReal, |c: Complex<f64>| {
        c.re
    })
}
