//! Dask's `da.linalg`: [`qr`] and [`svd`] of tall-and-skinny matrices
//! (TSQR), [`solve`], [`lstsq`] and the matrix [`norm`].
//!
//! **TSQR** (Dask's `tsqr`, after Benson, Gleich and Demmel): the matrix
//! must have one chunk along its columns. Each row block `A_i` is
//! factored `A_i = Q_i R_i` in its own task; the `R_i` are stacked and
//! factored once more, `[R_1; R_2; ...] = Q' R`; then `Q`'s block `i` is
//! `Q_i` times the rows of `Q'` that belong to block `i`. Only the small
//! `R_i` (at most `n x n` each) meet in one task, so a `10^6 x 50` matrix
//! in chunks of `10^5` rows is factored in parallel. The SVD follows:
//! `R = U_R S Vᵀ` in one task, and `U = Q U_R` by row blocks.
//!
//! The dense kernels inside the tasks are `faer`'s (see the `kernel`
//! module), so the decompositions exist for `f64` and `f32` ([`Linalg`]).
//!
//! ```
//! use rask::array::{linalg, RandomState};
//! let a = RandomState::new(7).random(&[1000, 4], [250, 4]).unwrap();
//! let (q, r) = linalg::qr(&a).unwrap();
//! let back = q.matmul(&r).unwrap().compute(&rask::Sync).unwrap();
//! let a = a.compute(&rask::Sync).unwrap();
//! assert!(back.iter().zip(a.iter()).all(|(x, y)| (x - y).abs() < 1e-12));
//! ```

use std::sync::Arc;

use ndarray::{s, Array2, ArrayD, ArrayView2, Ix2, ShapeBuilder};
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks};
use crate::element::Float;
use crate::error::ArrayError;
use crate::expr::chunk_of;
use crate::node::{block_key, Node};
use crate::reduction::Reduce;
use crate::token::Tokenizer;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f64 {}
    impl Sealed for f32 {}
}

/// The element types with dense decompositions (`f64`, `f32`): what
/// [`qr`], [`svd`], [`solve`] and [`lstsq`] take. The methods are the
/// one-task kernels the graphs call; they are not meant to be called
/// directly.
pub trait Linalg: Float + sealed::Sealed {
    /// The machine epsilon, as `f64`.
    const EPSILON: f64;
    #[doc(hidden)]
    fn qr_block(a: ArrayView2<'_, Self>) -> (Array2<Self>, Array2<Self>);
    #[doc(hidden)]
    fn qr_into_block(a: ArrayView2<'_, Self>, q: ndarray::ArrayViewMut2<'_, Self>) -> Array2<Self>;
    #[doc(hidden)]
    fn svd_block(a: ArrayView2<'_, Self>) -> Result<crate::kernel::Svd<Self>, String>;
    #[doc(hidden)]
    fn lu_solve_block(
        a: ArrayView2<'_, Self>,
        b: ArrayView2<'_, Self>,
    ) -> Result<Array2<Self>, String>;
    #[doc(hidden)]
    fn solve_upper_block(r: ArrayView2<'_, Self>, b: ArrayView2<'_, Self>) -> Array2<Self>;
}

macro_rules! linalg {
    ($($t:ty),*) => {$(
        impl Linalg for $t {
            const EPSILON: f64 = <$t>::EPSILON as f64;
            fn qr_block(a: ArrayView2<'_, Self>) -> (Array2<Self>, Array2<Self>) {
                crate::kernel::qr(a)
            }
            fn qr_into_block(
                a: ArrayView2<'_, Self>,
                q: ndarray::ArrayViewMut2<'_, Self>,
            ) -> Array2<Self> {
                crate::kernel::qr_into(a, q)
            }
            fn svd_block(
                a: ArrayView2<'_, Self>,
            ) -> Result<crate::kernel::Svd<Self>, String> {
                crate::kernel::svd(a)
            }
            fn lu_solve_block(
                a: ArrayView2<'_, Self>,
                b: ArrayView2<'_, Self>,
            ) -> Result<Array2<Self>, String> {
                crate::kernel::lu_solve(a, b)
            }
            fn solve_upper_block(r: ArrayView2<'_, Self>, b: ArrayView2<'_, Self>) -> Array2<Self> {
                crate::kernel::solve_upper(r, b)
            }
        }
    )*};
}
linalg!(f64, f32);

fn shape_error(array: &str, message: String) -> ArrayError {
    ArrayError::Shape {
        array: array.to_string(),
        message,
    }
}

fn two<'v, T: Linalg>(v: &'v Value, name: &str) -> Result<ArrayView2<'v, T>, CallError> {
    chunk_of::<T>(v, name)?
        .view()
        .into_dimensionality::<Ix2>()
        .map_err(|e| CallError::msg(format!("a block of {name}: {e}")))
}

