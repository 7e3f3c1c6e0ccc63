//! Elementwise operations: arithmetic with scalars and arrays (NumPy's
//! broadcasting), functions of each element, comparisons, `where`, casts.
//!
//! Each returns a lazy array whose expression the next operation fuses
//! (see the `expr` module); nothing is computed per operation. Operands
//! of equal shape and different chunks are cut to the common refinement
//! of their chunks first; an operand broadcast along some axis is read
//! from its chunks (it is usually small), the others are fused.

use std::marker::PhantomData;
use std::ops::{Add, Div, Mul, Neg, Rem, Sub};
use std::sync::Arc;

use crate::array::Array;
use crate::chunks::refine;
use crate::element::{Cast, Element, Float, Number};
use crate::error::ArrayError;
use crate::expr::{Convert, Expr, Map, Zip, Zip3, ZipSame};
use crate::node::Node;
use crate::token::Tokenizer;

/// The result's shape and chunks when broadcasting `nodes` together, and
/// the chunks each operand must be cut into (`None`: as it is).
#[allow(clippy::type_complexity)]
pub(crate) fn unify(
    nodes: &[&Node],
) -> Result<(Vec<usize>, Vec<Vec<usize>>, Vec<Option<Vec<Vec<usize>>>>), ArrayError> {
    let nd = nodes.iter().map(|n| n.shape.len()).max().unwrap_or(0);
    let dim = |n: &Node, k: usize| -> Option<usize> {
        let off = nd - n.shape.len();
        (k >= off).then(|| n.shape[k - off])
    };
    let unknown_at = |n: &Node, k: usize| {
        let off = nd - n.shape.len();
        k >= off && n.unknown_at(k - off)
    };
    // an axis of unknown sizes: every operand has those same chunks, or
    // a (known) length 1 to broadcast
    let mut unknown = vec![None; nd];
    for (k, u) in unknown.iter_mut().enumerate() {
        let Some(first) = nodes.iter().find(|n| unknown_at(n, k)) else {
            continue;
        };
        let own = &first.chunks[k - (nd - first.shape.len())];
        for n in nodes {
            let aligned = match dim(n, k) {
                None => true,
                Some(d) if !unknown_at(n, k) => d == 1,
                Some(_) => n.chunks[k - (nd - n.shape.len())].len() == own.len(),
            };
            if !aligned {
                return Err(ArrayError::UnknownChunks {
                    array: first.name.to_string(),
                    op: format!(
                        "an elementwise operation with {} {:?} (its axis {k} must then have the same number of chunks, or length 1)",
                        n.name, n.shape
                    ),
                });
            }
        }
        *u = Some(own.clone());
    }
    let mut shape = Vec::with_capacity(nd);
    for (k, u) in unknown.iter().enumerate() {
        if u.is_some() {
            shape.push(0);
            continue;
        }
        let mut out: Option<(usize, &Node)> = None;
        for n in nodes {
            match (dim(n, k), out) {
                (None | Some(1), _) => {}
                (Some(d), None) => out = Some((d, n)),
                (Some(d), Some((o, first))) if d != o => {
                    return Err(ArrayError::Broadcast {
                        left: first.name.to_string(),
                        left_shape: first.shape.clone(),
                        right: n.name.to_string(),
                        right_shape: n.shape.clone(),
                    })
                }
                _ => {}
            }
        }
        shape.push(out.map_or(1, |(d, _)| d));
    }
    let mut grid = Vec::with_capacity(nd);
    for (k, &len) in shape.iter().enumerate() {
        if let Some(own) = &unknown[k] {
            grid.push(own.clone());
            continue;
        }
        let mut c: Option<Vec<usize>> = None;
        for n in nodes {
            if dim(n, k) == Some(len) {
                let own = &n.chunks[k - (nd - n.shape.len())];
                c = Some(match c {
                    None => own.clone(),
                    Some(c) => refine(&c, own),
                });
            }
        }
        grid.push(c.unwrap_or_else(|| vec![len]));
    }
    let targets = nodes
        .iter()
        .map(|n| {
            let off = nd - n.shape.len();
            let want: Vec<Vec<usize>> = n
                .shape
                .iter()
                .enumerate()
                .map(|(kl, &d)| {
                    if n.unknown_at(kl) {
                        n.chunks[kl].clone()
                    } else if unknown[kl + off].is_none() && d == shape[kl + off] {
                        grid[kl + off].clone()
                    } else {
                        n.chunks[kl].clone()
                    }
                })
                .collect();
            (want != **n.chunks).then_some(want)
        })
        .collect();
    Ok((shape, grid, targets))
}

