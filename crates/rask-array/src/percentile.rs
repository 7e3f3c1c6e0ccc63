//! `percentile`: exact percentiles of a chunked array, found in parallel.
//!
//! Gathering every element into one task and selecting there is exact but
//! runs on one core and holds a copy of the whole array; Dask's
//! `da.percentile` is parallel but approximate (it merges per-chunk
//! percentiles). This is exact *and* parallel, a distributed selection in
//! three passes over the chunks, each pass one task per chunk:
//!
//! ```text
//! (p-bounds-part, i) = min, max, count, NaN? of chunk i
//! (p-bounds, 0)      = the same of all chunks
//! (p-hist-part, i)   = counts of chunk i in BINS equal bins over [min, max]
//! (p-hist, 0)        = the counts of all chunks
//! (p-pick-part, i)   = chunk i's elements in the bins holding a wanted rank
//! (p, 0)             = each wanted rank selected among its bin's elements
//! ```
//!
//! Binning is monotonic, so every element of a bin sorts after every
//! element of the bins before it, and a rank's bin and its rank within the
//! bin follow from the total counts. Only the few wanted bins' elements
//! travel (a thousandth of the array each for spread-out data). For data
//! that bins badly (many equal elements, a huge outlier) the wanted bins
//! hold more, up to the whole array, which is then as costly as gathering
//! it, and exact all the same. Infinite bounds fall back to that gathering.

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use rask_graph::{Arity, CallError, Function, Key, Task, Value};

use crate::array::Array;
use crate::chunks::{all_blocks, numblocks};
use crate::element::Number;
use crate::error::ArrayError;
use crate::expr::{c_order, chunk_of};
use crate::node::block_key;
use crate::token::Tokenizer;

/// The number of bins of the counting pass.
const BINS: usize = 4096;

/// NumPy's `percentile(x, q)` of all elements (linear interpolation
/// between the closest ranks, NumPy's default), for each `q` in 0..=100:
/// exact, where Dask's is an approximation merged from per-chunk
/// percentiles, and computed in parallel, one task per chunk in each of
/// three passes (bounds, counts in bins, the wanted bins' elements), so
/// that no task holds more than a chunk and the few elements near the
/// wanted ranks. NaN when any element is NaN or the array is empty, as
/// NumPy's.
///
/// ```
/// use rask::array::{arange, percentile};
/// let x = arange(11, 4);
/// let p = percentile(&x, &[0.0, 25.0, 50.0, 95.0]).unwrap();
/// assert_eq!(p.compute(&rask::Sync).unwrap().as_slice().unwrap(), &[0.0, 2.5, 5.0, 9.5]);
/// ```
pub fn percentile<T: Number>(x: &Array<T>, q: &[f64]) -> Result<Array<f64>, ArrayError> {
    // every pass takes a chunk whatever its length: unknown sizes are fine
    x.check_poison()?;
    if let Some(bad) = q.iter().find(|q| !(0.0..=100.0).contains(*q)) {
        return Err(ArrayError::Shape {
            array: x.name().to_string(),
            message: format!("percentile {bad} is not between 0 and 100"),
        });
    }
    let mut tok = Tokenizer::new("percentile");
    tok.str(x.name());
    for v in q {
        tok.u64(v.to_bits());
    }
    let name = tok.finish();
    let array: Arc<str> = Arc::from(x.name());
    let qs: Arc<[f64]> = Arc::from(q);

    let chunk_keys: Vec<Key> = all_blocks(&numblocks(x.chunks()))
        .iter()
        .map(|b| x.node.key(b))
        .collect();
    let mut tasks = Vec::with_capacity(3 * chunk_keys.len() + 3);
    let bounds = block_key(&format!("{name}-bounds"), &[0]);
    let hist = block_key(&format!("{name}-hist"), &[0]);
    let mut pass = |part: &str, f: &Function, extra: &[&Key]| -> Task {
        let mut parts = Vec::with_capacity(chunk_keys.len());
        for (i, chunk) in chunk_keys.iter().enumerate() {
            let key = block_key(&format!("{name}-{part}"), &[i]);
            let mut args = vec![Task::Key(chunk.clone())];
            args.extend(extra.iter().map(|k| Task::Key((*k).clone())));
            tasks.push((key.clone(), Task::Call(f.clone(), args.into())));
            parts.push(Task::Key(key));
        }
        Task::List(parts.into())
    };
    let bound_parts = pass("bounds-part", &bounds_of::<T>(array.clone()), &[]);
    let hist_parts = pass("hist-part", &counts_of::<T>(array.clone()), &[&bounds]);
    let pick_parts = pass(
        "pick-part",
        &picks_of::<T>(array.clone(), qs.clone()),
        &[&bounds, &hist],
    );
    tasks.push((
        bounds.clone(),
        Task::Call(merge_bounds(), Box::new([bound_parts])),
    ));
    tasks.push((
        hist.clone(),
        Task::Call(sum_counts(array.clone()), Box::new([hist_parts])),
    ));
    tasks.push((
        block_key(&name, &[0]),
        Task::Call(
            select(array, qs),
            Box::new([pick_parts, Task::Key(bounds), Task::Key(hist)]),
        ),
    ));
    Ok(Array::from_tasks(
        name,
        vec![q.len()],
        vec![vec![q.len()]],
        tasks,
        vec![Arc::clone(&x.node)],
    )
    .with_unknown(Vec::new()))
}