fn out<T: Linalg>(a: Array2<T>) -> Result<Value, CallError> {
    Ok(Value::new(a.into_dyn()))
}

/// An array of `shape` and `chunks` whose block `b` is `f(args(b))`.
fn build<U: crate::Element>(
    name: String,
    shape: Vec<usize>,
    chunks: Vec<Vec<usize>>,
    f: Function,
    args: impl Fn(&[usize]) -> Vec<Task>,
    deps: Vec<Arc<Node>>,
) -> Array<U> {
    let tasks = all_blocks(&numblocks(&chunks))
        .iter()
        .map(|b| (block_key(&name, b), Task::Call(f.clone(), args(b).into())))
        .collect();
    Array::from_tasks(name, shape, chunks, tasks, deps)
}

/// The stages of a TSQR: the local factors of each row block and the
/// factor of their stacked `R`s, each packed into one array block.
struct Tsqr<T: Linalg> {
    a: Array<T>,
    /// Rows of each row block of `a`.
    rows: Vec<usize>,
    /// Columns.
    n: usize,
    /// Block `i`: `Q_i` (`m_i x k_i`, zero-padded to `n` columns) over
    /// `R_i` (`k_i x n`), `k_i = min(m_i, n)`.
    local: Array<T>,
    /// One block: `Q'` (`K x k`, padded to `n` columns) over `R`
    /// (`k x n`), `K = sum k_i`, `k = min(K, n)`.
    stack: Array<T>,
    /// `K`.
    big_k: usize,
    /// `k`: the columns of `Q`, the rows of `R`.
    k: usize,
}

impl<T: Linalg> Tsqr<T> {
    fn new(a: &Array<T>, op: &str) -> Result<Tsqr<T>, ArrayError> {
        if a.ndim() != 2 {
            return Err(shape_error(
                a.name(),
                format!("{op} takes a 2-d array, got shape {:?}", a.shape()),
            ));
        }
        if a.chunks()[1].len() != 1 {
            return Err(ArrayError::Chunks {
                array: a.name().to_string(),
                message: format!(
                    "{op} (tall-and-skinny, as Dask's) needs one chunk along the columns, got {:?}; \
                     rechunk first, e.g. x.rechunk([rows, FULL])",
                    a.chunks()[1]
                ),
            });
        }
        let rows = a.chunks()[0].clone();
        let n = a.shape()[1];
        let ks: Vec<usize> = rows.iter().map(|&m| m.min(n)).collect();
        let big_k: usize = ks.iter().sum();
        let k = big_k.min(n);
        let an = a.name().to_string();

        let mut tok = Tokenizer::new("tsqr-local");
        tok.str(a.name());
        let f = Function::dynamic("tsqr-local", Arity::exactly(1), move |args: &[Value]| {
            let x = two::<T>(&args[0], &an)?;
            let (m, n) = x.dim();
            let ki = m.min(n);
            // column-major, as the factors: the copies run down columns
            let mut packed = Array2::<T>::zeros((m + ki, n).f());
            let r = T::qr_into_block(x, packed.slice_mut(s![..m, ..ki]));
            packed.slice_mut(s![m.., ..]).assign(&r);
            out(packed)
        });
        let local_rows: Vec<usize> = rows.iter().zip(&ks).map(|(m, k)| m + k).collect();
        let local: Array<T> = build::<T>(
            tok.finish(),
            vec![local_rows.iter().sum(), n],
            vec![local_rows, vec![n]],
            f,
            |b| vec![Task::Key(a.node.key(&[b[0], 0]))],
            vec![Arc::clone(&a.node)],
        );

        let mut tok = Tokenizer::new("tsqr-stack");
        tok.str(local.name());
        let (ln, rows_c) = (local.name().to_string(), rows.clone());
        let f = Function::dynamic("tsqr-stack", Arity::exactly(1), move |args: &[Value]| {
            let parts = args[0].as_list().unwrap_or_default();
            let mut stacked = Array2::<T>::zeros((big_k, n));
            let mut at = 0;
            for (p, &m) in parts.iter().zip(&rows_c) {
                let p = two::<T>(p, &ln)?;
                let ki = m.min(n);
                stacked
                    .slice_mut(s![at..at + ki, ..])
                    .assign(&p.slice(s![m.., ..]));
                at += ki;
            }
            let (q, r) = T::qr_block(stacked.view());
            let mut packed = Array2::<T>::zeros((big_k + k, n));
            packed.slice_mut(s![..big_k, ..k]).assign(&q);
            packed.slice_mut(s![big_k.., ..]).assign(&r);
            out(packed)
        });
        let nb = rows.len();
        let stack: Array<T> = build::<T>(
            tok.finish(),
            vec![big_k + k, n],
            vec![vec![big_k + k], vec![n]],
            f,
            |_| {
                let keys: Vec<Task> = (0..nb)
                    .map(|i| Task::Key(local.node.key(&[i, 0])))
                    .collect();
                vec![Task::List(keys.into())]
            },
            vec![Arc::clone(&local.node)],
        );
        Ok(Tsqr {
            a: a.clone(),
            rows,
            n,
            local,
            stack,
            big_k,
            k,
        })
    }

