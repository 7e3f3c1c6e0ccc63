//! `matmul` and `map_blocks` against plain ndarray.

mod common;

use common::*;
use ndarray::{ArrayD, Ix2};
use proptest::prelude::*;
use rask_array::{from_ndarray, Array};
use rask_scheduler::{Sync, Threads};

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn matmul_matches_ndarray(
        (a, ca, b, cb) in (0usize..6, 0usize..6, 0usize..6).prop_flat_map(|(m, k, n)| {
            (data(vec![m, k]), grid(&[m, k]), data(vec![k, n]), grid(&[k, n]))
        })
    ) {
        let x = from_ndarray(&a, ca).unwrap();
        let y = from_ndarray(&b, cb).unwrap();
        let want = a.view().into_dimensionality::<Ix2>().unwrap().dot(&b.view().into_dimensionality::<Ix2>().unwrap()).into_dyn();
        let got = x.matmul(&y).unwrap().compute(&Threads::new(2)).unwrap();
        prop_assert!(close(&got, &want));
        // fused inputs, and integers
        let got = (&x * 2.0).matmul(&y).unwrap().compute(&Sync).unwrap();
        prop_assert!(close(&got, &want.mapv(|v| v * 2.0)));
        let xi = from_ndarray(&a.mapv(|v| v as i64), 2).unwrap();
        let yi = from_ndarray(&b.mapv(|v| v as i64), 3).unwrap();
        prop_assert_eq!(xi.dot(&yi).unwrap().compute(&Sync).unwrap(), want.mapv(|v| v as i64));
    }

    #[test]
    fn map_blocks_sees_each_chunk((a, c) in array(3)) {
        let x = from_ndarray(&a, c.clone()).unwrap();
        let y = (&x + 1.0).map_blocks("offset-sum", |chunk, info| {
            let s: usize = info.offset.iter().sum();
            chunk.mapv(|v| v * 10.0 + s as f64)
        });
        let got = y.compute(&Sync).unwrap();
        // expected: each element times 10 plus the sum of its chunk's offset
        let offs: Vec<Vec<usize>> = c.iter().map(|cs| {
            let mut o = vec![0]; for &s in cs { o.push(o.last().unwrap() + s); } o
        }).collect();
        let want = ArrayD::from_shape_fn(a.raw_dim(), |idx| {
            let s: usize = (0..a.ndim()).map(|k| {
                let i = idx[k];
                let b = offs[k].partition_point(|&o| o <= i) - 1;
                offs[k][b]
            }).sum();
            (a[&idx] + 1.0) * 10.0 + s as f64
        });
        prop_assert!(close(&got, &want));
    }
}

#[test]
fn map_blocks_with_other_chunks() {
    let x = rask_array::arange(10, 4);
    let y = x
        .map_blocks_with_chunks("firsts", vec![vec![1, 1, 1]], |c, _| {
            c.slice(ndarray::s![..1]).to_owned().into_dyn()
        })
        .unwrap();
    assert_eq!(y.compute(&Sync).unwrap().as_slice().unwrap(), &[0, 4, 8]);
    let bad = x.map_blocks("wrong", |c, _| {
        c.slice(ndarray::s![..1]).to_owned().into_dyn()
    });
    let e = bad.compute(&Sync).unwrap_err().to_string();
    assert!(e.contains("wrong returned a chunk of shape [1]"), "{e}");
    assert!(x
        .map_blocks_with_chunks("n", vec![vec![10]], |c, _| c.to_owned())
        .is_err());
}

#[test]
fn matmul_errors_name_the_arrays() {
    let a = Array::<f64>::zeros(&[3, 4], 2).unwrap().named("a");
    let b = Array::<f64>::zeros(&[3, 4], 2).unwrap().named("b");
    let e = a.matmul(&b).unwrap_err().to_string();
    assert_eq!(
        e,
        "array a: matmul of shapes [3, 4] and [3, 4] (b): inner lengths differ"
    );
    let v = Array::<f64>::zeros(&[4], 2).unwrap().named("v");
    assert!(a.matmul(&v).unwrap_err().to_string().contains("2-d"));
}