/// The bounds of some elements: `[min, max, count, 1 if any is NaN]`, as
/// a 1-d array (a type every executor can move).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bounds {
    min: f64,
    max: f64,
    count: f64,
    nan: bool,
}

impl Bounds {
    const EMPTY: Bounds = Bounds {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        count: 0.0,
        nan: false,
    };

    fn merge(self, o: Bounds) -> Bounds {
        Bounds {
            min: self.min.min(o.min),
            max: self.max.max(o.max),
            count: self.count + o.count,
            nan: self.nan || o.nan,
        }
    }

    fn value(self) -> Value {
        let nan = if self.nan { 1.0 } else { 0.0 };
        Value::new(ndarray::arr1(&[self.min, self.max, self.count, nan]).into_dyn())
    }

    fn of(v: &Value, array: &str) -> Result<Bounds, CallError> {
        match chunk_of::<f64>(v, array)?.as_slice() {
            Some(&[min, max, count, nan]) => Ok(Bounds {
                min,
                max,
                count,
                nan: nan != 0.0,
            }),
            _ => Err(CallError::msg(format!(
                "percentile of {array}: bounds must be 4 numbers"
            ))),
        }
    }

    /// How the elements are binned: `None` when there is nothing to bin
    /// (NaN, no element, or infinite bounds: every element is wanted).
    fn bins(self) -> Option<Binning> {
        let span = self.max - self.min;
        // an infinite span (bounds near f64::MAX apart) bins as one bin
        let scale = if span > 0.0 && span.is_finite() {
            BINS as f64 / span
        } else {
            0.0
        };
        let usable = self.min.is_finite() && self.max.is_finite() && !self.nan && self.count > 0.0;
        usable.then_some(Binning {
            min: self.min,
            scale,
        })
    }
}

/// Equal bins over the bounds. The bin of an element is monotonic in it,
/// and the same function in every pass.
#[derive(Clone, Copy)]
struct Binning {
    min: f64,
    /// Bins per unit (0 when every element is equal: one bin).
    scale: f64,
}

impl Binning {
    #[inline]
    fn of(self, v: f64) -> usize {
        // `as` saturates (and the span may round up to one bin more):
        // no overflow for any finite element
        (((v - self.min) * self.scale) as usize).min(BINS - 1)
    }
}

/// Pass 1: the bounds of a chunk.
fn bounds_of<T: Number>(array: Arc<str>) -> Function {
    Function::dynamic(
        "percentile-bounds",
        Arity::exactly(1),
        move |args: &[Value]| {
            let c = chunk_of::<T>(&args[0], &array)?;
            let mut b = Bounds::EMPTY;
            // selects rather than `f64::min`, so that the loop vectorizes;
            // a NaN compares false, passes over, and is flagged
            for v in c_order(c).iter() {
                let v = v.to_f64();
                b.nan |= v.is_nan();
                b.min = if v < b.min { v } else { b.min };
                b.max = if v > b.max { v } else { b.max };
            }
            b.count = c.len() as f64;
            Ok(b.value())
        },
    )
}

/// The bounds of all chunks.
fn merge_bounds() -> Function {
    Function::dynamic(
        "percentile-bounds",
        Arity::exactly(1),
        |args: &[Value]| {
            let mut all = Bounds::EMPTY;
            for part in args[0].as_list().unwrap_or_default() {
                all = all.merge(Bounds::of(part, "the percentile's bounds")?);
            }
            Ok(all.value())
        },
    )
}

