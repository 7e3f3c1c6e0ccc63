//! The shapes of NumPy's matrix helpers and axis juggling: `eye`, `diag`,
//! `tril`, `triu`, `squeeze`, `expand_dims` and `broadcast_to`.
//!
//! `eye` is a generator of the index (no chunk is stored); `tril`, `triu`
//! and `diag` of a vector are `where` of such a generated mask, so they
//! fuse into their consumers like any elementwise operation. `squeeze`
//! and `expand_dims` are slices (integer indices, new axes) that keep the
//! chunks; `broadcast_to` reads the chunks of its input for every block
//! of the output.
//!
//! ```
//! use rask::array::{arange, eye};
//! let x = arange(9, 2).reshape(&[3, 3]).unwrap();
//! let lower = x.tril(0).unwrap();
//! assert_eq!(lower.compute(&rask::Sync).unwrap(),
//!            rask::ndarray::arr2(&[[0, 0, 0], [3, 4, 0], [6, 7, 8]]).into_dyn());
//! let i = eye(3, 2).unwrap();
//! assert_eq!(i.sum().compute_scalar(&rask::Sync).unwrap(), 3.0);
//! ```

use ndarray::SliceInfoElem;

use crate::array::Array;
use crate::chunks::ChunkSpec;
use crate::element::{Element, Number};
use crate::elementwise::Operand;
use crate::error::ArrayError;
use crate::reduction::Reduce;
use crate::token::Tokenizer;
use crate::ufunc::where_;

/// The `n`-by-`n` identity matrix of `f64` (NumPy's `eye(n)`), in chunks
/// of `chunks`; see [`Array::eye`] for other types and diagonals.
pub fn eye(n: usize, chunks: impl Into<ChunkSpec>) -> Result<Array<f64>, ArrayError> {
    Array::eye(n, n, 0, chunks)
}

/// NumPy's `diag`: the square matrix with the vector `v` on its diagonal,
/// or the diagonal of the matrix `v`; see [`Array::diag`].
pub fn diag<T: Number>(v: &Array<T>) -> Result<Array<T>, ArrayError> {
    v.require_known("diag")?;
    v.diag(0)
}

/// Whether global index `idx` of a matrix is on or below (`LOWER`) or on
/// or above diagonal `k`.
fn triangle_mask(
    name: &'static str,
    shape: &[usize],
    chunks: &[Vec<usize>],
    k: isize,
    lower: bool,
) -> Result<Array<bool>, ArrayError> {
    let f = move |idx: &[usize]| {
        let d = idx[1] as isize - idx[0] as isize;
        if lower {
            d <= k
        } else {
            d >= k
        }
    };
    let tag = format!("{name}-{k}");
    Array::fromfunction(&tag, shape, chunks.to_vec(), f)
}

