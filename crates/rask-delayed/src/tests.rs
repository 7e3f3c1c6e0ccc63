use super::*;

fn inc(x: i64) -> i64 {
    x + 1
}

#[test]
fn shared_parts_run_once() {
    use std::sync::atomic::AtomicUsize;
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    fn counted(x: i64) -> i64 {
        CALLS.fetch_add(1, Ordering::SeqCst);
        x * 10
    }
    let a = delayed(1_i64);
    let shared = delayed!(counted(&a));
    let b = delayed!(inc(&shared));
    let c = delayed!(inc(&shared));
    assert_eq!(compute((&b, &c)).ok(), Some((11, 11)));
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
}

#[test]
fn long_chain_builds_computes_and_drops_without_recursion() {
    let mut x = delayed(0_i64);
    for _ in 0..200_000 {
        x = x.then("inc", inc);
    }
    assert_eq!(compute(&x).ok(), Some(200_000));
    drop(x);
}

#[test]
fn literal_strings_are_never_keys() {
    fn echo(s: String) -> String {
        s
    }
    let x = delayed(1_i64);
    let key_text = x.key().to_string();
    let y = delayed!(echo(key_text.clone()));
    assert_eq!(compute((&x, &y)).ok(), Some((1, key_text)));
}

#[test]
fn failure_names_the_key() {
    fn boom(_: i64) -> i64 {
        panic!("kaboom")
    }
    let y = delayed!(boom(delayed(1_i64))).named("the-boom");
    let e = compute(&y).err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(e, "task \"the-boom\" panicked: kaboom");
}

#[test]
fn user_types_travel_opaque() {
    #[derive(Clone, Debug, PartialEq)]
    struct Reading {
        c: f64,
    }
    fn read(i: i64) -> Reading {
        Reading { c: i as f64 }
    }
    fn mean(rs: Vec<Reading>) -> f64 {
        rs.iter().map(|r| r.c).sum::<f64>() / rs.len() as f64
    }
    let rs: Vec<Delayed<Reading>> = (0..5).map(|i| delayed!(read(i as i64))).collect();
    let m = delayed!(mean(&rs));
    assert_eq!(
        compute((&m, rs[4].clone())).ok(),
        Some((2.0, Reading { c: 4.0 }))
    );
}
