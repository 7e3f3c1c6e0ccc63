//! `map_overlap` against padding the whole array and applying the same
//! stencil, for every boundary mode, on random shapes, chunkings and
//! depths, on `Sync` and `Threads`.

mod common;

use common::*;
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use proptest::prelude::*;
use rask_array::{from_ndarray, Boundary};
use rask_scheduler::{Executor, Sync, Threads};

/// All indices of `shape`, in C order.
fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &d in shape {
        out = out
            .into_iter()
            .flat_map(|p| (0..d).map(move |i| [p.clone(), vec![i]].concat()))
            .collect();
    }
    out
}

/// Each element replaced by the sum of its window of `2 d + 1` per axis,
/// clipped to the array (so a missing neighbour counts as 0), weighted by
/// position so that a wrong neighbour shows.
fn stencil(c: ArrayViewD<'_, f64>, depth: &[usize]) -> ArrayD<f64> {
    let shape = c.shape().to_vec();
    let mut out = ArrayD::zeros(IxDyn(&shape));
    for i in indices(&shape) {
        let ranges: Vec<Vec<isize>> = depth
            .iter()
            .map(|&d| (-(d as isize)..=d as isize).collect())
            .collect();
        let mut acc = 0.0;
        for off in indices(&ranges.iter().map(Vec::len).collect::<Vec<_>>()) {
            let mut j = Vec::with_capacity(i.len());
            let mut w = 1.0;
            let mut inside = true;
            for (ax, &o) in off.iter().enumerate() {
                let delta = ranges[ax][o];
                let p = i[ax] as isize + delta;
                if p < 0 || p >= shape[ax] as isize {
                    inside = false;
                }
                j.push(p as usize);
                w *= (delta + 3) as f64;
            }
            if inside {
                acc += w * c[IxDyn(&j)];
            }
        }
        out[IxDyn(&i)] = acc;
    }
    out
}

/// The array padded by `depth` per axis as `boundary` says (`None`:
/// zeros, which the stencil treats as missing).
fn pad(a: &ArrayD<f64>, depth: &[usize], boundary: Boundary<f64>) -> ArrayD<f64> {
    let shape: Vec<usize> = a
        .shape()
        .iter()
        .zip(depth)
        .map(|(&n, &d)| n + 2 * d)
        .collect();
    let mut out = ArrayD::zeros(IxDyn(&shape));
    for i in indices(&shape) {
        let mut src = Vec::with_capacity(i.len());
        let mut value = None;
        for (ax, &p) in i.iter().enumerate() {
            let (n, d) = (a.shape()[ax] as isize, depth[ax] as isize);
            let q = p as isize - d;
            let q = if (0..n).contains(&q) {
                q
            } else {
                match boundary {
                    Boundary::None => {
                        value = Some(0.0);
                        0
                    }
                    Boundary::Constant(c) => {
                        value = Some(c);
                        0
                    }
                    Boundary::Periodic => q.rem_euclid(n),
                    Boundary::Nearest => q.clamp(0, n - 1),
                    Boundary::Reflect => {
                        if q < 0 {
                            -q - 1
                        } else {
                            2 * n - q - 1
                        }
                    }
                }
            };
            src.push(q as usize);
        }
        out[IxDyn(&i)] = value.unwrap_or_else(|| a[IxDyn(&src)]);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn map_overlap_matches_padding_the_whole_array(
        (a, c) in array(2).prop_filter("no empty axis", |(a, _)| a.ndim() > 0 && a.shape().iter().all(|&n| n > 0)),
        want_depth in prop::collection::vec(0usize..3, 2),
        mode in 0usize..5,
    ) {
        let depth: Vec<usize> = c.iter().zip(&want_depth).map(|(ch, &d)| d.min(*ch.iter().min().unwrap())).collect();
        let boundary = [Boundary::None, Boundary::Periodic, Boundary::Reflect, Boundary::Nearest, Boundary::Constant(2.5)][mode];
        let x = from_ndarray(&a, c).unwrap();
        let d2 = depth.clone();
        let y = x.map_overlap("stencil", &depth, boundary, move |v| stencil(v, &d2)).unwrap();
        prop_assert_eq!(y.chunks(), x.chunks());
        let padded = pad(&a, &depth, boundary);
        let full = stencil(padded.view(), &depth);
        let region: Vec<ndarray::SliceInfoElem> = depth
            .iter()
            .zip(a.shape())
            .map(|(&d, &n)| ndarray::SliceInfoElem::Slice { start: d as isize, end: Some((d + n) as isize), step: 1 })
            .collect();
        let want = full.slice(region.as_slice()).to_owned();
        for ex in [&Sync as &dyn Executor, &Threads::new(2)] {
            prop_assert!(close(&y.compute(ex).unwrap(), &want));
        }
    }
}

#[test]
fn chunks_shorter_than_the_depth_are_an_error() {
    let x = rask_array::arange(10, 3);
    let e = x
        .map_overlap("id", &[4], Boundary::Nearest, |v| v.to_owned())
        .unwrap_err()
        .to_string();
    assert!(e.contains("rechunk first"), "{e}");
    assert!(x
        .map_overlap("id", &[1, 1], Boundary::None, |v| v.to_owned())
        .is_err());
}