    /// `Q` (`m x k`, the row chunks of `a`, one column chunk), with each
    /// block multiplied on the right by `right` (the one block of a
    /// `k x k` array) if given.
    fn q(&self, right: Option<&Array<T>>, op: &'static str) -> Array<T> {
        let mut tok = Tokenizer::new(op);
        tok.str(self.local.name()).str(self.stack.name());
        let (rows, n, k) = (self.rows.clone(), self.n, self.k);
        let (ln, sn) = (self.local.name().to_string(), self.stack.name().to_string());
        let f = Function::dynamic(op, Arity::exactly(3), move |args: &[Value]| {
            let i = args[2].get::<i64>().unwrap_or_default() as usize;
            let m = rows[i];
            let ki = m.min(n);
            let off: usize = rows[..i].iter().map(|&r| r.min(n)).sum();
            let local = two::<T>(&args[0], &ln)?;
            let stack = two::<T>(&args[1], &sn)?;
            let qi = local.slice(s![..m, ..ki]);
            let q2 = stack.slice(s![off..off + ki, ..k]);
            let mut q = Array2::<T>::zeros((m, k));
            T::gemm_add(q.view_mut(), qi, q2);
            out(q)
        });
        let deps = vec![Arc::clone(&self.local.node), Arc::clone(&self.stack.node)];
        let q: Array<T> = build::<T>(
            tok.finish(),
            vec![self.a.shape()[0], k],
            vec![self.rows.clone(), vec![k]],
            f,
            |b| {
                vec![
                    Task::Key(self.local.node.key(&[b[0], 0])),
                    Task::Key(self.stack.node.key(&[0, 0])),
                    Task::Value(Value::Int(b[0] as i64)),
                ]
            },
            deps,
        );
        match right {
            None => q,
            Some(r) => q
                .matmul(r)
                .unwrap_or_else(|e| unreachable!("Q is m x k and the right factor k x k: {e}")),
        }
    }

    /// `R` (`k x n`, one block).
    fn r(&self) -> Array<T> {
        let mut tok = Tokenizer::new("tsqr-r");
        tok.str(self.stack.name());
        let (sn, big_k) = (self.stack.name().to_string(), self.big_k);
        let f = Function::dynamic("tsqr-r", Arity::exactly(1), move |args: &[Value]| {
            out(two::<T>(&args[0], &sn)?.slice(s![big_k.., ..]).to_owned())
        });
        build::<T>(
            tok.finish(),
            vec![self.k, self.n],
            vec![vec![self.k], vec![self.n]],
            f,
            |_| vec![Task::Key(self.stack.node.key(&[0, 0]))],
            vec![Arc::clone(&self.stack.node)],
        )
    }
}

