use super::*;
use crate::Registry;

fn reg() -> Registry {
    Registry::with_builtins()
}

fn err(text: &str) -> String {
    from_str(text, &reg())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn roundtrip_keeps_every_form() {
    let text = r#"{
        "x": 1,
        "y": {"call": "inc", "args": ["x"]},
        "z": {"call": "add", "args": ["y", 10]},
        "('p', 0)": {"call": "sum", "args": [["x", "y", {"call": "inc", "args": ["z"]}]]},
        "alias": "z",
        "q": {"quote": "x"},
        "ql": {"quote": [1, "x"]},
        "s": "not a key",
        "d": {"quote": {"a": [1, 2], "b": null}},
        "t": "('p', 0)",
        "f": 2.5,
        "n": {"call": "concat", "args": [[1], {"quote": ["x"]}]}
    }"#;
    let g = from_str(text, &reg()).unwrap();
    assert_eq!(g.len(), 12);
    assert!(g.is_ref(&Value::from("z")));
    // a string naming a key is read as a reference to it
    assert!(matches!(g.get(&Key::from("alias")), Some(Task::Key(k)) if *k == Key::from("z")));
    assert!(matches!(g.get(&Key::from("t")), Some(Task::Key(k)) if *k == Key::from(("p", 0))));
    assert!(matches!(g.get(&Key::from("s")), Some(Task::Value(_))));
    let back = to_json(&g).unwrap();
    let expected: Json = serde_json::from_str(text).unwrap();
    assert_eq!(back, expected);
}

