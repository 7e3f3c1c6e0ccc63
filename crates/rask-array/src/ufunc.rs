//! NumPy's universal functions with NumPy's names: the functions of real
//! numbers (`sin`, `log10`, `floor`, `round`, ...), `sign`, `clip`, the
//! tests `isnan`/`isinf`/`isfinite`, and `where` (spelled [`where_`], as
//! `where` is a Rust keyword).
//!
//! Every one is elementwise: it builds no task of its own but a step of
//! the expression the next operation fuses into its tasks (see the `expr`
//! module), so `x.sin().abs().sum()` is still one task per chunk and a
//! tree of partial sums.
//!
//! ```
//! use rask::array::{arange, where_};
//! let x = arange(6, 4).astype::<f64>() - 2;         // -2 -1 0 1 2 3
//! let y = where_(&x.gt(0).unwrap(), &x.log2(), 0.0).unwrap();
//! let got = y.compute(&rask::Sync).unwrap();
//! assert_eq!(got.as_slice().unwrap(), &[0.0, 0.0, 0.0, 0.0, 1.0, 3f64.log2()]);
//! ```

use crate::array::Array;
use crate::element::{Element, Float, Number};
use crate::elementwise::Operand;
use crate::error::ArrayError;
use crate::token::Tokenizer;

macro_rules! float_ufuncs {
    ($($name:ident $method:ident $doc:literal;)*) => {
        impl<T: Float> Array<T> {$(
            #[doc = $doc]
            pub fn $name(&self) -> Array<T> {
                self.map_same(stringify!($name), Tokenizer::new(stringify!($name)), |v: T| v.$method())
            }
        )*}
    };
}

float_ufuncs! {
    sin sin "The sine of each element (radians), as NumPy's `sin`.";
    cos cos "The cosine of each element, as NumPy's `cos`.";
    tan tan "The tangent of each element, as NumPy's `tan`.";
    arcsin asin "The inverse sine of each element, as NumPy's `arcsin`.";
    arccos acos "The inverse cosine of each element, as NumPy's `arccos`.";
    arctan atan "The inverse tangent of each element, as NumPy's `arctan`.";
    sinh sinh "The hyperbolic sine of each element, as NumPy's `sinh`.";
    cosh cosh "The hyperbolic cosine of each element, as NumPy's `cosh`.";
    tanh tanh "The hyperbolic tangent of each element, as NumPy's `tanh`.";
    expm1 exp_m1 "`exp(x) - 1` of each element, exact near 0, as NumPy's `expm1`.";
    log ln "The natural logarithm of each element, as NumPy's `log` (also `ln`).";
    log1p ln_1p "`log(1 + x)` of each element, exact near 0, as NumPy's `log1p`.";
    log2 log2 "The base-2 logarithm of each element, as NumPy's `log2`.";
    log10 log10 "The base-10 logarithm of each element, as NumPy's `log10`.";
    cbrt cbrt "The cube root of each element, as NumPy's `cbrt`.";
    floor floor "The largest integer not above each element, as NumPy's `floor`.";
    ceil ceil "The smallest integer not below each element, as NumPy's `ceil`.";
    round round_ties_even "Each element rounded to the nearest integer, halves to even, as NumPy's `round` (`round(2.5)` is 2).";
    trunc trunc "Each element rounded towards zero, as NumPy's `trunc`.";
    exp2 exp2 "`2^x` of each element, as NumPy's `exp2`.";
    degrees to_degrees "Each angle from radians to degrees, as NumPy's `degrees`.";
    radians to_radians "Each angle from degrees to radians, as NumPy's `radians`.";
}

impl<T: Float> Array<T> {
    /// `1 / x` of each element, as NumPy's `reciprocal` of floats.
    pub fn reciprocal(&self) -> Array<T> {
        self.map_same("reciprocal", Tokenizer::new("reciprocal"), |v: T| {
            T::ONE / v
        })
    }

    /// The angle of each point `(other, self)` in radians, broadcast, as
    /// NumPy's `arctan2(self, other)`.
    ///
    /// ```
    /// use rask::array::from_ndarray;
    /// let y = from_ndarray(&rask::ndarray::arr1(&[1.0, 3.0]), 1).unwrap();
    /// let x = from_ndarray(&rask::ndarray::arr1(&[1.0, 4.0]), 2).unwrap();
    /// assert_eq!(y.hypot(&x).unwrap().compute(&rask::Sync).unwrap().as_slice().unwrap(), &[2f64.sqrt(), 5.0]);
    /// assert_eq!(y.arctan2(&x).unwrap().compute(&rask::Sync).unwrap()[0], std::f64::consts::FRAC_PI_4);
    /// ```
    pub fn arctan2(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        self.zip_same(other, "arctan2", |a: T, b: T| a.atan2(b))
    }