/// Pass 2: a chunk's counts per bin (none when nothing is binned).
fn counts_of<T: Number>(array: Arc<str>) -> Function {
    Function::dynamic(
        "percentile-counts",
        Arity::exactly(2),
        move |args: &[Value]| {
            let bins = Bounds::of(&args[1], &array)?.bins();
            let mut counts = vec![0_i64; if bins.is_some() { BINS } else { 0 }];
            if let Some(bins) = bins {
                for v in c_order(chunk_of::<T>(&args[0], &array)?).iter() {
                    counts[bins.of(v.to_f64())] += 1;
                }
            }
            Ok(Value::new(
                ArrayD::from_shape_vec(IxDyn(&[counts.len()]), counts)
                    .map_err(|e| CallError::msg(format!("percentile of {array}: {e}")))?,
            ))
        },
    )
}

/// The counts of all chunks.
fn sum_counts(array: Arc<str>) -> Function {
    Function::dynamic(
        "percentile-counts",
        Arity::exactly(1),
        move |args: &[Value]| {
            let mut total: Option<ArrayD<i64>> = None;
            for part in args[0].as_list().unwrap_or_default() {
                let c = chunk_of::<i64>(part, &array)?;
                match &mut total {
                    Some(t) => *t += c,
                    None => total = Some(c.clone()),
                }
            }
            Ok(Value::new(
                total.unwrap_or_else(|| ArrayD::zeros(IxDyn(&[0]))),
            ))
        },
    )
}

/// The ranks (0-based, in ascending order of elements) that the
/// percentiles `qs` of `n` elements interpolate between, each with the
/// weight of the next rank.
fn ranks(qs: &[f64], n: usize) -> Vec<(usize, Option<(usize, f64)>)> {
    qs.iter()
        .map(|&q| {
            let at = q / 100.0 * (n - 1) as f64;
            let lo = (at.floor() as usize).min(n - 1);
            let frac = at - lo as f64;
            let next = (frac > 0.0 && lo + 1 < n).then_some((lo + 1, frac));
            (lo, next)
        })
        .collect()
}

/// Where a rank is: its bin, and its rank among the bin's elements.
fn locate(starts: &[usize], rank: usize) -> (usize, usize) {
    // the last bin starting at or before the rank
    let bin = starts.partition_point(|&s| s <= rank).saturating_sub(1);
    (bin, rank - starts[bin])
}

/// The bins holding a wanted rank (sorted, each once), and where each bin
/// starts in the order of all elements; `None` when every element is
/// wanted (nothing binned).
fn wanted_bins(qs: &[f64], hist: &ArrayD<i64>) -> Option<(Vec<usize>, Vec<usize>)> {
    if hist.is_empty() {
        return None;
    }
    let mut starts = Vec::with_capacity(hist.len());
    let mut at = 0_usize;
    for &c in hist.iter() {
        starts.push(at);
        at += usize::try_from(c).unwrap_or(0);
    }
    let mut bins: Vec<usize> = Vec::new();
    for (lo, next) in ranks(qs, at) {
        bins.push(locate(&starts, lo).0);
        if let Some((hi, _)) = next {
            bins.push(locate(&starts, hi).0);
        }
    }
    bins.sort_unstable();
    bins.dedup();
    Some((bins, starts))
}

/// Pass 3: a chunk's elements in the wanted bins, as one 1-d array: the
/// number of elements of each wanted bin, then those elements, bin after
/// bin (every element, when nothing is binned).
fn picks_of<T: Number>(array: Arc<str>, qs: Arc<[f64]>) -> Function {
    Function::dynamic(
        "percentile-pick",
        Arity::exactly(3),
        move |args: &[Value]| {
            let c = chunk_of::<T>(&args[0], &array)?;
            let bounds = Bounds::of(&args[1], &array)?;
            let hist = chunk_of::<i64>(&args[2], &array)?;
            if bounds.nan || bounds.count == 0.0 {
                return Ok(Value::new(ArrayD::<f64>::zeros(IxDyn(&[0]))));
            }
            let out = match (bounds.bins(), wanted_bins(&qs, hist)) {
                (Some(binning), Some((bins, _))) => {
                    // which wanted bin each bin is, if any
                    let mut slot = vec![u32::MAX; BINS];
                    for (i, &b) in bins.iter().enumerate() {
                        slot[b] = i as u32;
                    }
                    let mut per_bin: Vec<Vec<f64>> = vec![Vec::new(); bins.len()];
                    for v in c_order(c).iter() {
                        let v = v.to_f64();
                        let i = slot[binning.of(v)];
                        if i != u32::MAX {
                            per_bin[i as usize].push(v);
                        }
                    }
                    let mut out: Vec<f64> = per_bin.iter().map(|b| b.len() as f64).collect();
                    out.extend(per_bin.into_iter().flatten());
                    out
                }
                _ => {
                    let mut out = vec![c.len() as f64];
                    out.extend(c_order(c).iter().map(|v| v.to_f64()));
                    out
                }
            };
            Ok(Value::new(
                ArrayD::from_shape_vec(IxDyn(&[out.len()]), out)
                    .map_err(|e| CallError::msg(format!("percentile of {array}: {e}")))?,
            ))
        },
    )
}