/// A one-block array cut from the one block of `src`: rows `r0..r1` and
/// columns `..c1`, as a 1-d array if `flat` (one row).
fn unpack<T: Linalg>(
    op: &'static str,
    src: &Array<T>,
    rows: (usize, usize),
    c1: usize,
    flat: bool,
) -> Array<T> {
    let mut tok = Tokenizer::new(op);
    tok.str(src.name());
    let sn = src.name().to_string();
    let f = Function::dynamic(op, Arity::exactly(1), move |args: &[Value]| {
        let part = two::<T>(&args[0], &sn)?
            .slice(s![rows.0..rows.1, ..c1])
            .to_owned();
        if flat {
            Ok(Value::new(
                part.into_shape_with_order(c1)
                    .map_err(CallError::msg)?
                    .into_dyn(),
            ))
        } else {
            out(part)
        }
    });
    let (shape, chunks) = if flat {
        (vec![c1], vec![vec![c1]])
    } else {
        (
            vec![rows.1 - rows.0, c1],
            vec![vec![rows.1 - rows.0], vec![c1]],
        )
    };
    build::<T>(
        tok.finish(),
        shape,
        chunks,
        f,
        |_| vec![Task::Key(src.node.key(&[0, 0]))],
        vec![Arc::clone(&src.node)],
    )
}

/// The QR factorization of a tall-and-skinny matrix (Dask's
/// `da.linalg.qr`, by TSQR): `Q` (`m x k`, `a`'s row chunks, orthonormal
/// columns) and upper-triangular `R` (`k x n`, one block), `k = min(m, n)`,
/// with `Q · R = a`. `a` must have one chunk along its columns.
///
/// ```
/// use rask::array::{linalg, RandomState};
/// let a = RandomState::new(1).random(&[600, 3], [200, 3]).unwrap();
/// let (q, r) = linalg::qr(&a).unwrap();
/// assert_eq!((q.shape(), q.chunks()), (&[600, 3][..], &[vec![200, 200, 200], vec![3]][..]));
/// let qtq = q.t().matmul(&q).unwrap().compute(&rask::Sync).unwrap();
/// assert!((qtq[[0, 0]] - 1.0).abs() < 1e-12 && qtq[[0, 1]].abs() < 1e-12);
/// assert!(linalg::qr(&a.rechunk([200, 1]).unwrap()).is_err()); // several column chunks
/// ```
pub fn qr<T: Linalg>(a: &Array<T>) -> Result<(Array<T>, Array<T>), ArrayError> {
    let t = Tsqr::new(a, "qr")?;
    Ok((t.q(None, "tsqr-q"), t.r()))
}

/// What [`svd`] returns: `U`, the singular values `s` and `Vᵀ`.
pub type Svd<T> = (Array<T>, Array<T>, Array<T>);

/// The thin SVD of a tall-and-skinny matrix (Dask's `da.linalg.svd`): `U`
/// (`m x k`, `a`'s row chunks), the singular values `s` (`k`, in
/// decreasing order) and `Vᵀ` (`k x n`), `k = min(m, n)`, with
/// `U · diag(s) · Vᵀ = a`. By TSQR then the SVD of the small `R`; `a` must
/// have one chunk along its columns.
///
/// ```
/// use rask::array::{from_ndarray, linalg};
/// let a = from_ndarray(&rask::ndarray::array![[3.0_f64, 0.0], [0.0, 4.0], [0.0, 0.0]], [2, 2]).unwrap();
/// let (_u, s, _vt) = linalg::svd(&a).unwrap();
/// let s = s.compute(&rask::Sync).unwrap();
/// assert!((s[0] - 4.0).abs() < 1e-12 && (s[1] - 3.0).abs() < 1e-12);
/// ```
pub fn svd<T: Linalg>(a: &Array<T>) -> Result<Svd<T>, ArrayError> {
    let t = Tsqr::new(a, "svd")?;
    let r = t.r();
    let (k, n) = (t.k, t.n);
    // one block: U_R (k x k) over s (one row) over Vᵀ (k x n)
    let mut tok = Tokenizer::new("svd-small");
    tok.str(r.name());
    let rn = r.name().to_string();
    let f = Function::dynamic("svd-small", Arity::exactly(1), move |args: &[Value]| {
        let (u, s, vt) = T::svd_block(two::<T>(&args[0], &rn)?)
            .map_err(|e| CallError::msg(format!("svd of {rn}: {e}")))?;
        let mut packed = Array2::<T>::zeros((2 * k + 1, n));
        packed.slice_mut(s![..k, ..k]).assign(&u);
        packed.slice_mut(s![k, ..k]).assign(&s);
        packed.slice_mut(s![k + 1.., ..]).assign(&vt);
        out(packed)
    });
    let small: Array<T> = build::<T>(
        tok.finish(),
        vec![2 * k + 1, n],
        vec![vec![2 * k + 1], vec![n]],
        f,
        |_| vec![Task::Key(r.node.key(&[0, 0]))],
        vec![Arc::clone(&r.node)],
    );
    let ur = unpack("svd-ur", &small, (0, k), k, false);
    let s = unpack("svd-s", &small, (k, k + 1), k, true);
    let vt = unpack("svd-vt", &small, (k + 1, 2 * k + 1), n, false);
    Ok((t.q(Some(&ur), "svd-u"), s, vt))
}

