//! Boolean masks, `unique` and unknown chunk sizes, against `ndarray` and
//! plain iterators on random shapes and chunkings, on `Sync` and
//! `Threads` (`Processes`: `tests/processes.rs`); and the errors of
//! operations that need the sizes.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use ndarray::{s, ArrayD, Axis, IxDyn};
use proptest::prelude::*;
use rask_array::{arange, from_ndarray, Array, ArrayError, Element};
use rask_scheduler::{Executor, Sync, Threads};

/// Computes `a` on `Sync` and on `Threads`, checks they agree, and returns
/// the result.
fn both<T: Element>(a: &Array<T>) -> ArrayD<T> {
    let s = a.compute(&Sync).unwrap();
    let t = a.compute(&Threads::new(3) as &dyn Executor).unwrap();
    assert_eq!(s.shape(), t.shape());
    assert!(
        s.iter()
            .zip(t.iter())
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())),
        "Sync and Threads differ on {a}: {s:?} vs {t:?}"
    );
    s
}

/// The elements in C order.
fn v<T: Clone>(a: ArrayD<T>) -> Vec<T> {
    a.iter().cloned().collect()
}

/// The reference `unique`: sorted distinct values and their counts.
fn unique_ref(a: &ArrayD<f64>) -> (Vec<f64>, Vec<i64>) {
    let mut m: BTreeMap<i64, i64> = BTreeMap::new();
    for &v in a {
        *m.entry(v as i64).or_default() += 1;
    }
    (
        m.keys().map(|&k| k as f64).collect(),
        m.values().copied().collect(),
    )
}

