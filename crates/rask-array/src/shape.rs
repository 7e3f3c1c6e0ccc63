//! Changing the shape: `concatenate`, `stack`, `reshape`.
//!
//! `concatenate` is all aliases: each output chunk is a chunk of one
//! input. `reshape` works chunk by chunk: it splits the axes into groups
//! whose lengths multiply to the same product (`(6, 4) -> (24,)`), and
//! rechunks the input so that in each group only the outermost axis of
//! length > 1 is cut (Dask's `reshape_rechunk`); each input chunk is then
//! exactly one output chunk.

use std::sync::Arc;

use ndarray::{ArrayD, Axis, IxDyn};
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks, refine, regular, Idx};
use crate::element::Element;
use crate::error::ArrayError;
use crate::expr::{c_order, chunk_of};
use crate::node::block_key;
use crate::token::Tokenizer;

fn axis_of(axis: isize, nd: usize, array: &str) -> Result<usize, ArrayError> {
    let a = if axis < 0 { axis + nd as isize } else { axis };
    if a < 0 || a >= nd as isize {
        return Err(ArrayError::Axis {
            array: array.to_string(),
            axis,
            ndim: nd,
        });
    }
    Ok(a as usize)
}

/// The arrays cut to common chunks along every axis but `skip`.
fn common_chunks<T: Element>(arrays: &[&Array<T>], skip: Option<usize>) -> Vec<Array<T>> {
    let nd = arrays[0].ndim();
    let mut grid: Vec<Vec<usize>> = arrays[0].chunks().to_vec();
    for a in &arrays[1..] {
        for (k, g) in grid.iter_mut().enumerate() {
            if Some(k) != skip {
                *g = refine(g, &a.chunks()[k]);
            }
        }
    }
    arrays
        .iter()
        .map(|a| {
            let want: Vec<Vec<usize>> = (0..nd)
                .map(|k| {
                    if Some(k) == skip {
                        a.chunks()[k].clone()
                    } else {
                        grid[k].clone()
                    }
                })
                .collect();
            a.rechunk_grid(want)
        })
        .collect()
}

/// Arrays joined along an existing axis (NumPy's `concatenate`); their
/// other axes must have equal lengths.
///
/// ```
/// use rask::array::{arange, concatenate};
/// let x = concatenate(&[&arange(3, 2), &arange(2, 2)], 0).unwrap();
/// assert_eq!(x.chunks(), &[vec![2, 1, 2]]);
/// assert_eq!(x.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0, 1, 2, 0, 1]);
/// ```
pub fn concatenate<T: Element>(arrays: &[&Array<T>], axis: isize) -> Result<Array<T>, ArrayError> {
    for a in arrays {
        a.require_known("concatenate")?;
    }
    let first = arrays.first().ok_or_else(|| ArrayError::Shape {
        array: "concatenate".into(),
        message: "no array to concatenate".into(),
    })?;
    let nd = first.ndim();
    let ax = axis_of(axis, nd, first.name())?;
    for a in &arrays[1..] {
        let ok = a.ndim() == nd && (0..nd).all(|k| k == ax || a.shape()[k] == first.shape()[k]);
        if !ok {
            return Err(ArrayError::Shape {
                array: a.name().to_string(),
                message: format!(
                    "shape {:?} cannot be concatenated along axis {ax} to {} of shape {:?}",
                    a.shape(),
                    first.name(),
                    first.shape()
                ),
            });
        }
    }
    let cut = common_chunks(arrays, Some(ax));
    // arrays with no element along the axis add nothing (unless all are)
    let parts: Vec<&Array<T>> = {
        let nonempty: Vec<&Array<T>> = cut.iter().filter(|a| a.shape()[ax] > 0).collect();
        if nonempty.is_empty() {
            vec![&cut[0]]
        } else {
            nonempty
        }
    };
    let mut tok = Tokenizer::new("concatenate");
    tok.u64(ax as u64);
    for a in arrays {
        tok.str(a.name());
    }
    let name = tok.finish();
    let mut chunks = parts[0].chunks().to_vec();
    chunks[ax] = parts
        .iter()
        .flat_map(|a| a.chunks()[ax].iter().copied())
        .collect();
    let mut shape = first.shape().to_vec();
    shape[ax] = chunks[ax].iter().sum();
    let mut tasks = Vec::new();
    let mut origin = Vec::new();
    for (p, a) in parts.iter().enumerate() {
        for k in 0..a.chunks()[ax].len() {
            origin.push((p, k));
        }
    }
    for b in all_blocks(&numblocks(&chunks)) {
        let (p, k) = origin[b[ax]];
        let mut src = b.clone();
        src[ax] = k;
        tasks.push((block_key(&name, &b), Task::Key(parts[p].node.key(&src))));
    }
    let deps = parts.iter().map(|a| Arc::clone(&a.node)).collect();
    Ok(Array::from_tasks(name, shape, chunks, tasks, deps))
}

