//! The dense kernels that run inside one task: the block product of
//! `matmul`, `dot` and `tensordot`, and the small decompositions of
//! [`linalg`](crate::linalg) (QR, SVD, LU, triangular solves).
//!
//! For `f64` and `f32` they are `faer`'s, run on one thread (`Par::Seq`):
//! the scheduler already runs one task per core, so a kernel that spawned
//! its own threads would only oversubscribe the machine. `faer` is pure
//! Rust, so rask needs no system BLAS or LAPACK. Integers keep
//! `ndarray`'s generic product ([`Number::gemm_add`](crate::Number::gemm_add)'s
//! default).

use faer::traits::RealField;
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

/// `a` as a `faer` matrix view (no copy; any strides).
fn view<'a, T>(a: &ArrayView2<'a, T>) -> MatRef<'a, T> {
    let s = a.strides();
    // SAFETY: the pointer, lengths and strides describe the live view `a`,
    // whose lifetime bounds the result's.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), a.nrows(), a.ncols(), s[0], s[1]) }
}

/// `dst` as a mutable `faer` matrix view (no copy; any strides).
fn view_mut<'a, T>(dst: &'a mut ArrayViewMut2<'_, T>) -> MatMut<'a, T> {
    let (r, c) = dst.dim();
    let s = dst.strides().to_vec();
    // SAFETY: as in `view`, with the unique borrow of `dst`.
    unsafe { MatMut::from_raw_parts_mut(dst.as_mut_ptr(), r, c, s[0], s[1]) }
}

/// An owned `ndarray` copy of a `faer` matrix, column-major as `faer`'s
/// own, copied column by column (a row-major copy of a tall matrix would
/// stride through memory).
fn owned<T: Copy + num_traits::Zero>(m: MatRef<'_, T>) -> Array2<T> {
    use ndarray::ShapeBuilder;
    let mut out = Array2::<T>::zeros((m.nrows(), m.ncols()).f());
    for (j, mut col) in out.columns_mut().into_iter().enumerate() {
        let src = m.col(j);
        for (i, v) in col.iter_mut().enumerate() {
            *v = src[i];
        }
    }
    out
}

/// `dst += a · b` with `faer`'s GEMM on one thread.
pub(crate) fn gemm<T: RealField + Copy>(
    mut dst: ArrayViewMut2<'_, T>,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
) {
    if a.ncols() == 0 || dst.is_empty() {
        return;
    }
    faer::linalg::matmul::matmul(
        view_mut(&mut dst),
        Accum::Add,
        view(&a),
        view(&b),
        T::one_impl(),
        Par::Seq,
    );
}

/// The thin QR of `a` (`m x n`): `Q` (`m x k`) with orthonormal columns
/// and upper-triangular `R` (`k x n`), `k = min(m, n)`.
pub(crate) fn qr<T: RealField + Copy + num_traits::Zero>(
    a: ArrayView2<'_, T>,
) -> (Array2<T>, Array2<T>) {
    use ndarray::ShapeBuilder;
    let k = a.nrows().min(a.ncols());
    let mut q = Array2::<T>::zeros((a.nrows(), k).f());
    let r = qr_into(a, q.view_mut());
    (q, r)
}

/// [`qr`] writing `Q` into `q` (`m x k`), which saves a copy of a tall
/// `Q`; returns `R`.
pub(crate) fn qr_into<T: RealField + Copy + num_traits::Zero>(
    a: ArrayView2<'_, T>,
    mut q: ArrayViewMut2<'_, T>,
) -> Array2<T> {
    let k = a.nrows().min(a.ncols());
    if k == 0 {
        return Array2::from_elem((0, a.ncols()), T::zero_impl());
    }
    let f = view(&a).qr();
    let fq = f.compute_thin_Q();
    for (j, mut col) in q.columns_mut().into_iter().enumerate() {
        let src = fq.col(j);
        for (i, v) in col.iter_mut().enumerate() {
            *v = src[i];
        }
    }
    let mut r = owned(f.thin_R());
    // faer leaves the part below the diagonal undefined
    for ((i, j), v) in r.indexed_iter_mut() {
        if i > j {
            *v = T::zero_impl();
        }
    }
    r
}

/// `U`, the singular values and `Vᵀ` of a thin SVD.
pub(crate) type Svd<T> = (Array2<T>, Array1<T>, Array2<T>);