/// The percentiles, each wanted rank selected among its bin's elements.
fn select(array: Arc<str>, qs: Arc<[f64]>) -> Function {
    Function::dynamic("percentile", Arity::exactly(3), move |args: &[Value]| {
        let bounds = Bounds::of(&args[1], &array)?;
        let hist = chunk_of::<i64>(&args[2], &array)?;
        let parts = args[0].as_list().unwrap_or_default();
        let done = |out: Vec<f64>| -> Result<Value, CallError> {
            Ok(Value::new(
                ArrayD::from_shape_vec(IxDyn(&[out.len()]), out)
                    .map_err(|e| CallError::msg(format!("percentile of {array}: {e}")))?,
            ))
        };
        if bounds.nan || bounds.count == 0.0 {
            return done(vec![f64::NAN; qs.len()]);
        }
        let wanted = bounds.bins().and_then(|_| wanted_bins(&qs, hist));
        let nbins = wanted.as_ref().map_or(1, |(bins, _)| bins.len());
        // the elements of each wanted bin, from every chunk
        let mut per_bin: Vec<Vec<f64>> = vec![Vec::new(); nbins];
        for part in parts {
            let p = chunk_of::<f64>(part, &array)?;
            let p = p.as_slice().ok_or_else(|| {
                CallError::msg(format!("percentile of {array}: a pick is not contiguous"))
            })?;
            let (counts, mut rest) = p.split_at(nbins.min(p.len()));
            for (bin, &count) in per_bin.iter_mut().zip(counts) {
                let (these, after) = rest.split_at((count as usize).min(rest.len()));
                bin.extend_from_slice(these);
                rest = after;
            }
        }
        let n = bounds.count as usize;
        // where a rank is: its wanted bin's index and its rank in the bin
        let find = |rank: usize| -> (usize, usize) {
            match &wanted {
                Some((bins, starts)) => {
                    let (bin, within) = locate(starts, rank);
                    (bins.binary_search(&bin).unwrap_or(0), within)
                }
                None => (0, rank),
            }
        };
        let mut nth = |rank: usize| -> Result<f64, CallError> {
            let (i, within) = find(rank);
            let bin = &mut per_bin[i];
            if within >= bin.len() {
                return Err(CallError::msg(format!(
                    "percentile of {array}: rank {rank} is not among the elements picked (the chunks changed between passes?)"
                )));
            }
            let (_, v, _) = bin.select_nth_unstable_by(within, f64::total_cmp);
            Ok(*v)
        };
        let mut out = Vec::with_capacity(qs.len());
        for (lo, next) in ranks(&qs, n) {
            let a = nth(lo)?;
            out.push(match next {
                Some((hi, frac)) => {
                    let b = nth(hi)?;
                    a + (b - a) * frac
                }
                None => a,
            });
        }
        done(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_interpolate_as_numpy() {
        assert_eq!(
            ranks(&[0.0, 50.0, 100.0], 5),
            [(0, None), (2, None), (4, None)]
        );
        assert_eq!(ranks(&[25.0], 4), [(0, Some((1, 0.75)))]);
        assert_eq!(ranks(&[50.0], 1), [(0, None)]);
    }

    #[test]
    fn a_rank_is_found_in_its_bin() {
        // bins of 2, 0, 3 elements start at 0, 2, 2
        let starts = [0, 2, 2];
        assert_eq!(locate(&starts, 0), (0, 0));
        assert_eq!(locate(&starts, 1), (0, 1));
        assert_eq!(locate(&starts, 2), (2, 0));
        assert_eq!(locate(&starts, 4), (2, 2));
    }

    #[test]
    fn binning_is_monotonic_and_in_range() {
        let b = Binning {
            min: -1.0,
            scale: BINS as f64 / 2.0,
        };
        let mut last = 0;
        for i in 0..=1000 {
            let v = -1.0 + 2.0 * i as f64 / 1000.0;
            let bin = b.of(v);
            assert!(bin >= last && bin < BINS);
            last = bin;
        }
        assert_eq!(
            Binning {
                min: 3.0,
                scale: 0.0
            }
            .of(3.0),
            0
        );
    }
}
