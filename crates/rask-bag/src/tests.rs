use rask_scheduler::Sync;

use crate::*;

#[test]
fn the_same_bags_built_again_get_the_same_source_and_aggregation_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "x\ny\n").unwrap();
    let a = read_text(dir.path()).unwrap();
    let b = read_text(dir.path()).unwrap();
    assert_eq!(a.keys(), b.keys());
    assert_eq!(a.count().key(), b.count().key());
    assert_eq!(a.frequencies_sorted().keys(), b.frequencies_sorted().keys());
    assert_ne!(a.frequencies_sorted().keys(), a.frequencies().keys());
    // closures cannot be compared: each map is a new name
    assert_ne!(a.map(|s| s).keys(), a.map(|s| s).keys());
}

#[test]
fn names_are_op_dash_16_hex_digits() {
    let b = from_sequence(vec![1, 2, 3], 2).map(|x| x + 1);
    let (op, token) = b.name().rsplit_once('-').unwrap();
    assert_eq!(op, "map");
    assert_eq!(token.len(), 16);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn a_chain_of_fused_maps_is_one_task_per_partition() {
    let mut b = from_sequence((0..100).collect::<Vec<i64>>(), 10);
    for _ in 0..50 {
        b = b.map(|x| x + 1).filter(|x| x % 7 != 0);
    }
    // 10 source chunks and 10 partitions of the last filter
    assert_eq!(b.graph().len(), 20);
    let expected: Vec<i64> = (0..100)
        .filter_map(|x| {
            let mut x = x;
            for _ in 0..50 {
                x += 1;
                if x % 7 == 0 {
                    return None;
                }
            }
            Some(x)
        })
        .collect();
    assert_eq!(b.compute(&Sync).unwrap(), expected);
}

#[test]
fn a_long_chain_of_computed_bags_builds_and_drops_without_recursion() {
    let mut b = from_sequence(vec![0_i64], 1);
    for _ in 0..20_000 {
        // repartition(1) of a computed bag keeps its partition; product
        // forces a computed partition each time
        b = b.product(&from_sequence(vec![()], 1)).map(|(x, ())| x + 1);
    }
    assert_eq!(b.compute(&Sync).unwrap(), [20_000]);
    drop(b);
}

#[test]
fn aggregation_trees_have_split_every_inputs_per_task() {
    let b = from_sequence((0..1000).collect::<Vec<i64>>(), 10); // 100 partitions
    let g = b.count().graph();
    // 100 chunks, 100 partial counts, 13 + 2 combining tasks, 1 final
    assert_eq!(g.len(), 100 + 100 + 13 + 2 + 1);
    assert_eq!(b.count().compute(&Sync).unwrap(), 1000);
}

#[test]
fn a_very_long_chain_of_maps_runs_without_deep_nesting() {
    let mut b = from_sequence((0..10).collect::<Vec<i64>>(), 3);
    for _ in 0..5_000 {
        b = b.map(|x| x + 1);
    }
    assert_eq!(b.sum().compute(&Sync).unwrap(), 45 + 50_000);
}
