//! `map_overlap`: a function of each chunk that sees `depth` elements of
//! its neighbours on every side, as Dask's (stencils, filters, moving
//! windows).
//!
//! Three layers, one task per chunk each:
//!
//! ```text
//! overlap  chunk i with the last `depth` of chunk i-1 and the first of
//!          chunk i+1 glued on, axis by axis (corners come with the
//!          second axis); at the array's edges the `Boundary` decides
//! map      the user's function of the grown chunk (same shape back)
//! trim     the grown chunk cut back to chunk i
//! ```
//!
//! Every chunk must be at least `depth` long along each axis (rechunk
//! first otherwise).

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, Axis, Slice};
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks};
use crate::element::Element;
use crate::error::ArrayError;
use crate::expr::chunk_of;
use crate::node::block_key;
use crate::token::Tokenizer;

/// What a chunk at the edge of the array sees beyond it (Dask's
/// `boundary`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Boundary<T> {
    /// Nothing: edge chunks grow on their inner sides only.
    None,
    /// The other end of the array, as if it were a ring.
    Periodic,
    /// The mirror image of the edge (the edge element included, as Dask's
    /// `reflect`).
    Reflect,
    /// The edge element repeated.
    Nearest,
    /// A constant.
    Constant(T),
}

impl<T: Element> Boundary<T> {
    fn tokenize(&self, tok: &mut Tokenizer) {
        match self {
            Boundary::None => tok.u64(0),
            Boundary::Periodic => tok.u64(1),
            Boundary::Reflect => tok.u64(2),
            Boundary::Nearest => tok.u64(3),
            Boundary::Constant(c) => tok.u64(4).u64(c.bits()),
        };
    }
}

/// `d` elements beyond the `left` (or right) edge of `own` along `ax`,
/// as `boundary` says (`None`: nothing).
fn beyond<T: Element>(
    own: &ArrayViewD<'_, T>,
    ax: usize,
    d: usize,
    left: bool,
    boundary: Boundary<T>,
) -> Option<ArrayD<T>> {
    let len = own.len_of(Axis(ax));
    match boundary {
        Boundary::None | Boundary::Periodic => None,
        Boundary::Reflect => Some(if left {
            own.slice_axis(Axis(ax), Slice::new(0, Some(d as isize), -1))
                .to_owned()
        } else {
            own.slice_axis(Axis(ax), Slice::new((len - d) as isize, None, -1))
                .to_owned()
        }),
        Boundary::Nearest => {
            let at = if left { 0 } else { len - 1 };
            let edge = own.slice_axis(Axis(ax), Slice::from(at..at + 1));
            let copies = vec![edge; d];
            ndarray::concatenate(Axis(ax), &copies).ok()
        }
        Boundary::Constant(c) => {
            let mut shape = own.shape().to_vec();
            shape[ax] = d;
            Some(ArrayD::from_elem(shape, c))
        }
    }
}