impl<T: Number> Array<T> {
    /// The `n`-by-`m` matrix of ones on diagonal `k` (above the main one
    /// for `k > 0`) and zeros elsewhere, as NumPy's `eye(n, m, k)`.
    ///
    /// ```
    /// use rask::array::Array;
    /// let e = Array::<i64>::eye(2, 3, 1, 2).unwrap();
    /// assert_eq!(e.compute(&rask::Sync).unwrap(), rask::ndarray::arr2(&[[0, 1, 0], [0, 0, 1]]).into_dyn());
    /// ```
    pub fn eye(
        n: usize,
        m: usize,
        k: isize,
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<T>, ArrayError> {
        let f = move |idx: &[usize]| {
            if idx[1] as isize - idx[0] as isize == k {
                T::ONE
            } else {
                T::ZERO
            }
        };
        Array::fromfunction(&format!("eye-{k}"), &[n, m], chunks, f)
    }

    fn matrix(&self, op: &str) -> Result<(), ArrayError> {
        if self.ndim() == 2 {
            Ok(())
        } else {
            Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!("{op} needs a 2-d array, got {} axes", self.ndim()),
            })
        }
    }

    /// The lower triangle: the elements on and below diagonal `k`, zeros
    /// above (NumPy's `tril`).
    pub fn tril(&self, k: isize) -> Result<Array<T>, ArrayError> {
        self.require_known("tril")?;
        self.matrix("tril")?;
        let mask = triangle_mask("tril", self.shape(), self.chunks(), k, true)?;
        where_(&mask, self, Operand::Scalar(T::ZERO))
    }

    /// The upper triangle: the elements on and above diagonal `k`, zeros
    /// below (NumPy's `triu`).
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(6, 2).reshape(&[2, 3]).unwrap();
    /// assert_eq!(x.triu(1).unwrap().compute(&rask::Sync).unwrap(),
    ///            rask::ndarray::arr2(&[[0, 1, 2], [0, 0, 5]]).into_dyn());
    /// ```
    pub fn triu(&self, k: isize) -> Result<Array<T>, ArrayError> {
        self.require_known("triu")?;
        self.matrix("triu")?;
        let mask = triangle_mask("triu", self.shape(), self.chunks(), k, false)?;
        where_(&mask, self, Operand::Scalar(T::ZERO))
    }

    /// NumPy's `diag(v, k)`: for a vector, the square matrix with `v` on
    /// diagonal `k` (chunked along both axes as `v`, when `k` is 0); for
    /// a matrix, its diagonal `k` as a vector.
    ///
    /// ```
    /// use rask::array::{arange, diag};
    /// let v = arange(3, 2) + 1;
    /// let m = diag(&v).unwrap();
    /// assert_eq!(m.compute(&rask::Sync).unwrap(),
    ///            rask::ndarray::arr2(&[[1, 0, 0], [0, 2, 0], [0, 0, 3]]).into_dyn());
    /// assert_eq!(diag(&m).unwrap().compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1, 2, 3]);
    /// ```
    pub fn diag(&self, k: isize) -> Result<Array<T>, ArrayError> {
        match self.ndim() {
            1 => {
                let n = self.len() + k.unsigned_abs();
                // v along the rows (k <= 0) or the columns (k > 0), padded
                let pad = Array::<T>::zeros(&[k.unsigned_abs()], self.chunks()[0].clone())
                    .or_else(|_| Array::<T>::zeros(&[k.unsigned_abs()], 1))?;
                // |k| zeros in front: padded[i] is v[i - |k|]
                let padded = if k == 0 {
                    self.clone()
                } else {
                    crate::shape::concatenate(&[&pad, self], 0)?
                };
                let grid = vec![padded.chunks()[0].clone(), padded.chunks()[0].clone()];
                let on = Array::<bool>::fromfunction(
                    &format!("diag-{k}"),
                    &[n, n],
                    grid,
                    move |i: &[usize]| i[1] as isize - i[0] as isize == k,
                )?;
                // (i, i + k) holds v[i]: column j holds padded[j] when
                // k > 0, row i holds padded[i] when k < 0
                let values = if k > 0 {
                    padded.expand_dims(0)?
                } else {
                    padded.expand_dims(1)?
                };
                where_(&on, &values, Operand::Scalar(T::ZERO))
            }
            2 => {
                let (n, m) = (self.shape()[0] as isize, self.shape()[1] as isize);
                let len = if k >= 0 {
                    (m - k).min(n)
                } else {
                    (n + k).min(m)
                }
                .max(0) as usize;
                let on = triangle_mask("diag", self.shape(), self.chunks(), k, true)?.zip_tok(
                    &triangle_mask("diag", self.shape(), self.chunks(), k, false)?,
                    "diag",
                    Tokenizer::new("diag-both"),
                    |a: bool, b: bool| a && b,
                )?;
                let kept = where_(&on, self, Operand::Scalar(T::ZERO))?;
                // one element of each row (k <= 0) or column (k > 0) is kept
                let (axis, skip) = if k >= 0 { (0, k) } else { (1, -k) };
                let sums = kept.sum_with(&Reduce::axis(axis))?;
                let start = skip.min(if axis == 0 { m } else { n });
                sums.slice([SliceInfoElem::Slice {
                    start,
                    end: Some(start + len as isize),
                    step: 1,
                }])
            }
            nd => Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!("diag needs a 1-d or 2-d array, got {nd} axes"),
            }),
        }
    }
}

impl<T: Element> Array<T> {
    fn axis_or_err(&self, axis: isize, ndim: usize) -> Result<usize, ArrayError> {
        let u = if axis < 0 { axis + ndim as isize } else { axis };
        if u < 0 || u >= ndim as isize {
            return Err(ArrayError::Axis {
                array: self.name().to_string(),
                axis,
                ndim,
            });
        }
        Ok(u as usize)
    }

