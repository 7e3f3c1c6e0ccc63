use super::*;
use proptest::prelude::*;

#[test]
fn tuple_keys_print_and_parse_as_python() {
    let k = Key::from(("x", 0));
    assert_eq!(k.to_string(), "('x', 0)");
    assert_eq!(Key::parse("('x', 0)"), k);
    assert_eq!(Key::parse("(\"x\", 0)"), k);
    assert_eq!(Key::parse("('x',)"), Key::tuple([KeyPart::from("x")]));
    assert_eq!(Key::from(("a", 1, 2)).to_string(), "('a', 1, 2)");
    assert_eq!(k.name(), "x");
}

#[test]
fn text_that_is_not_a_tuple_is_a_string_key() {
    for t in ["x", "(x)", "('x', y)", "('x' 0)", "('x', 0", "'x", "'x'y'"] {
        assert_eq!(Key::parse(t), Key::from(t), "{t}");
    }
}

#[test]
fn roundtrip_through_text() {
    for k in [
        Key::from("inc-1"),
        Key::from(("arr", 3, -1)),
        Key::from(("a", "b")),
    ] {
        assert_eq!(Key::parse(&k.to_text()), k);
    }
}

#[test]
fn quotes_in_tuple_parts_are_escaped_as_python_does() {
    let k = Key::from(("it's", 0));
    assert_eq!(k.to_text(), "(\"it's\", 0)");
    assert_eq!(Key::parse(&k.to_text()), k);
    let k = Key::from(("a\\'\"b", 1));
    assert_eq!(k.to_text(), "('a\\\\\\'\"b', 1)");
    assert_eq!(Key::parse(&k.to_text()), k);
    assert_eq!(
        Key::parse("('a\\nb\\x41\\u00e9', 2)"),
        Key::from(("a\nbA\u{e9}", 2))
    );
}

#[test]
fn a_string_that_reads_as_a_tuple_and_that_tuple_print_apart() {
    // regression: the tuple ("a', 'b", 0) printed as ('a', 'b', 0), the
    // text of another tuple key
    let odd = Key::parse("(\"a', 'b\", 0)");
    assert_eq!(odd, Key::from(("a', 'b", 0)));
    let plain = Key::from(("a", "b", 0));
    assert_ne!(odd.to_text(), plain.to_text());
    // a string key whose text reads as a tuple is quoted
    let s = Key::from("('a', 'b', 0)");
    assert_eq!(s.to_text(), "\"('a', 'b', 0)\"");
    assert_eq!(Key::parse(&s.to_text()), s);
    assert_ne!(s.to_text(), plain.to_text());
    // and so is one that reads as a quoted string
    let q = Key::from("'x'");
    assert_eq!(Key::parse(&q.to_text()), q);
    assert_ne!(q.to_text(), Key::from("x").to_text());
    assert_eq!(Key::parse("()"), Key::tuple([]));
    assert_eq!(Key::parse(&Key::from("()").to_text()), Key::from("()"));
}

fn part() -> impl Strategy<Value = KeyPart> {
    prop_oneof![
        "[a-z'\"(),\\\\ \n\t\u{1}\u{7f}é]{0,8}".prop_map(KeyPart::from),
        any::<i64>().prop_map(KeyPart::Int),
    ]
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        "[a-z'\"(),\\\\ 0-9\n]{0,12}".prop_map(Key::from),
        // strings that look like tuples or quoted strings
        prop::collection::vec(part(), 0..4).prop_map(|p| Key::from(Key::tuple(p).to_text())),
        prop::collection::vec(part(), 0..4).prop_map(|p| Key::from(format!("'{}'", Key::tuple(p)))),
        prop::collection::vec(part(), 0..4).prop_map(Key::tuple),
    ]
}

proptest! {
    #[test]
    fn text_parses_back_to_the_key(k in key()) {
        prop_assert_eq!(Key::parse(&k.to_text()), k);
    }

    #[test]
    fn two_keys_never_print_the_same(a in key(), b in key()) {
        if a != b {
            prop_assert_ne!(a.to_text(), b.to_text());
        }
    }
}