/// Arrays of one shape stacked along a new axis (NumPy's `stack`).
///
/// ```
/// use rask::array::{arange, stack};
/// let x = stack(&[&arange(3, 2), &(arange(3, 2) * 10)], 1).unwrap();
/// assert_eq!(x.shape(), &[3, 2]);
/// assert_eq!(x.compute(&rask::Sync).unwrap(), rask::ndarray::arr2(&[[0, 0], [1, 10], [2, 20]]).into_dyn());
/// ```
pub fn stack<T: Element>(arrays: &[&Array<T>], axis: isize) -> Result<Array<T>, ArrayError> {
    for a in arrays {
        a.require_known("stack")?;
    }
    let first = arrays.first().ok_or_else(|| ArrayError::Shape {
        array: "stack".into(),
        message: "no array to stack".into(),
    })?;
    let nd = first.ndim();
    let ax = axis_of(axis, nd + 1, first.name())?;
    for a in &arrays[1..] {
        if a.shape() != first.shape() {
            return Err(ArrayError::Shape {
                array: a.name().to_string(),
                message: format!(
                    "shape {:?} cannot be stacked with {} of shape {:?}",
                    a.shape(),
                    first.name(),
                    first.shape()
                ),
            });
        }
    }
    let cut = common_chunks(arrays, None);
    let mut tok = Tokenizer::new("stack");
    tok.u64(ax as u64);
    for a in arrays {
        tok.str(a.name());
    }
    let name = tok.finish();
    let mut chunks = cut[0].chunks().to_vec();
    chunks.insert(ax, vec![1; arrays.len()]);
    let mut shape = first.shape().to_vec();
    shape.insert(ax, arrays.len());
    let array = first.node.name.clone();
    let f = Function::dynamic("stack", Arity::exactly(1), move |args: &[Value]| {
        let c = chunk_of::<T>(&args[0], &array)?;
        Ok(Value::new(c.view().insert_axis(Axis(ax)).to_owned()))
    });
    let tasks = all_blocks(&numblocks(&chunks))
        .iter()
        .map(|b| {
            let mut src = b.clone();
            let which = src.remove(ax);
            let input = Task::Key(cut[which].node.key(&src));
            (
                block_key(&name, b),
                Task::Call(f.clone(), Box::new([input])),
            )
        })
        .collect();
    let deps = cut.iter().map(|a| Arc::clone(&a.node)).collect();
    Ok(Array::from_tasks(name, shape, chunks, tasks, deps))
}

/// One group of `reshape`: input axes and output axes of equal product.
struct Group {
    ins: Vec<usize>,
    outs: Vec<usize>,
}

/// The groups of axes of `from` and `to` (no length 0) whose lengths
/// have equal products, in order.
fn groups(from: &[usize], to: &[usize]) -> Vec<Group> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < from.len() || j < to.len() {
        let mut g = Group {
            ins: Vec::new(),
            outs: Vec::new(),
        };
        let (mut p, mut q) = (1usize, 1usize);
        if i < from.len() {
            p *= from[i];
            g.ins.push(i);
            i += 1;
        }
        if j < to.len() {
            q *= to[j];
            g.outs.push(j);
            j += 1;
        }
        // the prefixes before the group have equal products, so the side
        // with the smaller product has axes left
        while p != q {
            if p < q {
                p *= from[i];
                g.ins.push(i);
                i += 1;
            } else {
                q *= to[j];
                g.outs.push(j);
                j += 1;
            }
        }
        out.push(g);
    }
    out
}

