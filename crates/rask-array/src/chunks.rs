//! Chunk grids: per axis, the sizes of the chunks along it, as Dask's
//! `chunks` tuple (`((5, 5, 5),)` for 15 elements in chunks of 5).
//!
//! [`ChunkSpec`] is what a user writes: one size for every axis, a size per
//! axis ([`FULL`] for the whole axis), or the sizes themselves. It is
//! normalized against a shape into the explicit grid, checked there:
//!
//! ```
//! use rask::array::{zeros, FULL};
//! assert_eq!(zeros(&[7, 4], [3, FULL]).unwrap().chunks(), &[vec![3, 3, 1], vec![4]]);
//! assert_eq!(zeros(&[7], vec![vec![2, 5]]).unwrap().chunks(), &[vec![2, 5]]);
//! ```

use smallvec::SmallVec;

use crate::error::ArrayError;

/// A chunk size meaning "the whole axis".
pub const FULL: usize = usize::MAX;

/// A block index or a shape, inline up to 4 axes.
pub(crate) type Idx = SmallVec<[usize; 4]>;

/// How to cut an array into chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkSpec {
    /// The same chunk size along every axis.
    Uniform(usize),
    /// One chunk size per axis ([`FULL`]: the whole axis).
    PerAxis(Vec<usize>),
    /// The chunk sizes along each axis; each list sums to the axis length.
    Explicit(Vec<Vec<usize>>),
}

impl From<usize> for ChunkSpec {
    fn from(c: usize) -> ChunkSpec {
        ChunkSpec::Uniform(c)
    }
}
impl<const N: usize> From<[usize; N]> for ChunkSpec {
    fn from(c: [usize; N]) -> ChunkSpec {
        ChunkSpec::PerAxis(c.to_vec())
    }
}
impl From<&[usize]> for ChunkSpec {
    fn from(c: &[usize]) -> ChunkSpec {
        ChunkSpec::PerAxis(c.to_vec())
    }
}
impl From<Vec<usize>> for ChunkSpec {
    fn from(c: Vec<usize>) -> ChunkSpec {
        ChunkSpec::PerAxis(c)
    }
}
impl From<Vec<Vec<usize>>> for ChunkSpec {
    fn from(c: Vec<Vec<usize>>) -> ChunkSpec {
        ChunkSpec::Explicit(c)
    }
}
impl From<&[Vec<usize>]> for ChunkSpec {
    fn from(c: &[Vec<usize>]) -> ChunkSpec {
        ChunkSpec::Explicit(c.to_vec())
    }
}

/// The chunks of an axis of length `len` in chunks of `size`.
pub(crate) fn regular(len: usize, size: usize) -> Vec<usize> {
    if len == 0 {
        return vec![0];
    }
    let size = size.min(len);
    let mut out = vec![size; len / size];
    if !len.is_multiple_of(size) {
        out.push(len % size);
    }
    out
}

impl ChunkSpec {
    /// The explicit grid for `shape`, or an error naming `array`.
    pub(crate) fn normalize(
        &self,
        shape: &[usize],
        array: &str,
    ) -> Result<Vec<Vec<usize>>, ArrayError> {
        let bad = |message: String| ArrayError::Chunks {
            array: array.to_string(),
            message,
        };
        let per_axis = |sizes: &[usize]| -> Result<Vec<Vec<usize>>, ArrayError> {
            shape
                .iter()
                .zip(sizes)
                .enumerate()
                .map(|(axis, (&len, &size))| {
                    if size == 0 && len > 0 {
                        Err(bad(format!(
                            "chunk size 0 along axis {axis} of length {len}"
                        )))
                    } else {
                        Ok(regular(len, size.max(1)))
                    }
                })
                .collect()
        };
        match self {
            ChunkSpec::Uniform(c) => per_axis(&vec![*c; shape.len()]),
            ChunkSpec::PerAxis(sizes) => {
                if sizes.len() != shape.len() {
                    return Err(bad(format!(
                        "{} chunk sizes for {} axes (shape {:?})",
                        sizes.len(),
                        shape.len(),
                        shape
                    )));
                }
                per_axis(sizes)
            }
            ChunkSpec::Explicit(grid) => {
                if grid.len() != shape.len() {
                    return Err(bad(format!(
                        "chunks for {} axes, the shape {:?} has {}",
                        grid.len(),
                        shape,
                        shape.len()
                    )));
                }
                for (axis, (c, &len)) in grid.iter().zip(shape).enumerate() {
                    let sum: usize = c.iter().sum();
                    if sum != len || c.is_empty() {
                        return Err(bad(format!(
                            "chunks {c:?} along axis {axis} sum to {sum}, the axis has length {len}"
                        )));
                    }
                }
                Ok(grid.clone())
            }
        }
    }
}

/// The start of each chunk along an axis, and the end of the last.
pub(crate) fn offsets(chunks: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(chunks.len() + 1);
    let mut at = 0;
    out.push(0);
    for &c in chunks {
        at += c;
        out.push(at);
    }
    out
}

