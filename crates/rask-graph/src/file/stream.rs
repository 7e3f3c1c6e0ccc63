//! Reading a graph file in one pass: tasks are built straight from the
//! JSON tokens, with no intermediate `serde_json::Value` tree (a call
//! object would otherwise cost a hash map of its own), and a file is read
//! a block at a time, never held whole (see `parse_file`).
//!
//! References are resolved on the way: a string naming a key read before
//! it becomes a [`Task::Key`] and an entry of the task's row of
//! dependencies, looked up while the key it names was just inserted (in
//! a file written leaves first, its slot of the index is still in the
//! processor's cache). Only tasks with a string that names no key read so
//! far are looked at again at the end, for keys defined later in the file.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::BufRead;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

use smallvec::SmallVec;

use super::{close_names, resolve_refs, FileError};
use crate::deps::Adjacency;
use crate::function::{Function, Registry};
use crate::graph::{Graph, TaskId};
use crate::key::Key;
use crate::task::Task;
use crate::value::Value;

/// What the visitors share: the registry, the graph read so far and the
/// dependencies of its tasks, the key being read, whether it has a string
/// that names no key yet, and the first error that is not a JSON syntax
/// error (serde's errors carry only text).
struct Context<'a> {
    registry: &'a Registry,
    path: &'a Path,
    graph: RefCell<Graph>,
    dependencies: RefCell<Adjacency>,
    /// The references of the task being read, in evaluation order.
    row: RefCell<Vec<TaskId>>,
    key: RefCell<Key>,
    /// The task being read has a string that names no key read so far.
    unresolved: Cell<bool>,
    /// A float read that may have been written as an integer beyond 64
    /// bits (serde_json reads those as floats): the text is then scanned.
    big_float: Cell<bool>,
    error: RefCell<Option<FileError>>,
}

impl Context<'_> {
    fn fail<E: de::Error>(&self, e: FileError) -> E {
        let text = e.to_string();
        self.error.borrow_mut().get_or_insert(e);
        E::custom(text)
    }

    fn task_error<E: de::Error>(&self, message: String) -> E {
        self.fail(FileError::Task {
            path: self.path.to_path_buf(),
            key: self.key.borrow().clone(),
            message,
        })
    }

    /// An integer of the file that does not fit in 64 bits.
    fn too_big<E: de::Error>(&self, literal: &str) -> E {
        self.task_error(too_big_message(literal))
    }

    /// Notes a float that is integral and beyond `i64`.
    fn float(&self, v: f64) {
        if v.fract() == 0.0 && v.abs() >= 2_f64.powi(63) {
            self.big_float.set(true);
        }
    }

    /// Checks the integers in a parsed JSON value (a quoted literal).
    fn check_json<E: de::Error>(&self, json: &Json) -> Result<(), E> {
        let mut stack = vec![json];
        while let Some(j) = stack.pop() {
            match j {
                Json::Number(n) if n.is_u64() && !n.is_i64() => {
                    return Err(self.too_big(&n.to_string()))
                }
                Json::Number(n) => self.float(n.as_f64().unwrap_or(0.0)),
                Json::Array(items) => stack.extend(items),
                Json::Object(members) => stack.extend(members.values()),
                _ => {}
            }
        }
        Ok(())
    }
}

fn too_big_message(literal: &str) -> String {
    format!(
        "the integer {literal} does not fit in 64 bits ({} to {}): write it as a float \
         ({literal}.0) or as a string",
        i64::MIN,
        i64::MAX
    )
}