/// A random 1-d boolean mask with its chunks.
fn rows(len: usize) -> BoxedStrategy<(Vec<bool>, Vec<usize>)> {
    (prop::collection::vec(any::<bool>(), len), cut(len)).boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn full_masks_match_ndarray((a, c) in array(3), t in -8i32..8) {
        prop_assume!(a.ndim() > 0);
        let t = f64::from(t);
        let x = from_ndarray(&a, c).unwrap();
        let y = x.mask(&x.gt(t).unwrap()).unwrap();
        let want: Vec<f64> = a.iter().copied().filter(|&v| v > t).collect();
        prop_assert_eq!(y.dims(), vec![None]);
        prop_assert!(y.has_unknown_chunks() && y.shape_known().is_none());
        prop_assert!(y.to_string().contains("shape=(nan,)"), "{}", y);
        prop_assert_eq!(v(both(&y)), want.clone());
        // elementwise operations and reductions without the sizes
        let sum: f64 = want.iter().map(|v| 2.0 * v + 1.0).sum();
        prop_assert_eq!(both(&(&y * 2.0 + 1.0).sum())[[]], sum);
        prop_assert_eq!(both(&y.count_nonzero())[[]], want.iter().filter(|&&v| v != 0.0).count() as i64);
        let mean = both(&y.mean())[[]];
        if want.is_empty() {
            prop_assert!(mean.is_nan());
            prop_assert!(matches!(y.max().unwrap().compute(&Sync), Err(ArrayError::Compute(_))));
        } else {
            prop_assert!((mean - want.iter().sum::<f64>() / want.len() as f64).abs() < 1e-12);
            let max = want.iter().copied().fold(f64::MIN, f64::max);
            prop_assert_eq!(both(&y.max().unwrap())[[]], max);
        }
        // histogram and percentile read the chunks, not the sizes
        let known = from_ndarray(&ndarray::Array1::from(want.clone()), 3).unwrap();
        let (hy, _) = rask_array::histogram(&y, 4, (-8.0, 8.0)).unwrap();
        let (hk, _) = rask_array::histogram(&known, 4, (-8.0, 8.0)).unwrap();
        prop_assert_eq!(both(&hy), both(&hk));
        let py = rask_array::percentile(&y, &[0.0, 30.0, 100.0]).unwrap();
        let pk = rask_array::percentile(&known, &[0.0, 30.0, 100.0]).unwrap();
        prop_assert_eq!(v(both(&py)).iter().map(|x| x.to_bits()).collect::<Vec<_>>(), v(both(&pk)).iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        // a mask of the masked array (same unknown chunks)
        let z = y.mask(&y.lt(t + 3.0).unwrap()).unwrap();
        let want_z: Vec<f64> = want.iter().copied().filter(|&v| v < t + 3.0).collect();
        prop_assert_eq!(v(both(&z)), want_z);
        // the sizes, computed
        let k = y.compute_chunk_sizes(&Threads::new(2)).unwrap();
        prop_assert_eq!(k.shape(), &[want.len()][..]);
        prop_assert_eq!(k.dims(), vec![Some(want.len())]);
        prop_assert_eq!(k.chunks()[0].iter().sum::<usize>(), want.len());
        prop_assert_eq!(k.chunks()[0].len(), y.chunks()[0].len());
        let sliced = k.slice(s![1..]).unwrap();
        prop_assert_eq!(v(both(&sliced)), want.iter().skip(1).copied().collect::<Vec<_>>());
        prop_assert_eq!(v(both(&k.rechunk(2).unwrap())), want.clone());
        // persist learns the sizes too
        let p = y.persist(&Sync).unwrap();
        prop_assert_eq!(p.dims(), vec![Some(want.len())]);
        prop_assert_eq!(v(both(&p)), want);
    }

    #[test]
    fn row_masks_match_ndarray((a, c, (keep, mc)) in array(3)
        .prop_filter("an axis", |(a, _)| a.ndim() > 0)
        .prop_flat_map(|(a, c)| { let n = a.shape()[0]; (Just(a), Just(c), rows(n)) })) {
        let x = from_ndarray(&a, c).unwrap();
        let m = from_ndarray(&ndarray::Array1::from(keep.clone()), vec![mc]).unwrap();
        let y = x.mask(&m).unwrap();
        let idx: Vec<usize> = keep.iter().enumerate().filter(|(_, &k)| k).map(|(i, _)| i).collect();
        let want = a.select(Axis(0), &idx);
        let mut dims = vec![None];
        dims.extend(a.shape()[1..].iter().map(|&d| Some(d)));
        prop_assert_eq!(y.dims(), dims);
        prop_assert_eq!(both(&y), want.clone());
        prop_assert_eq!(both(&y.sum_with(&rask_array::Reduce::axis(0)).unwrap()), want.sum_axis(Axis(0)));
        let k = y.compute_chunk_sizes(&Sync).unwrap();
        prop_assert_eq!(k.shape(), want.shape());
        prop_assert_eq!(both(&k.t()), want.t().to_owned());
    }

    #[test]
    fn unique_matches_a_sorted_set((a, c) in array(3)) {
        let x = from_ndarray(&a, c).unwrap();
        let (u, n) = x.unique_counts();
        let (want_u, want_n) = unique_ref(&a);
        prop_assert_eq!(u.dims(), vec![None]);
        prop_assert_eq!(v(both(&u)), want_u.clone());
        prop_assert_eq!(v(both(&n)), want_n);
        prop_assert_eq!(v(both(&x.unique())), want_u.clone());
        // fused with the expression making the chunks, and of a mask
        let doubled: Vec<f64> = want_u.iter().map(|v| 2.0 * v).collect();
        prop_assert_eq!(v(both(&(&x * 2.0).unique())), doubled);
        if a.ndim() > 0 {
            let pos = x.mask(&x.gt(0.0).unwrap()).unwrap().unique();
            let want: Vec<f64> = want_u.iter().copied().filter(|&v| v > 0.0).collect();
            prop_assert_eq!(v(both(&pos)), want);
        }
        let k = u.compute_chunk_sizes(&Sync).unwrap();
        prop_assert_eq!(k.chunks(), &[vec![want_u.len()]][..]);
    }
}

#[test]
fn unique_of_many_chunks_merges_in_a_tree() {
    let x = arange(1000, 7).map("mod", |v| v % 37);
    let u = x.unique();
    assert_eq!(v(both(&u)), (0..37).collect::<Vec<i64>>());
    let (_, n) = x.unique_counts();
    let n = both(&n);
    assert_eq!(n.sum(), 1000);
    assert_eq!(n[0], 28); // 0, 37, ..., 999
}

#[test]
fn unique_puts_one_nan_last_as_numpy() {
    let a = ndarray::arr1(&[2.0, f64::NAN, 1.0, f64::NAN, 2.0]).into_dyn();
    let (u, n) = from_ndarray(&a, 2).unwrap().unique_counts();
    let u = v(u.compute(&Sync).unwrap());
    assert_eq!(&u[..2], &[1.0, 2.0]);
    assert!(u.len() == 3 && u[2].is_nan());
    assert_eq!(v(n.compute(&Sync).unwrap()), vec![1, 2, 2]);
}

/// The error of an operation needing unknown sizes.
fn unknown<T: std::fmt::Debug>(r: Result<T, ArrayError>, array: &str) {
    match r {
        Err(e @ ArrayError::UnknownChunks { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("compute_chunk_sizes()"), "{msg}");
            assert!(msg.contains(array), "{msg} names {array}");
        }
        other => panic!("expected UnknownChunks, got {other:?}"),
    }
}

#[test]
fn operations_needing_sizes_say_compute_chunk_sizes() {
    let x = arange(20, 6).astype::<f64>().named("x");
    let y = x.mask(&x.gt(4.5).unwrap()).unwrap().named("y");
    unknown(y.slice(s![0..2]), "y");
    unknown(y.rechunk(5), "y");
    unknown(y.reshape(&[-1, 1]), "y");
    unknown(rask_array::concatenate(&[&y, &x], 0), "y");
    unknown(y.argmax(), "y");
    unknown(y.cumsum(0), "y");
    unknown(y.topk(2), "y");
    unknown(y.take(0, &[0]), "y");
    // an elementwise operation with an array of known length
    unknown(y.try_add(&x), "y");
    // operations that check only when computed
    let rows = arange(4, 2).reshape(&[2, 2]).unwrap().astype::<f64>();
    let r = rows
        .mask(&rask_array::from_ndarray(&ndarray::arr1(&[true, false]), 1).unwrap())
        .unwrap();
    let r = r.named("r");
    let mm = r.matmul(&rows);
    match mm {
        Ok(mm) => unknown(mm.compute(&Sync), "r"),
        Err(e) => unknown(Err::<(), _>(e), "r"),
    }
    let mb = y.map_blocks("double", |b: ndarray::ArrayViewD<'_, f64>, _| {
        b.mapv(|v| 2.0 * v)
    });
    unknown(mb.compute(&Sync), "y");
    unknown(mb.compute_chunk_sizes(&Sync), "y");
    unknown(mb.persist(&Sync), "y");
    // the graphs given out fail with the same message when run
    let err = rask_scheduler::get(&mb.graph(), mb.keys()[0].clone()).unwrap_err();
    assert!(err.to_string().contains("compute_chunk_sizes()"), "{err}");
    let stored = y.store_graph(Arc::new(NoSink));
    let err = rask_scheduler::get(&stored.0, stored.1[0].clone()).unwrap_err();
    assert!(err.to_string().contains("compute_chunk_sizes()"), "{err}");
    unknown(y.store(Arc::new(NoSink), &Sync), "y");
    // a transpose needs no sizes
    assert_eq!(v(r.t().compute(&Sync).unwrap()), vec![0.0, 1.0]);
    assert_eq!(r.t().dims(), vec![Some(2), None]);
    // a mask of two axes needs the sizes of both
    let m2 = r.gt(0.0).unwrap();
    unknown(r.mask(&m2), "r");
}

