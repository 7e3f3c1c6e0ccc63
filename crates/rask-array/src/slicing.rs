//! Slicing and integer indexing (with steps and negative indices), and
//! transposition.
//!
//! A slice selects, along each axis, an arithmetic progression of
//! indices; the selected indices of each input chunk form one output
//! chunk (in reverse chunk order for a negative step), so every output
//! chunk is a slice of exactly one input chunk, and one taken whole is an
//! alias of it. Slices follow `ndarray`'s `s![]` semantics: `a..b;-1` is
//! the range `a..b` walked backwards, negative bounds count from the end.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, SliceInfoElem};
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks, offsets, Idx};
use crate::element::Element;
use crate::error::ArrayError;
use crate::expr::chunk_of;
use crate::node::block_key;
use crate::token::Tokenizer;

/// A view as an owned array in standard (C) layout.
pub(crate) fn to_standard<T: Element>(v: ArrayViewD<'_, T>) -> ArrayD<T> {
    if v.is_standard_layout() {
        v.to_owned()
    } else {
        ArrayD::from_shape_vec(v.shape().to_vec(), v.iter().copied().collect())
            .expect("shape of a view")
    }
}

/// The per-block slice of one output axis.
#[derive(Clone)]
enum AxisSel {
    /// Groups: (input block, local slice, output length).
    Groups(Vec<(usize, SliceInfoElem, usize)>),
    /// One index: (input block, local index); the axis is dropped.
    Index(usize, isize),
    /// A new axis of length 1.
    New,
}

/// The slice of one chunk, as a literal argument of a `getitem` task.
#[derive(Debug, Clone)]
struct Spec(Vec<SliceInfoElem>);

fn tokenize_elem(tok: &mut Tokenizer, e: &SliceInfoElem) {
    match *e {
        SliceInfoElem::Slice { start, end, step } => {
            tok.u64(0)
                .u64(start as u64)
                .u64(end.map_or(u64::MAX, |e| e as u64))
                .u64(step as u64);
        }
        SliceInfoElem::Index(i) => {
            tok.u64(1).u64(i as u64);
        }
        SliceInfoElem::NewAxis => {
            tok.u64(2);
        }
    }
}

