use rask_graph::{builtins, Graph, Key, Plan, Task};

use super::*;

fn f(name: &str) -> rask_graph::Function {
    builtins::all()
        .into_iter()
        .find(|f| f.name() == name)
        .unwrap()
}

fn plan(g: &Graph, keys: &[&str]) -> Plan {
    let keys: Vec<Key> = keys.iter().map(|&k| k.into()).collect();
    Plan::for_keys(g, &keys).unwrap()
}

fn id(g: &Graph, p: &Plan, k: &str) -> TaskId {
    let gid = g.id(&k.into()).unwrap();
    (0..p.len() as TaskId)
        .find(|&i| p.graph_id(i) == gid)
        .unwrap()
}

fn done(id: TaskId, bytes: u64) -> Done {
    Done {
        id,
        bytes,
        nanos: 0,
        thread: 0,
    }
}

fn messages(s: &mut Scheduler<'_>) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    s.take_messages(&mut |r, m| out.push((r, format!("{m:?}"))));
    out
}

/// The module docs' worked example.
#[test]
fn worked_example() {
    let mut g = Graph::new();
    g.insert("a", 1_i64);
    g.insert("b", 2_i64);
    g.insert("c", Task::call(&f("add"), ["a", "b"]));
    let p = plan(&g, &["c"]);
    let (a, b, c) = (id(&g, &p, "a"), id(&g, &p, "b"), id(&g, &p, "c"));
    let mut s = Scheduler::new(&p, vec![1, 1]);
    s.dispatch();
    let m = messages(&mut s);
    assert_eq!(m.len(), 2);
    let rank_of = |m: &[(u32, String)], t: TaskId| {
        m.iter()
            .find(|(_, msg)| msg == &format!("{:?}", Msg::Run { ids: vec![t] }))
            .map(|x| x.0)
    };
    let (ra, rb) = (rank_of(&m, a).unwrap(), rank_of(&m, b).unwrap());
    assert_ne!(ra, rb, "two tasks without inputs go to two idle ranks");
    s.done(ra, &done(a, 9));
    s.done(rb, &done(b, 9));
    s.dispatch();
    let m = messages(&mut s);
    // a tie in bytes and load: the lowest rank, 0; the other input moves
    let other = if ra == 0 { b } else { a };
    assert!(
        m.contains(&(0, format!("{:?}", Msg::Run { ids: vec![c] }))),
        "{m:?}"
    );
    assert!(
        m.contains(&(
            1,
            format!(
                "{:?}",
                Msg::Push {
                    to: 0,
                    ids: vec![other]
                }
            )
        )),
        "{m:?}"
    );
    s.done(0, &done(c, 9));
    assert!(s.is_finished());
    let m = messages(&mut s);
    assert!(
        m.iter().any(|(r, msg)| *r == 1 && msg.starts_with("Free")),
        "{m:?}"
    );
    assert!(
        m.iter().any(|(r, msg)| *r == 0 && msg.starts_with("Free")),
        "{m:?}"
    );
    assert_eq!(s.copies(c), &[0]);
}

#[test]
fn a_task_goes_where_most_input_bytes_are() {
    let mut g = Graph::new();
    g.insert("small", 1_i64);
    g.insert("big", 2_i64);
    g.insert("c", Task::call(&f("add"), ["small", "big"]));
    let p = plan(&g, &["c"]);
    let (small, big, c) = (id(&g, &p, "small"), id(&g, &p, "big"), id(&g, &p, "c"));
    let mut s = Scheduler::new(&p, vec![1, 1, 1]);
    s.dispatch();
    let m = messages(&mut s);
    let rank_of = |t: TaskId| {
        m.iter()
            .find(|(_, msg)| msg == &format!("{:?}", Msg::Run { ids: vec![t] }))
            .unwrap()
            .0
    };
    let (rs, rb) = (rank_of(small), rank_of(big));
    s.done(rs, &done(small, 10));
    s.done(rb, &done(big, 10_000));
    s.dispatch();
    let m = messages(&mut s);
    assert!(
        m.contains(&(rb, format!("{:?}", Msg::Run { ids: vec![c] }))),
        "{m:?}"
    );
    assert!(m.contains(&(
        rs,
        format!(
            "{:?}",
            Msg::Push {
                to: rb,
                ids: vec![small]
            }
        )
    )));
    // the output is produced on rb: pushed to rank 0 at once
    s.done(rb, &done(c, 9));
    let m = messages(&mut s);
    if rb != 0 {
        assert!(
            m.contains(&(
                rb,
                format!(
                    "{:?}",
                    Msg::Push {
                        to: 0,
                        ids: vec![c]
                    }
                )
            )),
            "{m:?}"
        );
    }
}

#[test]
fn a_chain_stays_on_one_rank_and_a_fan_spreads() {
    let mut g = Graph::new();
    g.insert("c-0", 0_i64);
    for i in 1..50 {
        g.insert(
            format!("c-{i}"),
            Task::call(&f("inc"), [format!("c-{}", i - 1)]),
        );
    }
    let p = plan(&g, &["c-49"]);
    let mut s = Scheduler::new(&p, vec![2, 2, 2]);
    let mut ranks = std::collections::BTreeSet::new();
    while !s.is_finished() {
        s.dispatch();
        let mut runs = Vec::new();
        s.take_messages(&mut |r, m| {
            if let Msg::Run { ids } = m {
                runs.extend(ids.into_iter().map(|i| (r, i)));
            }
        });
        for (r, i) in runs {
            ranks.insert(r);
            s.done(r, &done(i, 9));
        }
    }
    assert_eq!(ranks.len(), 1, "a chain moves no value");

    let mut g = Graph::new();
    for i in 0..30 {
        g.insert(format!("x-{i}"), i as i64);
    }
    let p = plan(
        &g,
        &(0..30)
            .map(|i| format!("x-{i}"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let mut s = Scheduler::new(&p, vec![1, 1, 1]);
    s.dispatch();
    let mut per_rank = [0; 3];
    s.take_messages(&mut |r, m| {
        if let Msg::Run { ids } = m {
            per_rank[r as usize] += ids.len();
        }
    });
    assert_eq!(per_rank, [10, 10, 10]);
}

#[test]
fn a_failure_stops_dispatching() {
    let mut g = Graph::new();
    g.insert("a", 1_i64);
    g.insert("b", Task::call(&f("inc"), ["a"]));
    let p = plan(&g, &["b"]);
    let a = id(&g, &p, "a");
    let mut s = Scheduler::new(&p, vec![1, 1]);
    s.dispatch();
    let mut rank = 0;
    s.take_messages(&mut |r, _| rank = r);
    s.failed(
        rank,
        Failure::Panic {
            id: a,
            message: "x".into(),
        },
    );
    s.dispatch();
    assert!(messages(&mut s).is_empty());
    assert!(matches!(s.failure(), Some(Failure::Panic { .. })));
}