/// `b` as a 2-d array (a column for 1-d), after checking it against the
/// `m` rows of the left-hand side.
fn rhs<T: Linalg>(b: &Array<T>, m: usize, op: &str, a: &str) -> Result<Array<T>, ArrayError> {
    if b.ndim() == 0 || b.ndim() > 2 || b.shape()[0] != m {
        return Err(shape_error(
            b.name(),
            format!(
                "{op}: the right-hand side must have shape ({m},) or ({m}, k) to match {a}, got {:?}",
                b.shape()
            ),
        ));
    }
    if b.ndim() == 1 {
        b.expand_dims(1)
    } else {
        Ok(b.clone())
    }
}

/// `x` with `a · x = b` (Dask's and NumPy's `linalg.solve`) for square
/// `a` and `b` of shape `(n,)` or `(n, k)`; `x` has `b`'s shape, with
/// `a`'s column chunks along its first axis.
///
/// How: `a` and `b` are gathered into one block each and solved by LU
/// with partial pivoting (`faer`) in one task, which is correct for any
/// chunking; the blocked LU of Dask's `solve` (which spreads a large `a`
/// over tasks) is not implemented, so `a` must fit in one worker's
/// memory. A singular `a` (an exactly zero pivot, as LAPACK's) fails the
/// computation with an error naming it.
///
/// ```
/// use rask::array::{from_ndarray, linalg};
/// let a = from_ndarray(&rask::ndarray::array![[3.0_f64, 1.0], [1.0, 2.0]], 1).unwrap();
/// let b = from_ndarray(&rask::ndarray::array![9.0, 8.0], 1).unwrap();
/// let x = linalg::solve(&a, &b).unwrap().compute(&rask::Sync).unwrap();
/// assert!((x[0] - 2.0).abs() < 1e-12 && (x[1] - 3.0).abs() < 1e-12);
/// ```
pub fn solve<T: Linalg>(a: &Array<T>, b: &Array<T>) -> Result<Array<T>, ArrayError> {
    if a.ndim() != 2 || a.shape()[0] != a.shape()[1] {
        return Err(shape_error(
            a.name(),
            format!("solve takes a square 2-d array, got shape {:?}", a.shape()),
        ));
    }
    let n = a.shape()[0];
    let b2 = rhs(b, n, "solve", a.name())?;
    let k = b2.shape()[1];
    let a1 = a.rechunk_grid(vec![vec![n], vec![n]]);
    let b1 = b2.rechunk_grid(vec![vec![n], vec![k]]);
    let mut tok = Tokenizer::new("solve");
    tok.str(a1.name()).str(b1.name());
    let (an, bn) = (a.name().to_string(), b.name().to_string());
    let f = Function::dynamic("solve", Arity::exactly(2), move |args: &[Value]| {
        let x = T::lu_solve_block(two::<T>(&args[0], &an)?, two::<T>(&args[1], &bn)?)
            .map_err(|e| CallError::msg(format!("solve: {an}: {e}")))?;
        out(x)
    });
    let x: Array<T> = build::<T>(
        tok.finish(),
        vec![n, k],
        vec![vec![n], vec![k]],
        f,
        |_| {
            vec![
                Task::Key(a1.node.key(&[0, 0])),
                Task::Key(b1.node.key(&[0, 0])),
            ]
        },
        vec![Arc::clone(&a1.node), Arc::clone(&b1.node)],
    );
    let x = x.rechunk_grid(vec![a.chunks()[1].clone(), b2.chunks()[1].clone()]);
    if b.ndim() == 1 {
        x.squeeze_axes(&[1])
    } else {
        Ok(x)
    }
}

