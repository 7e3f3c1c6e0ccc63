//! Element types: what an [`Array`](crate::Array) holds.
//!
//! [`Element`] is any type a chunk can hold and a file can store (`f64`,
//! `f32`, `i64`, `bool`); [`Number`] adds arithmetic (`f64`, `f32`, `i64`)
//! and [`Float`] the functions of real numbers (`f64`, `f32`). [`Cast`]
//! converts between them as Rust's `as` does (`Array::astype`).

use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

/// A type an array can hold: copied freely, sent between threads, stored
/// in `.npy` and Zarr files.
pub trait Element:
    Copy
    + Send
    + Sync
    + Default
    + PartialEq
    + PartialOrd
    + fmt::Debug
    + fmt::Display
    + zarrs::array::Element
    + zarrs::array::ElementOwned
    + serde::Serialize
    + serde::de::DeserializeOwned
    + 'static
{
    /// The name printed in `dtype=...` (`f64`, `f32`, `i64`, `bool`).
    const DTYPE: &'static str;
    /// The `.npy` type descriptor (`<f8`, `<f4`, `<i8`, `|b1`).
    const NPY_DESCR: &'static str;
    /// Bytes per element.
    const SIZE: usize;
    /// NaN for floats; the default value for the other types (what an
    /// all-NaN `nanmin` gives).
    fn nan() -> Self {
        Self::default()
    }
    /// Whether the value is a NaN (never, for integers and booleans).
    fn is_nan(self) -> bool {
        false
    }
    /// The value's bits, for tokens.
    fn bits(self) -> u64;
    /// Appends the little-endian bytes of the value.
    fn write_le(self, out: &mut Vec<u8>);
    /// The value from `SIZE` little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
    /// The Zarr data type.
    fn zarr_data_type() -> zarrs::array::DataType;
    /// The Zarr fill value (zero, false).
    fn zarr_fill_value() -> zarrs::array::FillValue;
}

/// An element with arithmetic: `f64`, `f32`, `i64`. Integer arithmetic
/// is Rust's (a division by zero panics, and so fails its task).
pub trait Number:
    Element
    + ndarray::LinalgScalar
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Rem<Output = Self>
    + Neg<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// `self` to the integer power `n` (for integers, a negative `n` gives 0
    /// unless `self` is 1 or -1, as with exact arithmetic truncated).
    fn powi(self, n: i32) -> Self;
    /// The absolute value.
    fn abs(self) -> Self;
    /// NumPy's `sign`: -1, 0 or 1 (NaN stays NaN).
    fn sign(self) -> Self {
        if self > Self::ZERO {
            Self::ONE
        } else if self < Self::ZERO {
            -Self::ONE
        } else {
            self
        }
    }
    /// Whether the value is infinite (never, for integers).
    fn is_infinite(self) -> bool {
        false
    }
    /// The value as `f64`.
    fn to_f64(self) -> f64;
    /// The nearest value of this type to `v` (`as`).
    fn from_f64(v: f64) -> Self;
    /// `dst += a · b` for two 2-d blocks: the kernel that `matmul`, `dot`
    /// and `tensordot` run on each pair of blocks. `f64` and `f32` use
    /// `faer`'s GEMM on one thread; the default (integers) is `ndarray`'s
    /// generic product.
    fn gemm_add(
        mut dst: ndarray::ArrayViewMut2<'_, Self>,
        a: ndarray::ArrayView2<'_, Self>,
        b: ndarray::ArrayView2<'_, Self>,
    ) {
        ndarray::linalg::general_mat_mul(Self::ONE, &a, &b, Self::ONE, &mut dst);
    }
}

/// A floating-point element: `f64`, `f32`.
pub trait Float: Number {
    /// Square root.
    fn sqrt(self) -> Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `self^p`.
    fn powf(self, p: Self) -> Self;
    /// Not a number.
    const NAN: Self;
    /// The functions of real numbers, as the primitive types' methods of
    /// the same names (`round_ties_even` for NumPy's `round`).
    fn sin(self) -> Self;
    /// See [`Float::sin`].
    fn cos(self) -> Self;
    /// See [`Float::sin`].
    fn tan(self) -> Self;
    /// See [`Float::sin`].
    fn asin(self) -> Self;
    /// See [`Float::sin`].
    fn acos(self) -> Self;
    /// See [`Float::sin`].
    fn atan(self) -> Self;
    /// See [`Float::sin`].
    fn sinh(self) -> Self;
    /// See [`Float::sin`].
    fn cosh(self) -> Self;
    /// See [`Float::sin`].
    fn tanh(self) -> Self;
    /// See [`Float::sin`].
    fn exp_m1(self) -> Self;
    /// See [`Float::sin`].
    fn ln_1p(self) -> Self;
    /// See [`Float::sin`].
    fn log2(self) -> Self;
    /// See [`Float::sin`].
    fn log10(self) -> Self;
    /// See [`Float::sin`].
    fn cbrt(self) -> Self;
    /// See [`Float::sin`].
    fn floor(self) -> Self;
    /// See [`Float::sin`].
    fn ceil(self) -> Self;
    /// See [`Float::sin`].
    fn round_ties_even(self) -> Self;
    /// See [`Float::sin`].
    fn trunc(self) -> Self;
    /// See [`Float::sin`].
    fn exp2(self) -> Self;
    /// See [`Float::sin`].
    fn to_degrees(self) -> Self;
    /// See [`Float::sin`].
    fn to_radians(self) -> Self;
    /// The angle of the point `(other, self)`, as `f64::atan2`.
    fn atan2(self, other: Self) -> Self;
    /// `sqrt(self² + other²)` without overflow, as `f64::hypot`.
    fn hypot(self, other: Self) -> Self;
}

