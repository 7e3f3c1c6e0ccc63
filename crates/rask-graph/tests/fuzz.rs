//! Fuzzing on stable Rust (issue 13, item 7): the graph file reader and
//! the value codec get arbitrary and mutated input and must answer with a
//! `Result`, never a panic, an abort, a hang or a stack overflow.
//!
//! Few cases by default; `RASK_FUZZ_CASES=200000` (as `scripts/fuzz.sh`
//! sets it) runs them long. See `docs/fuzzing.md`.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use rask_graph::{codec, file, Registry, Value};

fn cases(default: u32) -> u32 {
    std::env::var("RASK_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The deep-nesting targets build inputs of up to 10^5 levels: a fiftieth
/// of the cases asked for.
fn deep_config(default: u32) -> ProptestConfig {
    let n = std::env::var("RASK_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .map_or(default, |n| (n / 50).max(default));
    ProptestConfig {
        cases: n,
        ..ProptestConfig::default()
    }
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    }
}

/// Damage to a byte string: flips, insertions, deletions, truncation.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Splice(usize, Vec<u8>),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..=255_u8).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(i, b)| Edit::Splice(i, b)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        let n = bytes.len();
        match e {
            Edit::Flip(i, b) if n > 0 => bytes[i % n] ^= b,
            Edit::Insert(i, b) => bytes.insert(i % (n + 1), *b),
            Edit::Delete(i) if n > 0 => {
                bytes.remove(i % n);
            }
            Edit::Truncate(i) => bytes.truncate(i % (n + 1)),
            Edit::Splice(i, b) => {
                let at = i % (n + 1);
                let end = (at + b.len()).min(n);
                bytes.splice(at..end, b.iter().copied());
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- files

const NAMES: &[&str] = &[
    "inc", "add", "sum", "concat", "neg", "mul", "nosuch", "shell",
];
const KEYS: &[&str] = &["x", "y", "z", "('p', 0)", "('p', 1)", "w"];

/// JSON text of an argument: literals, keys, lists, nested calls, quotes.
fn arg() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| serde_json::to_string(&f).unwrap()),
        prop::sample::select(KEYS).prop_map(|k| serde_json::to_string(k).unwrap()),
        "[a-z\\\\\"'(), 0-9]{0,8}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("18446744073709551616".to_string()),
        Just("1e400".to_string()),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            (
                prop::sample::select(NAMES),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(f, v)| format!(r#"{{"call": "{f}", "args": [{}]}}"#, v.join(","))),
            inner.clone().prop_map(|a| format!(r#"{{"quote": {a}}}"#)),
            inner.prop_map(|a| format!(r#"{{"cal": "inc", "args": [{a}]}}"#)),
        ]
    })
}

/// The text of a graph file, valid or nearly so.
fn graph_text() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(KEYS), arg()), 0..6).prop_map(|tasks| {
        let members: Vec<String> = tasks
            .iter()
            .map(|(k, a)| format!("{}: {a}", serde_json::to_string(k).unwrap()))
            .collect();
        format!("{{{}}}", members.join(", "))
    })
}

fn read(bytes: &[u8]) {
    let registry = Registry::with_builtins();
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = file::from_str(text, &registry);
    }
    // the path reader too (it reads bytes, not text)
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.json");
    std::fs::write(&path, bytes).unwrap();
    let _ = file::read(&path, &registry);
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn graph_file_reader_takes_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        read(&bytes);
    }

    #[test]
    fn graph_file_reader_takes_mutated_graph_files(
        text in graph_text(),
        edits in prop::collection::vec(edit(), 0..6),
    ) {
        let mut bytes = text.into_bytes();
        apply(&mut bytes, &edits);
        read(&bytes);
    }

}

proptest! {
    #![proptest_config(deep_config(32))]

    #[test]
    fn graph_file_reader_takes_deep_nesting(
        depth in 1_usize..200_000,
        open in prop::sample::select(vec!["[", r#"{"quote": "#, r#"{"call": "sum", "args": ["#, r#"{"a": "#]),
        closed in any::<bool>(),
    ) {
        let close = match open {
            "[" => "]",
            r#"{"call": "sum", "args": ["# => "]}",
            _ => "}",
        };
        let mut text = String::from(r#"{"x": "#);
        text.push_str(&open.repeat(depth));
        text.push('1');
        if closed {
            text.push_str(&close.repeat(depth));
            text.push('}');
        }
        read(text.as_bytes());
    }
}

// ---------------------------------------------------------------- codecs

/// Types registered by the test, besides the codec's own.
#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Record {
    name: String,
    counts: Vec<u64>,
    nested: Option<Box<Record>>,
}

fn register() {
    codec::register::<Record>();
    codec::register::<HashMap<String, Vec<u8>>>();
    codec::register::<BTreeMap<i32, (String, f64)>>();
    codec::register::<Vec<Vec<String>>>();
    codec::register::<String>();
}

/// The names under which values of a registered type travel.
fn type_names() -> Vec<&'static str> {
    vec![
        std::any::type_name::<Vec<i64>>(),
        std::any::type_name::<Vec<f64>>(),
        std::any::type_name::<Vec<String>>(),
        std::any::type_name::<Vec<bool>>(),
        std::any::type_name::<u64>(),
        std::any::type_name::<usize>(),
        std::any::type_name::<Record>(),
        std::any::type_name::<HashMap<String, Vec<u8>>>(),
        std::any::type_name::<BTreeMap<i32, (String, f64)>>(),
        std::any::type_name::<Vec<Vec<String>>>(),
        std::any::type_name::<String>(),
    ]
}

/// The binary form of an opaque value of type `name` with payload `payload`
/// (tag 7, as `codec.rs` writes it).
fn opaque(name: &str, payload: &[u8]) -> Vec<u8> {
    let probe = codec::to_bytes(&Value::opaque(7_u64)).unwrap();
    let tag = probe[0];
    let mut out = vec![tag];
    out.extend_from_slice(&(name.len() as u64).to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        ".{0,6}".prop_map(|s: String| Value::Str(std::sync::Arc::from(s.as_str()))),
        prop::collection::vec(any::<i64>(), 0..4).prop_map(Value::opaque),
        prop::collection::vec(any::<f64>(), 0..4).prop_map(Value::opaque),
        prop::collection::vec(".{0,3}", 0..3).prop_map(Value::opaque),
        any::<u64>().prop_map(Value::opaque),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::list),
            prop::collection::vec(("[a-c]{0,2}", inner), 0..4).prop_map(|m| {
                Value::Dict(
                    m.into_iter()
                        .map(|(k, v)| (std::sync::Arc::from(k.as_str()), v))
                        .collect::<Vec<_>>()
                        .into(),
                )
            }),
        ]
    })
}