/// The thin SVD of `a` (`m x n`): `U` (`m x k`), the singular values in
/// decreasing order (`k`) and `Vᵀ` (`k x n`), `k = min(m, n)`.
pub(crate) fn svd<T: RealField + Copy>(a: ArrayView2<'_, T>) -> Result<Svd<T>, String> {
    let k = a.nrows().min(a.ncols());
    if k == 0 {
        let z = T::zero_impl();
        return Ok((
            Array2::from_elem((a.nrows(), 0), z),
            Array1::from_elem(0, z),
            Array2::from_elem((0, a.ncols()), z),
        ));
    }
    let f = view(&a)
        .thin_svd()
        .map_err(|e| format!("the SVD did not converge: {e:?}"))?;
    let s = f.S().column_vector();
    let s = Array1::from_shape_fn(k, |i| s[i]);
    Ok((owned(f.U()), s, owned(f.V().transpose())))
}

/// `x` with `a · x = b` for square `a`, by LU with partial pivoting; an
/// error if `a` is singular (an exactly zero pivot, as LAPACK's `getrf`
/// reports; a nearly singular `a` gives large or infinite values, as
/// NumPy's).
pub(crate) fn lu_solve<T: RealField + Copy + crate::Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
) -> Result<Array2<T>, String> {
    use faer::linalg::solvers::Solve;
    let n = a.nrows();
    if n == 0 {
        return Ok(b.to_owned());
    }
    let lu = view(&a).partial_piv_lu();
    let u = lu.U();
    if (0..n).any(|i| u[(i, i)] == T::ZERO) {
        return Err("the matrix is singular".into());
    }
    Ok(owned(lu.solve(view(&b)).as_ref()))
}

/// `x` with `r · x = b` for upper-triangular square `r` (back
/// substitution); a zero on the diagonal gives infinities, as NumPy's.
pub(crate) fn solve_upper<T: RealField + Copy>(
    r: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
) -> Array2<T> {
    let mut x = b.to_owned();
    if r.nrows() == 0 || x.is_empty() {
        return x;
    }
    let mut xv = x.view_mut();
    faer::linalg::triangular_solve::solve_upper_triangular_in_place(
        view(&r),
        view_mut(&mut xv),
        Par::Seq,
    );
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn gemm_accumulates_on_strided_views() {
        let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let b = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let mut c = Array2::from_elem((2, 2), 1.0);
        gemm(c.view_mut(), a.view(), b.view());
        assert_eq!(c, a.dot(&b) + 1.0);
        // transposed (column-major) operands
        let mut d = Array2::<f32>::zeros((3, 3));
        let at = a.t().mapv(|v| v as f32);
        gemm(d.view_mut(), at.view(), at.t());
        assert_eq!(d, at.dot(&at.t()));
    }

    #[test]
    fn qr_svd_and_solves_reconstruct() {
        let a = array![[2.0, 1.0], [1.0, 3.0], [0.0, 1.0]];
        let (q, r) = qr(a.view());
        assert!((q.dot(&r) - &a).iter().all(|v: &f64| v.abs() < 1e-12));
        assert!((q.t().dot(&q) - Array2::<f64>::eye(2))
            .iter()
            .all(|v: &f64| v.abs() < 1e-12));
        assert_eq!(r[(1, 0)], 0.0);
        let (u, s, vt) = svd(a.view()).unwrap();
        let us = &u * &s;
        assert!((us.dot(&vt) - &a).iter().all(|v: &f64| v.abs() < 1e-12));
        assert!(s[0] >= s[1]);
        let sq = array![[4.0, 1.0], [2.0, 3.0]];
        let x = lu_solve(sq.view(), array![[1.0], [2.0]].view()).unwrap();
        assert!((sq.dot(&x) - array![[1.0], [2.0]])
            .iter()
            .all(|v: &f64| v.abs() < 1e-12));
        let singular = array![[1.0, 2.0], [2.0, 4.0]];
        assert!(lu_solve(singular.view(), array![[1.0], [2.0]].view()).is_err());
        let x = solve_upper(r.view(), array![[1.0], [1.0]].view());
        assert!((r.dot(&x) - array![[1.0], [1.0]])
            .iter()
            .all(|v: &f64| v.abs() < 1e-12));
    }
}