/// The first integer literal of the JSON `text` (no fraction, no exponent)
/// that does not fit an `i64`, with the name of the top-level member it is
/// in. A plain scan of the bytes, run only when a float read could be such
/// an integer.
fn big_integer(text: &str) -> Option<(String, &str)> {
    let b = text.as_bytes();
    let (mut depth, mut i) = (0_usize, 0);
    let mut member = String::new();
    let mut last_string = (0, 0);
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 {
                    last_string = (start, (i + 1).min(b.len()));
                }
            }
            b':' if depth == 1 => {
                let (s, e) = last_string;
                member = serde_json::from_str(&text[s..e]).unwrap_or_default();
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let literal = &text[start..i];
                if !literal.contains(['.', 'e', 'E']) && literal.parse::<i64>().is_err() {
                    return Some((member, literal));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Room for the tasks of a file of `bytes` bytes and `lines` line ends,
/// written one member a line (a member takes 6 bytes at least,
/// `"k":1,`), so that the index never grows: growing rehashes every key
/// read so far, in no order.
fn room(bytes: usize, lines: usize) -> usize {
    lines.min(bytes / 6)
}

/// Parses `text` into a graph and the dependencies of its tasks (those of
/// [`deps::dependencies`](crate::deps::dependencies)).
pub(super) fn parse(
    text: &str,
    path: &Path,
    registry: &Registry,
) -> Result<(Graph, Adjacency), FileError> {
    let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    let mut de = serde_json::Deserializer::from_str(text);
    read(
        path,
        registry,
        room(text.len(), lines),
        || Some(text.to_string()),
        |seed| seed.deserialize(&mut de).and_then(|g| de.end().map(|()| g)),
    )
}

/// Reads the graph file `path` as it parses it, a block at a time: the
/// file is never held in memory whole (at ten million tasks, half a
/// gigabyte that the graph built from it would sit beside).
pub(super) fn parse_file(
    path: &Path,
    registry: &Registry,
) -> Result<(Graph, Adjacency), FileError> {
    parse_file_in(path, registry, 1 << 20)
}

/// [`parse_file`], reading blocks of `block` bytes.
pub(super) fn parse_file_in(
    path: &Path,
    registry: &Registry,
    block: usize,
) -> Result<(Graph, Adjacency), FileError> {
    let io = |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let open = || {
        std::fs::File::open(path)
            .map(|f| std::io::BufReader::with_capacity(1 << 20, f))
            .map_err(io)
    };
    // a first pass counts the lines, to size the graph
    let (mut bytes, mut lines) = (0, 0);
    let mut reader = open()?;
    loop {
        let block = reader.fill_buf().map_err(io)?;
        if block.is_empty() {
            break;
        }
        lines += memchr::memchr_iter(b'\n', block).count();
        let n = block.len();
        bytes += n;
        reader.consume(n);
    }
    if let Some(read) = parse_blocks(path, registry, block, room(bytes, lines)) {
        return Ok(read);
    }
    // a file that is not a well-formed graph is read again as one stream,
    // for the error it gives (its line and column in the whole file)
    let mut de = serde_json::Deserializer::from_reader(open()?);
    let result = read(
        path,
        registry,
        room(bytes, lines),
        || std::fs::read_to_string(path).ok(),
        |seed| seed.deserialize(&mut de).and_then(|g| de.end().map(|()| g)),
    );
    match result {
        // a file that cannot be read midway, or is not UTF-8, says so as
        // reading it whole would
        Err(FileError::Json { .. }) => match std::fs::read_to_string(path) {
            Err(e) => Err(io(e)),
            Ok(_) => result,
        },
        _ => result,
    }
}

/// The graph of a well-formed file, read a block at a time with room for
/// `room` tasks, each block parsed as text in memory (serde_json reads a
/// text faster than a stream); `None` for any error.
pub(super) fn parse_blocks(
    path: &Path,
    registry: &Registry,
    block: usize,
    room: usize,
) -> Option<(Graph, Adjacency)> {
    let file = std::fs::File::open(path).ok()?;
    read(
        path,
        registry,
        room,
        || std::fs::read_to_string(path).ok(),
        |seed| blocks(file, block, seed.0),
    )
    .ok()
}

/// Whether `b` is space between JSON tokens.
fn json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Where a top-level member may end: the state of a scan of a JSON text
/// (inside a string or not, after a backslash, how deeply nested).
#[derive(Default)]
struct Scan {
    depth: usize,
    string: bool,
    escape: bool,
}

/// Reads the top-level object from `file` a block of about `block` bytes
/// at a time: the members up to the last comma between two of them are
/// parsed as an object of their own, into the context's graph. Anything
/// that is not a well-formed object of members (and a few malformed ones
/// that would parse in pieces, such as a trailing comma) is an error, for
/// the caller to read the file again as a stream.
fn blocks(
    mut file: std::fs::File,
    block: usize,
    cx: &Context<'_>,
) -> Result<Vec<TaskId>, serde_json::Error> {
    use std::io::Read;
    let bad = || <serde_json::Error as de::Error>::custom("read as one stream");
    let mut pending = Vec::new();
    let mut parse = |text: &[u8], commas: bool| -> Result<(), serde_json::Error> {
        // `{` + members + `}`: an empty piece only when the object has
        // one piece (`{}`), else it is an empty member (`{"x": 1,}`)
        if commas && text[1..text.len() - 1].iter().all(|&b| json_space(b)) {
            return Err(bad());
        }
        let mut de = serde_json::Deserializer::from_slice(text);
        pending.extend(GraphSeed(cx).deserialize(&mut de)?);
        de.end()
    };
    let mut scan = Scan::default();
    let (mut opened, mut closed, mut commas) = (false, false, false);
    let mut input = vec![0_u8; block.max(1)];
    // `{` and the members not parsed yet
    let mut text = vec![b'{'];
    loop {
        let n = match file.read(&mut input) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(bad()),
        };
        let mut data = &input[..n];
        if !opened {
            let space = data.iter().take_while(|&&b| json_space(b)).count();
            data = &data[space..];
            match data.first() {
                None => continue,
                Some(b'{') => {
                    opened = true;
                    scan.depth = 1;
                    data = &data[1..];
                }
                Some(_) => return Err(bad()),
            }
        }
        if closed {
            if !data.iter().all(|&b| json_space(b)) {
                return Err(bad());
            }
            continue;
        }
        let from = text.len();
        text.extend_from_slice(data);
        let mut split = None;
        for i in from..text.len() {
            let b = text[i];
            if scan.string {
                if scan.escape {
                    scan.escape = false;
                } else if b == b'\\' {
                    scan.escape = true;
                } else if b == b'"' {
                    scan.string = false;
                }
                continue;
            }
            match b {
                b'"' => scan.string = true,
                b'{' | b'[' => scan.depth += 1,
                b'}' | b']' => {
                    scan.depth -= 1;
                    if scan.depth == 0 {
                        // the end of the object: only space may follow
                        if b != b'}' || !text[i + 1..].iter().all(|&b| json_space(b)) {
                            return Err(bad());
                        }
                        text.truncate(i + 1);
                        closed = true;
                        break;
                    }
                }
                b',' if scan.depth == 1 => split = Some(i),
                _ => {}
            }
        }
        if closed {
            parse(&text, commas)?;
            text = Vec::new();
        } else if let Some(at) = split {
            let rest = text[at + 1..].to_vec();
            text.truncate(at);
            text.push(b'}');
            parse(&text, true)?;
            commas = true;
            text.clear();
            text.push(b'{');
            text.extend_from_slice(&rest);
        }
    }
    if closed {
        Ok(pending)
    } else {
        Err(bad())
    }
}

/// Builds a graph from parsed JSON, with the dependencies of its tasks.
pub(super) fn from_json(
    json: &Json,
    path: &Path,
    registry: &Registry,
) -> Result<(Graph, Adjacency), FileError> {
    read(path, registry, 0, || None, |seed| seed.deserialize(json))
}

/// Reads a graph with `run`, with room for `room` tasks; `text` gives the
/// text read, when there is one, to find an integer too large for 64 bits
/// that serde_json read as a float.
fn read(
    path: &Path,
    registry: &Registry,
    lines: usize,
    text: impl FnOnce() -> Option<String>,
    run: impl FnOnce(GraphSeed<'_, '_>) -> Result<Vec<TaskId>, serde_json::Error>,
) -> Result<(Graph, Adjacency), FileError> {
    let cx = Context {
        registry,
        path,
        graph: RefCell::new(Graph::with_capacity(lines)),
        dependencies: RefCell::new(Adjacency::with_capacity(lines, lines)),
        row: RefCell::new(Vec::new()),
        key: RefCell::new(Key::from("")),
        unresolved: Cell::new(false),
        big_float: Cell::new(false),
        error: RefCell::new(None),
    };
    let result = run(GraphSeed(&cx));
    match result {
        Ok(pending) => {
            if let Some(text) = cx.big_float.get().then(text).flatten() {
                if let Some((member, literal)) = big_integer(&text) {
                    return Err(FileError::Task {
                        path: path.to_path_buf(),
                        key: Key::parse(&member),
                        message: too_big_message(literal),
                    });
                }
            }
            let mut graph = cx.graph.take();
            let mut dependencies = cx.dependencies.take();
            // strings naming keys that come later in the file
            if resolve_refs(&mut graph, &pending) {
                dependencies = resolved_dependencies(&graph, &dependencies, &pending);
            }
            Ok((graph, dependencies))
        }
        Err(e) => Err(cx.error.take().unwrap_or_else(|| FileError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })),
    }
}