/// Conversion of one element type into another, as Rust's `as` does
/// (`true as i64` is 1; `2.7_f64 as i64` is 2).
pub trait Cast<U> {
    /// The converted value.
    fn cast(self) -> U;
}

macro_rules! float_fns {
    ($t:ty; $($f:ident)*) => {$(
        #[inline(always)]
        fn $f(self) -> Self {
            <$t>::$f(self)
        }
    )*};
}

macro_rules! float {
    ($t:ty, $name:literal, $descr:literal, $zarr:ident) => {
        impl Element for $t {
            const DTYPE: &'static str = $name;
            const NPY_DESCR: &'static str = $descr;
            const SIZE: usize = std::mem::size_of::<$t>();
            fn is_nan(self) -> bool {
                self.is_nan()
            }
            fn nan() -> Self {
                <$t>::NAN
            }
            fn bits(self) -> u64 {
                self.to_bits() as u64
            }
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn read_le(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("element size"))
            }
            fn zarr_data_type() -> zarrs::array::DataType {
                zarrs::array::DataType::$zarr
            }
            fn zarr_fill_value() -> zarrs::array::FillValue {
                zarrs::array::FillValue::from(0 as $t)
            }
        }
        impl Number for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn is_infinite(self) -> bool {
                <$t>::is_infinite(self)
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn gemm_add(
                dst: ndarray::ArrayViewMut2<'_, Self>,
                a: ndarray::ArrayView2<'_, Self>,
                b: ndarray::ArrayView2<'_, Self>,
            ) {
                crate::kernel::gemm(dst, a, b)
            }
        }
        impl Float for $t {
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn powf(self, p: Self) -> Self {
                <$t>::powf(self, p)
            }
            const NAN: Self = <$t>::NAN;
            float_fns!($t; sin cos tan asin acos atan sinh cosh tanh exp_m1 ln_1p log2 log10
                cbrt floor ceil round_ties_even trunc exp2 to_degrees to_radians);
            fn atan2(self, other: Self) -> Self {
                <$t>::atan2(self, other)
            }
            fn hypot(self, other: Self) -> Self {
                <$t>::hypot(self, other)
            }
        }
    };
}
float!(f64, "f64", "<f8", Float64);
float!(f32, "f32", "<f4", Float32);

impl Element for i64 {
    const DTYPE: &'static str = "i64";
    const NPY_DESCR: &'static str = "<i8";
    const SIZE: usize = 8;
    fn bits(self) -> u64 {
        self as u64
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        i64::from_le_bytes(bytes.try_into().expect("element size"))
    }
    fn zarr_data_type() -> zarrs::array::DataType {
        zarrs::array::DataType::Int64
    }
    fn zarr_fill_value() -> zarrs::array::FillValue {
        zarrs::array::FillValue::from(0_i64)
    }
}

impl Number for i64 {
    const ZERO: Self = 0;
    const ONE: Self = 1;
    fn powi(self, n: i32) -> Self {
        if n >= 0 {
            self.wrapping_pow(n as u32)
        } else {
            match self {
                1 => 1,
                -1 if n % 2 == 0 => 1,
                -1 => -1,
                _ => 0,
            }
        }
    }
    fn abs(self) -> Self {
        self.wrapping_abs()
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as i64
    }
}

impl Element for bool {
    const DTYPE: &'static str = "bool";
    const NPY_DESCR: &'static str = "|b1";
    const SIZE: usize = 1;
    fn bits(self) -> u64 {
        self as u64
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.push(self as u8);
    }
    fn read_le(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
    fn zarr_data_type() -> zarrs::array::DataType {
        zarrs::array::DataType::Bool
    }
    fn zarr_fill_value() -> zarrs::array::FillValue {
        zarrs::array::FillValue::from(false)
    }
}

macro_rules! cast_as {
    ($from:ty => $($to:ty),*) => {$(
        impl Cast<$to> for $from {
            #[inline(always)]
            fn cast(self) -> $to {
                self as $to
            }
        }
    )*};
}
cast_as!(f64 => f64, f32, i64);
cast_as!(f32 => f64, f32, i64);
cast_as!(i64 => f64, f32, i64);
macro_rules! cast_bool {
    ($($to:ty: $one:expr, $zero:expr),*) => {$(
        impl Cast<$to> for bool {
            #[inline(always)]
            fn cast(self) -> $to {
                if self { $one } else { $zero }
            }
        }
        impl Cast<bool> for $to {
            #[inline(always)]
            fn cast(self) -> bool {
                self != $zero
            }
        }
    )*};
}
cast_bool!(f64: 1.0, 0.0, f32: 1.0, 0.0, i64: 1, 0);
impl Cast<bool> for bool {
    #[inline(always)]
    fn cast(self) -> bool {
        self
    }
}

/// Registers the codecs of the values an array of `T` makes (its chunks
/// and the partial results of its reductions), once per type, so that
/// executors that move values between processes can move them.
pub(crate) fn register_codecs<T: Element>() {
    use std::any::TypeId;
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static DONE: OnceLock<Mutex<HashSet<TypeId>>> = OnceLock::new();
    let done = DONE.get_or_init(Default::default);
    let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
    if !done.insert(TypeId::of::<T>()) {
        return;
    }
    use ndarray::ArrayD;
    use rask_graph::codec::register;
    register::<ArrayD<T>>();
    register::<ArrayD<Option<T>>>();
    register::<ArrayD<(T, i64)>>();
    register::<ArrayD<(f64, f64)>>();
    register::<ArrayD<(f64, f64, f64)>>();
}
