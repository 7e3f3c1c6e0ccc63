//! `order` on named shapes: the peak number of live values, and
//! independence from key names.

use super::*;
use crate::{Function, Graph, Plan, Task};

fn add() -> Function {
    Function::new("add", |a: i64, b: i64| a + b)
}

/// A binary reduction over `leaves` with `f`; returns the root key.
fn tree(g: &mut Graph, f: &Function, prefix: &str, leaves: Vec<String>) -> String {
    let mut level = leaves;
    let mut depth = 0;
    while level.len() > 1 {
        let mut next = Vec::new();
        for (j, pair) in level.chunks(2).enumerate() {
            if pair.len() == 2 {
                let k = format!("{prefix}-{depth}-{j}");
                g.insert(
                    k.as_str(),
                    Task::call(f, [pair[0].as_str(), pair[1].as_str()]),
                );
                next.push(k);
            } else {
                next.push(pair[0].clone());
            }
        }
        level = next;
        depth += 1;
    }
    level.pop().unwrap_or_default()
}

fn peak(g: &Graph, roots: &[&str]) -> usize {
    let keys: Vec<crate::Key> = roots.iter().map(|&r| r.into()).collect();
    Plan::for_keys(g, &keys).unwrap().peak_live()
}

fn leaves(g: &mut Graph, name: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let k = format!("{name}{i}");
            g.insert(k.as_str(), i as i64);
            k
        })
        .collect()
}

/// ```text
/// x0 -> x1 -> x2 -> ... -> x999
/// ```
#[test]
fn chain_keeps_two_values() {
    let inc = Function::new("inc", |x: i64| x + 1);
    let mut g = Graph::new();
    g.insert("c0", 0);
    for i in 1..1000 {
        g.insert(format!("c{i}"), Task::call(&inc, [format!("c{}", i - 1)]));
    }
    assert_eq!(peak(&g, &["c999"]), 2);
}

/// ```text
///  x0  x1  x2 ... x15      x: leaves
///   \  /    \  /
///   t-0-0   t-0-1  ...
///      \    /
///       ...
///       root
/// ```
#[test]
fn tree_reduction_keeps_one_value_per_level() {
    let mut g = Graph::new();
    let ls = leaves(&mut g, "x", 1024);
    let root = tree(&mut g, &add(), "t", ls);
    // depth-first: at most one pending value per level, plus the pair in hand
    assert!(peak(&g, &[&root]) <= 12, "{}", peak(&g, &[&root]));
}

/// Two reductions over the same inputs must be interleaved, or every input
/// stays alive until the second reduction starts.
///
/// ```text
///      x0  x1  x2  x3 ...
///     / \ / \ / \ / \
///   sum-tree    prod-tree
/// ```
#[test]
fn two_reductions_over_shared_inputs_interleave() {
    let mul = Function::new("mul", |a: i64, b: i64| a * b);
    let mut g = Graph::new();
    let ls = leaves(&mut g, "x", 1024);
    let a = tree(&mut g, &add(), "a", ls.clone());
    let b = tree(&mut g, &mul, "b", ls);
    let p = peak(&g, &[&a, &b]);
    assert!(p <= 30, "{p}");
}

/// ```text
/// x0 .. x999 -> inc each -> sum
/// ```
#[test]
fn fan_keeps_what_the_sum_needs() {
    let inc = Function::new("inc", |x: i64| x + 1);
    let sum = Function::new("sum", |x: Vec<i64>| x.iter().sum::<i64>());
    let mut g = Graph::new();
    let ls = leaves(&mut g, "x", 1000);
    let mut incs = Vec::new();
    for (i, l) in ls.iter().enumerate() {
        let k = format!("inc{i}");
        g.insert(k.as_str(), Task::call(&inc, [l.as_str()]));
        incs.push(Task::from(k.as_str()));
    }
    g.insert("total", Task::call(&sum, [Task::List(incs.into())]));
    // all 1000 incs must be alive when sum runs, plus sum itself; no leaf
    // outlives its inc
    assert_eq!(peak(&g, &["total"]), 1001);
}

/// Renaming keys (so they sort differently) gives the same schedule.
#[test]
fn order_does_not_depend_on_key_names() {
    let build = |name: &dyn Fn(usize) -> String| {
        let mut g = Graph::new();
        let ls: Vec<String> = (0..64)
            .map(|i| {
                let k = name(i);
                g.insert(k.as_str(), i as i64);
                k
            })
            .collect();
        let root = tree(&mut g, &add(), &name(1000), ls);
        (order_graph(&g).unwrap(), root)
    };
    let (a, _) = build(&|i| format!("k{i:04}"));
    let (b, _) = build(&|i| format!("z{}", 100_000 - i));
    assert_eq!(a, b);
}