impl<T: Element> Array<T> {
    /// A slice of the array, written with `ndarray`'s `s![]` (ranges with
    /// steps, negative indices counting from the end, integer indices that
    /// drop their axis, `NewAxis`); missing trailing axes are taken whole.
    /// Slice bounds past the ends are clamped as in NumPy (past the end is
    /// empty); integer indices out of range are an error.
    ///
    /// ```
    /// use rask::ndarray::s;
    /// use rask::array::arange;
    /// let x = arange(10, 3);
    /// let y = x.slice(s![1..-1;3]).unwrap();
    /// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1, 4, 7]);
    /// let z = x.slice(s![..;-4]).unwrap();
    /// assert_eq!(z.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[9, 5, 1]);
    /// assert_eq!(x.slice(s![-1]).unwrap().compute_scalar(&rask::Sync).unwrap(), 9);
    /// assert!(x.slice(s![10]).is_err()); // an index must exist
    /// assert_eq!(x.slice(s![8..20]).unwrap().shape(), &[2]); // a slice is clamped, as NumPy's
    /// assert_eq!(x.slice(s![12..]).unwrap().shape(), &[0]);
    /// ```
    pub fn slice(&self, info: impl AsRef<[SliceInfoElem]>) -> Result<Array<T>, ArrayError> {
        // an axis of unknown sizes can only be taken whole (`..`)
        self.check_poison()?;
        let info = info.as_ref();
        let nd = self.ndim();
        let used = info
            .iter()
            .filter(|e| !matches!(e, SliceInfoElem::NewAxis))
            .count();
        let err = |message: String| ArrayError::Index {
            array: self.name().to_string(),
            message,
        };
        if used > nd {
            return Err(err(format!("{used} indices for {nd} axes")));
        }
        let mut elems: Vec<SliceInfoElem> = info.to_vec();
        elems.extend((used..nd).map(|_| SliceInfoElem::Slice {
            start: 0,
            end: None,
            step: 1,
        }));
        let mut sels = Vec::with_capacity(elems.len());
        let mut unknown_out = Vec::new();
        let mut axis = 0;
        let mut tok = Tokenizer::new("getitem");
        tok.str(self.name());
        for e in &elems {
            tokenize_elem(&mut tok, e);
            let whole = SliceInfoElem::Slice {
                start: 0,
                end: None,
                step: 1,
            };
            if !matches!(e, SliceInfoElem::NewAxis) && self.node.unknown_at(axis) {
                if *e != whole {
                    return Err(ArrayError::UnknownChunks {
                        array: self.name().to_string(),
                        op: format!("slicing axis {axis} by position ({e:?})"),
                    });
                }
                let n = self.chunks()[axis].len();
                sels.push(AxisSel::Groups((0..n).map(|k| (k, whole, 0)).collect()));
                unknown_out.push(true);
                axis += 1;
                continue;
            }
            match *e {
                SliceInfoElem::NewAxis => {
                    sels.push(AxisSel::New);
                    unknown_out.push(false);
                }
                SliceInfoElem::Index(i) => {
                    let len = self.shape()[axis];
                    let g = if i < 0 { i + len as isize } else { i };
                    if g < 0 || g >= len as isize {
                        return Err(err(format!(
                            "index {i} out of range for axis {axis} of length {len}"
                        )));
                    }
                    let offs = offsets(&self.chunks()[axis]);
                    let g = g as usize;
                    let k = offs.partition_point(|&o| o <= g) - 1;
                    sels.push(AxisSel::Index(k, (g - offs[k]) as isize));
                    axis += 1;
                }
                SliceInfoElem::Slice { start, end, step } => {
                    let len = self.shape()[axis] as isize;
                    if step == 0 {
                        return Err(err(format!("step 0 along axis {axis}")));
                    }
                    // as NumPy: bounds past either end are clamped to it,
                    // so a slice past the end is empty
                    let abs = |i: isize| (if i < 0 { i + len } else { i }).clamp(0, len);
                    let s = abs(start);
                    let mut t = abs(end.unwrap_or(len));
                    if t < s {
                        t = s;
                    }
                    sels.push(AxisSel::Groups(groups(
                        &self.chunks()[axis],
                        s as usize,
                        t as usize,
                        step,
                    )));
                    unknown_out.push(false);
                    axis += 1;
                }
            }
        }
        let name = tok.finish();
        // output chunks and blocks
        let out_axes: Vec<&AxisSel> = sels
            .iter()
            .filter(|s| !matches!(s, AxisSel::Index(..)))
            .collect();
        let chunks: Vec<Vec<usize>> = out_axes
            .iter()
            .map(|s| match s {
                AxisSel::Groups(g) => g.iter().map(|x| x.2).collect(),
                _ => vec![1],
            })
            .collect();
        let shape: Vec<usize> = chunks.iter().map(|c| c.iter().sum()).collect();
        let array = self.node.name.clone();
        let getitem = Function::dynamic("getitem", Arity::exactly(2), move |args: &[Value]| {
            let c = chunk_of::<T>(&args[0], &array)?;
            let spec = args[1]
                .downcast_ref::<Spec>()
                .ok_or_else(|| CallError::msg("getitem: no slice"))?;
            Ok(Value::new(to_standard(c.slice(spec.0.as_slice()))))
        });
        let mut tasks = Vec::new();
        for b in all_blocks(&numblocks(&chunks)) {
            let mut src: Idx = Idx::new();
            let mut spec = Vec::with_capacity(sels.len());
            let mut whole = true;
            let mut o = 0;
            for (s, in_axis) in sels.iter().zip(input_axes(&sels)) {
                match s {
                    AxisSel::New => {
                        spec.push(SliceInfoElem::NewAxis);
                        whole = false;
                        o += 1;
                    }
                    AxisSel::Index(k, i) => {
                        src.push(*k);
                        spec.push(SliceInfoElem::Index(*i));
                        whole = false;
                    }
                    AxisSel::Groups(g) => {
                        let (k, e, len) = &g[b[o]];
                        src.push(*k);
                        let full = matches!(
                            e,
                            SliceInfoElem::Slice {
                                start: 0,
                                step: 1,
                                ..
                            }
                        ) && *len == self.chunks()[in_axis.unwrap_or(0)][*k];
                        whole &= full;
                        spec.push(*e);
                        o += 1;
                    }
                }
            }
            let key = block_key(&name, &b);
            let input = Task::Key(self.node.key(&src));
            if whole {
                tasks.push((key, input));
            } else {
                let spec = Task::Value(Value::new(Spec(spec)));
                tasks.push((key, Task::Call(getitem.clone(), Box::new([input, spec]))));
            }
        }
        Ok(
            Array::from_tasks(name, shape, chunks, tasks, vec![Arc::clone(&self.node)])
                .with_unknown(unknown_out),
        )
    }