impl<T: Element> Array<T> {
    /// The same elements in C order under another shape (`-1`: the length
    /// that makes the sizes agree). The input is rechunked where a chunk
    /// would not map to one output chunk (see the module's notes).
    ///
    /// ```
    /// use rask::array::arange;
    /// let x = arange(12, 4).reshape(&[3, -1]).unwrap();
    /// assert_eq!(x.shape(), &[3, 4]);
    /// assert_eq!(x.chunks(), &[vec![1, 1, 1], vec![4]]);
    /// assert_eq!(x.compute(&rask::Sync).unwrap()[[2, 1]], 9);
    /// ```
    pub fn reshape(&self, shape: &[isize]) -> Result<Array<T>, ArrayError> {
        self.require_known("reshape")?;
        let size = self.len();
        let bad = |message: String| ArrayError::Shape {
            array: self.name().to_string(),
            message,
        };
        let known: usize = shape
            .iter()
            .filter(|&&d| d >= 0)
            .map(|&d| d as usize)
            .product();
        let unknown = shape.iter().filter(|&&d| d < 0).count();
        if unknown > 1 || shape.iter().any(|&d| d < -1) {
            return Err(bad(format!("bad shape {shape:?}: one -1 at most")));
        }
        let to: Vec<usize> = shape
            .iter()
            .map(|&d| {
                if d >= 0 {
                    Ok(d as usize)
                } else if known > 0 && size.is_multiple_of(known) {
                    Ok(size / known)
                } else {
                    Err(bad(format!(
                        "cannot reshape {} elements into {shape:?}",
                        size
                    )))
                }
            })
            .collect::<Result<_, _>>()?;
        if to.iter().product::<usize>() != size {
            return Err(bad(format!(
                "cannot reshape shape {:?} ({size} elements) into {to:?}",
                self.shape()
            )));
        }
        if to == self.shape() {
            return Ok(self.clone());
        }
        let mut tok = Tokenizer::new("reshape");
        tok.str(self.name()).usizes(&to);
        let name = tok.finish();
        if size == 0 {
            let grid: Vec<Vec<usize>> = to.iter().map(|&d| vec![d]).collect();
            let tasks = vec![(
                block_key(&name, &vec![0; to.len()]),
                Task::Value(Value::new(ArrayD::<T>::from_elem(IxDyn(&to), T::default()))),
            )];
            return Ok(Array::from_tasks(name, to, grid, tasks, vec![]));
        }
        let from = self.shape();
        let mut in_grid: Vec<Vec<usize>> = self.chunks().to_vec();
        let mut out_grid: Vec<Vec<usize>> = to.iter().map(|&d| vec![d]).collect();
        // the axis that carries the block index of each group, in and out
        let mut carry: Vec<(Option<usize>, Option<usize>)> = Vec::new();
        for g in groups(from, &to) {
            let ins: Vec<usize> = g.ins.iter().copied().filter(|&a| from[a] > 1).collect();
            let outs: Vec<usize> = g.outs.iter().copied().filter(|&a| to[a] > 1).collect();
            for &a in &g.ins {
                if from[a] <= 1 {
                    in_grid[a] = vec![from[a]];
                }
            }
            match (ins.len(), outs.len()) {
                (0, _) | (_, 0) => {
                    for &a in &ins {
                        in_grid[a] = vec![from[a]];
                    }
                    carry.push((None, None));
                }
                (1, 1) => {
                    out_grid[outs[0]] = in_grid[ins[0]].clone();
                    carry.push((Some(ins[0]), Some(outs[0])));
                }
                (_, 1) => {
                    let inner: usize = ins[1..].iter().map(|&a| from[a]).product();
                    for &a in &ins[1..] {
                        in_grid[a] = vec![from[a]];
                    }
                    out_grid[outs[0]] = in_grid[ins[0]].iter().map(|c| c * inner).collect();
                    carry.push((Some(ins[0]), Some(outs[0])));
                }
                (1, _) => {
                    let inner: usize = outs[1..].iter().map(|&a| to[a]).product();
                    let c0 = in_grid[ins[0]][0];
                    let size = (c0 / inner).max(1) * inner;
                    in_grid[ins[0]] = regular(from[ins[0]], size);
                    out_grid[outs[0]] = in_grid[ins[0]].iter().map(|c| c / inner).collect();
                    carry.push((Some(ins[0]), Some(outs[0])));
                }
                _ => {
                    for &a in &ins {
                        in_grid[a] = vec![from[a]];
                    }
                    carry.push((None, None));
                }
            }
        }
        let input = self.rechunk_grid(in_grid);
        let array = input.node.name.clone();
        let out_nb = numblocks(&out_grid);
        let mut tasks = Vec::new();
        for b in all_blocks(&out_nb) {
            let mut src: Idx = Idx::from_elem(0, from.len());
            for &(i, o) in &carry {
                if let (Some(i), Some(o)) = (i, o) {
                    src[i] = b[o];
                }
            }
            let bshape: Vec<usize> = b.iter().enumerate().map(|(a, &k)| out_grid[a][k]).collect();
            let f = Function::dynamic("reshape", Arity::exactly(1), {
                let array = array.clone();
                move |args: &[Value]| {
                    let c = chunk_of::<T>(&args[0], &array)?;
                    let data = c_order(c).into_owned();
                    ArrayD::from_shape_vec(IxDyn(&bshape), data)
                        .map(Value::new)
                        .map_err(|e| CallError::msg(format!("reshape of a chunk of {array}: {e}")))
                }
            });
            tasks.push((
                block_key(&name, &b),
                Task::Call(f, Box::new([Task::Key(input.node.key(&src))])),
            ));
        }
        Ok(Array::from_tasks(
            name,
            to,
            out_grid,
            tasks,
            vec![Arc::clone(&input.node)],
        ))
    }
}