/// An operand of a binary operation: an array or a scalar.
#[derive(Debug)]
pub enum Operand<'a, T: Element> {
    /// An array (broadcast against the other operand).
    Array(&'a Array<T>),
    /// A scalar.
    Scalar(T),
}

impl<'a, T: Element> From<&'a Array<T>> for Operand<'a, T> {
    fn from(a: &'a Array<T>) -> Self {
        Operand::Array(a)
    }
}
impl<'a> From<bool> for Operand<'a, bool> {
    fn from(v: bool) -> Self {
        Operand::Scalar(v)
    }
}

/// A Rust number usable as a scalar operand of an array of `T`: every
/// primitive number for a float array, every integer for an `i64` array
/// (a float scalar with an integer array: cast the array with
/// [`Array::astype`] first). It is converted to `T` as `as` does.
///
/// ```
/// use rask::array::arange;
/// let x = arange(4, 2);                           // i64
/// let y = (&x + 100_u8) * 2;                      // any integer type
/// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[200, 202, 204, 206]);
/// let z = 0.5 * &x.astype::<f64>() + 1;           // an integer with a float array
/// assert_eq!(z.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1.0, 1.5, 2.0, 2.5]);
/// ```
pub trait Scalar<T>: Copy {
    /// The scalar as a `T`.
    fn to_element(self) -> T;
}