    /// A new axis of length 1 at position `axis` of the result (NumPy's
    /// `expand_dims`; negative counts from the end), chunks kept.
    ///
    /// ```
    /// let x = rask::array::arange(6, 4);
    /// assert_eq!(x.expand_dims(0).unwrap().shape(), &[1, 6]);
    /// assert_eq!(x.expand_dims(-1).unwrap().chunks(), &[vec![4, 2], vec![1]]);
    /// ```
    pub fn expand_dims(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        let at = self.axis_or_err(axis, self.ndim() + 1)?;
        let mut info: Vec<SliceInfoElem> = (0..self.ndim())
            .map(|_| SliceInfoElem::Slice {
                start: 0,
                end: None,
                step: 1,
            })
            .collect();
        info.insert(at, SliceInfoElem::NewAxis);
        self.slice(info)
    }

    /// The array without its axes of length 1 (NumPy's `squeeze`).
    ///
    /// ```
    /// let x = rask::array::arange(6, 4).reshape(&[1, 6, 1]).unwrap();
    /// assert_eq!(x.squeeze().unwrap().shape(), &[6]);
    /// ```
    pub fn squeeze(&self) -> Result<Array<T>, ArrayError> {
        let axes: Vec<isize> = (0..self.ndim())
            .filter(|&a| self.shape()[a] == 1)
            .map(|a| a as isize)
            .collect();
        self.squeeze_axes(&axes)
    }

    /// The array without the given axes, each of length 1 (NumPy's
    /// `squeeze(axis=...)`): an error names an axis of another length.
    pub fn squeeze_axes(&self, axes: &[isize]) -> Result<Array<T>, ArrayError> {
        let mut drop = vec![false; self.ndim()];
        for &a in axes {
            let u = self.axis_or_err(a, self.ndim())?;
            if self.node.unknown_at(u) {
                return Err(ArrayError::UnknownChunks {
                    array: self.name().to_string(),
                    op: format!("squeezing axis {a} (only an axis of length 1 can be)"),
                });
            }
            if self.shape()[u] != 1 {
                return Err(ArrayError::Shape {
                    array: self.name().to_string(),
                    message: format!(
                        "cannot squeeze axis {a} of length {} (only length 1)",
                        self.shape()[u]
                    ),
                });
            }
            drop[u] = true;
        }
        if !drop.contains(&true) {
            return Ok(self.clone());
        }
        let info: Vec<SliceInfoElem> = drop
            .iter()
            .map(|&d| {
                if d {
                    SliceInfoElem::Index(0)
                } else {
                    SliceInfoElem::Slice {
                        start: 0,
                        end: None,
                        step: 1,
                    }
                }
            })
            .collect();
        self.slice(info)
    }

    /// The array broadcast to `shape` as NumPy broadcasts (NumPy's
    /// `broadcast_to`): axes are added in front, axes of length 1
    /// repeated. Existing axes keep their chunks; the others are one
    /// chunk.
    ///
    /// ```
    /// let x = rask::array::arange(3, 2);
    /// let y = x.broadcast_to(&[2, 3]).unwrap();
    /// assert_eq!(y.chunks(), &[vec![2], vec![2, 1]]);
    /// assert_eq!(y.compute(&rask::Sync).unwrap(), rask::ndarray::arr2(&[[0, 1, 2], [0, 1, 2]]).into_dyn());
    /// ```
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Array<T>, ArrayError> {
        self.require_known("broadcast_to")?;
        let (nd, own) = (shape.len(), self.ndim());
        let bad = || ArrayError::Shape {
            array: self.name().to_string(),
            message: format!("cannot broadcast shape {:?} to {shape:?}", self.shape()),
        };
        if own > nd {
            return Err(bad());
        }
        let mut grid = Vec::with_capacity(nd);
        for (k, &len) in shape.iter().enumerate() {
            if k < nd - own {
                grid.push(vec![len]);
                continue;
            }
            let kl = k - (nd - own);
            match self.shape()[kl] {
                d if d == len => grid.push(self.chunks()[kl].clone()),
                1 => grid.push(vec![len]),
                _ => return Err(bad()),
            }
        }
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let target = Array::<T>::full(shape, T::default(), grid)?;
        let mut tok = Tokenizer::new("broadcast_to");
        tok.usizes(shape);
        self.zip_tok(&target, "broadcast_to", tok, |a: T, _: T| a)
    }
}
