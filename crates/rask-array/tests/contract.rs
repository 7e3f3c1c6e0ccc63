//! `tensordot` and two-operand `einsum` against a direct sum over the
//! index space, on random shapes, chunkings and axis pairings, on `Sync`
//! and `Threads`.

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use rask_array::{einsum, from_ndarray, tensordot};
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

/// `sum_k a[free_a, k] * b[k, free_b]` by loops.
fn reference(a: &ArrayD<i64>, b: &ArrayD<i64>, sa: &[usize], sb: &[usize]) -> ArrayD<i64> {
    let fa: Vec<usize> = (0..a.ndim()).filter(|k| !sa.contains(k)).collect();
    let fb: Vec<usize> = (0..b.ndim()).filter(|k| !sb.contains(k)).collect();
    let shape: Vec<usize> = fa
        .iter()
        .map(|&k| a.shape()[k])
        .chain(fb.iter().map(|&k| b.shape()[k]))
        .collect();
    let summed: Vec<usize> = sa.iter().map(|&k| a.shape()[k]).collect();
    let mut out = ArrayD::zeros(IxDyn(&shape));
    for o in indices(&shape) {
        let mut acc = 0;
        for s in indices(&summed) {
            let mut ia = vec![0; a.ndim()];
            let mut ib = vec![0; b.ndim()];
            for (n, &k) in fa.iter().enumerate() {
                ia[k] = o[n];
            }
            for (n, &k) in fb.iter().enumerate() {
                ib[k] = o[fa.len() + n];
            }
            for (n, (&i, &j)) in sa.iter().zip(sb).enumerate() {
                ia[i] = s[n];
                ib[j] = s[n];
            }
            acc += a[IxDyn(&ia)] * b[IxDyn(&ib)];
        }
        out[IxDyn(&o)] = acc;
    }
    out
}

fn both(x: &rask_array::Array<i64>) -> ArrayD<i64> {
    let s = x.compute(&Sync).unwrap();
    assert_eq!(s, x.compute(&Threads::new(2) as &dyn Executor).unwrap());
    s
}

/// Two arrays sharing `n` axes (lengths 1..=3), in random orders.
#[allow(clippy::type_complexity)]
fn operands() -> impl Strategy<Value = (ArrayD<i64>, ArrayD<i64>, Vec<usize>, Vec<usize>, usize)> {
    (
        prop::collection::vec(1usize..=3, 0..=2),
        prop::collection::vec(1usize..=3, 0..=2),
        prop::collection::vec(1usize..=3, 0..=2),
        any::<u64>(),
        1usize..=3,
    )
        .prop_map(|(free_a, shared, free_b, seed, chunk)| {
            // a: free_a then shared reversed; b: shared then free_b
            let sa_shape: Vec<usize> = free_a.iter().chain(shared.iter().rev()).copied().collect();
            let sb_shape: Vec<usize> = shared.iter().chain(&free_b).copied().collect();
            let fill = |shape: &[usize], salt: u64| {
                let n: usize = shape.iter().product();
                let v: Vec<i64> = (0..n)
                    .map(|i| ((seed ^ salt).wrapping_mul(i as u64 + 7) % 7) as i64 - 3)
                    .collect();
                ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
            };
            let s = shared.len();
            let sa: Vec<usize> = (0..s).map(|i| free_a.len() + s - 1 - i).collect();
            let sb: Vec<usize> = (0..s).collect();
            (fill(&sa_shape, 1), fill(&sb_shape, 2), sa, sb, chunk)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn tensordot_matches_loops((a, b, sa, sb, chunk) in operands()) {
        let x = from_ndarray(&a, chunk).unwrap();
        let y = from_ndarray(&b, chunk + 1).unwrap();
        let ia: Vec<isize> = sa.iter().map(|&k| k as isize).collect();
        let ib: Vec<isize> = sb.iter().map(|&k| k as isize).collect();
        let got = both(&tensordot(&x, &y, &ia, &ib).unwrap());
        prop_assert_eq!(got, reference(&a, &b, &sa, &sb));
    }

    #[test]
    fn einsum_matches_tensordot_and_transposes((a, b, sa, sb, chunk) in operands()) {
        let x = from_ndarray(&a, chunk).unwrap();
        let y = from_ndarray(&b, chunk).unwrap();
        // letters: a's axes p q r s..., b's shared axes reuse a's letters
        let letters: Vec<char> = "abcdefgh".chars().collect();
        let la: Vec<char> = letters[..a.ndim()].to_vec();
        let mut lb: Vec<char> = Vec::new();
        let mut next = a.ndim();
        for j in 0..b.ndim() {
            match sb.iter().position(|&k| k == j) {
                Some(n) => lb.push(la[sa[n]]),
                None => {
                    lb.push(letters[next]);
                    next += 1;
                }
            }
        }
        let free: Vec<char> = la.iter().chain(&lb).copied().filter(|c| !(la.contains(c) && lb.contains(c))).collect();
        // the output in reverse order of the free letters
        let out: String = free.iter().rev().collect();
        let spec = format!("{},{}->{}", la.iter().collect::<String>(), lb.iter().collect::<String>(), out);
        let got = both(&einsum(&spec, &x, &y).unwrap());
        let want = reference(&a, &b, &sa, &sb);
        let rev: Vec<usize> = (0..want.ndim()).rev().collect();
        prop_assert_eq!(got, want.permuted_axes(rev).as_standard_layout().to_owned());
    }
}

#[test]
fn einsum_sums_lonely_axes_and_names_what_is_wrong() {
    let a = ndarray::arr2(&[[1_i64, 2], [3, 4]]).into_dyn();
    let x = from_ndarray(&a, 1).unwrap();
    // trace-free: sum over j of a, times b summed over its own axis
    let got = einsum("ij,kl->ik", &x, &x).unwrap().compute(&Sync).unwrap();
    let row: Vec<i64> = vec![3, 7];
    let want = ndarray::Array2::from_shape_fn((2, 2), |(i, k)| row[i] * row[k]).into_dyn();
    assert_eq!(got, want);
    for (spec, says) in [
        ("ij,jk", "->"),
        ("ii,jk->ik", "repeats"),
        ("ij,jk->ijk", "batch"),
        ("ij,jk->iz", "no operand"),
        ("ijk,jk->i", "letters for"),
    ] {
        let e = einsum(spec, &x, &x).unwrap_err().to_string();
        assert!(e.contains(says), "{spec}: {e}");
    }
    assert!(tensordot(&x, &x, &[0], &[]).is_err());
}
