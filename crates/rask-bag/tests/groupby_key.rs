//! `groupby` under Dask's one name, by a field's path (`&str`, `String`,
//! `Field`) and by a function, against plain iterators on random records,
//! on `Sync` and `Threads`; and on `Processes` (ignored until the bag's
//! partitions and the shuffle's buckets have codecs).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rask::Processes;
use rask_bag::{from_sequence, Field, Shuffle};
use rask_scheduler::{Executor, Sync, Threads};
use serde_json::{json, Value as Json};

/// Random records: some with the field `user.name`, some without.
fn records(values: &[(i64, Option<i64>)]) -> Vec<Json> {
    values
        .iter()
        .map(|(u, n)| match n {
            Some(n) => json!({"user": {"name": format!("u{u}")}, "n": n}),
            None => json!({"n": u}),
        })
        .collect()
}

/// The groups of JSON records by `user.name` (`null` without it), as
/// plain iterators make them, sorted by the key's text.
fn by_name(records: &[Json]) -> Vec<(Json, Vec<Json>)> {
    let mut want = reference(records, |r| {
        r.get("user")
            .and_then(|u| u.get("name"))
            .cloned()
            .unwrap_or(Json::Null)
            .to_string()
    });
    want.sort_by_key(|g| g.0.clone());
    want.into_iter()
        .map(|(k, v)| (serde_json::from_str(&k).unwrap(), v))
        .collect()
}

fn sorted(mut groups: Vec<(Json, Vec<Json>)>) -> Vec<(Json, Vec<Json>)> {
    groups.sort_by_key(|g| g.0.to_string());
    groups
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn groupby_a_name_or_a_function(
        values in prop::collection::vec((0_i64..5, prop::option::of(0_i64..50)), 0..40),
        size in 1_usize..8,
        nout in 1_usize..4,
        threads in any::<bool>(),
    ) {
        let ex: Box<dyn Executor> = if threads { Box::new(Threads::new(2)) } else { Box::new(Sync) };
        let records = records(&values);
        let b = from_sequence(records.clone(), size);
        let want = by_name(&records);
        prop_assert_eq!(sorted(b.groupby("user.name").compute(&*ex).unwrap()), want.clone());
        prop_assert_eq!(sorted(b.groupby(String::from("user.name")).compute(&*ex).unwrap()), want.clone());
        prop_assert_eq!(sorted(b.groupby(Field::from(["user", "name"])).compute(&*ex).unwrap()), want.clone());
        let shuffle = Shuffle::new().npartitions(nout);
        let g = b.groupby_with("user.name", &shuffle);
        prop_assert_eq!(g.npartitions(), nout);
        prop_assert_eq!(sorted(g.compute(&*ex).unwrap()), want.clone());
        // the old name is the same operation
        prop_assert_eq!(sorted(b.groupby_field("user.name").compute(&*ex).unwrap()), want);
        // a function of the record, under the same name
        let f = b.groupby(|r: &Json| r["n"].as_i64().unwrap_or(0) % 3);
        let mut got = f.compute(&*ex).unwrap();
        got.sort_by_key(|g| g.0);
        let want = reference(&records, |r| r["n"].as_i64().unwrap_or(0) % 3);
        prop_assert_eq!(got, want);
    }
}

/// The groups of `records` by `key`, as plain iterators make them, sorted
/// by key.
fn reference<K: Ord + Clone, T: Clone>(records: &[T], key: impl Fn(&T) -> K) -> Vec<(K, Vec<T>)> {
    let mut out: std::collections::BTreeMap<K, Vec<T>> = Default::default();
    for r in records {
        out.entry(key(r)).or_default().push(r.clone());
    }
    out.into_iter().collect()
}

#[test]
fn groupby_on_processes() {
    // nothing registered: the bag registers what its graphs produce
    let p = Processes::new(2);
    let mut runner = TestRunner::new(Config {
        cases: 16,
        ..Config::default()
    });
    let values = prop::collection::vec((0_i64..5, prop::option::of(0_i64..50)), 0..40);
    runner
        .run(&(values, 1_usize..8), |(values, size)| {
            let records = records(&values);
            let numbers = from_sequence(values.iter().map(|v| v.0).collect::<Vec<i64>>(), size);
            let mut got = numbers.groupby(|x: &i64| x % 3).compute(&p).unwrap();
            got.sort();
            let want = reference(&values.iter().map(|v| v.0).collect::<Vec<_>>(), |x| x % 3);
            prop_assert_eq!(got, want);
            let b = from_sequence(records.clone(), size);
            prop_assert_eq!(
                sorted(b.groupby("user.name").compute(&p).unwrap()),
                by_name(&records)
            );
            Ok(())
        })
        .unwrap();
}