#[test]
fn malformed_files_name_the_location() {
    assert!(
        err("{\"x\": 1,}").starts_with("<string>:1:"),
        "{}",
        err("{\"x\": 1,}")
    );
    assert_eq!(
        err("[1]"),
        "<string>: a graph file is a JSON object of \"key\": task members, not an array"
    );
    assert_eq!(
        err(r#"{"y": {"call": "icn", "args": [1]}}"#),
        "<string>: task \"y\" calls unknown function \"icn\" (did you mean inc?)"
    );
    assert_eq!(
        err(r#"{"y": {"call": 3}}"#),
        "<string>: task \"y\": \"call\" must name a function (a string), not a number"
    );
    assert_eq!(
        err(r#"{"y": {"call": "inc", "args": 3}}"#),
        "<string>: task \"y\": \"args\" must be an array, not a number"
    );
    assert_eq!(
        err(r#"{"y": {"call": "inc", "arg": [3]}}"#),
        format!(
            "<string>: task \"y\": unknown member `arg` in an object: did you mean `args`? ({})",
            stream::OBJECTS
        )
    );
    assert_eq!(
        err(r#"{"y": {"quote": 1, "args": [2]}}"#),
        "<string>: task \"y\": a {\"quote\": V} object has no other member"
    );
}

#[test]
fn unreadable_file_names_the_path() {
    let e = read(Path::new("/no/such/graph.json"), &reg())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.starts_with("/no/such/graph.json: cannot read"), "{e}");
}

#[test]
fn opaque_values_without_codec_cannot_be_written() {
    struct Blob;
    let mut g = Graph::new();
    g.insert("b", Value::new(Blob));
    let e = to_json(&g).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.starts_with("task \"b\": a value of type") && e.contains("Blob"),
        "{e}"
    );
}

#[test]
fn duplicate_keys_are_an_error() {
    assert_eq!(
        err(r#"{"a": 1, "b": 2, "a": 3}"#),
        "<string>: task \"a\": the key appears twice in the file"
    );
}

#[test]
fn objects_that_are_not_calls_or_quotes_are_errors_naming_the_member() {
    // regression: {"cal": ...} and {"args": ...} ran as literal objects
    assert_eq!(
        err(r#"{"x": 1, "y": {"cal": "inc", "args": ["x"]}}"#),
        format!(
            "<string>: task \"y\": unknown member `cal` in an object: did you mean `call`? ({})",
            stream::OBJECTS
        )
    );
    assert!(err(r#"{"y": {"call": "inc", "args": [1], "qoute": 1}}"#)
        .contains("unknown member `qoute` in an object: did you mean `quote`?"));
    assert!(err(r#"{"y": [1, {"n": {"k": null}}]}"#)
        .starts_with("<string>: task \"y\": unknown member `n` in an object: an object in a task"));
    assert!(err(r#"{"y": {"args": [1]}}"#).contains("task \"y\": \"args\" without \"call\""));
    assert!(err(r#"{"y": {}}"#).contains("task \"y\": an empty object"));
    // an object value is written quoted, and reads back
    let g = from_str(
        r#"{"d": {"quote": {"args": [1, "x"], "n": {"k": null}}}, "x": 0}"#,
        &reg(),
    )
    .unwrap();
    let back = to_json(&g).unwrap();
    assert_eq!(
        back["d"],
        serde_json::json!({"quote": {"args": [1, "x"], "n": {"k": null}}})
    );
    let mut g = Graph::new();
    g.insert("e", Value::from_json(&serde_json::json!({"a": 1})));
    assert_eq!(
        to_json(&g).unwrap()["e"],
        serde_json::json!({"quote": {"a": 1}})
    );
}

#[test]
fn from_json_reads_parsed_values_the_same_way() {
    let text = r#"{"x": 1, "y": {"call": "inc", "args": ["x"]}}"#;
    let json: Json = serde_json::from_str(text).unwrap();
    let g = from_json(&json, Path::new("mem"), &reg()).unwrap();
    assert_eq!(to_json(&g).unwrap(), json);
    let e = from_json(&serde_json::json!([1]), Path::new("mem"), &reg())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("mem: a graph file is a JSON object of \"key\": task members, not an array")
    );
}

#[test]
fn keys_that_print_alike_before_stay_apart_and_round_trip() {
    // regression: the tuple ("a', 'b", 0) and the tuple ('a', 'b', 0)
    // were written as the same member name
    let text = r#"{
        "(\"a', 'b\", 0)": 1,
        "('a', 'b', 0)": 2,
        "(\"it's\", 0)": 3,
        "\"('x', 0)\"": 4,
        "r": {"call": "add", "args": ["\"('x', 0)\"", "(\"it's\", 0)"]}
    }"#;
    let g = from_str(text, &reg()).unwrap();
    assert_eq!(g.len(), 5);
    assert!(g.contains(&Key::from("('x', 0)")));
    let back = to_json(&g).unwrap();
    let members: Vec<&String> = back.as_object().unwrap().keys().collect();
    assert_eq!(members.len(), 5);
    let again = from_json(&back, Path::new("mem"), &reg()).unwrap();
    for (k, _) in g.iter() {
        assert!(again.contains(k), "{k:?}");
    }
    let Some(Task::Call(_, args)) = again.get(&Key::from("r")) else {
        panic!("r is a call")
    };
    assert!(matches!(&args[0], Task::Key(k) if *k == Key::from("('x', 0)")));
    assert!(matches!(&args[1], Task::Key(k) if *k == Key::from(("it's", 0))));
}

#[test]
fn integers_beyond_64_bits_are_errors_naming_the_key() {
    // regression: they became floats, inc(9223372036854775808) gave 9.2e18
    let msg = |lit: &str| {
        format!(
            "does not fit in 64 bits (-9223372036854775808 to 9223372036854775807): \
             write it as a float ({lit}.0) or as a string"
        )
    };
    for (text, key, lit) in [
        (
            r#"{"x": 1, "y": {"call": "inc", "args": [9223372036854775808]}}"#,
            "y",
            "9223372036854775808",
        ),
        (
            r#"{"y": [1, 2], "z": {"quote": [18446744073709551615]}}"#,
            "z",
            "18446744073709551615",
        ),
        (
            r#"{"a": 1, "y": {"call": "inc", "args": [100000000000000000000]}, "b": 2}"#,
            "y",
            "100000000000000000000",
        ),
        (
            r#"{"('t', 0)": -100000000000000000000}"#,
            "('t', 0)",
            "-100000000000000000000",
        ),
    ] {
        let e = err(text);
        assert!(
            e.starts_with(&format!(
                "<string>: task {:?}: the integer {lit} ",
                Key::parse(key)
            )),
            "{e}"
        );
        assert!(e.ends_with(&msg(lit)), "{e}");
    }
    // floats that large, and i64's own bounds, are fine
    let g = from_str(
        r#"{"f": 1e20, "g": 100000000000000000000.0, "min": -9223372036854775808, "max": 9223372036854775807}"#,
        &reg(),
    )
    .unwrap();
    assert!(matches!(
        g.get(&Key::from("f")),
        Some(Task::Value(Value::Float(_)))
    ));
    assert!(matches!(
        g.get(&Key::from("max")),
        Some(Task::Value(Value::Int(i64::MAX)))
    ));
    assert!(matches!(
        g.get(&Key::from("min")),
        Some(Task::Value(Value::Int(i64::MIN)))
    ));
}

#[test]
fn shell_runs_from_a_file_only_when_allowed() {
    let text = r#"{"x": 1, "out": [{"call": "shell", "args": ["echo", "hi"]}]}"#;
    assert_eq!(
        err(text),
        "<string>: task \"out\" calls shell, which reaches outside rask: it runs only when \
         allowed (rask run --allow shell; Registry::allow(\"shell\"))"
    );
    let mut r = reg();
    r.allow("shell");
    assert!(from_str(text, &r).is_ok());
    let mut r = reg();
    r.allow_all();
    assert!(from_str(text, &r).is_ok());
    assert_eq!(reg().needs().collect::<Vec<_>>(), ["shell"]);
}

#[test]
fn a_quoted_string_refers_only_to_a_key_written_quoted() {
    let g = from_str(
        r#"{"x": 1, "s": "'x'", "t": "\"('a', 0)\"", "('a', 0)": 2}"#,
        &reg(),
    )
    .unwrap();
    // "'x'" is a literal: the key x is written x
    assert!(matches!(g.get(&Key::from("s")), Some(Task::Value(Value::Str(v))) if &**v == "'x'"));
    // the member name "('a', 0)" is a tuple key; "\"('a', 0)\"" would name
    // the string key ('a', 0), which is not in the graph: a literal
    assert!(matches!(g.get(&Key::from("t")), Some(Task::Value(_))));
}

/// The dependencies found while reading, against those found afterwards
/// by looking every reference up.
fn same_dependencies(text: &str) {
    let (g, d) = stream::parse(text, Path::new("<string>"), &reg()).unwrap();
    assert_eq!(d, crate::deps::dependencies(&g).unwrap(), "{text}");
}

#[test]
fn dependencies_read_with_the_file_are_those_of_the_graph() {
    // backward and forward references, repeats, nesting, aliases
    same_dependencies(
        r#"{"x": 1, "y": {"call": "add", "args": ["x", "z"]}, "z": {"call": "inc", "args": ["x"]},
            "w": [["y", "x"], {"call": "add", "args": ["w2", "w2"]}], "w2": "y",
            "s": "no key", "self": {"call": "inc", "args": ["self"]}}"#,
    );
    // tuple keys in any spelling, quoted string keys, a string key that
    // looks like a tuple but is not one
    same_dependencies(
        r#"{"('a', 0)": 1, "b": {"call": "add", "args": ["('a', 0)", "(\"a\", 0)"]},
            "c": ["('a', 1)", "'q'", "\"'q'\"", "(x"], "('a', 1)": 2, "\"'q'\"": 3, "(x": 4}"#,
    );
}

#[test]
fn strings_naming_later_keys_become_references() {
    let g = from_str(
        r#"{"y": {"call": "inc", "args": ["x"]}, "t": "('p', 0)", "x": 1, "('p', 0)": 2}"#,
        &reg(),
    )
    .unwrap();
    assert!(matches!(g.get(&Key::from("t")), Some(Task::Key(k)) if *k == Key::from(("p", 0))));
    let Some(Task::Call(_, args)) = g.get(&Key::from("y")) else {
        panic!("y is a call")
    };
    assert!(matches!(&args[0], Task::Key(k) if *k == Key::from("x")));
}

proptest::proptest! {
    /// Random graphs of string and tuple keys whose tasks name keys
    /// before and after them, and strings that are no key.
    #[test]
    fn dependencies_match_on_random_files(
        tasks in proptest::collection::vec(
            proptest::collection::vec((0_usize..40, 0_u8..4), 0..5), 1..30)
    ) {
        let name = |i: usize, form: u8| match form {
            0 => format!("k{i}"),
            1 => format!("('t', {i})"),
            2 => format!("(\"t\", {i})"),
            _ => format!("nokey{i}"),
        };
        let members: Vec<String> = tasks
            .iter()
            .enumerate()
            .map(|(i, args)| {
                let key = if i % 2 == 0 { format!("k{i}") } else { format!("('t', {i})") };
                let args: Vec<String> = args
                    .iter()
                    .map(|&(a, form)| serde_json::to_string(&name(a, form)).unwrap())
                    .collect();
                format!("{}: [{}]", serde_json::to_string(&key).unwrap(), args.join(", "))
            })
            .collect();
        same_dependencies(&format!("{{{}}}", members.join(", ")));
    }
}

/// `read` streams the file: its errors are those of reading the text whole.
#[test]
fn a_streamed_file_reads_and_fails_as_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [&[u8]; 7] = [
        b"{\n\"x\": 1,\n\"y\": {\"call\": \"inc\", \"args\": [\"x\"]},\n}\n",
        b"{\"x\": 1, \"y\": {\"call\": \"icn\", \"args\": [\"x\"]}}",
        b"{\"x\": 1,\n \"y\": [1, 100000000000000000000]}",
        b"{\"x\": 1, \"x\": 2}",
        b"[1, 2]",
        b"{\"x\": \"caf\xe9\"}",
        b"{\"x\": 1, \"y\": {\"call\": \"add\", \"args\": [\"x\", \"z\"]}, \"z\": 2, \"s\": \"('z', 0)\"}",
    ];
    for (i, bytes) in cases.iter().enumerate() {
        let path = dir.path().join(format!("g{i}.json"));
        std::fs::write(&path, bytes).unwrap();
        let streamed = read_with_dependencies(&path, &reg());
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                let whole = stream::parse(text, &path, &reg());
                match (&streamed, &whole) {
                    (Ok((g, d)), Ok((g2, d2))) => {
                        assert_eq!(format!("{g:?}"), format!("{g2:?}"));
                        assert_eq!(d, d2);
                    }
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    _ => panic!(
                        "case {i}: {:?} against {:?}",
                        streamed.is_ok(),
                        whole.is_ok()
                    ),
                }
            }
            // not UTF-8: the error of reading it, naming the file
            Err(_) => {
                let e = streamed.err().map(|e| e.to_string()).unwrap_or_default();
                assert!(e.contains("cannot read"), "{e}");
                assert!(e.contains(&path.display().to_string()), "{e}");
            }
        }
    }
}

/// Files read in blocks of every small size read as their text does.
#[test]
fn files_read_in_blocks_of_any_size_read_as_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [&str; 14] = [
        "{}",
        " \n{ }\n ",
        "{\"x\": 1}",
        "{\"x\": 1, \"y\": {\"call\": \"inc\", \"args\": [\"x\"]}, \"z\": [\"y\", \"x\", {\"quote\": {\"a,b\": [1, \"}\"]}}]}",
        "{\"a\\\"b,\": 1, \"c\": \"a\\\\\", \"d\": [\"a\\\"b,\", \"c\"]}\n",
        "{\"x\": 1,}",
        "{,\"x\": 1}",
        "{\"x\": 1,, \"y\": 2}",
        "{\"x\": 1} x",
        "{\"x\": 1]",
        "{\"x\": [1, 2}",
        "{\"x\": 1, \"y\": {\"call\": \"nope\"}}",
        "{\"x\": 1, \"x\": 2}",
        "\u{c}{\"x\": 1}",
    ];
    for (i, text) in cases.iter().enumerate() {
        let path = dir.path().join(format!("b{i}.json"));
        std::fs::write(&path, text).unwrap();
        let whole = stream::parse(text, &path, &reg());
        for block in [1, 2, 3, 5, 8, 13, 64] {
            let read = stream::parse_file_in(&path, &reg(), block);
            match (&read, &whole) {
                (Ok((g, d)), Ok((g2, d2))) => {
                    assert_eq!(format!("{g:?}"), format!("{g2:?}"), "{text}");
                    assert_eq!(d, d2, "{text}");
                    // read by blocks, not by the stream read after an error
                    assert!(
                        stream::parse_blocks(&path, &reg(), block, 0).is_some(),
                        "{text}"
                    );
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
                _ => panic!("{text:?} in blocks of {block}: {read:?} against {whole:?}"),
            }
        }
    }
}