macro_rules! scalars {
    ($t:ty; $($s:ty),*) => {$(
        impl Scalar<$t> for $s {
            #[inline(always)]
            fn to_element(self) -> $t {
                self as $t
            }
        }
    )*
        impl<'a, S: Scalar<$t>> From<S> for Operand<'a, $t> {
            fn from(v: S) -> Self {
                Operand::Scalar(v.to_element())
            }
        }
    };
}
scalars!(f64; f64, f32, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
scalars!(f32; f64, f32, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
scalars!(i64; i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl<T: Element> Array<T> {
    /// The expression of an operand of a result of shape `shape`: fused
    /// when it has that shape, read from its chunks when broadcast.
    fn operand_expr(&self, shape: &[usize]) -> Arc<dyn Expr<T>> {
        if self.shape() == shape {
            self.source()
        } else {
            self.input()
        }
    }

    pub(crate) fn cut(&self, target: &Option<Vec<Vec<usize>>>) -> Array<T> {
        match target {
            Some(g) => self.rechunk_grid(g.clone()),
            None => self.clone(),
        }
    }

    /// `f` of each element, same type, named `op` with `tok`.
    pub(crate) fn map_same<F>(&self, op: &'static str, mut tok: Tokenizer, f: F) -> Array<T>
    where
        F: Fn(T) -> T + Clone + Send + Sync + 'static,
    {
        tok.str(self.name());
        let fused = Arc::new(Map {
            inner: self.source(),
            f: f.clone(),
        });
        let shallow = Arc::new(Map {
            inner: self.input(),
            f,
        });
        Array::elementwise(
            tok.finish(),
            op,
            self.shape().to_vec(),
            self.node.chunks.clone(),
            fused,
            shallow,
        )
    }

    /// `f` of each element, into another type.
    pub(crate) fn convert<U: Element, F>(
        &self,
        op: &'static str,
        mut tok: Tokenizer,
        f: F,
    ) -> Array<U>
    where
        F: Fn(T) -> U + Clone + Send + Sync + 'static,
    {
        tok.str(self.name()).str(U::DTYPE);
        let fused = Arc::new(Convert {
            inner: self.source(),
            f: f.clone(),
            _u: PhantomData,
        });
        let shallow = Arc::new(Convert {
            inner: self.input(),
            f,
            _u: PhantomData,
        });
        Array::elementwise(
            tok.finish(),
            op,
            self.shape().to_vec(),
            self.node.chunks.clone(),
            fused,
            shallow,
        )
    }

    /// `f(a, b)` of two broadcast arrays of this type.
    pub(crate) fn zip_same<F>(
        &self,
        other: &Array<T>,
        op: &'static str,
        f: F,
    ) -> Result<Array<T>, ArrayError>
    where
        F: Fn(T, T) -> T + Clone + Send + Sync + 'static,
    {
        let (shape, grid, t) = unify(&[&self.node, &other.node])?;
        let (a, b) = (self.cut(&t[0]), other.cut(&t[1]));
        let mut tok = Tokenizer::new(op);
        tok.str(a.name()).str(b.name());
        let fused = Arc::new(ZipSame {
            a: a.operand_expr(&shape),
            b: b.operand_expr(&shape),
            f: f.clone(),
        });
        let shallow = Arc::new(ZipSame {
            a: a.input(),
            b: b.input(),
            f,
        });
        Ok(Array::elementwise(
            tok.finish(),
            op,
            shape,
            Arc::new(grid),
            fused,
            shallow,
        ))
    }

    /// `f(a, b)` of two broadcast arrays of any types, named `op` with
    /// `tok` (which must hold whatever `f` captures).
    pub(crate) fn zip_tok<U: Element, V: Element, F>(
        &self,
        other: &Array<U>,
        op: &'static str,
        mut tok: Tokenizer,
        f: F,
    ) -> Result<Array<V>, ArrayError>
    where
        F: Fn(T, U) -> V + Clone + Send + Sync + 'static,
    {
        let (shape, grid, t) = unify(&[&self.node, &other.node])?;
        let (a, b) = (self.cut(&t[0]), other.cut(&t[1]));
        tok.str(a.name()).str(b.name());
        Ok(zipped(&a, &b, shape, grid, tok.finish(), op, f))
    }

    /// `f(a, b)` of two broadcast arrays of any types.
    pub fn zip_with<U: Element, V: Element, F>(
        &self,
        other: &Array<U>,
        name: &str,
        f: F,
    ) -> Result<Array<V>, ArrayError>
    where
        F: Fn(T, U) -> V + Clone + Send + Sync + 'static,
    {
        let (shape, grid, t) = unify(&[&self.node, &other.node])?;
        let (a, b) = (self.cut(&t[0]), other.cut(&t[1]));
        let mut tok = Tokenizer::new("zip");
        tok.str(name)
            .str(std::any::type_name::<F>())
            .str(a.name())
            .str(b.name());
        Ok(zipped(&a, &b, shape, grid, tok.finish(), "zip", f))
    }

    fn compare<F>(
        &self,
        rhs: Operand<'_, T>,
        op: &'static str,
        f: F,
    ) -> Result<Array<bool>, ArrayError>
    where
        F: Fn(T, T) -> bool + Copy + Send + Sync + 'static,
    {
        match rhs {
            Operand::Scalar(c) => {
                let mut tok = Tokenizer::new(op);
                tok.u64(c.bits());
                Ok(self.convert(op, tok, move |a| f(a, c)))
            }
            Operand::Array(b) => {
                let (shape, grid, t) = unify(&[&self.node, &b.node])?;
                let (a, b) = (self.cut(&t[0]), b.cut(&t[1]));
                let mut tok = Tokenizer::new(op);
                tok.str(a.name()).str(b.name());
                Ok(zipped(&a, &b, shape, grid, tok.finish(), op, f))
            }
        }
    }

    /// `self > rhs`, elementwise (an array or a scalar, broadcast).
    pub fn gt<'a>(&self, rhs: impl Into<Operand<'a, T>>) -> Result<Array<bool>, ArrayError> {
        self.compare(rhs.into(), "gt", |a, b| a > b)
    }
    /// `self >= rhs`, elementwise.
    pub fn ge<'a>(&self, rhs: impl Into<Operand<'a, T>>) -> Result<Array<bool>, ArrayError> {
        self.compare(rhs.into(), "ge", |a, b| a >= b)
    }
    /// `self < rhs`, elementwise.
    pub fn lt<'a>(&self, rhs: impl Into<Operand<'a, T>>) -> Result<Array<bool>, ArrayError> {
        self.compare(rhs.into(), "lt", |a, b| a < b)
    }
    /// `self <= rhs`, elementwise.
    pub fn le<'a>(&self, rhs: impl Into<Operand<'a, T>>) -> Result<Array<bool>, ArrayError> {
        self.compare(rhs.into(), "le", |a, b| a <= b)
    }
    /// `self == rhs`, elementwise.
    pub fn equal<'a>(&self, rhs: impl Into<Operand<'a, T>>) -> Result<Array<bool>, ArrayError> {
        self.compare(rhs.into(), "eq", |a, b| a == b)
    }
    /// `self != rhs`, elementwise.
    pub fn not_equal<'a>(&self, rhs: impl Into<Operand<'a, T>>) -> Result<Array<bool>, ArrayError> {
        self.compare(rhs.into(), "ne", |a, b| a != b)
    }

    /// A user function of each element, fused like the built-in ones.
    /// `name` identifies `f` in the keys: give different functions
    /// different names.
    ///
    /// ```
    /// let y = rask::array::arange(4, 2).map("half-up", |v| (v as f64 / 2.0).ceil());
    /// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0.0, 1.0, 1.0, 2.0]);
    /// ```
    pub fn map<U: Element, F>(&self, name: &str, f: F) -> Array<U>
    where
        F: Fn(T) -> U + Clone + Send + Sync + 'static,
    {
        let mut tok = Tokenizer::new("map");
        tok.str(name).str(std::any::type_name::<F>());
        self.convert("map", tok, f)
    }

    /// The elements converted to `U` as Rust's `as` does.
    pub fn astype<U: Element>(&self) -> Array<U>
    where
        T: Cast<U>,
    {
        self.convert("astype", Tokenizer::new("astype"), |v: T| v.cast())
    }
}

