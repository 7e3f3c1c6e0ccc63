//! [`Complex64`]: the complex element type that [`fft`](crate::fft)
//! returns (NumPy's `complex128`).
//!
//! It is rask's own pair of `f64`s rather than `num_complex::Complex64`
//! because an [`Element`] must be ordered: complex numbers are ordered as
//! NumPy sorts them, by real part and then by imaginary part. Arrays of
//! them compute, persist, move between processes and store to Zarr
//! (`complex128`) and `.npy` (`<c16`) like the other element types;
//! `re`, `im` and `abs` turn them back into real arrays.

use std::fmt;

use rustfft::num_complex::Complex;

use crate::array::Array;
use crate::element::Element;

/// A complex number of two `f64`s (NumPy's `complex128`), ordered by
/// real part, then imaginary part, as NumPy sorts complex values.
///
/// ```
/// use rask::array::Complex64;
/// let z = Complex64::new(3.0, -4.0);
/// assert_eq!((z.abs(), z.to_string()), (5.0, "(3-4j)".to_string()));
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, PartialOrd, serde::Serialize, serde::Deserialize,
)]
#[repr(C)]
pub struct Complex64 {
    /// The real part.
    pub re: f64,
    /// The imaginary part.
    pub im: f64,
}

impl Complex64 {
    /// `re + im·j`.
    pub const fn new(re: f64, im: f64) -> Complex64 {
        Complex64 { re, im }
    }

    /// The modulus `|z|`.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }
}

impl From<Complex<f64>> for Complex64 {
    fn from(c: Complex<f64>) -> Complex64 {
        Complex64::new(c.re, c.im)
    }
}

impl From<Complex64> for Complex<f64> {
    fn from(c: Complex64) -> Complex<f64> {
        Complex::new(c.re, c.im)
    }
}

impl fmt::Display for Complex64 {
    /// NumPy's spelling: `(1+2j)`, `(1-2j)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.im.is_sign_negative() { '-' } else { '+' };
        write!(f, "({}{sign}{}j)", self.re, self.im.abs())
    }
}

impl zarrs::array::Element for Complex64 {
    fn validate_data_type(
        data_type: &zarrs::array::DataType,
    ) -> Result<(), zarrs::array::ArrayError> {
        <Complex<f64> as zarrs::array::Element>::validate_data_type(data_type)
    }

    fn into_array_bytes<'a>(
        data_type: &zarrs::array::DataType,
        elements: &'a [Self],
    ) -> Result<zarrs::array::ArrayBytes<'a>, zarrs::array::ArrayError> {
        let raw: Vec<Complex<f64>> = elements.iter().map(|&c| c.into()).collect();
        Ok(
            <Complex<f64> as zarrs::array::Element>::into_array_bytes(data_type, &raw)?
                .into_owned(),
        )
    }
}

impl zarrs::array::ElementOwned for Complex64 {
    fn from_array_bytes(
        data_type: &zarrs::array::DataType,
        bytes: zarrs::array::ArrayBytes<'_>,
    ) -> Result<Vec<Self>, zarrs::array::ArrayError> {
        let raw = <Complex<f64> as zarrs::array::ElementOwned>::from_array_bytes(data_type, bytes)?;
        Ok(raw.into_iter().map(Complex64::from).collect())
    }
}

impl Element for Complex64 {
    const DTYPE: &'static str = "c128";
    const NPY_DESCR: &'static str = "<c16";
    const SIZE: usize = 16;
    fn nan() -> Self {
        Complex64::new(f64::NAN, f64::NAN)
    }
    fn is_nan(self) -> bool {
        self.re.is_nan() || self.im.is_nan()
    }
    fn bits(self) -> u64 {
        self.re.to_bits()
            ^ self
                .im
                .to_bits()
                .rotate_left(29)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.re.to_le_bytes());
        out.extend_from_slice(&self.im.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        let part = |b: &[u8]| f64::from_le_bytes(b.try_into().expect("8 bytes"));
        Complex64::new(part(&bytes[..8]), part(&bytes[8..16]))
    }
    fn zarr_data_type() -> zarrs::array::DataType {
        zarrs::array::DataType::Complex128
    }
    fn zarr_fill_value() -> zarrs::array::FillValue {
        zarrs::array::FillValue::from(Complex::<f64>::new(0.0, 0.0))
    }
}

impl Array<Complex64> {
    /// The real parts (NumPy's `x.real`).
    pub fn re(&self) -> Array<f64> {
        self.map("complex-real", |z: Complex64| z.re)
    }

    /// The imaginary parts (NumPy's `x.imag`).
    pub fn im(&self) -> Array<f64> {
        self.map("complex-imag", |z: Complex64| z.im)
    }

    /// The moduli (NumPy's `abs(x)`).
    pub fn abs(&self) -> Array<f64> {
        self.map("complex-abs", Complex64::abs)
    }
}