    /// The axes in reverse order (NumPy's `.T`).
    pub fn t(&self) -> Array<T> {
        let perm: Vec<usize> = (0..self.ndim()).rev().collect();
        self.permuted_axes(&perm)
            .unwrap_or_else(|e| unreachable!("reversed axes: {e}"))
    }

    /// The axes permuted: axis `i` of the result is axis `perm[i]` of
    /// `self` (NumPy's `transpose(axes)`).
    pub fn permuted_axes(&self, perm: &[usize]) -> Result<Array<T>, ArrayError> {
        let nd = self.ndim();
        let mut seen = vec![false; nd];
        if perm.len() != nd
            || perm
                .iter()
                .any(|&p| p >= nd || std::mem::replace(&mut seen[p], true))
        {
            return Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!("{perm:?} is not a permutation of the {nd} axes"),
            });
        }
        let mut tok = Tokenizer::new("transpose");
        tok.str(self.name()).usizes(perm);
        let name = tok.finish();
        let shape: Vec<usize> = perm.iter().map(|&p| self.shape()[p]).collect();
        let chunks: Vec<Vec<usize>> = perm.iter().map(|&p| self.chunks()[p].clone()).collect();
        let array = self.node.name.clone();
        let p = perm.to_vec();
        let f = Function::dynamic("transpose", Arity::exactly(1), move |args: &[Value]| {
            let c = chunk_of::<T>(&args[0], &array)?;
            Ok(Value::new(to_standard(c.view().permuted_axes(p.clone()))))
        });
        let tasks = all_blocks(&numblocks(&chunks))
            .iter()
            .map(|b| {
                let mut src: Idx = Idx::from_elem(0, nd);
                for (i, &p) in perm.iter().enumerate() {
                    src[p] = b[i];
                }
                (
                    block_key(&name, b),
                    Task::Call(f.clone(), Box::new([Task::Key(self.node.key(&src))])),
                )
            })
            .collect();
        // a transpose needs no size: unknown ones move with their axes
        let unknown = perm.iter().map(|&p| self.node.unknown_at(p)).collect();
        Ok(
            Array::from_tasks(name, shape, chunks, tasks, vec![Arc::clone(&self.node)])
                .with_unknown(unknown),
        )
    }
}

/// The input axis of each selection (`None` for a new axis).
fn input_axes(sels: &[AxisSel]) -> Vec<Option<usize>> {
    let mut axis = 0;
    sels.iter()
        .map(|s| match s {
            AxisSel::New => None,
            _ => {
                axis += 1;
                Some(axis - 1)
            }
        })
        .collect()
}

/// The selected indices of `start..end` by `step` grouped by chunk.
fn groups(
    chunks: &[usize],
    start: usize,
    end: usize,
    step: isize,
) -> Vec<(usize, SliceInfoElem, usize)> {
    let offs = offsets(chunks);
    let a = step.unsigned_abs();
    let n = if end > start {
        (end - start).div_ceil(a)
    } else {
        0
    };
    if n == 0 {
        let empty = SliceInfoElem::Slice {
            start: 0,
            end: Some(0),
            step: 1,
        };
        return vec![(0, empty, 0)];
    }
    // selected global indices in output order
    let first = if step > 0 { start } else { end - 1 };
    let at = |i: usize| -> usize {
        if step > 0 {
            first + i * a
        } else {
            first - i * a
        }
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let g = at(i);
        let k = offs.partition_point(|&o| o <= g) - 1;
        let (lo, hi) = (offs[k], offs[k + 1]);
        let mut j = i + 1;
        while j < n && (lo..hi).contains(&at(j)) {
            j += 1;
        }
        let count = j - i;
        let (l0, l1) = (g - lo, at(j - 1) - lo);
        let e = if step > 0 {
            SliceInfoElem::Slice {
                start: l0 as isize,
                end: Some(l1 as isize + 1),
                step,
            }
        } else {
            SliceInfoElem::Slice {
                start: l1 as isize,
                end: Some(l0 as isize + 1),
                step,
            }
        };
        out.push((k, e, count));
        i = j;
    }
    out
}

