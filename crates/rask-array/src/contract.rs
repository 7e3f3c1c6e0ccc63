//! Contractions of two arrays: `tensordot` and `einsum` of two operands.
//!
//! Both are a blocked matrix product in disguise, as NumPy computes
//! `tensordot`: the free axes of each operand are moved to the front (of
//! `a`) or the back (of `b`) and flattened, the summed axes flattened,
//! and [`Array::matmul`] multiplies the two matrices by blocks; the
//! result is reshaped to the free axes of `a` followed by those of `b`.
//! `einsum` sums the axes that appear in one operand only, contracts the
//! shared ones with `tensordot`, and orders the remaining axes as its
//! output subscripts say.
//!
//! ```
//! use rask::array::{arange, einsum, tensordot};
//! let a = arange(24, 5).reshape(&[2, 3, 4]).unwrap();
//! let b = arange(12, 5).reshape(&[4, 3]).unwrap();
//! let c = tensordot(&a, &b, &[1, 2], &[1, 0]).unwrap();
//! assert_eq!(c.shape(), &[2]);
//! let d = einsum("ijk,kj->i", &a, &b).unwrap();
//! assert_eq!(c.compute(&rask::Sync).unwrap(), d.compute(&rask::Sync).unwrap());
//! ```

use crate::array::Array;
use crate::element::Number;
use crate::error::ArrayError;
use crate::reduction::Reduce;

fn bad(array: &str, message: String) -> ArrayError {
    ArrayError::Shape {
        array: array.to_string(),
        message,
    }
}

/// NumPy's `tensordot(a, b, axes=(a_axes, b_axes))`: the sum over the
/// pairs of axes `a_axes[i]`, `b_axes[i]` (equal lengths) of the products,
/// with the other axes of `a` then those of `b` as the result's axes.
/// Negative axes count from the end.
pub fn tensordot<T: Number>(
    a: &Array<T>,
    b: &Array<T>,
    a_axes: &[isize],
    b_axes: &[isize],
) -> Result<Array<T>, ArrayError> {
    if a_axes.len() != b_axes.len() {
        return Err(bad(
            a.name(),
            format!(
                "tensordot: {} axes of a against {} of b",
                a_axes.len(),
                b_axes.len()
            ),
        ));
    }
    let norm = |x: &Array<T>, axes: &[isize]| -> Result<Vec<usize>, ArrayError> {
        let nd = x.ndim() as isize;
        let mut out = Vec::with_capacity(axes.len());
        for &k in axes {
            let u = if k < 0 { k + nd } else { k };
            if u < 0 || u >= nd || out.contains(&(u as usize)) {
                return Err(ArrayError::Axis {
                    array: x.name().to_string(),
                    axis: k,
                    ndim: x.ndim(),
                });
            }
            out.push(u as usize);
        }
        Ok(out)
    };
    let (sa, sb) = (norm(a, a_axes)?, norm(b, b_axes)?);
    for (&i, &j) in sa.iter().zip(&sb) {
        if a.shape()[i] != b.shape()[j] {
            return Err(bad(
                a.name(),
                format!(
                    "tensordot: axis {i} of {} has length {}, axis {j} of {} has {}",
                    a.name(),
                    a.shape()[i],
                    b.name(),
                    b.shape()[j]
                ),
            ));
        }
    }
    let free_a: Vec<usize> = (0..a.ndim()).filter(|k| !sa.contains(k)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|k| !sb.contains(k)).collect();
    let len = |x: &Array<T>, axes: &[usize]| axes.iter().map(|&k| x.shape()[k]).product::<usize>();
    let (m, k, n) = (len(a, &free_a), len(a, &sa), len(b, &free_b));
    let perm_a: Vec<usize> = free_a.iter().chain(&sa).copied().collect();
    let perm_b: Vec<usize> = sb.iter().chain(&free_b).copied().collect();
    let a2 = a
        .permuted_axes(&perm_a)?
        .reshape(&[m as isize, k as isize])?;
    let b2 = b
        .permuted_axes(&perm_b)?
        .reshape(&[k as isize, n as isize])?;
    let out: Vec<isize> = free_a
        .iter()
        .map(|&i| a.shape()[i] as isize)
        .chain(free_b.iter().map(|&j| b.shape()[j] as isize))
        .collect();
    a2.matmul(&b2)?.reshape(&out)
}