/// Where a block is, from the block index a task is given (a list of
/// integers) and the chunk offsets of each axis ([`offsets`]): its index,
/// its shape and the offset of its first element.
pub(crate) fn block_at(index: &rask_graph::Value, offs: &[Vec<usize>]) -> (Idx, Idx, Idx) {
    let block: Idx = index
        .as_list()
        .unwrap_or_default()
        .iter()
        .map(|v| v.get::<usize>().unwrap_or(0))
        .collect();
    let shape = block
        .iter()
        .enumerate()
        .map(|(a, &i)| offs[a][i + 1] - offs[a][i])
        .collect();
    let offset = block.iter().enumerate().map(|(a, &i)| offs[a][i]).collect();
    (block, shape, offset)
}

/// How many blocks along each axis.
pub(crate) fn numblocks(chunks: &[Vec<usize>]) -> Idx {
    chunks.iter().map(Vec::len).collect()
}

/// The shape of block `idx`.
pub(crate) fn block_shape(chunks: &[Vec<usize>], idx: &[usize]) -> Idx {
    chunks.iter().zip(idx).map(|(c, &i)| c[i]).collect()
}

/// Every block index of a grid with `nb` blocks per axis, in C order.
pub(crate) fn all_blocks(nb: &[usize]) -> Vec<Idx> {
    let total: usize = nb.iter().product();
    let mut out = Vec::with_capacity(total);
    if total == 0 {
        return out;
    }
    let mut idx: Idx = nb.iter().map(|_| 0).collect();
    for _ in 0..total {
        out.push(idx.clone());
        for a in (0..nb.len()).rev() {
            idx[a] += 1;
            if idx[a] < nb[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    out
}

/// The common refinement of two chunkings of one axis: every boundary of
/// either.
pub(crate) fn refine(a: &[usize], b: &[usize]) -> Vec<usize> {
    let (oa, ob) = (offsets(a), offsets(b));
    let mut cuts: Vec<usize> = oa.iter().chain(ob.iter()).copied().collect();
    cuts.sort_unstable();
    cuts.dedup();
    let out: Vec<usize> = cuts.windows(2).map(|w| w[1] - w[0]).collect();
    if out.is_empty() {
        vec![0]
    } else {
        out
    }
}

/// The chunks for a repr: an axis of more than [`REPR_CHUNKS`] chunks shows
/// its first three and its last, `(5, 5, 5, ..., 2)`.
pub(crate) fn fmt_grid_short(chunks: &[Vec<usize>]) -> String {
    let axes: Vec<String> = chunks
        .iter()
        .map(|c| match c.len() {
            1 => format!("({},)", c[0]),
            n if n > REPR_CHUNKS => format!("({}, {}, {}, ..., {})", c[0], c[1], c[2], c[n - 1]),
            _ => {
                let items: Vec<String> = c.iter().map(usize::to_string).collect();
                format!("({})", items.join(", "))
            }
        })
        .collect();
    format!("({})", axes.join(", "))
}

/// The most chunks of an axis a repr lists.
pub(crate) const REPR_CHUNKS: usize = 6;

/// The largest chunk along each axis (Dask's `chunksize`).
pub(crate) fn chunksize(chunks: &[Vec<usize>]) -> Vec<usize> {
    chunks
        .iter()
        .map(|c| c.iter().copied().max().unwrap_or(0))
        .collect()
}

/// A shape as Python prints a tuple: `(15,)`, `(3, 4)`, `()`.
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".into(),
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Strides of a C-order array of `shape`, in elements.
pub(crate) fn c_strides(shape: &[usize]) -> Idx {
    let mut s: Idx = shape.iter().map(|_| 1).collect();
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

/// Calls `f(idx, pos, run)` for each run of the flat range `lo..lo+len` of
/// a C-order array of `shape` along its last axis: `idx` is the index of
/// the run's first element, `pos` its position in the range (from 0), and
/// `run` how many elements it has. A 0-d shape has one run of 1 element.
pub(crate) fn walk_rows(
    shape: &[usize],
    lo: usize,
    len: usize,
    mut f: impl FnMut(&[usize], usize, usize),
) {
    if len == 0 {
        return;
    }
    let nd = shape.len();
    if nd == 0 {
        f(&[], 0, 1);
        return;
    }
    let last = shape[nd - 1];
    let mut idx: Idx = SmallVec::from_elem(0, nd);
    let mut rest = lo;
    for a in (0..nd).rev() {
        idx[a] = rest % shape[a];
        rest /= shape[a];
    }
    let mut pos = 0;
    while pos < len {
        let run = (last - idx[nd - 1]).min(len - pos);
        f(&idx, pos, run);
        pos += run;
        idx[nd - 1] += run;
        let mut a = nd - 1;
        while idx[a] >= shape[a] && a > 0 {
            idx[a] = 0;
            a -= 1;
            idx[a] += 1;
        }
    }
}
