//! `fuse`: linear chains of tasks become one task (Dask's `fuse_linear`).

use super::subs::substitute;
use super::{check_acyclic, flags_of};
use crate::deps;
use crate::error::GraphError;
use crate::graph::{Graph, TaskId};
use crate::key::Key;
use crate::task::Task;

/// The most tasks of a chain that [`fuse`](fn@fuse) puts into one task; a
/// longer chain becomes several fused tasks, each referring to the one
/// before.
pub const MAX_FUSED_TASKS: usize = 32;

/// The result of [`fuse`](fn@fuse): the new graph, and where the absorbed
/// keys went.
#[derive(Debug, Clone)]
pub struct Fused {
    /// The graph with each linear chain fused into one task.
    pub graph: Graph,
    /// Each key absorbed into a fused task, with the key of that task (the
    /// last of its chain), in the original insertion order of the absorbed
    /// keys.
    pub absorbed: Vec<(Key, Key)>,
}

/// A new graph where each linear chain `a -> b -> c` becomes one task.
///
/// A link `b -> c` is fused when `b` is not in `keep`, `c` is the only task
/// that refers to `b` and refers to it exactly once, and `b` is the only
/// key `c` refers to (exactly once). Links make chains; a chain becomes one
/// task under the key of its *last* task, `c`: `c`'s task with the
/// reference to `b` replaced by `b`'s task, in which the reference to `a`
/// is replaced by `a`'s task, i.e. nested calls `(f, (g, (h, ..)))`. A chain
/// longer than [`MAX_FUSED_TASKS`] is cut into fused tasks of at most that
/// many tasks, from its start. A fan-out (two dependents), a fan-in (two
/// dependencies) or a key used twice (`add(b, b)`, fusing which would
/// compute `b` twice) ends a chain, so diamonds are never fused across.
///
/// The kept keys, and every other key left in the graph, compute the same
/// values as before; the remaining keys keep their insertion order.
///
/// Errors: a key of `keep` not in the graph ([`GraphError::MissingKey`]
/// with `needed_by: None`), a reference to a missing key, a cycle.
///
/// ```
/// use rask::{optimize::fuse, Graph, Key, Registry, Task};
/// let builtins = Registry::with_builtins();
/// let inc = builtins.get("inc").unwrap();
/// let mut g = Graph::new();
/// g.insert("a", 1);
/// g.insert("b", Task::call(inc, ["a"]));
/// g.insert("c", Task::call(inc, ["b"]));
/// let fused = fuse(&g, &["c".into()]).unwrap();
/// assert_eq!(format!("{:?}", fused.graph), r#"{"c": (inc, (inc, 1))}"#);
/// assert_eq!(fused.absorbed, vec![(Key::from("a"), "c".into()), ("b".into(), "c".into())]);
/// ```
pub fn fuse(graph: &Graph, keep: &[Key]) -> Result<Fused, GraphError> {
    const NONE: TaskId = TaskId::MAX;
    let n = graph.len();
    let keep = flags_of(graph, keep)?;
    let deps = deps::dependencies(graph)?;
    check_acyclic(graph, &deps)?;
    let dependents = deps.reverse();

    // next[b] = c for each link b -> c
    let mut next = vec![NONE; n];
    let mut has_prev = vec![false; n];
    for b in 0..n as TaskId {
        if keep[b as usize] {
            continue;
        }
        if let &[c] = dependents.of(b) {
            if deps.of(c) == [b] {
                next[b as usize] = c;
                has_prev[c as usize] = true;
            }
        }
    }

    // walk each chain from its first task; cut it into groups
    let mut into = vec![NONE; n];
    let mut fused: Vec<(TaskId, Task)> = Vec::new();
    let mut chain: Vec<TaskId> = Vec::new();
    for head in 0..n as TaskId {
        if has_prev[head as usize] || next[head as usize] == NONE {
            continue;
        }
        chain.clear();
        let mut at = head;
        loop {
            chain.push(at);
            match next[at as usize] {
                NONE => break,
                c => at = c,
            }
        }
        for group in chain.chunks(MAX_FUSED_TASKS) {
            let Some((&last, inner)) = group.split_last() else {
                continue;
            };
            if inner.is_empty() {
                continue;
            }
            for &b in inner {
                into[b as usize] = last;
            }
            fused.push((last, fuse_group(graph, group)));
        }
    }
    fused.sort_unstable_by_key(|&(id, _)| id);

    let absorbed_count = into.iter().filter(|&&i| i != NONE).count();
    let mut out = Graph::with_capacity(n - absorbed_count);
    let mut absorbed = Vec::with_capacity(absorbed_count);
    let mut fused = fused.into_iter().peekable();
    for (id, (key, task)) in graph.iter().enumerate() {
        let last = into[id];
        if last != NONE {
            absorbed.push((key.clone(), graph.key(last).clone()));
            continue;
        }
        match fused.next_if(|(f, _)| *f as usize == id) {
            Some((_, task)) => out.insert(key.clone(), task),
            None => out.insert(key.clone(), task.clone()),
        };
    }
    Ok(Fused {
        graph: out,
        absorbed,
    })
}

/// The task of the last of `group`, each link's reference replaced by the
/// task before it.
fn fuse_group(graph: &Graph, group: &[TaskId]) -> Task {
    let mut task = graph.task(group[0]).clone();
    for link in group.windows(2) {
        let (b, c) = (link[0], link[1]);
        let mut slot = Some(task);
        task = substitute(graph, graph.task(c), 1, &mut |d, _| {
            if d == b {
                slot.take()
            } else {
                None
            }
        });
        debug_assert!(
            slot.is_none(),
            "a link's dependent refers to its dependency once"
        );
    }
    task
}
