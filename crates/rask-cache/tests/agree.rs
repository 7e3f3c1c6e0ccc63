//! The executors agree with each other with and without the cache, on
//! random graphs, and a second run with the cache executes nothing.

use proptest::prelude::*;
use rask_cache::{prepare, Cache, Prepared};
use rask_graph::{Function, Graph, Key, Task, Value};
use rask_scheduler::{get_with, Executor, Sync, Threads};

/// A random DAG: task i calls `mix` on literals and up to three earlier
/// tasks (sometimes in a list, sometimes nested, sometimes an alias).
fn dag() -> impl Strategy<Value = Graph> {
    proptest::collection::vec(
        (
            0_u8..4,
            proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
            -5_i64..5,
        ),
        1..40,
    )
    .prop_map(|specs| {
        let mix = Function::dynamic("mix", rask_graph::Arity::at_least(0), |a| {
            let mut h: i64 = 17;
            for v in a {
                let x = match v {
                    Value::Int(i) => *i,
                    Value::List(items) => items.iter().filter_map(|v| v.get::<i64>()).sum(),
                    _ => 0,
                };
                h = h.wrapping_mul(31).wrapping_add(x);
            }
            Ok(Value::Int(h % 1_000_003))
        });
        let mut g = Graph::new();
        for (i, (shape, picks, lit)) in specs.into_iter().enumerate() {
            let refs: Vec<Task> = if i == 0 {
                vec![]
            } else {
                picks
                    .iter()
                    .map(|p| Task::key(format!("t{}", p.index(i))))
                    .collect()
            };
            let task = match shape {
                0 if i > 0 => Task::key(format!("t{}", picks.first().map_or(0, |p| p.index(i)))),
                1 => Task::Call(mix.clone(), vec![Task::list(refs), Task::from(lit)].into()),
                2 => Task::call(&mix, [Task::call(&mix, refs), Task::from(lit)]),
                _ => {
                    let mut args = refs;
                    args.push(Task::from(lit));
                    Task::Call(mix.clone(), args.into())
                }
            };
            g.insert(format!("t{i}"), task);
        }
        g
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn executors_agree_with_and_without_the_cache(g in dag()) {
        let keys: Vec<Key> = g.keys().iter().rev().step_by(3).cloned().collect();
        let expected = get_with(&Sync, &g, keys.clone(), &[]).unwrap();
        let threads = Threads::new(2);
        prop_assert_eq!(&get_with(&threads, &g, keys.clone(), &[]).unwrap(), &expected);
        for executor in [&Sync as &dyn Executor, &threads] {
            let dir = tempfile::tempdir().unwrap();
            let cache = Cache::open(dir.path()).unwrap();
            cache.set_durable(false); // many tiny entries: keep the test fast
            let first = prepare(&g, &keys, &cache).unwrap();
            prop_assert_eq!(first.cached, 0);
            same_dependencies(&first)?;
            prop_assert_eq!(&get_with(executor, &first.graph, keys.clone(), &[]).unwrap(), &expected);
            let second = prepare(&g, &keys, &cache).unwrap();
            prop_assert_eq!(second.executed, 0);
            same_dependencies(&second)?;
            prop_assert_eq!(second.cached, first.executed);
            prop_assert_eq!(&get_with(executor, &second.graph, keys.clone(), &[]).unwrap(), &expected);
            // asking for more keys later: only the new work runs
            let all: Vec<Key> = g.keys().to_vec();
            let third = prepare(&g, &all, &cache).unwrap();
            same_dependencies(&third)?;
            let plain = get_with(&Sync, &g, all.clone(), &[]).unwrap();
            prop_assert_eq!(&get_with(executor, &third.graph, all, &[]).unwrap(), &plain);
        }
    }
}

/// The dependencies `prepare` hands on are those of its graph.
fn same_dependencies(p: &Prepared) -> Result<(), TestCaseError> {
    let found = rask_graph::deps::dependencies(&p.graph).unwrap();
    prop_assert_eq!(found.len(), p.dependencies.len());
    for i in 0..found.len() as u32 {
        prop_assert_eq!(found.of(i), p.dependencies.of(i), "task {}", i);
    }
    Ok(())
}