/// What [`lstsq`] returns, as Dask's `da.linalg.lstsq`: NumPy's four
/// results as arrays.
#[derive(Debug, Clone)]
pub struct Lstsq<T: crate::Element> {
    /// `x` minimizing `|b - a·x|` (shape `(n,)` or `(n, k)`, as `b`).
    pub solution: Array<T>,
    /// The sums of squared residuals of each column of `b`: shape `(k,)`,
    /// or `(1,)` for a 1-d `b` (as Dask's, also when `a` is rank-deficient).
    pub residuals: Array<T>,
    /// The rank of `a` (0-d): singular values above `max(s) · max(m, n) · ε`,
    /// NumPy's `matrix_rank` tolerance.
    pub rank: Array<i64>,
    /// The singular values of `a`, in decreasing order (`(n,)`).
    pub singular_values: Array<T>,
}

/// Least squares (Dask's `da.linalg.lstsq`): the `x` minimizing
/// `|b - a·x|`, by TSQR (`a = Q R`, `x = R⁻¹ Qᵀ b`), with the residuals,
/// the rank and the singular values of `a`. `a` is tall (`m >= n`) with
/// one chunk along its columns; `b` has shape `(m,)` or `(m, k)`.
///
/// ```
/// use rask::array::{from_ndarray, linalg};
/// // fit y = 1 + 2 t through four points
/// let a = from_ndarray(&rask::ndarray::array![[1.0_f64, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]], [2, 2]).unwrap();
/// let b = from_ndarray(&rask::ndarray::array![1.0, 3.0, 5.0, 7.0], 2).unwrap();
/// let fit = linalg::lstsq(&a, &b).unwrap();
/// let x = fit.solution.compute(&rask::Sync).unwrap();
/// assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
/// assert_eq!(fit.rank.compute_scalar(&rask::Sync).unwrap(), 2);
/// assert!(fit.residuals.compute(&rask::Sync).unwrap()[0] < 1e-20);
/// ```
pub fn lstsq<T: Linalg>(a: &Array<T>, b: &Array<T>) -> Result<Lstsq<T>, ArrayError> {
    let t = Tsqr::new(a, "lstsq")?;
    let (m, n) = (a.shape()[0], a.shape()[1]);
    if m < n {
        return Err(shape_error(
            a.name(),
            format!(
                "lstsq (by TSQR, as Dask's) needs at least as many rows as columns, got shape {:?}",
                a.shape()
            ),
        ));
    }
    let b2 = rhs(b, m, "lstsq", a.name())?;
    let k = b2.shape()[1];
    let (q, r) = (t.q(None, "tsqr-q"), t.r());
    let qtb = q.t().matmul(&b2)?.rechunk_grid(vec![vec![n], vec![k]]);
    let mut tok = Tokenizer::new("lstsq-solve");
    tok.str(r.name()).str(qtb.name());
    let rn = r.name().to_string();
    let f = Function::dynamic("lstsq-solve", Arity::exactly(2), move |args: &[Value]| {
        out(T::solve_upper_block(
            two::<T>(&args[0], &rn)?,
            two::<T>(&args[1], "Qᵀb")?,
        ))
    });
    let x: Array<T> = build::<T>(
        tok.finish(),
        vec![n, k],
        vec![vec![n], vec![k]],
        f,
        |_| {
            vec![
                Task::Key(r.node.key(&[0, 0])),
                Task::Key(qtb.node.key(&[0, 0])),
            ]
        },
        vec![Arc::clone(&r.node), Arc::clone(&qtb.node)],
    );
    let x = x.rechunk_grid(vec![a.chunks()[1].clone(), b2.chunks()[1].clone()]);
    let residuals = (&b2 - &a.matmul(&x)?).powi(2).sum_with(&Reduce::axis(0))?;
    let singular_values = singular_values(&r, "lstsq-s");
    let mut tok = Tokenizer::new("lstsq-rank");
    tok.str(singular_values.name());
    let (sn, dims) = (singular_values.name().to_string(), m.max(n));
    let f = Function::dynamic("lstsq-rank", Arity::exactly(1), move |args: &[Value]| {
        let s = chunk_of::<T>(&args[0], &sn)?;
        let top = s.iter().fold(0.0_f64, |m, v| m.max(v.to_f64()));
        let tol = top * dims as f64 * T::EPSILON;
        let rank = s.iter().filter(|v| v.to_f64() > tol).count() as i64;
        Ok(Value::new(ArrayD::from_elem(ndarray::IxDyn(&[]), rank)))
    });
    let rank: Array<i64> = build(
        tok.finish(),
        vec![],
        vec![],
        f,
        |_| vec![Task::Key(singular_values.node.key(&[0]))],
        vec![Arc::clone(&singular_values.node)],
    );
    let solution = if b.ndim() == 1 {
        x.squeeze_axes(&[1])?
    } else {
        x
    };
    Ok(Lstsq {
        solution,
        residuals,
        rank,
        singular_values,
    })
}

