//! Tokens: what identifies a task's result across runs (see [`Token`]).

use std::fmt;

use rask_graph::{codec, deps, Graph, Plan, Task, TaskId, Value};

/// The identity of a task's result: 32 bytes of BLAKE3, printed in hex.
///
/// The token of a task is a BLAKE3 hash of a canonical encoding of what it
/// computes: the names of the functions it calls, its literal values (in
/// their [`codec`] binary form), the shape of its lists and calls, and, in
/// place of each key it refers to, the *token* of that key. The key of the
/// task itself is not part of it, so renaming keys keeps every token, and
/// changing one task or literal input changes exactly the tokens of the
/// tasks downstream of it.
///
/// An alias (`"w": "z"`) has the token of its target. A literal with no
/// codec (an opaque Rust value whose type was never
/// [registered](codec::register)) has no stable encoding: its task, and
/// every task that depends on it, has no token and is never cached.
///
/// The function's *name* stands for its code: give a function a new name
/// (`clean_v2`) when what it computes changes, or clear the cache.
///
/// ```
/// use rask::cache::tokens;
/// use rask::{graph, Plan};
/// fn inc(x: i64) -> i64 { x + 1 }
/// let a = graph! { "x" => 1, "y" => (inc, "x") };
/// let b = graph! { "one" => 1, "two" => (inc, "one") }; // the same, renamed
/// let ta = tokens(&a, &Plan::for_keys(&a, &["y".into()]).unwrap());
/// let tb = tokens(&b, &Plan::for_keys(&b, &["two".into()]).unwrap());
/// assert_eq!(ta, tb);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token([u8; 32]);

impl Token {
    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The token from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Token {
        Token(bytes)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({self})")
    }
}

/// Bumped whenever the encoding below changes, so old entries are never
/// taken for new ones.
const DOMAIN: &[u8] = b"rask-cache token v1\0";
const LIT: u8 = 1;
const REF: u8 = 2;
const LIST: u8 = 3;
const CALL: u8 = 4;

/// The token of every task of `plan`, by local id; `None` for a task that
/// cannot be cached (it holds, or depends on, a literal with no codec).
///
/// Worked example: in `x = 1; y = inc(x); z = add(y, 10)`
///
/// ```text
/// token(x) = H(lit 1)
/// token(y) = H(call "inc" 1 [ref token(x)])
/// token(z) = H(call "add" 2 [ref token(y), lit 10])
/// ```
///
/// Tasks are visited in a topological order of the plan, and each task's
/// structure with an explicit stack: no recursion on the size or depth of
/// the graph.
///
/// ```
/// use rask::cache::tokens;
/// use rask::{graph, Graph, Plan};
/// fn inc(x: i64) -> i64 { x + 1 }
/// fn add(a: i64, b: i64) -> i64 { a + b }
/// let by_key = |g: &Graph| {
///     let plan = Plan::for_keys(g, &["z".into(), "v".into()]).unwrap();
///     let t = tokens(g, &plan);
///     let mut out: Vec<_> = (0..plan.len() as u32)
///         .map(|l| (g.key(plan.graph_id(l)).to_string(), t[l as usize].unwrap()))
///         .collect();
///     out.sort();
///     out
/// };
/// let a = graph! { "x" => 1, "w" => 2, "y" => (inc, "x"), "z" => (add, "y", "w"), "v" => (inc, "w") };
/// let b = graph! { "x" => 5, "w" => 2, "y" => (inc, "x"), "z" => (add, "y", "w"), "v" => (inc, "w") };
/// let changed: Vec<String> = by_key(&a).into_iter().zip(by_key(&b))
///     .filter(|(ta, tb)| ta.1 != tb.1)
///     .map(|(ta, _)| ta.0)
///     .collect();
/// assert_eq!(changed, ["x", "y", "z"]); // not w, not v
/// ```
pub fn tokens(graph: &Graph, plan: &Plan) -> Vec<Option<Token>> {
    let mut out: Vec<Option<Token>> = vec![None; plan.len()];
    // a plan is acyclic: `Plan::new` checked it
    let Ok(topo) = deps::toposort_ids(plan.deps()) else {
        return out;
    };
    let mut scratch = Scratch::default();
    for l in topo {
        let task = graph.task(plan.graph_id(l));
        let all_refs = plan.literals_are_refs(l);
        out[l as usize] = task_token(graph, task, plan.deps().of(l), all_refs, &out, &mut scratch);
    }
    out
}

/// Buffers reused from task to task.
#[derive(Default)]
struct Scratch<'g> {
    stack: Vec<&'g Task>,
    bytes: Vec<u8>,
}

/// The token of one task whose references (local ids, in
/// [`Task::visit_refs`] order) are `refs`, given the tokens computed so
/// far. `all_refs`: every string literal of the task is a reference (the
/// plan knows; then no string is looked up among the keys again).
fn task_token<'g>(
    graph: &Graph,
    task: &'g Task,
    refs: &[TaskId],
    all_refs: bool,
    tokens: &[Option<Token>],
    scratch: &mut Scratch<'g>,
) -> Option<Token> {
    let is_ref = |t: &Task| match t {
        Task::Key(_) => true,
        Task::Value(v @ Value::Str(_)) => all_refs || graph.is_ref(v),
        _ => false,
    };
    if is_ref(task) {
        // an alias is its target
        return tokens[*refs.first()? as usize];
    }
    // the encoding is gathered, then hashed at once (BLAKE3 of the same
    // bytes: the tokens are those of hashing them piece by piece, at a
    // fraction of the cost for the few dozen bytes of most tasks)
    let enc = &mut scratch.bytes;
    enc.clear();
    enc.extend_from_slice(DOMAIN);
    let mut next_ref = 0;
    scratch.stack.clear();
    scratch.stack.push(task);
    while let Some(t) = scratch.stack.pop() {
        if is_ref(t) {
            let d = *refs.get(next_ref)?;
            next_ref += 1;
            enc.push(REF);
            enc.extend_from_slice(tokens[d as usize]?.as_bytes());
            continue;
        }
        match t {
            Task::Value(v) | Task::Quote(v) => {
                enc.push(LIT);
                let at = enc.len();
                enc.extend_from_slice(&[0; 8]);
                codec::write(v, enc).ok()?;
                let len = (enc.len() - at - 8) as u64;
                enc[at..at + 8].copy_from_slice(&len.to_le_bytes());
            }
            Task::Key(_) => unreachable!("a key is a reference"),
            Task::List(items) => {
                enc.push(LIST);
                enc.extend_from_slice(&(items.len() as u64).to_le_bytes());
                scratch.stack.extend(items.iter().rev());
            }
            Task::Call(f, args) => {
                enc.push(CALL);
                enc.extend_from_slice(&(f.name().len() as u64).to_le_bytes());
                enc.extend_from_slice(f.name().as_bytes());
                enc.extend_from_slice(&(args.len() as u64).to_le_bytes());
                scratch.stack.extend(args.iter().rev());
            }
        }
    }
    Some(Token(*blake3::hash(enc).as_bytes()))
}

/// Whether a task calls a function anywhere in it (a call, or a list
/// holding one): such tasks are cached; literals, aliases and lists of
/// them are cheap and are not.
pub(crate) fn calls_a_function(task: &Task) -> bool {
    let mut stack = vec![task];
    while let Some(t) = stack.pop() {
        match t {
            Task::Call(..) => return true,
            Task::List(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests;
