//! The lazy graph of an array, like Dask's `HighLevelGraph`: every array is
//! a [`Node`] (a layer of tasks, one per chunk) that points to the nodes it
//! reads. Nodes are shared (`Arc`); a graph is made from them only when one
//! is asked for, by an iterative walk (no recursion on the graph's size),
//! keeping one copy of each node by name (names are tokens of content, so
//! equal names are equal layers).
//!
//! A node's tasks are either built with it ([`NodeKind::Tasks`]: slicing,
//! rechunking, ... whose tasks are the same whatever happens around them)
//! or built when the graph is made ([`NodeKind::Lazy`]: elementwise
//! operations, creation routines, reductions, stores). A lazy node builds
//! its tasks in one of two ways:
//!
//! - unfused ([`Array::graph`](crate::Array::graph)): one layer per
//!   operation, reading the chunks of its direct inputs, as Dask's graph
//!   before optimization prints (`x + 100` adds one task per chunk);
//! - fused ([`Array::optimized_graph`](crate::Array::optimized_graph),
//!   which `compute` runs): the chain of elementwise operations feeding the
//!   node is evaluated inside each of its tasks, reading only the chunks of
//!   the arrays at the chain's leaves (blockwise fusion).

use std::sync::Arc;

use rask_graph::{Arity, CallError, Function, Graph, Key, KeyPart, Task, Value};
use rustc_hash::FxHashSet;

/// One array: its name, shape, chunks and the tasks making its chunks.
pub(crate) struct Node {
    pub(crate) name: Arc<str>,
    pub(crate) shape: Vec<usize>,
    pub(crate) chunks: Arc<Vec<Vec<usize>>>,
    pub(crate) kind: NodeKind,
    /// Per axis, whether its chunk sizes are unknown (Dask's NaN, after a
    /// boolean mask or `unique`): those axes hold 0 in `shape` and
    /// `chunks` as placeholders. Empty: every size is known.
    pub(crate) unknown: Vec<bool>,
    /// The array with unknown chunk sizes that an operation of this node
    /// (or of a node it reads) needed the sizes of: computing the node is
    /// then an [`ArrayError::UnknownChunks`](crate::ArrayError::UnknownChunks).
    pub(crate) poison: Option<(Arc<str>, Arc<str>)>,
    /// The shape of a chunk value of this node's element type (`None`: the
    /// value is not a chunk of it), read where sizes are unknown.
    pub(crate) probe: fn(&Value) -> Option<Vec<usize>>,
    /// The nodes a lazy node reads directly (held here too so that a long
    /// chain of nodes is dropped without recursion).
    pub(crate) inputs: Vec<Arc<Node>>,
}

/// How a node's tasks are made.
#[derive(Clone)]
pub(crate) enum NodeKind {
    /// Built with the node, with the nodes they read.
    Tasks {
        tasks: Arc<Vec<(Key, Task)>>,
        deps: Vec<Arc<Node>>,
    },
    /// Built when a graph is made.
    Lazy(Arc<dyn LazyTasks>),
}

/// Tasks made when a graph is made, fused or not.
pub(crate) trait LazyTasks: Send + Sync {
    /// The tasks of `node` and the nodes they read.
    fn build(&self, node: &Node, fused: bool) -> (Vec<(Key, Task)>, Vec<Arc<Node>>);
}

impl Node {
    /// The key of block `idx`: `(name, i, j, ...)`.
    pub(crate) fn key(&self, idx: &[usize]) -> Key {
        block_key(&self.name, idx)
    }

    /// Whether the chunk sizes along `axis` are unknown.
    pub(crate) fn unknown_at(&self, axis: usize) -> bool {
        self.unknown.get(axis).copied().unwrap_or(false)
    }

    /// Whether some chunk size is unknown.
    pub(crate) fn any_unknown(&self) -> bool {
        self.unknown.iter().any(|&u| u)
    }

    /// The nodes this one reads: its inputs and its tasks' dependencies.
    pub(crate) fn reads(&self) -> Vec<Arc<Node>> {
        let mut out = self.inputs.clone();
        if let NodeKind::Tasks { deps, .. } = &self.kind {
            out.extend(deps.iter().cloned());
        }
        out
    }
}