/// NumPy's `einsum` of two operands, for subscripts like `"ij,jk->ik"`:
/// each letter names an axis; a letter in both operands and not in the
/// output is summed over (contracted), a letter in one operand only and
/// not in the output is summed over in that operand, and the output
/// subscripts order the remaining axes. Not offered: repeated letters
/// within one operand (diagonals), `...`, a letter in both operands and
/// in the output (a batch axis), and the implicit form without `->`.
pub fn einsum<T: Number>(
    subscripts: &str,
    a: &Array<T>,
    b: &Array<T>,
) -> Result<Array<T>, ArrayError> {
    let err = |message: String| bad(a.name(), format!("einsum {subscripts:?}: {message}"));
    let spec: String = subscripts.chars().filter(|c| !c.is_whitespace()).collect();
    let (inputs, output) = spec
        .split_once("->")
        .ok_or_else(|| err("write the output subscripts after `->`".into()))?;
    let (sa, sb) = inputs
        .split_once(',')
        .ok_or_else(|| err("two operands, separated by a comma".into()))?;
    let (sa, sb, so): (Vec<char>, Vec<char>, Vec<char>) = (
        sa.chars().collect(),
        sb.chars().collect(),
        output.chars().collect(),
    );
    for (s, x) in [(&sa, a), (&sb, b)] {
        if s.len() != x.ndim() {
            return Err(err(format!(
                "{} letters for {}, which has {} axes",
                s.len(),
                x.name(),
                x.ndim()
            )));
        }
    }
    for s in [&sa, &sb, &so] {
        if s.iter().any(|c| !c.is_ascii_alphabetic()) {
            return Err(err("subscripts are letters (no `...`)".into()));
        }
        for (i, c) in s.iter().enumerate() {
            if s[..i].contains(c) {
                return Err(err(format!("the letter {c} repeats in one term")));
            }
        }
    }
    for c in &so {
        if !sa.contains(c) && !sb.contains(c) {
            return Err(err(format!("the output letter {c} is in no operand")));
        }
        if sa.contains(c) && sb.contains(c) {
            return Err(err(format!(
                "{c} is in both operands and the output (a batch axis)"
            )));
        }
    }
    // sum the axes of one operand that go nowhere else
    let sum_lonely =
        |x: &Array<T>, s: &[char], other: &[char]| -> Result<(Array<T>, Vec<char>), ArrayError> {
            let lonely: Vec<isize> = (0..s.len())
                .filter(|&i| !other.contains(&s[i]) && !so.contains(&s[i]))
                .map(|i| i as isize)
                .collect();
            let kept: Vec<char> = s
                .iter()
                .copied()
                .filter(|c| other.contains(c) || so.contains(c))
                .collect();
            if lonely.is_empty() {
                Ok((x.clone(), kept))
            } else {
                Ok((x.sum_with(&Reduce::axes(&lonely))?, kept))
            }
        };
    let (a1, ka) = sum_lonely(a, &sa, &sb)?;
    let (b1, kb) = sum_lonely(b, &sb, &sa)?;
    let shared: Vec<char> = ka.iter().copied().filter(|c| kb.contains(c)).collect();
    let ax = |k: &[char], c: char| k.iter().position(|&x| x == c).unwrap_or(0) as isize;
    let a_axes: Vec<isize> = shared.iter().map(|&c| ax(&ka, c)).collect();
    let b_axes: Vec<isize> = shared.iter().map(|&c| ax(&kb, c)).collect();
    let c = tensordot(&a1, &b1, &a_axes, &b_axes)?;
    let got: Vec<char> = ka
        .iter()
        .chain(&kb)
        .copied()
        .filter(|c| !shared.contains(c))
        .collect();
    let perm: Vec<usize> = so
        .iter()
        .map(|&c| got.iter().position(|&x| x == c).unwrap_or(0))
        .collect();
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        Ok(c)
    } else {
        c.permuted_axes(&perm)
    }
}
