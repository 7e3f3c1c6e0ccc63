//! The seed's example: `arange(15, chunks=5)`, its keys, `x + 100` and
//! `x.sum()` as graphs, and the fused graph `compute` runs.

use rask_array::{arange, Array};
use rask_graph::Key;
use rask_scheduler::{Sync, Threads};

fn keys(g: &rask_graph::Graph) -> Vec<String> {
    let mut k: Vec<String> = g.keys().iter().map(Key::to_string).collect();
    k.sort();
    k
}

#[test]
fn arange_keys_are_name_and_block() {
    let x = arange(15, 5);
    let name = x.name().to_string();
    let token = name.strip_prefix("arange-").expect("arange-<token>");
    assert_eq!(token.len(), 32);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let want: Vec<String> = (0..3).map(|i| format!("('{name}', {i})")).collect();
    assert_eq!(keys(&x.graph()), want);
    assert_eq!(
        x.keys(),
        (0..3)
            .map(|i| Key::from((name.as_str(), i)))
            .collect::<Vec<_>>()
    );
    // deterministic: the same expression has the same name; another one not
    assert_eq!(arange(15, 5).name(), name);
    assert_ne!(arange(16, 5).name(), name);
    assert_ne!(arange(15, 3).name(), name);
}

#[test]
fn prints_as_in_the_seed() {
    let x = arange(15, 5).named("x");
    assert_eq!(
        x.to_string(),
        "rask.array<x, shape=(15,), chunks=((5, 5, 5)), chunksize=(5,), dtype=i64>"
    );
    let y = Array::<i64>::zeros(&[4, 3], [3, 2]).unwrap().named("y");
    assert_eq!(
        y.to_string(),
        "rask.array<y, shape=(4, 3), chunks=((3, 1), (2, 1)), chunksize=(3, 2), dtype=i64>"
    );
    assert_eq!(y.sum().shape(), &[] as &[usize]);
    assert!(y
        .sum()
        .to_string()
        .ends_with("shape=(), chunks=(), chunksize=(), dtype=i64>"));
}

#[test]
fn add_adds_one_task_per_chunk_and_sum_per_chunk_sums_and_a_final_one() {
    let x = arange(15, 5).named("x");
    let y = &x + 100;
    let g = y.graph();
    assert_eq!(g.len(), 6);
    for i in 0..3 {
        let t = g.get(&Key::from((y.name(), i))).unwrap();
        assert_eq!(format!("{t:?}"), format!("(add, [{i}], ('x', {i}))"));
    }
    let s = x.sum();
    let g = s.graph();
    assert_eq!(g.len(), 7);
    let partial: Vec<String> = keys(&g)
        .into_iter()
        .filter(|k| k.contains("sum-partial-"))
        .collect();
    assert_eq!(partial.len(), 3);
    assert_eq!(s.keys().len(), 1);
    assert!(g.contains(&s.keys()[0]));
    assert_eq!(s.compute_scalar(&Sync).unwrap(), 105);
    assert_eq!(y.compute(&Sync).unwrap()[14], 114);
}

#[test]
fn compute_fuses_the_elementwise_chain_into_the_reduction() {
    let n = 15;
    let x = arange(n, 5).astype::<f64>() / n;
    let expr = ((2.0 * &x + 1.0).powi(3)).sum();
    // unfused: arange, astype, div, mul, add, pow (3 tasks each) + 3
    // partial + 1
    assert_eq!(expr.graph().len(), 6 * 3 + 4);
    // fused: the partial sums generate x themselves
    let g = expr.optimized_graph();
    assert_eq!(g.len(), 4, "{:?}", keys(&g));
    assert!(keys(&g).iter().all(|k| k.contains("sum-")));
    let want: f64 = (0..n)
        .map(|i| (2.0 * (i as f64 / n as f64) + 1.0).powi(3))
        .sum();
    let got = expr.compute_scalar(&Threads::new(2)).unwrap();
    assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
}

#[test]
fn shared_inputs_are_one_layer() {
    let x = arange(10, 4);
    let y = &x + &x;
    assert_eq!(y.graph().len(), 6);
    assert_eq!(y.optimized_graph().len(), 3);
    assert_eq!(y.compute(&Sync).unwrap()[9], 18);
}

#[test]
fn a_long_chain_of_operations_builds_computes_and_drops_without_recursion() {
    // run on a small stack, as a test thread's, to catch any recursion
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| {
            let mut x = arange(10, 5);
            for _ in 0..20_000 {
                x = &x + 1;
            }
            let s = x.sum();
            // fused in pieces: 20000 / 47 layers of 2 chunks, plus the sums
            assert!(s.optimized_graph().len() < 1_000);
            assert_eq!(s.compute_scalar(&Sync).unwrap(), 45 + 10 * 20_000);
            drop(s);
            drop(x);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn chunks_and_partials_have_codecs_for_other_processes() {
    use rask_graph::{codec, Value};
    let x = Array::<i64>::arange(0.0, 10.0, 1.0, 4).unwrap();
    let chunk = x.compute(&Sync).unwrap();
    let back = codec::from_bytes(&codec::to_bytes(&Value::new(chunk.clone())).unwrap()).unwrap();
    assert_eq!(back.downcast_ref::<ndarray::ArrayD<i64>>(), Some(&chunk));
    // the partial results of a reduction move too
    let partial = ndarray::ArrayD::from_elem(ndarray::IxDyn(&[2]), (1.5_f64, 2.0_f64));
    let back = codec::from_bytes(&codec::to_bytes(&Value::new(partial.clone())).unwrap()).unwrap();
    assert_eq!(
        back.downcast_ref::<ndarray::ArrayD<(f64, f64)>>(),
        Some(&partial)
    );
}