impl Array<bool> {
    /// NumPy's `where(self, a, b)`: `a` where `self` is true, else `b`,
    /// all three broadcast together.
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(5, 2);
    /// let y = x.gt(2).unwrap().select(&x, &(&x * 10)).unwrap();
    /// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0, 10, 20, 3, 4]);
    /// ```
    pub fn select<T: Element>(&self, a: &Array<T>, b: &Array<T>) -> Result<Array<T>, ArrayError> {
        let (shape, grid, t) = unify(&[&self.node, &a.node, &b.node])?;
        let (c, a, b) = (self.cut(&t[0]), a.cut(&t[1]), b.cut(&t[2]));
        let mut tok = Tokenizer::new("where");
        tok.str(c.name()).str(a.name()).str(b.name());
        let f = |c: bool, a: T, b: T| if c { a } else { b };
        let fused = Arc::new(Zip3 {
            a: c.operand_expr(&shape),
            b: a.operand_expr(&shape),
            c: b.operand_expr(&shape),
            f,
            _v: PhantomData,
        });
        let shallow = Arc::new(Zip3 {
            a: c.input(),
            b: a.input(),
            c: b.input(),
            f,
            _v: PhantomData,
        });
        Ok(Array::elementwise(
            tok.finish(),
            "where",
            shape,
            Arc::new(grid),
            fused,
            shallow,
        ))
    }
}

