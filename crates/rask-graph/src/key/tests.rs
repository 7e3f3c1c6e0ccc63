use super::*;

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
    for t in ["x", "(x)", "('x', y)", "()", "('x' 0)", "('x', 0"] {
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
