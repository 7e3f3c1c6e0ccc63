//! `State::requeue` of a claimed chain: a task goes back among the ready
//! ones only when its inputs exist; a claimed successor whose predecessor
//! was lost with it waits for that predecessor again.

use rask::{graph, Plan, State};

fn inc(x: i64) -> i64 {
    x + 1
}

#[test]
fn requeued_chain_waits_for_its_inputs() {
    let g = graph! { "a" => 1, "b" => (inc, "a"), "c" => (inc, "b"), "d" => (inc, "c") };
    let plan = Plan::for_keys(&g, &["d".into()]).unwrap();
    let mut s: State<i64> = State::new(&plan);
    let a = s.pop_ready().unwrap();
    s.complete(a, 1, &mut |_| {});
    // b runs in a worker with c and d claimed behind it; the worker dies
    let b = s.pop_ready().unwrap();
    let c = s.claim_next(b).unwrap();
    let d = s.claim_next(c).unwrap();
    assert_eq!(s.running(), 3);
    // requeued in any order: only b, whose input exists, is ready
    s.requeue(d);
    s.requeue(c);
    s.requeue(b);
    assert_eq!(s.running(), 0);
    assert_eq!(s.ready_len(), 1);
    assert_eq!(s.pop_ready(), Some(b));
    assert_eq!(s.inputs(b).copied().collect::<Vec<_>>(), [1]);
    assert_eq!(s.pop_ready(), None, "c waits for b");
    s.complete(b, 2, &mut |_| {});
    assert_eq!(s.pop_ready(), Some(c));
    assert_eq!(s.inputs(c).copied().collect::<Vec<_>>(), [2]);
    s.complete(c, 3, &mut |_| {});
    assert_eq!(s.pop_ready(), Some(d));
    s.complete(d, 4, &mut |_| {});
    assert!(s.is_finished());
    assert_eq!(s.into_outputs(), [4]);
}

#[test]
fn requeued_task_with_repeated_input() {
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }
    let g = graph! { "a" => 1, "b" => (inc, "a"), "c" => (add, "b", "b") };
    let plan = Plan::for_keys(&g, &["c".into()]).unwrap();
    let mut s: State<i64> = State::new(&plan);
    let a = s.pop_ready().unwrap();
    s.complete(a, 1, &mut |_| {});
    let b = s.pop_ready().unwrap();
    let c = s.claim_next(b).unwrap();
    s.requeue(b);
    s.requeue(c);
    assert_eq!(s.pop_ready(), Some(b));
    assert_eq!(s.pop_ready(), None);
    s.complete(b, 2, &mut |_| {});
    assert_eq!(s.pop_ready(), Some(c));
    assert_eq!(s.inputs(c).copied().collect::<Vec<_>>(), [2, 2]);
    s.complete(c, 4, &mut |_| {});
    assert_eq!(s.into_outputs(), [4]);
}
