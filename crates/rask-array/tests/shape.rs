//! Slicing, indexing, transpose, reshape, rechunk, concatenate and stack
//! against plain ndarray on random shapes and chunkings.

mod common;

use common::*;
use ndarray::{ArrayD, Axis, SliceInfoElem};
use proptest::prelude::*;
use rask_array::{concatenate, from_ndarray, stack, Array};
use rask_scheduler::{Sync, Threads};

fn elem(len: usize) -> BoxedStrategy<SliceInfoElem> {
    let l = len as isize;
    let slice = (
        -l..=l,
        prop::option::of(-l..=l),
        prop::sample::select(vec![-3isize, -2, -1, 1, 2, 3]),
    )
        .prop_map(|(start, end, step)| SliceInfoElem::Slice { start, end, step });
    if len == 0 {
        slice.boxed()
    } else {
        prop_oneof![slice, (-l..l).prop_map(SliceInfoElem::Index)].boxed()
    }
}

type SliceCase = ((ArrayD<f64>, Vec<Vec<usize>>), Vec<SliceInfoElem>);

fn slice_case() -> impl Strategy<Value = SliceCase> {
    array(3).prop_flat_map(|(a, c)| {
        let elems: Vec<_> = a.shape().iter().map(|&d| elem(d)).collect();
        (Just((a, c)), elems, 0usize..4).prop_map(|(ac, mut e, new)| {
            if new <= e.len() && new < 2 {
                e.insert(new, SliceInfoElem::NewAxis);
            }
            (ac, e)
        })
    })
}

