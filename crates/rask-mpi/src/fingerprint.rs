//! The fingerprint of a graph and plan: what every rank checks at
//! `compute` time, so that ranks that built different graphs fail with a
//! clear error instead of running mismatched tasks.
//!
//! It hashes, for every task of the plan in plan order, its key, the
//! structure of its task (literals through their binary codec, function
//! names, lists, references), its dependencies and its priority, then the
//! outputs. It is a 64-bit FNV-1a hash: deterministic across processes and
//! machines (no random seed), cheap, and good enough to tell two graphs
//! apart; it is not a cryptographic hash.
//!
//! ```
//! use rask::{graph, Plan};
//! use rask::mpi::fingerprint;
//! fn inc(x: i64) -> i64 { x + 1 }
//! let a = graph! { "x" => 1, "y" => (inc, "x") };
//! let b = graph! { "x" => 2, "y" => (inc, "x") };
//! let pa = Plan::for_keys(&a, &["y".into()]).unwrap();
//! let pb = Plan::for_keys(&b, &["y".into()]).unwrap();
//! assert_eq!(fingerprint(&a, &pa), fingerprint(&a, &pa.clone()));
//! assert_ne!(fingerprint(&a, &pa), fingerprint(&b, &pb));
//! ```

use rask_graph::{codec, Graph, Plan, Task, TaskId, Value};

/// The fingerprint of `plan` over `graph` (see the module docs).
pub fn fingerprint(graph: &Graph, plan: &Plan) -> u64 {
    let mut h = Fnv::new();
    h.u64(plan.len() as u64);
    let mut stack: Vec<&Task> = Vec::new();
    let mut scratch: Vec<u8> = Vec::new();
    for id in 0..plan.len() as TaskId {
        let gid = plan.graph_id(id);
        h.bytes(graph.key(gid).to_text().as_bytes());
        stack.push(graph.task(gid));
        while let Some(t) = stack.pop() {
            match t {
                Task::Value(v) => {
                    h.u8(1);
                    literal(&mut h, v, &mut scratch);
                }
                Task::Quote(v) => {
                    h.u8(2);
                    literal(&mut h, v, &mut scratch);
                }
                Task::Key(k) => {
                    h.u8(3);
                    h.bytes(k.to_text().as_bytes());
                }
                Task::List(items) => {
                    h.u8(4);
                    h.u64(items.len() as u64);
                    stack.extend(items.iter().rev());
                }
                Task::Call(f, args) => {
                    h.u8(5);
                    h.bytes(f.name().as_bytes());
                    h.u64(args.len() as u64);
                    stack.extend(args.iter().rev());
                }
            }
        }
        let deps = plan.deps().of(id);
        h.u64(deps.len() as u64);
        for &d in deps {
            h.u64(u64::from(d));
        }
        h.u64(u64::from(plan.priority(id)));
    }
    h.u64(plan.outputs().len() as u64);
    for &o in plan.outputs() {
        h.u64(u64::from(o));
    }
    h.0
}

/// A literal: its binary codec form, or (an opaque value without a codec)
/// its type name.
fn literal(h: &mut Fnv, v: &Value, scratch: &mut Vec<u8>) {
    scratch.clear();
    match codec::write(v, scratch) {
        Ok(()) => h.bytes(scratch),
        Err(e) => h.bytes(e.type_name.as_bytes()),
    }
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn u8(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }

    fn u64(&mut self, x: u64) {
        for b in x.to_le_bytes() {
            self.u8(b);
        }
    }

    /// Length-prefixed, so that `"ab" "c"` and `"a" "bc"` differ.
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        for &x in b {
            self.u8(x);
        }
    }
}

#[cfg(test)]
mod tests;