impl<T: Element> Array<T> {
    /// The elements at `indices` along `axis` (NumPy's `take`, Dask's
    /// `x[[3, 1, 4]]`): negative indices count from the end, repeats and
    /// any order are allowed. Each run of indices falling in one input
    /// chunk makes one output chunk.
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(10, 4).take(0, &[7, 1, 2, -1, 7]).unwrap();
    /// assert_eq!(x.chunks(), &[vec![1, 2, 1, 1]]);
    /// assert_eq!(x.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[7, 1, 2, 9, 7]);
    /// ```
    pub fn take(&self, axis: isize, indices: &[isize]) -> Result<Array<T>, ArrayError> {
        self.require_known("take")?;
        let nd = self.ndim();
        let ax = if axis < 0 { axis + nd as isize } else { axis };
        if ax < 0 || ax >= nd as isize {
            return Err(ArrayError::Axis {
                array: self.name().to_string(),
                axis,
                ndim: nd,
            });
        }
        let ax = ax as usize;
        let len = self.shape()[ax];
        let offs = offsets(&self.chunks()[ax]);
        // (input block, local indices) per output chunk
        let mut runs: Vec<(usize, Vec<usize>)> = Vec::new();
        for &i in indices {
            let g = if i < 0 { i + len as isize } else { i };
            if g < 0 || g >= len as isize {
                return Err(ArrayError::Index {
                    array: self.name().to_string(),
                    message: format!("index {i} out of range for axis {ax} of length {len}"),
                });
            }
            let g = g as usize;
            let k = offs.partition_point(|&o| o <= g) - 1;
            match runs.last_mut() {
                Some((b, local)) if *b == k => local.push(g - offs[k]),
                _ => runs.push((k, vec![g - offs[k]])),
            }
        }
        let mut tok = Tokenizer::new("take");
        tok.str(self.name()).u64(ax as u64);
        for &i in indices {
            tok.u64(i as u64);
        }
        let name = tok.finish();
        let mut chunks = self.chunks().to_vec();
        chunks[ax] = if runs.is_empty() {
            vec![0]
        } else {
            runs.iter().map(|r| r.1.len()).collect()
        };
        if runs.is_empty() {
            runs.push((0, Vec::new()));
        }
        let mut shape = self.shape().to_vec();
        shape[ax] = indices.len();
        let array = self.node.name.clone();
        let f = Function::dynamic("take", Arity::exactly(2), move |args: &[Value]| {
            let c = chunk_of::<T>(&args[0], &array)?;
            let idx: Vec<usize> = args[1]
                .as_list()
                .unwrap_or_default()
                .iter()
                .map(|v| v.get::<usize>().unwrap_or(0))
                .collect();
            Ok(Value::new(c.select(ndarray::Axis(ax), &idx)))
        });
        let tasks = all_blocks(&numblocks(&chunks))
            .iter()
            .map(|b| {
                let (k, local) = &runs[b[ax]];
                let mut src = b.clone();
                src[ax] = *k;
                let idx = Task::Value(Value::list(local.iter().map(|&i| Value::Int(i as i64))));
                (
                    block_key(&name, b),
                    Task::Call(f.clone(), Box::new([Task::Key(self.node.key(&src)), idx])),
                )
            })
            .collect();
        Ok(Array::from_tasks(
            name,
            shape,
            chunks,
            tasks,
            vec![Arc::clone(&self.node)],
        ))
    }
}