impl<T: Element> Array<T> {
    /// Applies `f` to each chunk grown by `depth[ax]` elements of its
    /// neighbours on both sides of each axis (Dask's `map_overlap`), the
    /// array's edges handled as `boundary` says; `f` returns an array of
    /// the grown chunk's shape, which is trimmed back. `name` identifies
    /// `f` in the keys.
    ///
    /// ```
    /// use rask::array::{arange, Boundary};
    /// // a moving sum of 3: each element plus its two neighbours
    /// let x = arange(8, 3);
    /// let y = x.map_overlap("sum3", &[1], Boundary::Constant(0), |c| {
    ///     let mut out = c.to_owned();
    ///     for i in 1..c.len() - 1 { out[i] = c[i - 1] + c[i] + c[i + 1]; }
    ///     out
    /// }).unwrap();
    /// assert_eq!(y.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[1, 3, 6, 9, 12, 15, 18, 13]);
    /// ```
    pub fn map_overlap<F>(
        &self,
        name: &str,
        depth: &[usize],
        boundary: Boundary<T>,
        f: F,
    ) -> Result<Array<T>, ArrayError>
    where
        F: Fn(ArrayViewD<'_, T>) -> ArrayD<T> + Send + Sync + 'static,
    {
        if depth.len() != self.ndim() {
            return Err(ArrayError::Shape {
                array: self.name().to_string(),
                message: format!(
                    "map_overlap: {} depths for {} axes",
                    depth.len(),
                    self.ndim()
                ),
            });
        }
        let mut grown = self.clone();
        for (ax, &d) in depth.iter().enumerate() {
            if d > 0 {
                grown = grown.overlap_axis(ax, d, boundary)?;
            }
        }
        let mapped = grown.map_blocks(name, move |c, _| f(c));
        let chunks = self.chunks().to_vec();
        let nb = numblocks(&chunks);
        let depth = depth.to_vec();
        let trimmed =
            mapped.map_blocks_with_chunks(&format!("{name}-trim"), chunks, move |c, info| {
                let mut v = c.view();
                for (ax, &d) in depth.iter().enumerate() {
                    let i = info.block[ax];
                    let edge_none = boundary == Boundary::None;
                    let left = if i == 0 && edge_none { 0 } else { d };
                    let right = if i + 1 == nb[ax] && edge_none { 0 } else { d };
                    let len = v.len_of(Axis(ax));
                    v.slice_axis_inplace(Axis(ax), Slice::from(left..len - right));
                }
                v.to_owned()
            })?;
        Ok(trimmed)
    }

    /// The array with each chunk grown by `d` neighbouring elements on
    /// both sides of axis `ax`.
    fn overlap_axis(
        &self,
        ax: usize,
        d: usize,
        boundary: Boundary<T>,
    ) -> Result<Array<T>, ArrayError> {
        if let Some(&small) = self.chunks()[ax].iter().find(|&&c| c < d) {
            return Err(ArrayError::Chunks {
                array: self.name().to_string(),
                message: format!(
                    "map_overlap: a chunk of {small} along axis {ax} is shorter than the depth {d}: rechunk first"
                ),
            });
        }
        let nb = numblocks(self.chunks());
        let n = nb[ax];
        let mut tok = Tokenizer::new("overlap");
        tok.str(self.name()).u64(ax as u64).u64(d as u64);
        boundary.tokenize(&mut tok);
        let name = tok.finish();
        let array = self.name().to_string();
        // args: own chunk, left neighbour (or null), right neighbour (or
        // null), whether the left / right side is the array's edge
        let grow = Function::dynamic("overlap", Arity::exactly(5), move |args: &[Value]| {
            let own = chunk_of::<T>(&args[0], &array)?.view();
            let len = |v: &ArrayViewD<'_, T>| v.len_of(Axis(ax));
            let mut pieces: Vec<ArrayD<T>> = Vec::with_capacity(3);
            let left_edge = matches!(args[3], Value::Bool(true));
            let right_edge = matches!(args[4], Value::Bool(true));
            match &args[1] {
                Value::Null => pieces.extend(if left_edge {
                    beyond(&own, ax, d, true, boundary)
                } else {
                    None
                }),
                v => {
                    let l = chunk_of::<T>(v, &array)?.view();
                    let k = len(&l);
                    pieces.push(l.slice_axis(Axis(ax), Slice::from(k - d..k)).to_owned());
                }
            }
            pieces.push(own.to_owned());
            match &args[2] {
                Value::Null => pieces.extend(if right_edge {
                    beyond(&own, ax, d, false, boundary)
                } else {
                    None
                }),
                v => {
                    let r = chunk_of::<T>(v, &array)?.view();
                    pieces.push(r.slice_axis(Axis(ax), Slice::from(0..d)).to_owned());
                }
            }
            let views: Vec<ArrayViewD<'_, T>> = pieces.iter().map(|p| p.view()).collect();
            let out = ndarray::concatenate(Axis(ax), &views)
                .map_err(|e| CallError::msg(format!("overlap of {array}: {e}")))?;
            Ok(Value::new(out))
        });
        let periodic = boundary == Boundary::Periodic;
        let none = boundary == Boundary::None;
        let mut tasks = Vec::new();
        for b in all_blocks(&nb) {
            let i = b[ax];
            let neighbour = |j: Option<usize>| -> Task {
                match j {
                    Some(j) => {
                        let mut nbk = b.to_vec();
                        nbk[ax] = j;
                        Task::Key(self.node.key(&nbk))
                    }
                    None => Task::Value(Value::Null),
                }
            };
            let left = if i > 0 {
                Some(i - 1)
            } else if periodic {
                Some(n - 1)
            } else {
                None
            };
            let right = if i + 1 < n {
                Some(i + 1)
            } else if periodic {
                Some(0)
            } else {
                None
            };
            tasks.push((
                block_key(&name, &b),
                Task::Call(
                    grow.clone(),
                    Box::new([
                        Task::Key(self.node.key(&b)),
                        neighbour(left),
                        neighbour(right),
                        Task::Value(Value::Bool(i == 0)),
                        Task::Value(Value::Bool(i + 1 == n)),
                    ]),
                ),
            ));
        }
        let mut chunks = self.chunks().to_vec();
        chunks[ax] = chunks[ax]
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let left = if i == 0 && none { 0 } else { d };
                let right = if i + 1 == n && none { 0 } else { d };
                c + left + right
            })
            .collect();
        let shape = chunks.iter().map(|c| c.iter().sum()).collect();
        Ok(Array::from_tasks(
            name,
            shape,
            chunks,
            tasks,
            vec![Arc::clone(&self.node)],
        ))
    }
}
