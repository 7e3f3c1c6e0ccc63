//! Creating arrays: ranges, constants, random numbers, functions of the
//! index or of the block, and in-memory `ndarray`s.
//!
//! Everything but [`Array::from_ndarray`] and [`Array::from_block_fn`]
//! is a generator: it stores nothing, and a consumer fuses it into its
//! own tasks, so `arange(n, c).sum()` never holds a chunk of the range.

use std::marker::PhantomData;
use std::sync::Arc;

use ndarray::{ArrayBase, ArrayD, Data, Dimension, SliceInfoElem};
use rask_graph::{Arity, CallError, Function, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, block_at, block_shape, numblocks, offsets, ChunkSpec};
use crate::element::{Element, Float, Number};
use crate::error::ArrayError;
use crate::expr::{Expr, FlatGen, Full, IndexGen, Ramp};
use crate::node::block_key;
use crate::token::Tokenizer;

/// A generator array: its expression is both its fused and its own form.
fn generated<T: Element>(
    tok: &mut Tokenizer,
    op: &'static str,
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    expr: Arc<dyn Expr<T>>,
) -> Result<Array<T>, ArrayError> {
    let grid = chunks.into().normalize(shape, op)?;
    tok.str(T::DTYPE).usizes(shape).chunks(&grid);
    Ok(Array::elementwise(
        tok.finish(),
        op,
        shape.to_vec(),
        Arc::new(grid),
        expr.clone(),
        expr,
    ))
}

/// `0, 1, ..., n-1` as `i64`, in chunks of `chunk`: an integer array for
/// integer arguments, as NumPy's and Dask's `arange(n)`; see
/// [`Array::arange`] for other types and steps (`Array::<f64>::arange`).
///
/// ```
/// let x = rask::array::arange(15, 5);
/// assert_eq!(x.chunks(), &[vec![5, 5, 5]]);
/// assert_eq!(x.dtype(), "i64");
/// assert!(x.name().starts_with("arange-"));
/// assert_eq!((&x + 100).sum().compute_scalar(&rask::Sync).unwrap(), 105 + 100 * 15);
/// ```
///
/// # Panics
///
/// When `chunk` is 0 and `n` is not.
pub fn arange(n: usize, chunk: usize) -> Array<i64> {
    Array::arange(0.0, n as f64, 1.0, chunk).unwrap_or_else(|e| panic!("{e}"))
}

