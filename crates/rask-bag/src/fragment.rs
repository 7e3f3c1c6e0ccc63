//! Graph fragments: the tasks a bag adds to the graph, shared by every
//! bag built from it.
//!
//! A [`Fragment`] holds some tasks and the fragments their keys refer to.
//! Bags hold fragments behind `Arc`s, so a bag made from another shares
//! its parent's tasks instead of copying them, and [`build`] walks the
//! fragments once each (iteratively: a chain of ten thousand operations
//! does not recurse) to make one [`Graph`].
//!
//! Most fragments hold fixed tasks. A shuffle holds a *maker* instead: a
//! function called once per graph built, so that state owned by the tasks
//! (the shuffle's temporary directory) lives exactly as long as that graph.

use std::sync::Arc;

use rask_graph::{Graph, Key, Task};
use rustc_hash::FxHashSet;

/// A function that makes a fragment's tasks, once per graph.
pub(crate) type Maker = Box<dyn Fn() -> Vec<(Key, Task)> + Send + Sync>;

/// Tasks of a graph and the fragments they need.
pub(crate) struct Fragment {
    tasks: Tasks,
    deps: Vec<Arc<Fragment>>,
}

enum Tasks {
    Fixed(Vec<(Key, Task)>),
    Made(Maker),
}

impl Fragment {
    /// A fragment of fixed tasks.
    pub(crate) fn new(tasks: Vec<(Key, Task)>, deps: Vec<Arc<Fragment>>) -> Arc<Fragment> {
        Arc::new(Fragment {
            tasks: Tasks::Fixed(tasks),
            deps,
        })
    }

    /// A fragment whose tasks `maker` makes anew for each graph.
    pub(crate) fn made(maker: Maker, deps: Vec<Arc<Fragment>>) -> Arc<Fragment> {
        Arc::new(Fragment {
            tasks: Tasks::Made(maker),
            deps,
        })
    }
}

/// One graph of every task reachable from `roots`; a key that several
/// fragments define keeps its first task (they are equal by construction:
/// a key names its content).
pub(crate) fn build<'a>(roots: impl IntoIterator<Item = &'a Arc<Fragment>>) -> Graph {
    let mut seen: FxHashSet<*const Fragment> = FxHashSet::default();
    let mut stack: Vec<&Arc<Fragment>> = roots.into_iter().collect();
    let mut order: Vec<&Arc<Fragment>> = Vec::new();
    while let Some(f) = stack.pop() {
        if seen.insert(Arc::as_ptr(f)) {
            order.push(f);
            stack.extend(f.deps.iter());
        }
    }
    let mut graph = Graph::new();
    for f in order.iter().rev() {
        let made;
        let tasks = match &f.tasks {
            Tasks::Fixed(tasks) => tasks,
            Tasks::Made(maker) => {
                made = maker();
                &made
            }
        };
        for (key, task) in tasks {
            if !graph.contains(key) {
                graph.insert(key.clone(), task.clone());
            }
        }
    }
    graph
}

impl Drop for Fragment {
    // a chain of many operations would otherwise drop recursively
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.deps);
        while let Some(f) = stack.pop() {
            if let Ok(mut f) = Arc::try_unwrap(f) {
                stack.append(&mut f.deps);
            }
        }
    }
}