/// A member name of the graph object, read as a key (the text is not kept).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key::parse(v))
    }
}

/// A member name of a task object.
enum Member {
    Call,
    Args,
    Quote,
    Other(String),
}

struct MemberSeed;

impl<'de> DeserializeSeed<'de> for MemberSeed {
    type Value = Member;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Member, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for MemberSeed {
    type Value = Member;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Member, E> {
        Ok(match v {
            "call" => Member::Call,
            "args" => Member::Args,
            "quote" => Member::Quote,
            other => Member::Other(other.to_string()),
        })
    }
}

/// The dependencies once the tasks `pending` had strings resolved after
/// the whole file was read: their rows found again, the others kept.
fn resolved_dependencies(graph: &Graph, old: &Adjacency, pending: &[TaskId]) -> Adjacency {
    let mut out = Adjacency::with_capacity(graph.len(), old.edges());
    let mut row = Vec::new();
    let mut next = pending.iter().peekable();
    for id in 0..graph.len() as TaskId {
        row.clear();
        if next.next_if_eq(&&id).is_some() {
            // every reference is a resolved key now: none is missing
            graph
                .task(id)
                .visit_refs(&|v| graph.ref_id(v), &|k| graph.id(k), &mut |r| {
                    row.extend(r.ok())
                });
        } else {
            row.extend_from_slice(old.of(id));
        }
        // (no more edges than a graph's rows can count: the file was read)
        let _ = out.push_row(row.iter().copied());
    }
    out
}

/// Reads the top-level object into the context's graph; the ids of the
/// tasks with a string that named no key when it was read.
struct GraphSeed<'c, 'a>(&'c Context<'a>);

impl<'de> DeserializeSeed<'de> for GraphSeed<'_, '_> {
    type Value = Vec<TaskId>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<TaskId>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for GraphSeed<'_, '_> {
    type Value = Vec<TaskId>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of \"key\": task members")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<TaskId>, A::Error> {
        let cx = self.0;
        let mut pending = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            *cx.key.borrow_mut() = key.clone();
            cx.row.borrow_mut().clear();
            cx.unresolved.set(false);
            let task = map.next_value_seed(TaskSeed(cx))?;
            let mut graph = cx.graph.borrow_mut();
            let id = graph.len() as TaskId;
            if graph.insert(key, task).is_some() {
                return Err(cx.task_error("the key appears twice in the file".into()));
            }
            cx.dependencies
                .borrow_mut()
                .push_row(cx.row.borrow().iter().copied())
                .map_err(|e| cx.task_error(e.to_string()))?;
            if cx.unresolved.get() {
                pending.push(id);
            }
        }
        Ok(pending)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Vec<TaskId>, A::Error> {
        Err(self.not_an_object("an array"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<TaskId>, E> {
        Err(self.not_an_object("a string"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<TaskId>, E> {
        Err(self.not_an_object("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<TaskId>, E> {
        Err(self.not_an_object("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<TaskId>, E> {
        Err(self.not_an_object("a number"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<TaskId>, E> {
        Err(self.not_an_object("a boolean"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<TaskId>, E> {
        Err(self.not_an_object("null"))
    }
}

impl GraphSeed<'_, '_> {
    fn not_an_object<E: de::Error>(&self, found: &'static str) -> E {
        self.0.fail(FileError::NotAnObject {
            path: self.0.path.to_path_buf(),
            found,
        })
    }
}

struct TaskSeed<'c, 'a>(&'c Context<'a>);

impl<'de> DeserializeSeed<'de> for TaskSeed<'_, '_> {
    type Value = Task;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Task, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TaskSeed<'_, '_> {
    type Value = Task;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a task")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Task, E> {
        Ok(Task::Value(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Task, E> {
        Ok(Task::Value(Value::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Task, E> {
        match i64::try_from(v) {
            Ok(i) => Ok(Task::Value(Value::Int(i))),
            Err(_) => Err(self.0.too_big(&v.to_string())),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Task, E> {
        self.0.float(v);
        Ok(Task::Value(Value::Float(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Task, E> {
        Ok(Task::Value(Value::Null))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Task, E> {
        let graph = self.0.graph.borrow();
        // a string that may name a tuple key, or be the quoted text of
        // one, may name another key defined further on (which it names
        // first): it waits for the whole file
        let found = if v.starts_with(['(', '\'', '"']) {
            None
        } else {
            graph.id_of_str(v)
        };
        match found {
            Some(id) => {
                self.0.row.borrow_mut().push(id);
                Ok(Task::Key(graph.key(id).clone()))
            }
            None => {
                self.0.unresolved.set(true);
                Ok(Task::Value(Value::Str(v.into())))
            }
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Task, A::Error> {
        Ok(Task::List(tasks(self.0, seq)?))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Task, A::Error> {
        let cx = self.0;
        let mut call: Option<Callee> = None;
        let mut args: Option<Box<[Task]>> = None;
        let mut quote: Option<Json> = None;
        let mut others: Vec<(String, Json)> = Vec::new();
        while let Some(name) = map.next_key_seed(MemberSeed)? {
            match name {
                Member::Call => call = Some(map.next_value_seed(CalleeSeed(cx))?),
                Member::Args => args = Some(map.next_value_seed(ArgsSeed(cx))?),
                Member::Quote => quote = Some(map.next_value()?),
                Member::Other(name) => others.push((name, map.next_value()?)),
            }
        }
        if let Some((extra, _)) = others.first() {
            return Err(cx.task_error(unknown_member(extra)));
        }
        if let Some(call) = call {
            if quote.is_some() {
                return Err(cx.task_error(
                    "a call object has the members \"call\" and \"args\" only, not \"quote\""
                        .into(),
                ));
            }
            let name = match call {
                Callee::Found(f) => return Ok(Task::Call(f, args.unwrap_or_default())),
                Callee::Name(name) => name,
                Callee::NotAString(kind) => {
                    return Err(cx.task_error(format!(
                        "\"call\" must name a function (a string), not {kind}"
                    )))
                }
            };
            let Some(f) = cx.registry.get(&name) else {
                return Err(cx.fail(FileError::UnknownFunction {
                    path: cx.path.to_path_buf(),
                    key: cx.key.borrow().clone(),
                    known: close_names(&name, cx.registry),
                    name,
                }));
            };
            if let (Some(needs), false) = (f.needed(), cx.registry.allows(f)) {
                return Err(cx.fail(FileError::NotAllowed {
                    path: cx.path.to_path_buf(),
                    key: cx.key.borrow().clone(),
                    function: name,
                    needs,
                }));
            }
            return Ok(Task::Call(f.clone(), args.unwrap_or_default()));
        }
        if let Some(q) = quote {
            if args.is_some() {
                return Err(cx.task_error("a {\"quote\": V} object has no other member".into()));
            }
            cx.check_json(&q)?;
            return Ok(Task::Quote(Value::from_json(&q)));
        }
        Err(cx.task_error(if args.is_some() {
            format!("\"args\" without \"call\": {OBJECTS}")
        } else {
            format!("an empty object: {OBJECTS}")
        }))
    }
}

/// The value of a `call` member: the function named, when it is
/// registered and allowed (no text kept), else what the error needs.
enum Callee {
    Found(Function),
    /// A name that is not registered, or not allowed.
    Name(String),
    /// Not a string: what it is.
    NotAString(&'static str),
}

struct CalleeSeed<'c, 'a>(&'c Context<'a>);

impl<'de> DeserializeSeed<'de> for CalleeSeed<'_, '_> {
    type Value = Callee;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Callee, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CalleeSeed<'_, '_> {
    type Value = Callee;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a function name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Callee, E> {
        let registry = self.0.registry;
        Ok(match registry.get(v) {
            Some(f) if f.needed().is_none() || registry.allows(f) => Callee::Found(f.clone()),
            _ => Callee::Name(v.to_string()),
        })
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Callee, E> {
        Ok(Callee::NotAString("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Callee, E> {
        Ok(Callee::NotAString("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Callee, E> {
        Ok(Callee::NotAString("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Callee, E> {
        Ok(Callee::NotAString("a number"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Callee, E> {
        Ok(Callee::NotAString("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Callee, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Callee::NotAString("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Callee, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Callee::NotAString("an object"))
    }
}

/// What an object in a task may be, for messages.
pub(super) const OBJECTS: &str =
    "an object in a task is a call {\"call\": NAME, \"args\": [...]} or a \
                       quote {\"quote\": V} (write an object value as {\"quote\": {...}})";

/// The message for a member of a task object that is neither `call`,
/// `args` nor `quote`, with the closest of those when one is near.
fn unknown_member(name: &str) -> String {
    let near = ["call", "args", "quote"]
        .into_iter()
        .find(|m| super::edit_distance(m, name) <= 2);
    match near {
        Some(m) => format!("unknown member `{name}` in an object: did you mean `{m}`? ({OBJECTS})"),
        None => format!("unknown member `{name}` in an object: {OBJECTS}"),
    }
}

/// The `args` of a call: an array of tasks.
struct ArgsSeed<'c, 'a>(&'c Context<'a>);

impl<'de> DeserializeSeed<'de> for ArgsSeed<'_, '_> {
    type Value = Box<[Task]>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Box<[Task]>, D::Error> {
        d.deserialize_any(self)
    }
}

/// The elements of a JSON array as tasks, in one allocation of the exact
/// size (a few are gathered on the stack first).
fn tasks<'de, A: SeqAccess<'de>>(cx: &Context<'_>, mut seq: A) -> Result<Box<[Task]>, A::Error> {
    let mut items: SmallVec<[Task; 4]> = SmallVec::new();
    while let Some(t) = seq.next_element_seed(TaskSeed(cx))? {
        items.push(t);
    }
    // allocated at its size: a vector grown then shrunk to fit would leave
    // a hole behind each task's arguments that the allocator seldom fills
    let mut exact = Vec::with_capacity(items.len());
    exact.extend(items);
    Ok(exact.into_boxed_slice())
}

impl<'de> Visitor<'de> for ArgsSeed<'_, '_> {
    type Value = Box<[Task]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of arguments")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Box<[Task]>, A::Error> {
        tasks(self.0, seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Box<[Task]>, A::Error> {
        Err(self.not_array("an object"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Box<[Task]>, E> {
        Err(self.not_array("a string"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Box<[Task]>, E> {
        Err(self.not_array("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Box<[Task]>, E> {
        Err(self.not_array("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Box<[Task]>, E> {
        Err(self.not_array("a number"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Box<[Task]>, E> {
        Err(self.not_array("a boolean"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Box<[Task]>, E> {
        Err(self.not_array("null"))
    }
}

impl ArgsSeed<'_, '_> {
    fn not_array<E: de::Error>(&self, found: &str) -> E {
        self.0
            .task_error(format!("\"args\" must be an array, not {found}"))
    }
}