impl<T: Number> Array<T> {
    /// `self + other`, broadcast; an error for shapes that do not
    /// broadcast (the `+` operator panics with it).
    pub fn try_add(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        self.zip_same(other, "add", |a, b| a + b)
    }
    /// `self - other`, broadcast.
    pub fn try_sub(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        self.zip_same(other, "sub", |a, b| a - b)
    }
    /// `self * other`, broadcast.
    pub fn try_mul(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        self.zip_same(other, "mul", |a, b| a * b)
    }
    /// `self / other`, broadcast.
    pub fn try_div(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        self.zip_same(other, "truediv", |a, b| a / b)
    }
    /// `self % other`, broadcast.
    pub fn try_rem(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        self.zip_same(other, "mod", |a, b| a % b)
    }
    /// The larger of each pair of elements (NumPy's `maximum`; NaN wins),
    /// with an array (broadcast) or a scalar of any numeric type.
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(5, 2).astype::<f64>();
    /// let y = x.maximum(2).unwrap().minimum(&(&x * 0.5 + 2)).unwrap();
    /// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[2.0, 2.0, 2.0, 3.0, 4.0]);
    /// ```
    pub fn maximum<'a>(&self, other: impl Into<Operand<'a, T>>) -> Result<Array<T>, ArrayError> {
        let f = |a: T, b: T| {
            if a.is_nan() || a >= b {
                a
            } else {
                b
            }
        };
        match other.into() {
            Operand::Array(b) => self.zip_same(b, "maximum", f),
            Operand::Scalar(c) => Ok(self.scalar_op("maximum", c, false, move |v| f(v, c))),
        }
    }
    /// The smaller of each pair of elements (NumPy's `minimum`; NaN
    /// wins), with an array or a scalar.
    pub fn minimum<'a>(&self, other: impl Into<Operand<'a, T>>) -> Result<Array<T>, ArrayError> {
        let f = |a: T, b: T| {
            if a.is_nan() || a <= b {
                a
            } else {
                b
            }
        };
        match other.into() {
            Operand::Array(b) => self.zip_same(b, "minimum", f),
            Operand::Scalar(c) => Ok(self.scalar_op("minimum", c, false, move |v| f(v, c))),
        }
    }

    pub(crate) fn scalar_op<F>(&self, op: &'static str, c: T, left: bool, f: F) -> Array<T>
    where
        F: Fn(T) -> T + Clone + Send + Sync + 'static,
    {
        let mut tok = Tokenizer::new(op);
        tok.u64(c.bits()).u64(left as u64);
        self.map_same(op, tok, f)
    }

    /// `self` to the integer power `n` (`x**3`): small powers are
    /// multiplications.
    pub fn powi(&self, n: i32) -> Array<T> {
        let mut tok = Tokenizer::new("pow");
        tok.u64(n as u64);
        match n {
            0 => self.map_same("pow", tok, |_| T::ONE),
            1 => self.map_same("pow", tok, |v| v),
            2 => self.map_same("pow", tok, |v| v * v),
            3 => self.map_same("pow", tok, |v| v * v * v),
            4 => self.map_same("pow", tok, |v| {
                let s = v * v;
                s * s
            }),
            _ => self.map_same("pow", tok, move |v| v.powi(n)),
        }
    }

    /// The absolute value of each element.
    pub fn abs(&self) -> Array<T> {
        self.map_same("absolute", Tokenizer::new("absolute"), |v: T| v.abs())
    }
}

impl<T: Float> Array<T> {
    /// The square root of each element.
    pub fn sqrt(&self) -> Array<T> {
        self.map_same("sqrt", Tokenizer::new("sqrt"), |v: T| v.sqrt())
    }
    /// `e` to the power of each element.
    pub fn exp(&self) -> Array<T> {
        self.map_same("exp", Tokenizer::new("exp"), |v: T| v.exp())
    }
    /// The natural logarithm of each element.
    pub fn ln(&self) -> Array<T> {
        self.map_same("log", Tokenizer::new("log"), |v: T| v.ln())
    }
    /// Each element to the power `p`.
    pub fn powf(&self, p: T) -> Array<T> {
        let mut tok = Tokenizer::new("pow");
        tok.u64(p.bits()).str("f");
        self.map_same("pow", tok, move |v: T| v.powf(p))
    }
    /// `self ** other`, elementwise, broadcast.
    pub fn try_pow(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        self.zip_same(other, "pow", |a: T, b: T| a.powf(b))
    }
}

