//! Every bag operation against the same computation on a plain iterator,
//! on random data in random partitionings, with both executors.

use std::cmp::Reverse;
use std::collections::HashMap;

use proptest::prelude::*;
use rask_bag::{from_partitions, Bag};
use rask_scheduler::{Executor, Sync, Threads};
use serde_json::json;

/// Random items cut into random partitions (some empty).
fn partitioned() -> impl Strategy<Value = Vec<Vec<i64>>> {
    prop::collection::vec(prop::collection::vec(-20_i64..20, 0..12), 1..12)
}

fn flat(parts: &[Vec<i64>]) -> Vec<i64> {
    parts.iter().flatten().copied().collect()
}

fn executor(threads: bool) -> Box<dyn Executor> {
    if threads {
        Box::new(Threads::new(2))
    } else {
        Box::new(Sync)
    }
}

/// Items in the order they first appear, with their counts.
fn first_appearance_counts(xs: &[i64]) -> Vec<(i64, u64)> {
    let mut order = Vec::new();
    let mut counts: HashMap<i64, u64> = HashMap::new();
    for &x in xs {
        let c = counts.entry(x).or_insert(0);
        if *c == 0 {
            order.push(x);
        }
        *c += 1;
    }
    order.into_iter().map(|x| (x, counts[&x])).collect()
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(40)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn element_wise_operations(parts in partitioned(), threads in any::<bool>()) {
        let ex = executor(threads);
        let xs = flat(&parts);
        let b = from_partitions(parts.clone());
        prop_assert_eq!(b.compute(&*ex).unwrap(), xs.clone());
        prop_assert_eq!(
            b.map(|x| x * 3 - 1).compute(&*ex).unwrap(),
            xs.iter().map(|x| x * 3 - 1).collect::<Vec<_>>()
        );
        prop_assert_eq!(
            b.filter(|x| x % 3 == 0).compute(&*ex).unwrap(),
            xs.iter().copied().filter(|x| x % 3 == 0).collect::<Vec<_>>()
        );
        let fm = |x: i64| std::iter::repeat_n(x, x.rem_euclid(3) as usize);
        prop_assert_eq!(
            b.flat_map(fm).compute(&*ex).unwrap(),
            xs.iter().flat_map(|&x| fm(x)).collect::<Vec<_>>()
        );
        prop_assert_eq!(
            b.map(|x| vec![x; 2]).flatten().compute(&*ex).unwrap(),
            xs.iter().flat_map(|&x| [x, x]).collect::<Vec<_>>()
        );
        // a fused chain, then more on its result
        let chain = b.map(|x| x + 1).filter(|x| x % 2 == 0).map(|x| x / 2);
        let expected: Vec<i64> = xs.iter().map(|x| x + 1).filter(|x| x % 2 == 0).map(|x| x / 2).collect();
        prop_assert_eq!(chain.compute(&*ex).unwrap(), expected.clone());
        prop_assert_eq!(chain.count().compute(&*ex).unwrap(), expected.len());
        // map_partitions sees each partition whole
        let sums = b.map_partitions(|p| vec![p.iter().sum::<i64>(), p.len() as i64]);
        prop_assert_eq!(
            sums.compute(&*ex).unwrap(),
            parts.iter().flat_map(|p| [p.iter().sum::<i64>(), p.len() as i64]).collect::<Vec<_>>()
        );
        let skipped = rask_bag::Skipped::new();
        let tried = b.try_map_skipping(|x| if x < 0 { Err("negative") } else { Ok(x) }, &skipped);
        prop_assert_eq!(
            tried.compute(&*ex).unwrap(),
            xs.iter().copied().filter(|&x| x >= 0).collect::<Vec<_>>()
        );
        prop_assert_eq!(skipped.count(), xs.iter().filter(|&&x| x < 0).count() as u64);
    }

    #[test]
    fn scalar_aggregations(parts in partitioned(), threads in any::<bool>()) {
        let ex = executor(threads);
        let xs = flat(&parts);
        let b = from_partitions(parts);
        prop_assert_eq!(b.count().compute(&*ex).unwrap(), xs.len());
        prop_assert_eq!(b.sum().compute(&*ex).unwrap(), xs.iter().sum::<i64>());
        prop_assert_eq!(b.min().compute(&*ex).unwrap(), xs.iter().copied().min());
        prop_assert_eq!(b.max().compute(&*ex).unwrap(), xs.iter().copied().max());
        let mean = b.mean().compute(&*ex).unwrap();
        let expected = (!xs.is_empty()).then(|| xs.iter().sum::<i64>() as f64 / xs.len() as f64);
        prop_assert_eq!(mean.map(|m| (m * 1e9).round()), expected.map(|m| (m * 1e9).round()));
        let fold = b.fold(|| (0_i64, 0_usize), |a, x| { a.0 += x * x; a.1 += 1 }, |a, b| { a.0 += b.0; a.1 += b.1 });
        prop_assert_eq!(fold.compute(&*ex).unwrap(), (xs.iter().map(|x| x * x).sum::<i64>(), xs.len()));
        let red = b.reduction(|p| p.into_iter().map(|x| x.abs()).max().unwrap_or(0), |v| v.into_iter().max().unwrap_or(0));
        prop_assert_eq!(red.compute(&*ex).unwrap(), xs.iter().map(|x| x.abs()).max().unwrap_or(0));
        // sum of floats, and of a filtered chain
        prop_assert_eq!(b.map(|x| x as f64).sum().compute(&*ex).unwrap(), xs.iter().sum::<i64>() as f64);
        prop_assert_eq!(
            b.filter(|x| *x > 0).sum().compute(&*ex).unwrap(),
            xs.iter().filter(|x| **x > 0).sum::<i64>()
        );
        // accumulate, with and without an initial value (issue 14)
        let running: Vec<i64> = xs.iter().scan(0, |a, &x| { *a += x; Some(*a) }).collect();
        prop_assert_eq!(b.accumulate(|a, x| a + x).compute(&*ex).unwrap(), running.clone());
        let acc_b = b.accumulate(|a, x| a + x);
        prop_assert_eq!(acc_b.npartitions(), b.npartitions());
        let mut from: Vec<String> = vec!["s".to_string()];
        for &x in &xs {
            let last = from.last().cloned().unwrap_or_default();
            from.push(format!("{last}{}", x.rem_euclid(10)));
        }
        prop_assert_eq!(
            b.accumulate_from(|a: String, x| format!("{a}{}", x.rem_euclid(10)), "s".to_string()).compute(&*ex).unwrap(),
            from
        );
        // starmap and unzip of pairs, range (issue 14)
        let pairs = b.map(|x| (x, x * 3));
        prop_assert_eq!(pairs.starmap(|x, y| x - y).compute(&*ex).unwrap(), xs.iter().map(|x| -2 * x).collect::<Vec<_>>());
        let (firsts, seconds) = pairs.unzip();
        prop_assert_eq!(firsts.compute(&*ex).unwrap(), xs.clone());
        prop_assert_eq!(seconds.compute(&*ex).unwrap(), xs.iter().map(|x| x * 3).collect::<Vec<_>>());
        prop_assert_eq!(seconds.npartitions(), b.npartitions());
        let n = xs.len() as u64;
        let r = rask_bag::range(n, b.npartitions());
        prop_assert_eq!(r.npartitions(), b.npartitions());
        prop_assert_eq!(r.compute(&*ex).unwrap(), (0..n).collect::<Vec<_>>());
        // random_sample: a subsequence, the same for a seed, all or none
        let s1 = b.random_sample(0.5, 3).compute(&*ex).unwrap();
        prop_assert_eq!(s1.clone(), b.random_sample(0.5, 3).compute(&Sync).unwrap());
        let mut rest = xs.iter();
        prop_assert!(s1.iter().all(|x| rest.any(|y| y == x)));
        prop_assert_eq!(b.random_sample(1.0, 3).compute(&*ex).unwrap(), xs.clone());
        prop_assert!(b.random_sample(0.0, 3).compute(&*ex).unwrap().is_empty());
        // the string methods, against str's
        let words = b.map(|x| format!(" W{x},{} ", x * 2));
        let plain: Vec<String> = xs.iter().map(|x| format!(" W{x},{} ", x * 2)).collect();
        prop_assert_eq!(words.str().lower().compute(&*ex).unwrap(), plain.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>());
        prop_assert_eq!(words.str().upper().compute(&*ex).unwrap(), plain.iter().map(|s| s.to_uppercase()).collect::<Vec<_>>());
        let stripped: Vec<String> = plain.iter().map(|s| s.trim().to_string()).collect();
        prop_assert_eq!(words.str().strip().compute(&*ex).unwrap(), stripped.clone());
        prop_assert_eq!(
            words.str().strip().str().split(",").compute(&*ex).unwrap(),
            stripped.iter().map(|s| s.split(',').map(str::to_string).collect::<Vec<_>>()).collect::<Vec<_>>()
        );
        prop_assert_eq!(words.str().replace("W", "w").compute(&*ex).unwrap(), plain.iter().map(|s| s.replace('W', "w")).collect::<Vec<_>>());
        prop_assert_eq!(words.str().startswith(" W-").compute(&*ex).unwrap(), plain.iter().map(|s| s.starts_with(" W-")).collect::<Vec<_>>());
        prop_assert_eq!(words.str().endswith("0 ").compute(&*ex).unwrap(), plain.iter().map(|s| s.ends_with("0 ")).collect::<Vec<_>>());
        prop_assert_eq!(words.str().contains("1").compute(&*ex).unwrap(), plain.iter().map(|s| s.contains('1')).collect::<Vec<_>>());
        prop_assert_eq!(words.str().len().compute(&*ex).unwrap(), plain.iter().map(|s| s.chars().count()).collect::<Vec<_>>());
        // remove, all, any, var, std (issue 14)
        prop_assert_eq!(
            b.remove(|x| *x > 0).compute(&*ex).unwrap(),
            xs.iter().copied().filter(|x| *x <= 0).collect::<Vec<_>>()
        );
        prop_assert_eq!(b.map(|x| x > -15).all().compute(&*ex).unwrap(), xs.iter().all(|&x| x > -15));
        prop_assert_eq!(b.map(|x| x > 15).any().compute(&*ex).unwrap(), xs.iter().any(|&x| x > 15));
        let n = xs.len() as f64;
        let m = xs.iter().sum::<i64>() as f64 / n;
        let m2: f64 = xs.iter().map(|&x| (x as f64 - m) * (x as f64 - m)).sum();
        let near = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * (1.0 + b.abs()),
            (a, b) => a == b,
        };
        let var = b.var().compute(&*ex).unwrap();
        prop_assert!(near(var, (n > 0.0).then(|| m2 / n)), "{:?}", var);
        let std1 = b.std_ddof(1.0).compute(&*ex).unwrap();
        prop_assert!(near(std1, (n > 1.0).then(|| (m2 / (n - 1.0)).sqrt())), "{:?}", std1);
    }

    #[test]
    fn keyed_aggregations(parts in partitioned(), threads in any::<bool>(), k in 0_usize..8) {
        let ex = executor(threads);
        let xs = flat(&parts);
        let b = from_partitions(parts);
        // frequencies: first appearance order, or by count (stable)
        let counts = first_appearance_counts(&xs);
        prop_assert_eq!(b.frequencies().compute(&*ex).unwrap(), counts.clone());
        let mut sorted = counts.clone();
        sorted.sort_by_key(|c| Reverse(c.1));
        prop_assert_eq!(b.frequencies_sorted().compute(&*ex).unwrap(), sorted);
        // frequencies of a fused map (items by value, not lent)
        let mapped: Vec<i64> = xs.iter().map(|x| x / 4).collect();
        prop_assert_eq!(b.map(|x| x / 4).frequencies().compute(&*ex).unwrap(), first_appearance_counts(&mapped));
        // distinct
        prop_assert_eq!(
            b.distinct().compute(&*ex).unwrap(),
            counts.iter().map(|c| c.0).collect::<Vec<_>>()
        );
        // foldby: sum and count per key, keys in first appearance order
        let fb = b.foldby_in_place(|x| x.rem_euclid(5), || (0_i64, 0_u32), |a, x| { a.0 += x; a.1 += 1 }, |a, b| { a.0 += b.0; a.1 += b.1 });
        let mut expected: Vec<(i64, (i64, u32))> = Vec::new();
        for &x in &xs {
            let key = x.rem_euclid(5);
            match expected.iter_mut().find(|e| e.0 == key) {
                Some(e) => { e.1.0 += x; e.1.1 += 1 }
                None => expected.push((key, (x, 1))),
            }
        }
        prop_assert_eq!(fb.compute(&*ex).unwrap(), expected.clone());
        // foldby in Dask's order: binop, initial, combine, combine_initial
        // (a combine_initial that is not the identity counts once per key)
        let dask = b.foldby(|x| x.rem_euclid(5), |a: (i64, u32), x| (a.0 + x, a.1 + 1), (0, 0), |a, b| (a.0 + b.0, a.1 + b.1), (100, 0));
        let with_initial: Vec<(i64, (i64, u32))> = expected.iter().map(|&(k, (s, n))| (k, (s + 100, n))).collect();
        prop_assert_eq!(dask.compute(&*ex).unwrap(), with_initial);
        // topk: the k largest by key, first ones first among equals
        let mut by_key: Vec<(usize, i64)> = xs.iter().copied().enumerate().collect();
        by_key.sort_by_key(|&(i, x)| (Reverse(x.abs()), i));
        let expected: Vec<i64> = by_key.iter().take(k).map(|p| p.1).collect();
        prop_assert_eq!(b.topk(k, |x| x.abs()).compute(&*ex).unwrap(), expected);
        // take
        prop_assert_eq!(b.take(k).compute(&*ex).unwrap(), xs.iter().copied().take(k).collect::<Vec<_>>());
        prop_assert_eq!(
            b.filter(|x| *x > 0).take(k).compute(&*ex).unwrap(),
            xs.iter().copied().filter(|x| *x > 0).take(k).collect::<Vec<_>>()
        );
    }

    #[test]
    fn multi_bag_operations(parts in partitioned(), other in prop::collection::vec(-5_i64..5, 0..6), threads in any::<bool>(), n in 1_usize..20) {
        let ex = executor(threads);
        let xs = flat(&parts);
        let b = from_partitions(parts.clone());
        // zip with a bag partitioned alike
        let doubled = from_partitions(parts.iter().map(|p| p.iter().map(|x| x * 2).collect()).collect());
        prop_assert_eq!(
            b.zip(&doubled).compute(&*ex).unwrap(),
            xs.iter().map(|&x| (x, x * 2)).collect::<Vec<_>>()
        );
        prop_assert_eq!(
            b.map(|x| x + 1).zip(&b.filter(|_| true)).compute(&*ex).unwrap(),
            xs.iter().map(|&x| (x + 1, x)).collect::<Vec<_>>()
        );
        // product
        let o = rask_bag::from_sequence(other.clone(), 2);
        let mut expected = Vec::new();
        for p in &parts {
            for chunk in other.chunks(2).chain(other.is_empty().then_some(&[][..])) {
                for &x in p {
                    for &y in chunk {
                        expected.push((x, y));
                    }
                }
            }
        }
        prop_assert_eq!(b.product(&o).compute(&*ex).unwrap(), expected);
        // repartition keeps the items and their order
        let r = b.repartition(n);
        prop_assert_eq!(r.npartitions(), n);
        prop_assert_eq!(r.compute(&*ex).unwrap(), xs.clone());
        prop_assert_eq!(b.map(|x| x * 2).repartition(n).map(|x| x + 1).compute(&*ex).unwrap(), xs.iter().map(|x| x * 2 + 1).collect::<Vec<_>>());
        // join with an in-memory side
        let j = b.join(other.clone(), |x| x.rem_euclid(5), |y| y.rem_euclid(5));
        let expected: Vec<(i64, i64)> = xs
            .iter()
            .flat_map(|&x| other.iter().filter(move |&&y| y.rem_euclid(5) == x.rem_euclid(5)).map(move |&y| (x, y)))
            .collect();
        prop_assert_eq!(j.compute(&*ex).unwrap(), expected);
    }

    #[test]
    fn groupby_matches_an_in_memory_grouping(parts in partitioned(), threads in any::<bool>(), nout in 1_usize..6) {
        let ex = executor(threads);
        let xs = flat(&parts);
        let b = from_partitions(parts);
        let shuffle = rask_bag::Shuffle::new().npartitions(nout);
        let g = b.groupby_with(|x: &i64| x.rem_euclid(7), &shuffle);
        prop_assert_eq!(g.npartitions(), nout);
        let mut got = g.compute(&*ex).unwrap();
        got.sort();
        let mut expected: Vec<(i64, Vec<i64>)> = Vec::new();
        for &x in &xs {
            let k = x.rem_euclid(7);
            match expected.iter_mut().find(|e| e.0 == k) {
                Some(e) => e.1.push(x),
                None => expected.push((k, vec![x])),
            }
        }
        expected.sort();
        prop_assert_eq!(got, expected.clone());
        // aggregations over the groups read them without copying
        prop_assert_eq!(g.count().compute(&*ex).unwrap(), expected.len());
    }

    #[test]
    fn pluck_and_groupby_field_on_json(values in prop::collection::vec((0_i64..4, prop::option::of(0_i64..100)), 0..30), size in 1_usize..8, threads in any::<bool>()) {
        let ex = executor(threads);
        let records: Vec<serde_json::Value> = values
            .iter()
            .map(|(u, s)| match s {
                Some(s) => json!({"actor": {"login": format!("u{u}")}, "payload": {"size": s}}),
                None => json!({"actor": {"login": format!("u{u}")}}),
            })
            .collect();
        let b = rask_bag::from_sequence(records.clone(), size);
        prop_assert_eq!(
            b.pluck("actor.login").compute(&*ex).unwrap(),
            values.iter().map(|(u, _)| json!(format!("u{u}"))).collect::<Vec<_>>()
        );
        prop_assert_eq!(
            b.pluck_or("payload.size", json!(0)).compute(&*ex).unwrap(),
            values.iter().map(|(_, s)| json!(s.unwrap_or(0))).collect::<Vec<_>>()
        );
        let mut groups = b.groupby_field("actor.login").compute(&*ex).unwrap();
        groups.sort_by_key(|g| g.0.to_string());
        let mut expected: Vec<(serde_json::Value, Vec<serde_json::Value>)> = Vec::new();
        for (r, (u, _)) in records.iter().zip(&values) {
            let k = json!(format!("u{u}"));
            match expected.iter_mut().find(|e| e.0 == k) {
                Some(e) => e.1.push(r.clone()),
                None => expected.push((k, vec![r.clone()])),
            }
        }
        expected.sort_by_key(|g| g.0.to_string());
        prop_assert_eq!(groups, expected);
    }
}