/// A random shape with the same number of elements (`size > 0`).
fn reshaped(size: usize) -> BoxedStrategy<Vec<usize>> {
    prop::collection::vec((1usize..=6, 0usize..4), 1..6)
        .prop_map(move |picks| {
            let mut rest = size;
            let mut out = Vec::new();
            for (d, ones) in picks {
                if ones == 0 {
                    out.push(1);
                }
                let divs: Vec<usize> = (1..=rest).filter(|k| rest.is_multiple_of(*k)).collect();
                let k = divs[d % divs.len()];
                out.push(k);
                rest /= k;
            }
            out.push(rest);
            out
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn slices_match_ndarray(((a, c), info) in slice_case()) {
        let x = from_ndarray(&a, c).unwrap();
        let want = a.slice(info.as_slice()).to_owned();
        let y = x.slice(&info).unwrap();
        prop_assert_eq!(y.shape(), want.shape());
        prop_assert_eq!(y.compute(&Sync).unwrap(), want);
    }

    #[test]
    fn slices_of_fused_expressions((a, c) in array(2), step in 1isize..3) {
        let x = from_ndarray(&a, c).unwrap();
        let info = vec![SliceInfoElem::Slice { start: 0, end: None, step: -step }; a.ndim()];
        let y = (&x * 2.0).slice(&info).unwrap().sum();
        let want = a.slice(info.as_slice()).sum() * 2.0;
        prop_assert_eq!(y.compute_scalar(&Threads::new(2)).unwrap(), want);
    }

    #[test]
    fn transpose_matches_ndarray((a, c) in array(4), seed in any::<u64>()) {
        let x = from_ndarray(&a, c).unwrap();
        prop_assert_eq!(x.t().compute(&Sync).unwrap(), a.t().to_owned());
        let mut perm: Vec<usize> = (0..a.ndim()).collect();
        let n = perm.len();
        for i in (1..n).rev() {
            perm.swap(i, (seed as usize >> (i % 8)) % (i + 1));
        }
        let y = (&x + 1.0).permuted_axes(&perm).unwrap();
        prop_assert_eq!(y.compute(&Sync).unwrap(), a.clone().permuted_axes(perm.clone()).mapv(|v| v + 1.0));
    }

    #[test]
    fn rechunk_is_the_same_array((a, c, d) in shape(3).prop_flat_map(|s| (data(s.clone()), grid(&s), grid(&s)))) {
        let x = from_ndarray(&a, c).unwrap();
        let y = x.rechunk(d.clone()).unwrap();
        prop_assert_eq!(y.chunks(), d.as_slice());
        prop_assert_eq!(y.compute(&Sync).unwrap(), a);
    }

    #[test]
    fn reshape_matches_ndarray(((a, c), to) in array(3).prop_filter("non-empty", |(a, _)| !a.is_empty()).prop_flat_map(|(a, c)| {
        let n = a.len();
        (Just((a, c)), reshaped(n))
    })) {
        let x = from_ndarray(&a, c).unwrap();
        let shape: Vec<isize> = to.iter().map(|&d| d as isize).collect();
        let y = x.reshape(&shape).unwrap();
        let want = a.to_shape(to.clone()).unwrap().to_owned();
        prop_assert_eq!(y.shape(), want.shape());
        prop_assert_eq!(y.compute(&Sync).unwrap(), want);
        let back: Vec<isize> = a.shape().iter().map(|&d| d as isize).collect();
        prop_assert_eq!(y.reshape(&back).unwrap().compute(&Sync).unwrap(), a);
    }

    #[test]
    fn concatenate_matches_ndarray(
        (a, ca, b, cb, ax) in shape(3).prop_filter("an axis", |s| !s.is_empty()).prop_flat_map(|s| {
            let nd = s.len();
            (Just(s), 0..nd, 0usize..5)
        }).prop_flat_map(|(s, ax, len)| {
            let mut t = s.clone();
            t[ax] = len;
            (data(s.clone()), grid(&s), data(t.clone()), grid(&t), Just(ax))
        })
    ) {
        let x = from_ndarray(&a, ca).unwrap();
        let y = from_ndarray(&b, cb).unwrap();
        let z = concatenate(&[&x, &y, &x], ax as isize).unwrap();
        let want = ndarray::concatenate(Axis(ax), &[a.view(), b.view(), a.view()]).unwrap();
        prop_assert_eq!(z.compute(&Sync).unwrap(), want);
    }

    #[test]
    fn stack_matches_ndarray((a, ca, cb) in shape(2).prop_flat_map(|s| (data(s.clone()), grid(&s), grid(&s))), ax in 0usize..3) {
        let ax = ax % (a.ndim() + 1);
        let x = from_ndarray(&a, ca).unwrap();
        let y = from_ndarray(&a, cb).unwrap() * 2.0;
        let z = stack(&[&x, &y], ax as isize).unwrap();
        let b = a.mapv(|v| v * 2.0);
        let want = ndarray::stack(Axis(ax), &[a.view(), b.view()]).unwrap();
        prop_assert_eq!(z.compute(&Sync).unwrap(), want);
    }
}

#[test]
fn out_of_range_indices_are_errors_naming_the_array() {
    let x = rask_array::arange(10, 3).named("x");
    let e = x.slice(ndarray::s![-11]).unwrap_err().to_string();
    assert_eq!(e, "array x: index -11 out of range for axis 0 of length 10");
    assert!(x.slice(ndarray::s![1, 2]).is_err());
    assert!(x.reshape(&[3, -1]).is_err());
    assert!(x.reshape(&[-1, -1]).is_err());
    assert!(x.permuted_axes(&[1]).is_err());
    let y = Array::<i64>::zeros(&[3, 2], 2).unwrap().named("y");
    let e = concatenate(&[&x, &y], 0).unwrap_err().to_string();
    assert!(e.contains("y"), "{e}");
}

/// Slices past either end are clamped, as NumPy's (issue 14): past the
/// end is empty, not an error.
#[test]
fn slices_past_the_ends_are_clamped_as_numpy() {
    let x = rask_array::arange(10, 3);
    let all: Vec<i64> = (0..10).collect();
    let cases: [(ndarray::SliceInfo<_, _, _>, &[i64]); 5] = [
        (ndarray::s![3..11], &all[3..]),
        (ndarray::s![12..], &[]),
        (ndarray::s![-20..2], &all[..2]),
        (ndarray::s![8..100;-1], &[9, 8]),
        (ndarray::s![-100..-50], &[]),
    ];
    for (info, want) in cases {
        let y = x.slice(info).unwrap();
        assert_eq!(y.shape(), &[want.len()]);
        for ex in [
            &Sync as &dyn rask_scheduler::Executor,
            &rask_scheduler::Threads::new(2),
        ] {
            assert_eq!(y.compute(ex).unwrap().as_slice().unwrap(), want);
        }
    }
}

#[test]
fn whole_chunks_are_aliases() {
    let x = rask_array::arange(10, 5).materialize();
    let y = x.slice(ndarray::s![5..]).unwrap();
    let g = y.graph();
    let t = g.get(&y.keys()[0]).unwrap();
    assert_eq!(format!("{t:?}"), format!("('{}', 1)", x.name()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn take_matches_ndarray_select(
        ((a, c), axis, picks) in array(3).prop_filter("an axis", |(a, _)| a.ndim() > 0).prop_flat_map(|(a, c)| {
            let nd = a.ndim();
            (Just((a, c)), 0..nd, prop::collection::vec(any::<u16>(), 0..8))
        })
    ) {
        let len = a.shape()[axis];
        let x = from_ndarray(&a, c).unwrap();
        if len == 0 {
            prop_assert!(x.take(axis as isize, &[0]).is_err());
            return Ok(());
        }
        let idx: Vec<isize> = picks.iter().map(|&p| (p as isize % (2 * len as isize)) - len as isize).collect();
        let pos: Vec<usize> = idx.iter().map(|&i| (i + len as isize) as usize % len).collect();
        let y = x.take(axis as isize, &idx).unwrap();
        prop_assert_eq!(y.compute(&Sync).unwrap(), a.select(Axis(axis), &pos));
    }
}