/// A sink that must not be written to.
struct NoSink;
impl rask_array::ChunkSink<f64> for NoSink {
    fn name(&self) -> String {
        "no-sink".into()
    }
    fn write_chunk(&self, _: &[usize], _: ndarray::ArrayViewD<'_, f64>) -> Result<(), String> {
        Err("a chunk of unknown position was written".into())
    }
}

#[test]
fn masks_that_do_not_fit_are_shape_errors() {
    let x = arange(6, 4).reshape(&[2, 3]).unwrap().named("x");
    let bad = arange(3, 2).gt(0).unwrap();
    match x.mask(&bad) {
        Err(ArrayError::Shape { array, message }) => {
            assert_eq!(array, "x");
            assert!(message.contains("fits neither"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let scalar = arange(1, 1).sum();
    assert!(matches!(
        scalar.mask(&scalar.gt(0).unwrap()),
        Err(ArrayError::Shape { .. })
    ));
    // two unknown masks of different chunks cannot be aligned
    let a = arange(10, 5);
    let b = arange(10, 2);
    let ya = a.mask(&a.gt(2).unwrap()).unwrap();
    let yb = b.mask(&b.gt(2).unwrap()).unwrap();
    unknown(ya.mask(&yb.gt(0).unwrap()), ya.name());
    unknown(ya.try_add(&yb), ya.name());
}

#[test]
fn unknown_chunks_print_as_nan() {
    let a = ArrayD::from_shape_vec(IxDyn(&[4, 5]), (0..20_i64).collect()).unwrap();
    let x = from_ndarray(&a, [2, 5]).unwrap().named("x");
    let m = from_ndarray(&ndarray::arr1(&[true, false, true, true]), 2).unwrap();
    let y = x.mask(&m).unwrap().named("y");
    assert_eq!(
        y.to_string(),
        "rask.array<y, shape=(nan, 5), chunks=((nan, nan), (5,)), chunksize=(nan, 5), dtype=i64>"
    );
    let k = y.compute_chunk_sizes(&Sync).unwrap();
    assert_eq!(k.chunks(), &[vec![1, 2], vec![5]]);
    let want: Vec<i64> = [0..5, 10..20].into_iter().flatten().collect();
    assert_eq!(
        k.compute(&Sync).unwrap(),
        ArrayD::from_shape_vec(IxDyn(&[3, 5]), want).unwrap()
    );
}

#[test]
fn slices_taking_unknown_axes_whole_need_no_sizes() {
    let a = ArrayD::from_shape_vec(IxDyn(&[4, 3]), (0..12_i64).collect()).unwrap();
    let x = from_ndarray(&a, [3, 2]).unwrap();
    let rows = from_ndarray(&ndarray::arr1(&[false, true, true, false]), 2).unwrap();
    let y = x.mask(&rows).unwrap().named("y");
    let want = a.select(Axis(0), &[1, 2]);
    // a known axis by position, the unknown one whole
    let col = y.slice(s![.., 1]).unwrap();
    assert_eq!(col.dims(), vec![None]);
    assert_eq!(v(both(&col)), vec![4, 7]);
    let part = y.slice(s![.., 1..;-1]).unwrap();
    assert_eq!(
        both(&part),
        want.slice(s![.., 1..;-1]).to_owned().into_dyn()
    );
    // new axes, expand_dims, and squeeze of the known axes
    let e = y.expand_dims(1).unwrap();
    assert_eq!(e.dims(), vec![None, Some(1), Some(3)]);
    assert_eq!(both(&e), want.clone().insert_axis(Axis(1)));
    assert_eq!(both(&e.squeeze().unwrap()), want.clone());
    assert_eq!(
        both(&y.slice(s![.., ndarray::NewAxis, ..]).unwrap()),
        want.insert_axis(Axis(1))
    );
    // the unknown axis by position or index, or squeezed, is an error
    unknown(y.squeeze_axes(&[0]), "y");
    unknown(y.slice(s![1.., ..]), "y");
    unknown(y.slice(s![0, ..]), "y");
}