macro_rules! binary_ops {
    ($($trait:ident $method:ident $try:ident $op:literal $sym:tt $rop:literal;)*) => {$(
        impl<T: Number> $trait<&Array<T>> for &Array<T> {
            type Output = Array<T>;
            /// # Panics
            ///
            /// When the shapes do not broadcast (see the `try_` method).
            fn $method(self, rhs: &Array<T>) -> Array<T> {
                self.$try(rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        impl<T: Number> $trait<Array<T>> for Array<T> {
            type Output = Array<T>;
            fn $method(self, rhs: Array<T>) -> Array<T> {
                (&self).$method(&rhs)
            }
        }
        impl<T: Number> $trait<&Array<T>> for Array<T> {
            type Output = Array<T>;
            fn $method(self, rhs: &Array<T>) -> Array<T> {
                (&self).$method(rhs)
            }
        }
        impl<T: Number> $trait<Array<T>> for &Array<T> {
            type Output = Array<T>;
            fn $method(self, rhs: Array<T>) -> Array<T> {
                self.$method(&rhs)
            }
        }
        scalar_right!($trait $method $op $sym; f64 f32 i64);
        scalar_left!($trait $method $rop $sym; f64: f64 i64, f32: f32 i64, i64: i64);
    )*};
}

// `&x + 100`: any scalar type `S: Scalar<T>` on the right (the output
// type does not depend on `S`, so a literal of any kind infers)
macro_rules! scalar_right {
    ($trait:ident $method:ident $op:literal $sym:tt; $($t:ty)*) => {$(
        impl<S: Scalar<$t>> $trait<S> for &Array<$t> {
            type Output = Array<$t>;
            fn $method(self, c: S) -> Array<$t> {
                let c: $t = c.to_element();
                self.scalar_op($op, c, false, move |v| v $sym c)
            }
        }
        impl<S: Scalar<$t>> $trait<S> for Array<$t> {
            type Output = Array<$t>;
            fn $method(self, c: S) -> Array<$t> {
                (&self).$method(c)
            }
        }
    )*};
}

// `2 * &x`: on the left one float type (the array's) and one integer type
// (`i64`) per array type, so that an unsuffixed literal infers
macro_rules! scalar_left {
    ($trait:ident $method:ident $rop:literal $sym:tt; $($t:ty: $($s:ty)*),*) => {$($(
        impl $trait<&Array<$t>> for $s {
            type Output = Array<$t>;
            fn $method(self, a: &Array<$t>) -> Array<$t> {
                let c: $t = self.to_element();
                a.scalar_op($rop, c, true, move |v| c $sym v)
            }
        }
        impl $trait<Array<$t>> for $s {
            type Output = Array<$t>;
            fn $method(self, a: Array<$t>) -> Array<$t> {
                self.$method(&a)
            }
        }
    )*)*};
}

binary_ops! {
    Add add try_add "add" + "add";
    Sub sub try_sub "sub" - "rsub";
    Mul mul try_mul "mul" * "mul";
    Div div try_div "truediv" / "rtruediv";
    Rem rem try_rem "mod" % "rmod";
}

impl<T: Number> Neg for &Array<T> {
    type Output = Array<T>;
    fn neg(self) -> Array<T> {
        self.map_same("neg", Tokenizer::new("neg"), |v: T| -v)
    }
}
impl<T: Number> Neg for Array<T> {
    type Output = Array<T>;
    fn neg(self) -> Array<T> {
        -&self
    }
}

/// The array `name` of `f(a, b)` of two arrays on one grid of `shape`:
/// fused into the blocks of its inputs where they are elementwise too, or
/// over their blocks.
fn zipped<A: Element, B: Element, V: Element, F>(
    a: &Array<A>,
    b: &Array<B>,
    shape: Vec<usize>,
    grid: Vec<Vec<usize>>,
    name: String,
    op: &'static str,
    f: F,
) -> Array<V>
where
    F: Fn(A, B) -> V + Clone + Send + Sync + 'static,
{
    let fused = Arc::new(Zip {
        a: a.operand_expr(&shape),
        b: b.operand_expr(&shape),
        f: f.clone(),
        _v: PhantomData,
    });
    let shallow = Arc::new(Zip {
        a: a.input(),
        b: b.input(),
        f,
        _v: PhantomData,
    });
    Array::elementwise(name, op, shape, Arc::new(grid), fused, shallow)
}