    /// `sqrt(self² + other²)` of each pair, broadcast, as NumPy's `hypot`.
    pub fn hypot(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        self.zip_same(other, "hypot", |a: T, b: T| a.hypot(b))
    }
}

impl<T: Number> Array<T> {
    /// `x * x` of each element, as NumPy's `square`.
    pub fn square(&self) -> Array<T> {
        self.powi(2)
    }

    /// The absolute value of each element, as NumPy's `absolute` (also
    /// `abs`).
    pub fn absolute(&self) -> Array<T> {
        self.abs()
    }

    /// `-x` of each element, as NumPy's `negative` (also the `-`
    /// operator).
    pub fn negative(&self) -> Array<T> {
        -self
    }
}

impl<T: Number> Array<T> {
    /// The sign of each element, -1, 0 or 1 (NaN stays NaN), as NumPy's
    /// `sign`.
    pub fn sign(&self) -> Array<T> {
        self.map_same("sign", Tokenizer::new("sign"), |v: T| v.sign())
    }

    /// Whether each element is NaN (never, for integers), as NumPy's
    /// `isnan`.
    pub fn isnan(&self) -> Array<bool> {
        self.convert("isnan", Tokenizer::new("isnan"), |v: T| v.is_nan())
    }

    /// Whether each element is infinite, as NumPy's `isinf`.
    pub fn isinf(&self) -> Array<bool> {
        self.convert("isinf", Tokenizer::new("isinf"), |v: T| v.is_infinite())
    }

    /// Whether each element is neither infinite nor NaN, as NumPy's
    /// `isfinite`.
    pub fn isfinite(&self) -> Array<bool> {
        self.convert("isfinite", Tokenizer::new("isfinite"), |v: T| {
            !v.is_nan() && !v.is_infinite()
        })
    }

    /// Each element limited to `[min, max]`, as NumPy's `clip`: the bounds
    /// are scalars of any numeric type or arrays (broadcast).
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(6, 4);
    /// let y = x.clip(1, 4).unwrap();
    /// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1, 1, 2, 3, 4, 4]);
    /// let z = x.clip(&(&x - 1), 3).unwrap();
    /// assert_eq!(z.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0, 1, 2, 3, 3, 3]);
    /// ```
    pub fn clip<'a, 'b>(
        &self,
        min: impl Into<Operand<'a, T>>,
        max: impl Into<Operand<'b, T>>,
    ) -> Result<Array<T>, ArrayError> {
        match (min.into(), max.into()) {
            (Operand::Scalar(lo), Operand::Scalar(hi)) => {
                let mut tok = Tokenizer::new("clip");
                tok.u64(lo.bits()).u64(hi.bits());
                Ok(self.map_same("clip", tok, move |v: T| {
                    if v.is_nan() {
                        v
                    } else if v < lo {
                        lo
                    } else if v > hi {
                        hi
                    } else {
                        v
                    }
                }))
            }
            (lo, hi) => self.maximum(lo)?.minimum(hi),
        }
    }
}

/// NumPy's `where(condition, a, b)`: `a` where `condition` is true, else
/// `b`; `a` and `b` are arrays or scalars, all broadcast together.
///
/// ```
/// use rask::array::{arange, where_};
/// let x = arange(5, 2);
/// let y = where_(&x.gt(2).unwrap(), &x, -1).unwrap();
/// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[-1, -1, -1, 3, 4]);
/// let z = where_::<i64>(&x.lt(2).unwrap(), 10, 20).unwrap(); // two scalars: name the type
/// assert_eq!(z.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[10, 10, 20, 20, 20]);
/// ```
pub fn where_<'a, 'b, T: Element>(
    condition: &Array<bool>,
    a: impl Into<Operand<'a, T>>,
    b: impl Into<Operand<'b, T>>,
) -> Result<Array<T>, ArrayError> {
    match (a.into(), b.into()) {
        (Operand::Array(a), Operand::Array(b)) => condition.select(a, b),
        (Operand::Array(a), Operand::Scalar(b)) => {
            let mut tok = Tokenizer::new("where");
            tok.str("else").u64(b.bits());
            condition.zip_tok(a, "where", tok, move |c, a| if c { a } else { b })
        }
        (Operand::Scalar(a), Operand::Array(b)) => {
            let mut tok = Tokenizer::new("where");
            tok.str("then").u64(a.bits());
            condition.zip_tok(b, "where", tok, move |c, b| if c { a } else { b })
        }
        (Operand::Scalar(a), Operand::Scalar(b)) => {
            let mut tok = Tokenizer::new("where");
            tok.u64(a.bits()).u64(b.bits());
            Ok(condition.convert("where", tok, move |c| if c { a } else { b }))
        }
    }
}