/// A huge length prefix in one of the places a length goes.
fn bomb() -> impl Strategy<Value = (Vec<u8>, bool)> {
    (
        prop::sample::select(type_names()),
        prop::sample::select(vec![
            u64::MAX,
            u64::MAX - 7,
            1 << 40,
            1 << 32,
            (1 << 31) - 1,
            1 << 20,
        ]),
        0_usize..4,
    )
        .prop_map(|(name, huge, place)| {
            // a scalar's varint is a value, not a length, and `Vec<i64>`
            // and `Vec<f64>` are raw words with no length of their own
            let scalar = place == 2
                && [
                    std::any::type_name::<u64>(),
                    std::any::type_name::<usize>(),
                    std::any::type_name::<Vec<i64>>(),
                    std::any::type_name::<Vec<f64>>(),
                ]
                .contains(&name);
            let probe_list = codec::to_bytes(&Value::list([Value::Null])).unwrap();
            let probe_str = codec::to_bytes(&Value::from("a")).unwrap();
            let bytes = match place {
                // a list of `huge` items
                0 => {
                    let mut b = vec![probe_list[0]];
                    b.extend_from_slice(&huge.to_le_bytes());
                    b
                }
                // a string of `huge` bytes
                1 => {
                    let mut b = vec![probe_str[0]];
                    b.extend_from_slice(&huge.to_le_bytes());
                    b.extend_from_slice(b"abc");
                    b
                }
                // an opaque payload whose own (postcard) prefix is huge
                2 => {
                    let mut payload = Vec::new();
                    let mut h = huge;
                    while h >= 0x80 {
                        payload.push((h as u8) | 0x80);
                        h >>= 7;
                    }
                    payload.push(h as u8);
                    payload.extend_from_slice(&[1, 2, 3]);
                    opaque(name, &payload)
                }
                // an opaque payload announced longer than it is
                _ => {
                    let mut b = opaque(name, &[1, 2, 3]);
                    let at = 1 + 8 + name.len();
                    b[at..at + 8].copy_from_slice(&huge.to_le_bytes());
                    b
                }
            };
            (bytes, scalar)
        })
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn codec_takes_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        register();
        let _ = codec::from_bytes(&bytes);
    }

    #[test]
    fn codec_takes_arbitrary_payloads_of_each_registered_type(
        name in prop::sample::select(type_names()),
        payload in prop::collection::vec(any::<u8>(), 0..96),
    ) {
        register();
        let _ = codec::from_bytes(&opaque(name, &payload));
    }

    #[test]
    fn codec_refuses_allocation_bombs((bytes, scalar) in bomb()) {
        register();
        let decoded = codec::from_bytes(&bytes);
        // where the prefix is no length, only a decoding without a panic
        // counts
        prop_assert!(scalar || decoded.is_err(), "{:?}", decoded);
    }

    #[test]
    fn codec_round_trips_and_takes_damaged_encodings(
        v in value(),
        edits in prop::collection::vec(edit(), 0..4),
    ) {
        register();
        let mut bytes = codec::to_bytes(&v).unwrap();
        let back = codec::from_bytes(&bytes).unwrap();
        prop_assert_eq!(codec::to_bytes(&back).unwrap(), bytes.clone());
        apply(&mut bytes, &edits);
        let _ = codec::from_bytes(&bytes);
    }
}

proptest! {
    #![proptest_config(deep_config(32))]

    #[test]
    fn codec_takes_deep_nesting(depth in 1_usize..100_000, dict in any::<bool>()) {
        let mut v = Value::Int(1);
        for _ in 0..depth.min(2_000) {
            v = if dict {
                Value::Dict(vec![(std::sync::Arc::from("a"), v)].into())
            } else {
                Value::list([v])
            };
        }
        // a prefix repeated: deep nesting without building it first
        let whole = codec::to_bytes(&v).unwrap();
        let one = codec::to_bytes(&if dict {
            Value::Dict(vec![(std::sync::Arc::from("a"), Value::Int(1))].into())
        } else {
            Value::list([Value::Int(1)])
        })
        .unwrap();
        let head = &one[..one.len() - 9];
        let mut bytes = head.repeat(depth);
        bytes.extend_from_slice(&whole[whole.len() - 9..]);
        let _ = codec::from_bytes(&bytes);
        let _ = codec::from_bytes(&bytes[..bytes.len() - 1]);
    }
}