/// `num` evenly spaced `f64` from `start` to `stop` included (NumPy's
/// `linspace`).
pub fn linspace(
    start: f64,
    stop: f64,
    num: usize,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<f64>, ArrayError> {
    Array::linspace(start, stop, num, chunks)
}

/// An `f64` array of zeros.
pub fn zeros(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<f64>, ArrayError> {
    Array::full(shape, 0.0, chunks)
}

/// An `f64` array of ones.
pub fn ones(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<f64>, ArrayError> {
    Array::full(shape, 1.0, chunks)
}

/// An array of `value` everywhere.
pub fn full<T: Element>(
    shape: &[usize],
    value: T,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, ArrayError> {
    Array::full(shape, value, chunks)
}

/// An array cut from an in-memory `ndarray` (copied once, chunk by chunk).
pub fn from_ndarray<T: Element, S: Data<Elem = T>, D: Dimension>(
    a: &ArrayBase<S, D>,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, ArrayError> {
    Array::from_ndarray(a, chunks)
}

/// Where a block lies, for [`Array::from_block_fn`] and
/// [`Array::map_blocks`](crate::Array::map_blocks).
#[derive(Debug, Clone, Copy)]
pub struct BlockInfo<'a> {
    /// The block index.
    pub block: &'a [usize],
    /// The block's shape.
    pub shape: &'a [usize],
    /// The global index of its first element.
    pub offset: &'a [usize],
}

impl<T: Number> Array<T> {
    /// `start, start + step, ...` up to `stop` excluded, as NumPy's
    /// `arange(start, stop, step)`: element `i` is `start + i * step`.
    ///
    /// ```
    /// use rask::array::Array;
    /// let x = Array::<i64>::arange(0.0, 10.0, 3.0, 2).unwrap();
    /// assert_eq!(x.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0, 3, 6, 9]);
    /// ```
    pub fn arange(
        start: f64,
        stop: f64,
        step: f64,
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<T>, ArrayError> {
        if step == 0.0 || !step.is_finite() {
            return Err(ArrayError::Shape {
                array: "arange".into(),
                message: format!("step must be finite and not 0, got {step}"),
            });
        }
        let n = ((stop - start) / step).ceil().max(0.0) as usize;
        let mut tok = Tokenizer::new("arange");
        tok.u64(start.to_bits())
            .u64(stop.to_bits())
            .u64(step.to_bits());
        let ramp = Ramp {
            start,
            step,
            last: None,
        };
        generated(&mut tok, "arange", &[n], chunks, Arc::new(ramp))
    }

    /// An array of zeros.
    pub fn zeros(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<T>, ArrayError> {
        Array::full(shape, T::ZERO, chunks)
    }

    /// An array of ones.
    pub fn ones(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<T>, ArrayError> {
        Array::full(shape, T::ONE, chunks)
    }
}

impl<T: Float> Array<T> {
    /// `num` evenly spaced values from `start` to `stop` included.
    pub fn linspace(
        start: f64,
        stop: f64,
        num: usize,
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<T>, ArrayError> {
        let step = if num > 1 {
            (stop - start) / (num - 1) as f64
        } else {
            0.0
        };
        let mut tok = Tokenizer::new("linspace");
        tok.u64(start.to_bits()).u64(stop.to_bits()).u64(num as u64);
        let ramp = Ramp {
            start,
            step,
            last: (num > 1).then_some((num - 1, stop)),
        };
        generated(&mut tok, "linspace", &[num], chunks, Arc::new(ramp))
    }
}

impl<T: Element> Array<T> {
    /// An array of `value` everywhere.
    pub fn full(
        shape: &[usize],
        value: T,
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<T>, ArrayError> {
        let mut tok = Tokenizer::new("full");
        tok.u64(value.bits());
        generated(&mut tok, "full", shape, chunks, Arc::new(Full(value)))
    }

    /// The array whose element at global index `idx` is `f(idx)`
    /// (NumPy's `fromfunction`), a generator fused into its consumers.
    /// `name` identifies `f` in the keys: give different functions
    /// different names.
    ///
    /// ```
    /// use rask::array::Array;
    /// let a = Array::fromfunction("i-plus-10j", &[2, 3], 2, |i: &[usize]| (i[0] + 10 * i[1]) as i64).unwrap();
    /// assert_eq!(a.compute(&rask::Sync).unwrap(), rask::ndarray::arr2(&[[0, 10, 20], [1, 11, 21]]).into_dyn());
    /// ```
    pub fn fromfunction<F>(
        name: &str,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        f: F,
    ) -> Result<Array<T>, ArrayError>
    where
        F: Fn(&[usize]) -> T + Send + Sync + 'static,
    {
        let mut tok = Tokenizer::new("fromfunction");
        tok.str(name).str(std::any::type_name::<F>());
        let expr = IndexGen { f, _t: PhantomData };
        generated(&mut tok, "fromfunction", shape, chunks, Arc::new(expr))
    }

    /// An array whose chunks are made by `f` from where they lie (Dask's
    /// `map_blocks` with no input). Each call must return an array of the
    /// block's shape (else its task fails). `name` identifies `f` in the
    /// keys.
    ///
    /// ```
    /// use rask::array::Array;
    /// let a = Array::from_block_fn("block-number", &[5], 2, |b| {
    ///     rask::ndarray::ArrayD::from_elem(b.shape, b.block[0] as i64)
    /// }).unwrap();
    /// assert_eq!(a.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0, 0, 1, 1, 2]);
    /// ```
    pub fn from_block_fn<F>(
        name: &str,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        f: F,
    ) -> Result<Array<T>, ArrayError>
    where
        F: Fn(BlockInfo<'_>) -> ArrayD<T> + Send + Sync + 'static,
    {
        let grid = chunks.into().normalize(shape, name)?;
        let mut tok = Tokenizer::new("from-block-fn");
        tok.str(name)
            .str(std::any::type_name::<F>())
            .str(T::DTYPE)
            .usizes(shape)
            .chunks(&grid);
        let out = tok.finish();
        let offs: Arc<Vec<Vec<usize>>> = Arc::new(grid.iter().map(|c| offsets(c)).collect());
        let fname = name.to_string();
        let func = Function::dynamic(name, Arity::exactly(1), move |args: &[Value]| {
            let (block, bshape, offset) = block_at(&args[0], &offs);
            let chunk = f(BlockInfo {
                block: &block,
                shape: &bshape,
                offset: &offset,
            });
            if chunk.shape() != &bshape[..] {
                return Err(CallError::msg(format!(
                    "{fname} returned a chunk of shape {:?} for block {:?} of shape {:?}",
                    chunk.shape(),
                    &block[..],
                    &bshape[..]
                )));
            }
            Ok(Value::new(chunk))
        });
        let tasks = all_blocks(&numblocks(&grid))
            .iter()
            .map(|b| {
                let idx = Task::List(
                    b.iter()
                        .map(|&i| Task::Value(Value::Int(i as i64)))
                        .collect(),
                );
                (
                    block_key(&out, b),
                    Task::Call(func.clone(), Box::new([idx])),
                )
            })
            .collect();
        Ok(Array::from_tasks(out, shape.to_vec(), grid, tasks, vec![]))
    }

    /// An array cut from an in-memory `ndarray`: each chunk is copied into
    /// the graph as a literal. The name is a token of the data.
    pub fn from_ndarray<S: Data<Elem = T>, D: Dimension>(
        a: &ArrayBase<S, D>,
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<T>, ArrayError> {
        let shape = a.shape().to_vec();
        let grid = chunks.into().normalize(&shape, "array")?;
        let mut tok = Tokenizer::new("array");
        tok.str(T::DTYPE).usizes(&shape).chunks(&grid);
        for &v in a.iter() {
            tok.u64(v.bits());
        }
        let name = tok.finish();
        let a = a.view().into_dyn();
        let offs: Vec<Vec<usize>> = grid.iter().map(|c| offsets(c)).collect();
        let tasks = all_blocks(&numblocks(&grid))
            .iter()
            .map(|b| {
                let region: Vec<SliceInfoElem> = b
                    .iter()
                    .enumerate()
                    .map(|(ax, &i)| SliceInfoElem::Slice {
                        start: offs[ax][i] as isize,
                        end: Some(offs[ax][i + 1] as isize),
                        step: 1,
                    })
                    .collect();
                let chunk: ArrayD<T> = a.slice(region.as_slice()).as_standard_layout().into_owned();
                debug_assert_eq!(chunk.shape(), &block_shape(&grid, b)[..]);
                (block_key(&name, b), Task::Value(Value::new(chunk)))
            })
            .collect();
        Ok(Array::from_tasks(name, shape, grid, tasks, vec![]))
    }
}

/// Random arrays that are the same whatever their chunking: element `i`
/// (its flat C-order index) is a function of the seed and `i` alone (a
/// counter-based generator, SplitMix64's output at position `i` of the
/// seed's stream), as Dask's `RandomState` is not.
///
/// ```
/// use rask::array::RandomState;
/// use rask::Sync;
/// let a = RandomState::new(42).random(&[10, 10], 3).unwrap().compute(&Sync).unwrap();
/// let b = RandomState::new(42).random(&[10, 10], [7, 2]).unwrap().compute(&Sync).unwrap();
/// assert_eq!(a, b);
/// assert!(a.iter().all(|&x| (0.0..1.0).contains(&x)));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RandomState {
    seed: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline(always)]
fn bits_at(stream: u64, i: u64) -> u64 {
    mix(stream.wrapping_add(i.wrapping_add(1).wrapping_mul(GOLDEN)))
}

/// A uniform `f64` in `[0, 1)` from the high 52 bits (as the mantissa of
/// a number in `[1, 2)`: bit operations that vectorize, unlike a
/// conversion from a 64-bit integer).
#[inline(always)]
fn unit(bits: u64) -> f64 {
    f64::from_bits((bits >> 12) | 0x3FF0_0000_0000_0000) - 1.0
}

impl RandomState {
    /// The generator of seed `seed`.
    pub fn new(seed: u64) -> RandomState {
        RandomState { seed }
    }

    fn stream(&self, what: u64) -> u64 {
        mix(self.seed ^ mix(what))
    }

    /// The array `op` whose element at flat index `i` is `f(i)`, named by
    /// the seed and the distribution's two parameters.
    fn elements<T: Element>(
        &self,
        op: &'static str,
        params: [u64; 2],
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        f: impl Fn(u64) -> T + Send + Sync + 'static,
    ) -> Result<Array<T>, ArrayError> {
        let mut tok = Tokenizer::new(op);
        tok.u64(self.seed).u64(params[0]).u64(params[1]);
        let expr = FlatGen { f, _t: PhantomData };
        generated(&mut tok, op, shape, chunks, Arc::new(expr))
    }

    /// Uniform `f64` in `[0, 1)`.
    pub fn random(
        &self,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<f64>, ArrayError> {
        self.uniform(0.0, 1.0, shape, chunks)
    }

    /// Uniform `f64` in `[low, high)`.
    pub fn uniform(
        &self,
        low: f64,
        high: f64,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<f64>, ArrayError> {
        let s = self.stream(1);
        let params = [low.to_bits(), high.to_bits()];
        self.elements("uniform", params, shape, chunks, move |i| {
            low + (high - low) * unit(bits_at(s, i))
        })
    }

    /// Normal `f64` of mean `loc` and standard deviation `scale`
    /// (Box-Muller over two uniforms per element).
    pub fn normal(
        &self,
        loc: f64,
        scale: f64,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<f64>, ArrayError> {
        let s = self.stream(2);
        let params = [loc.to_bits(), scale.to_bits()];
        self.elements("normal", params, shape, chunks, move |i| {
            let u1 = 1.0 - unit(bits_at(s, 2 * i));
            let u2 = unit(bits_at(s, 2 * i + 1));
            loc + scale * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
    }

    /// Uniform integers in `[low, high)`.
    pub fn randint(
        &self,
        low: i64,
        high: i64,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<i64>, ArrayError> {
        if high <= low {
            return Err(ArrayError::Shape {
                array: "randint".into(),
                message: format!("empty range [{low}, {high})"),
            });
        }
        let s = self.stream(3);
        let range = high.wrapping_sub(low) as u64 as u128;
        let params = [low as u64, high as u64];
        self.elements("randint", params, shape, chunks, move |i| {
            low.wrapping_add(((bits_at(s, i) as u128 * range) >> 64) as i64)
        })
    }
}
