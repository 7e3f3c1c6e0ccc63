//! `.npy` and Zarr round trips, `store`, and the errors of bad files.

mod common;

use common::*;
use proptest::prelude::*;
use rask_array::{from_ndarray, Array, ArrayError, RandomState};
use rask_scheduler::{Sync, Threads};

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn npy_round_trip((a, c, d) in shape(3).prop_flat_map(|s| (data(s.clone()), grid(&s), grid(&s)))) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        let x = from_ndarray(&a, c).unwrap();
        (&x * 1.5).to_npy(&path, &Threads::new(2)).unwrap();
        let y = Array::<f64>::from_npy(&path, d.clone()).unwrap();
        prop_assert_eq!(y.chunks(), d.as_slice());
        prop_assert_eq!(y.compute(&Sync).unwrap(), a.mapv(|v| v * 1.5));
    }

    #[test]
    fn zarr_round_trip((a, sizes) in shape(3).prop_flat_map(|s| {
        let sizes: Vec<_> = s.iter().map(|&d| 1..=d.max(1)).collect();
        (data(s), sizes)
    })) {
        let dir = tempfile::tempdir().unwrap();
        let ai = a.mapv(|v| v as i64);
        let x = from_ndarray(&ai, sizes).unwrap();
        x.to_zarr(dir.path(), &Threads::new(2)).unwrap();
        let y = Array::<i64>::from_zarr(dir.path(), None).unwrap();
        prop_assert_eq!(y.chunks(), x.chunks());
        prop_assert_eq!(y.compute(&Sync).unwrap(), ai.clone());
        let z = Array::<i64>::from_zarr(dir.path(), Some(2.into())).unwrap();
        prop_assert_eq!(z.compute(&Sync).unwrap(), ai);
    }
}

#[test]
fn zarr_round_trip_gzip_f32_and_bool() {
    let dir = tempfile::tempdir().unwrap();
    let x = RandomState::new(3)
        .normal(0.0, 1.0, &[37, 11], [8, 5])
        .unwrap();
    let x32 = x.astype::<f32>();
    x32.to_zarr_with(dir.path().join("f"), Some(5), &Sync)
        .unwrap();
    let y = Array::<f32>::from_zarr(dir.path().join("f"), None).unwrap();
    assert_eq!(y.compute(&Sync).unwrap(), x32.compute(&Sync).unwrap());
    let m = x.gt(0.0).unwrap();
    m.to_zarr(dir.path().join("b"), &Sync).unwrap();
    let b = Array::<bool>::from_zarr(dir.path().join("b"), Some([10, 11].into())).unwrap();
    assert_eq!(b.compute(&Sync).unwrap(), m.compute(&Sync).unwrap());
}

#[test]
fn bad_stores_are_errors_at_build_time() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let e = Array::<f64>::from_zarr(&missing, None).unwrap_err();
    assert!(matches!(e, ArrayError::Zarr { .. }), "{e}");
    assert!(e.to_string().contains("missing"), "{e}");
    // corrupt metadata
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("zarr.json"), "{not json").unwrap();
    let e = Array::<f64>::from_zarr(&bad, None).unwrap_err();
    assert!(matches!(e, ArrayError::Zarr { .. }), "{e}");
    // another element type
    let good = dir.path().join("good");
    rask_array::arange(10, 5).to_zarr(&good, &Sync).unwrap();
    let e = Array::<f64>::from_zarr(&good, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not f64"), "{e}");
    // irregular chunks
    let x = from_ndarray(&ndarray::Array1::<f64>::zeros(10), vec![vec![3, 5, 2]])
        .unwrap()
        .named("x");
    let e = x
        .to_zarr(dir.path().join("irregular"), &Sync)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("array x: bad chunks: Zarr needs regular chunks"),
        "{e}"
    );
    // npy: missing, wrong type, truncated, not npy
    let e = Array::<f64>::from_npy(dir.path().join("none.npy"), 2).unwrap_err();
    assert!(matches!(e, ArrayError::Io { .. }), "{e}");
    let p = dir.path().join("x.npy");
    rask_array::arange(10, 5)
        .astype::<f64>()
        .to_npy(&p, &Sync)
        .unwrap();
    let e = Array::<f32>::from_npy(&p, 2).unwrap_err().to_string();
    assert!(e.contains("holds elements '<f8', not f32"), "{e}");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 8]).unwrap();
    assert!(Array::<f64>::from_npy(&p, 2)
        .unwrap_err()
        .to_string()
        .contains("truncated"));
    std::fs::write(&p, b"hello").unwrap();
    assert!(Array::<f64>::from_npy(&p, 2)
        .unwrap_err()
        .to_string()
        .contains("not a .npy file"));
}

#[test]
fn npy_header_is_what_numpy_writes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h.npy");
    Array::<i64>::zeros(&[3, 4], 2)
        .unwrap()
        .to_npy(&p, &Sync)
        .unwrap();
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + len) % 64, 0);
    let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
    assert!(header.starts_with("{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4), }"));
    assert!(header.ends_with('\n'));
    assert_eq!(bytes.len(), 10 + len + 3 * 4 * 8);
    // 0-d and empty arrays
    let s = dir.path().join("s.npy");
    rask_array::arange(5, 2).sum().to_npy(&s, &Sync).unwrap();
    assert_eq!(
        Array::<i64>::from_npy(&s, 1)
            .unwrap()
            .compute_scalar(&Sync)
            .unwrap(),
        10
    );
    let e = dir.path().join("e.npy");
    rask_array::zeros(&[0, 3], 2)
        .unwrap()
        .to_npy(&e, &Sync)
        .unwrap();
    assert_eq!(
        Array::<f64>::from_npy(&e, 2)
            .unwrap()
            .compute(&Sync)
            .unwrap()
            .shape(),
        &[0, 3]
    );
}

/// A sink keeping what it is given, to check `store` and `store_graph`.
#[derive(Default)]
struct Memory(std::sync::Mutex<Vec<(Vec<usize>, ndarray::ArrayD<f64>)>>);

impl rask_array::ChunkSink<f64> for Memory {
    fn write_chunk(
        &self,
        offset: &[usize],
        chunk: ndarray::ArrayViewD<'_, f64>,
    ) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push((offset.to_vec(), chunk.to_owned()));
        Ok(())
    }
}

#[test]
fn store_writes_each_chunk_once_at_its_offset() {
    let x = RandomState::new(9).random(&[9, 4], [4, 3]).unwrap();
    let want = x.compute(&Sync).unwrap();
    let sink = std::sync::Arc::new(Memory::default());
    let (graph, keys) = (&x * 2.0).store_graph(sink.clone());
    assert_eq!(keys.len(), 6);
    assert_eq!(
        graph.len(),
        6,
        "fused: the store tasks generate x themselves"
    );
    rask_scheduler::get_with(&Threads::new(2), &graph, keys, &[]).unwrap();
    let got = sink.0.lock().unwrap();
    assert_eq!(got.len(), 6);
    for (offset, chunk) in got.iter() {
        let s = want.slice(ndarray::s![
            offset[0]..offset[0] + chunk.shape()[0],
            offset[1]..offset[1] + chunk.shape()[1]
        ]);
        assert_eq!(chunk, &s.mapv(|v| v * 2.0).into_dyn());
    }
}