#[test]
fn pluck_of_a_missing_field_fails_naming_it() {
    let b = rask_bag::from_sequence(vec![json!({"a": 1}), json!({"b": 2})], 1);
    let err = b.pluck("a").compute(&Sync).unwrap_err();
    let cause = rask_bag::BagError::find(&err).unwrap();
    assert_eq!(cause.to_string(), "record has no field \"a\"");
}

#[test]
fn zip_of_partitions_of_different_lengths_fails() {
    let a = from_partitions(vec![vec![1, 2], vec![3]]);
    let b = from_partitions(vec![vec![1], vec![2, 3]]);
    let err = a.zip(&b).compute(&Sync).unwrap_err();
    assert!(matches!(
        rask_bag::BagError::find(&err),
        Some(rask_bag::BagError::ZipLengths {
            partition: 0,
            left: 2,
            right: 1
        })
    ));
}

#[test]
fn an_empty_bag_aggregates_to_identities() {
    let b: Bag<i64> = rask_bag::from_sequence(vec![], 3);
    assert_eq!(b.npartitions(), 1);
    assert_eq!(b.count().compute(&Sync).unwrap(), 0);
    assert_eq!(b.sum().compute(&Sync).unwrap(), 0);
    assert_eq!(b.max().compute(&Sync).unwrap(), None);
    assert_eq!(b.mean().compute(&Sync).unwrap(), None);
    assert!(b.frequencies_sorted().compute(&Sync).unwrap().is_empty());
    assert!(b.groupby(|x: &_| *x).compute(&Sync).unwrap().is_empty());
}