/// The singular values of the one-block matrix `r`, decreasing, as a
/// one-block 1-d array.
fn singular_values<T: Linalg>(r: &Array<T>, op: &'static str) -> Array<T> {
    let mut tok = Tokenizer::new(op);
    tok.str(r.name());
    let rn = r.name().to_string();
    let k = r.shape()[0].min(r.shape()[1]);
    let f = Function::dynamic(op, Arity::exactly(1), move |args: &[Value]| {
        let (_, s, _) = T::svd_block(two::<T>(&args[0], &rn)?)
            .map_err(|e| CallError::msg(format!("singular values of {rn}: {e}")))?;
        Ok(Value::new(s.into_dyn()))
    });
    build(
        tok.finish(),
        vec![k],
        vec![vec![k]],
        f,
        |_| vec![Task::Key(r.node.key(&[0, 0]))],
        vec![Arc::clone(&r.node)],
    )
}

/// The order of a [`norm`], as NumPy's `ord`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NormOrd {
    /// `'fro'`: the Frobenius norm of a matrix (NumPy's default for
    /// matrices; for vectors, the 2-norm is the default).
    Fro,
    /// `'nuc'`: the nuclear norm of a matrix, the sum of its singular
    /// values.
    Nuc,
    /// A number or `±f64::INFINITY`. For vectors, `sum(|x|^p)^(1/p)`,
    /// the largest (`inf`) or smallest (`-inf`) `|x|`, or (0) the count of
    /// non-zeros; for matrices, 1 / -1 the largest / smallest column sum of
    /// `|x|`, `inf` / `-inf` the largest / smallest row sum, 2 / -2 the
    /// largest / smallest singular value (others are errors, as NumPy's).
    P(f64),
}