/// The shape of `v` if it is a chunk of `T` (a [`Node::probe`]).
pub(crate) fn probe<T: crate::Element>(v: &Value) -> Option<Vec<usize>> {
    v.downcast_ref::<ndarray::ArrayD<T>>()
        .map(|a| a.shape().to_vec())
}

/// The operation named in a node's name `op-<token>`.
pub(crate) fn op_of(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(op, _)| op)
}

/// The poison a node built from `inputs` inherits: an input's own, or,
/// when `aware` is false (the operation needs chunk sizes), the name of
/// an input whose sizes are unknown, with the operation `op`.
pub(crate) fn inherit_poison<'a>(
    inputs: impl IntoIterator<Item = &'a Arc<Node>>,
    op: &str,
    aware: bool,
) -> Option<(Arc<str>, Arc<str>)> {
    let mut own = None;
    for n in inputs {
        if let Some(p) = &n.poison {
            return Some(p.clone());
        }
        if !aware && own.is_none() && n.any_unknown() {
            own = Some((n.name.clone(), Arc::from(op)));
        }
    }
    own
}

/// The key `(name, i, j, ...)`.
pub(crate) fn block_key(name: &str, idx: &[usize]) -> Key {
    Key::tuple(std::iter::once(KeyPart::from(name)).chain(idx.iter().map(|&i| KeyPart::from(i))))
}

impl Drop for Node {
    // a chain of a million operations would otherwise drop recursively:
    // a node's inputs are unlinked here, after its tasks (which hold the
    // same inputs) are dropped, and freed one at a time
    fn drop(&mut self) {
        let mut stack = self.take_inputs();
        while let Some(node) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(node) {
                stack.append(&mut node.take_inputs());
            }
        }
    }
}

impl Node {
    /// The node's inputs, its tasks dropped first.
    fn take_inputs(&mut self) -> Vec<Arc<Node>> {
        let kind = std::mem::replace(
            &mut self.kind,
            NodeKind::Tasks {
                tasks: Arc::new(Vec::new()),
                deps: Vec::new(),
            },
        );
        let mut out = std::mem::take(&mut self.inputs);
        match kind {
            NodeKind::Tasks { deps, .. } => out.extend(deps),
            NodeKind::Lazy(lazy) => drop(lazy),
        }
        out
    }
}

/// The graph of every node reachable from `roots`, fused or not.
pub(crate) fn build_graph(roots: &[&Arc<Node>], fused: bool) -> Graph {
    let mut seen: FxHashSet<Arc<str>> = FxHashSet::default();
    let mut stack: Vec<Arc<Node>> = roots.iter().map(|n| Arc::clone(n)).collect();
    let mut graph = Graph::new();
    while let Some(node) = stack.pop() {
        if !seen.insert(node.name.clone()) {
            continue;
        }
        if let Some((array, op)) = &node.poison {
            // built from sizes that are unknown: its chunks are an error
            // (compute says so before running; this covers the graphs
            // given out: graph(), to_delayed, store_graph, ...)
            let message = crate::ArrayError::UnknownChunks {
                array: array.to_string(),
                op: op.to_string(),
            }
            .to_string();
            let fail = Function::dynamic("unknown-chunk-sizes", Arity::exactly(0), move |_| {
                Err(CallError::msg(message.clone()))
            });
            for b in crate::chunks::all_blocks(&crate::chunks::numblocks(&node.chunks)) {
                graph.insert(node.key(&b), Task::Call(fail.clone(), Box::new([])));
            }
            continue;
        }
        match &node.kind {
            NodeKind::Tasks { tasks, deps } => {
                for (k, t) in tasks.iter() {
                    graph.insert(k.clone(), t.clone());
                }
                stack.extend(deps.iter().cloned());
            }
            NodeKind::Lazy(lazy) => {
                let (tasks, deps) = lazy.build(&node, fused);
                for (k, t) in tasks {
                    graph.insert(k, t);
                }
                stack.extend(deps);
            }
        }
    }
    graph
}