/// NumPy's and Dask's `linalg.norm(x, ord, axis)`, as `f64`.
///
/// - `axis` `None`: with `ord` `None`, the 2-norm of all the elements
///   (any number of axes); otherwise `x` must be 1-d (a vector norm) or
///   2-d (a matrix norm).
/// - one axis: the vector norms along it.
/// - two axes: the matrix norms over them. Orders 2, -2 and `Nuc` need
///   the singular values of a 2-d `x`: its columns are gathered into one
///   chunk (rows for a wide matrix, through its transpose) and its
///   singular values are those of TSQR's `R`, so they suit matrices with
///   one short side, as Dask's `svd`.
///
/// ```
/// use rask::array::{from_ndarray, linalg::{norm, NormOrd}};
/// let x = from_ndarray(&rask::ndarray::array![[1.0, -2.0], [3.0, 4.0]], 1).unwrap();
/// let one = norm(&x, Some(NormOrd::P(1.0)), None).unwrap();
/// assert_eq!(one.compute_scalar(&rask::Sync).unwrap(), 6.0); // largest column sum
/// let inf = norm(&x, Some(NormOrd::P(f64::INFINITY)), None).unwrap();
/// assert_eq!(inf.compute_scalar(&rask::Sync).unwrap(), 7.0); // largest row sum
/// let rows = norm(&x, Some(NormOrd::P(1.0)), Some(&[1])).unwrap();
/// assert_eq!(rows.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[3.0, 7.0]);
/// ```
pub fn norm<T: Linalg>(
    x: &Array<T>,
    ord: Option<NormOrd>,
    axis: Option<&[isize]>,
) -> Result<Array<f64>, ArrayError> {
    let axes: Vec<usize> = match axis {
        None if ord.is_none() => return Ok(x.norm()),
        None if x.ndim() == 1 || x.ndim() == 2 => (0..x.ndim()).collect(),
        None => {
            return Err(shape_error(
                x.name(),
                format!(
                "norm with an order takes a 1-d or 2-d array unless axes are given, got shape {:?}",
                x.shape()
            ),
            ))
        }
        Some(given) => {
            let mut out = Vec::with_capacity(given.len());
            for &k in given {
                let u = if k < 0 { k + x.ndim() as isize } else { k };
                if u < 0 || u >= x.ndim() as isize || out.contains(&(u as usize)) {
                    return Err(ArrayError::Axis {
                        array: x.name().to_string(),
                        axis: k,
                        ndim: x.ndim(),
                    });
                }
                out.push(u as usize);
            }
            out
        }
    };
    let bad_ord = |what: &str| {
        shape_error(
            x.name(),
            format!("norm: order {ord:?} is not offered for {what}"),
        )
    };
    match axes.len() {
        1 => match ord {
            None => x.norm_with(2.0, &Reduce::axis(axes[0] as isize)),
            Some(NormOrd::P(p)) => x.norm_with(p, &Reduce::axis(axes[0] as isize)),
            Some(_) => Err(bad_ord("vectors")),
        },
        2 => {
            let (r, c) = (axes[0], axes[1]);
            // the axis left after reducing the other
            let after = |gone: usize, kept: usize| (kept - usize::from(gone < kept)) as isize;
            let abs = || x.map("norm-abs", |v: T| v.to_f64().abs());
            match ord.unwrap_or(NormOrd::Fro) {
                NormOrd::Fro => x.norm_with(2.0, &Reduce::axes(&[r as isize, c as isize])),
                NormOrd::P(p) if p == 1.0 || p == -1.0 => {
                    let sums = abs().sum_with(&Reduce::axis(r as isize))?;
                    let opts = Reduce::axis(after(r, c));
                    if p > 0.0 {
                        sums.max_with(&opts)
                    } else {
                        sums.min_with(&opts)
                    }
                }
                NormOrd::P(p) if p.is_infinite() => {
                    let sums = abs().sum_with(&Reduce::axis(c as isize))?;
                    let opts = Reduce::axis(after(c, r));
                    if p > 0.0 {
                        sums.max_with(&opts)
                    } else {
                        sums.min_with(&opts)
                    }
                }
                o @ (NormOrd::Nuc | NormOrd::P(_)) => {
                    if x.ndim() != 2 {
                        return Err(bad_ord("matrices in more than two axes"));
                    }
                    let which = match o {
                        NormOrd::Nuc => 0,
                        NormOrd::P(2.0) => 1,
                        NormOrd::P(-2.0) => -1,
                        _ => return Err(bad_ord("matrices")),
                    };
                    spectral(x, which)
                }
            }
        }
        _ => Err(shape_error(
            x.name(),
            format!(
                "norm: {} axes given; one (vector norm) or two (matrix norm)",
                axes.len()
            ),
        )),
    }
}

/// The sum (`which` 0), largest (1) or smallest (-1) singular value of
/// the 2-d `x`, through TSQR of `x` or of its transpose, whichever is
/// taller.
fn spectral<T: Linalg>(x: &Array<T>, which: i32) -> Result<Array<f64>, ArrayError> {
    let tall = if x.shape()[0] >= x.shape()[1] {
        x.clone()
    } else {
        x.t()
    };
    let tall = tall.rechunk_grid(vec![tall.chunks()[0].clone(), vec![tall.shape()[1]]]);
    let r = Tsqr::new(&tall, "norm")?.r();
    let s = singular_values(&r, "norm-s");
    let mut tok = Tokenizer::new("norm-spectral");
    tok.str(s.name()).u64(which as u64);
    let sn = s.name().to_string();
    let f = Function::dynamic(
        "norm-spectral",
        Arity::exactly(1),
        move |args: &[Value]| {
            let s = chunk_of::<T>(&args[0], &sn)?;
            let v = s.iter().map(|v| v.to_f64());
            let out = match which {
                0 => v.sum(),
                1 => v.fold(0.0, f64::max),
                _ => v.fold(f64::INFINITY, f64::min),
            };
            Ok(Value::new(ArrayD::from_elem(ndarray::IxDyn(&[]), out)))
        },
    );
    Ok(build(
        tok.finish(),
        vec![],
        vec![],
        f,
        |_| vec![Task::Key(s.node.key(&[0]))],
        vec![Arc::clone(&s.node)],
    ))
}
