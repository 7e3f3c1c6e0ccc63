//! Projection: the named fields of JSON lines, read without building the
//! rest of each record, as a columnar reader reads only the columns a
//! query needs.
//!
//! The fields' paths make a tree of steps. Each line is scanned once,
//! walking that tree: a member on a path is entered, a member on no path
//! is skipped (checked to be well-formed JSON, nothing built), and a
//! field's value is kept as its JSON text. A line of a shape seen before
//! in the same partition is checked against that shape instead
//! ([`shape`]); other lines go through a hand-written validating scanner
//! ([`scan`]); where it gives up, `serde_json` walks the same tree (on a
//! line checked to be UTF-8 as a whole) and gives the answer or the
//! error. Only the fields' values are then deserialized into the type
//! asked for. The whole line must be one valid JSON value; a path through
//! a value that is not an object (or, for a number step like
//! `"commits.0"`, an array) finds nothing, as [`Field::get`] does.

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::BagError;
use crate::json::Field;
use crate::pipe::{Flow, RefSink, Stop};

#[cfg(test)]
mod fuzz;
mod scan;
mod shape;

pub(crate) use shape::Shapes;

/// Up to this many fields, a line's fields are found without allocating.
const FEW: usize = 8;

/// The fields to read from each line, and how to make an item of them.
#[derive(Debug)]
pub(crate) struct Projection {
    fields: Vec<Field>,
    steps: Steps,
    /// The item is the one field's value (`json_field`), not a sequence of
    /// the fields' values (`json_fields`).
    one: bool,
}

/// The fields' paths as a tree: node 0 is the record.
#[derive(Debug)]
struct Steps {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    /// The fields whose path ends here.
    fields: Vec<usize>,
    /// The steps on from here.
    children: Vec<Child>,
}

#[derive(Debug)]
struct Child {
    /// The member name.
    name: String,
    /// Its first 8 bytes, zero-padded: most names differ there.
    head: u64,
    /// The name as an array index, if it is a number.
    index: Option<usize>,
    node: usize,
}

/// The first 8 bytes of `name`, zero-padded, as a number.
#[inline(always)]
fn head(name: &[u8]) -> u64 {
    let mut bytes = [0_u8; 8];
    let n = name.len().min(8);
    bytes[..n].copy_from_slice(&name[..n]);
    u64::from_le_bytes(bytes)
}

impl Child {
    /// Whether this child is the member `name`.
    #[inline(always)]
    fn is(&self, name: &[u8]) -> bool {
        self.name.len() == name.len()
            && self.head == head(name)
            && (name.len() <= 8 || self.name.as_bytes()[8..] == name[8..])
    }
}

impl Steps {
    fn new(fields: &[Field]) -> Steps {
        let mut nodes = vec![Node::default()];
        for (f, field) in fields.iter().enumerate() {
            let mut at = 0;
            for step in field.steps() {
                let existing = nodes[at].children.iter().find(|c| &c.name == step);
                at = match existing {
                    Some(child) => child.node,
                    None => {
                        let node = nodes.len();
                        nodes.push(Node::default());
                        nodes[at].children.push(Child {
                            head: head(step.as_bytes()),
                            name: step.clone(),
                            index: step.parse().ok(),
                            node,
                        });
                        node
                    }
                };
            }
            nodes[at].fields.push(f);
        }
        Steps { nodes }
    }
}

/// A field's value in one line.
#[derive(Clone, Copy)]
enum Found<'a> {
    /// Its JSON text.
    Text(Text<'a>),
    /// The record does not have it.
    Missing,
}

/// A field's JSON text as the scan found it.
#[derive(Clone, Copy)]
struct Text<'a> {
    json: &'a str,
    /// The scanner saw a string without escapes: the text between the
    /// quotes is the value, with no second look.
    plain_string: bool,
}

impl<'a> Text<'a> {
    /// JSON text of which nothing more is known.
    fn json(json: &'a str) -> Text<'a> {
        Text {
            json,
            plain_string: false,
        }
    }
}

fn found<'a>(values: &[Option<Text<'a>>], i: usize) -> Found<'a> {
    match values.get(i) {
        Some(Some(text)) => Found::Text(*text),
        _ => Found::Missing,
    }
}

impl Projection {
    /// A projection of `fields`; `one` makes each item the value of the
    /// single field rather than a sequence.
    pub(crate) fn new(fields: Vec<Field>, one: bool) -> Projection {
        let steps = Steps::new(&fields);
        Projection { fields, steps, one }
    }

    /// Whether each item is the one field's value.
    pub(crate) fn is_one(&self) -> bool {
        self.one
    }

    /// The paths, as written with dots.
    pub(crate) fn paths(&self) -> Vec<String> {
        self.fields.iter().map(Field::path).collect()
    }

    /// The item of one line (`None` for a blank line).
    /// `shapes`: the shapes of the lines before (see [`Shapes`]), to be
    /// kept from one line of a source to the next.
    pub(crate) fn parse<T: DeserializeOwned>(
        &self,
        line: &[u8],
        shapes: &mut Shapes,
    ) -> Result<Option<T>, BagError> {
        let mut slot = None;
        self.parse_into(line, &mut slot, shapes)?;
        Ok(slot)
    }

    /// The item of one line, made in `slot`: when `slot` holds the item
    /// of an earlier line, that item is deserialized in place (a `String`
    /// keeps its buffer), so lending items costs no allocation per line.
    /// `false` for a blank line (`slot` untouched).
    pub(crate) fn parse_into<T: DeserializeOwned>(
        &self,
        line: &[u8],
        slot: &mut Option<T>,
        shapes: &mut Shapes,
    ) -> Result<bool, BagError> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(false);
        }
        // the fields' texts: on the stack for a few fields
        let mut few = [None; FEW];
        let mut many = Vec::new();
        let values: &mut [Option<Text>] = if self.fields.len() <= FEW {
            &mut few[..self.fields.len()]
        } else {
            many.resize(self.fields.len(), None);
            &mut many
        };
        if shapes.find(line, &self.steps, values).is_none() {
            // the slow way, which gives the answer or the error; the whole
            // line, skipped members too, must be UTF-8
            values.fill(None);
            let line = simdutf8::basic::from_utf8(line).map_err(|_| BagError::Utf8 { at: None })?;
            self.walk(line, values)
                .map_err(|source| BagError::Json { at: None, source })?;
        }
        self.build(values, slot)?;
        Ok(true)
    }

    /// Makes the item of `line` in `slot` (see [`parse_into`](Self::parse_into))
    /// and lends it to `sink`; nothing for a blank line.
    pub(crate) fn lend<T: DeserializeOwned>(
        &self,
        line: &[u8],
        slot: &mut Option<T>,
        shapes: &mut Shapes,
        sink: &mut RefSink<'_, T>,
    ) -> Flow {
        match self.parse_into(line, slot, shapes) {
            Ok(true) => slot.as_ref().map_or(Ok(()), sink),
            Ok(false) => Ok(()),
            Err(e) => Err(Stop::Failed(e)),
        }
    }

    /// Finds the fields with `serde_json`.
    fn walk<'a>(&self, line: &'a str, values: &mut [Option<Text<'a>>]) -> serde_json::Result<()> {
        let mut de = serde_json::Deserializer::from_str(line);
        Walk {
            steps: &self.steps,
            node: 0,
            values,
        }
        .deserialize(&mut de)?;
        de.end()
    }

    /// The item made of the fields' values, in `slot` (in place if it
    /// holds one).
    fn build<T: DeserializeOwned>(
        &self,
        values: &[Option<Text>],
        slot: &mut Option<T>,
    ) -> Result<(), BagError> {
        let failed = Cell::new(None);
        let fields = || Fields {
            count: self.fields.len(),
            values,
            next: 0,
            failed: &failed,
        };
        let result = match (self.one, slot) {
            (true, Some(place)) => {
                failed.set(Some(0));
                element(InPlace(place), found(values, 0))
            }
            (true, slot) => {
                failed.set(Some(0));
                element(std::marker::PhantomData::<T>, found(values, 0)).map(|x| *slot = Some(x))
            }
            (false, Some(place)) => T::deserialize_in_place(fields(), place),
            (false, slot) => T::deserialize(fields()).map(|x| *slot = Some(x)),
        };
        result.map_err(|source| match failed.get() {
            Some(i) => {
                let field = self.fields[i].path();
                match found(values, i) {
                    Found::Missing => BagError::MissingField { field, at: None },
                    Found::Text(_) => BagError::FieldType {
                        field,
                        at: None,
                        source,
                    },
                }
            }
            None => BagError::Json { at: None, source },
        })
    }
}

/// Walks one JSON value at a node of the steps, keeping the text of the
/// fields that end there and skipping what no path goes through.
struct Walk<'s, 'v, 'de> {
    steps: &'s Steps,
    node: usize,
    values: &'v mut [Option<Text<'de>>],
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let steps = self.steps;
        let node = &steps.nodes[self.node];
        if node.fields.is_empty() {
            return deserializer.deserialize_any(self);
        }
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        for &f in &node.fields {
            self.values[f] = Some(Text::json(raw.get()));
        }
        if !node.children.is_empty() {
            // a field inside another field: walk the value's text again
            serde_json::Deserializer::from_str(raw.get())
                .deserialize_any(self)
                .map_err(<D::Error as de::Error>::custom)?;
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let children = &self.steps.nodes[self.node].children;
        while let Some(child) = map.next_key_seed(MemberOf(children))? {
            match child {
                Some(node) => map.next_value_seed(Walk {
                    steps: self.steps,
                    node,
                    values: &mut *self.values,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let children = &self.steps.nodes[self.node].children;
        let mut i = 0;
        loop {
            let more = match children.iter().find(|c| c.index == Some(i)) {
                Some(child) => seq
                    .next_element_seed(Walk {
                        steps: self.steps,
                        node: child.node,
                        values: &mut *self.values,
                    })?
                    .is_some(),
                None => seq.next_element::<IgnoredAny>()?.is_some(),
            };
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }

    // a path through a scalar finds nothing
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Reads a member name and tells which child of a node it is, without
/// allocating.
struct MemberOf<'c>(&'c [Child]);

impl<'de> DeserializeSeed<'de> for MemberOf<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for MemberOf<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().find(|c| c.name == name).map(|c| c.node))
    }
}

/// Deserializes a value into an existing one (`Deserialize::deserialize_in_place`).
struct InPlace<'p, T>(&'p mut T);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for InPlace<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        T::deserialize_in_place(deserializer, self.0)
    }
}

/// Deserializes one field's value with `seed`.
fn element<'a, S: DeserializeSeed<'a>>(
    seed: S,
    found: Found<'a>,
) -> Result<S::Value, serde_json::Error> {
    match found {
        Found::Text(text) => match Plain::of(text) {
            Some(plain) => seed.deserialize(plain),
            None => parsed(text.json, |de| seed.deserialize(de)),
        },
        Found::Missing => seed.deserialize(Missing),
    }
}

/// `ask` of a `serde_json` deserializer of `text`, which must hold
/// nothing more.
fn parsed<'a, R>(
    text: &'a str,
    ask: impl FnOnce(
        &mut serde_json::Deserializer<serde_json::de::StrRead<'a>>,
    ) -> serde_json::Result<R>,
) -> serde_json::Result<R> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ask(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A field's value that needs no parser: the common cases, a string
/// without escapes or a small non-negative integer. It is given to the
/// visitor as `serde_json` gives it (`visit_borrowed_str`, `visit_u64`);
/// what a visitor of another kind asks of it (an enum, bytes) goes to
/// `serde_json`, so the answers and errors are the parser's.
struct Plain<'a> {
    value: PlainValue<'a>,
    /// The JSON text.
    text: &'a str,
}

enum PlainValue<'a> {
    /// Between the quotes.
    Str(&'a str),
    Int(u64),
}

impl<'a> Plain<'a> {
    fn of(found: Text<'a>) -> Option<Plain<'a>> {
        let text = found.json;
        let b = text.as_bytes();
        let value = if found.plain_string {
            PlainValue::Str(&text[1..text.len() - 1])
        } else if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            // the text is valid JSON, so a quote inside is escaped: a
            // backslash is all there is to look for (a short scan, where
            // a SIMD search costs more to set up)
            if inner.as_bytes().contains(&b'\\') {
                return None;
            }
            PlainValue::Str(inner)
        } else if !b.is_empty()
            && b.len() <= 18
            && b.iter().all(u8::is_ascii_digit)
            && (b[0] != b'0' || b.len() == 1)
        {
            // at most 18 digits fit a u64
            PlainValue::Int(text.parse().ok()?)
        } else {
            return None;
        };
        Some(Plain { value, text })
    }
}

impl<'de> Deserializer<'de> for Plain<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            PlainValue::Str(s) => visitor.visit_borrowed_str(s),
            PlainValue::Int(n) => visitor.visit_u64(n),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        parsed(self.text, |de| de.deserialize_enum(name, variants, visitor))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        parsed(self.text, |de| de.deserialize_bytes(visitor))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        parsed(self.text, |de| de.deserialize_byte_buf(visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// The value of a field a record does not have: `None` for an `Option`,
/// an error for anything else.
struct Missing;

impl<'de> Deserializer<'de> for Missing {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("missing"))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The fields' values of one record as a sequence: a tuple, or a struct
/// whose members are the fields in order.
struct Fields<'r, 'a> {
    count: usize,
    values: &'r [Option<Text<'a>>],
    next: usize,
    /// The field whose value failed to deserialize.
    failed: &'r Cell<Option<usize>>,
}

impl<'de> Deserializer<'de> for Fields<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'a> SeqAccess<'a> for Fields<'_, 'a> {
    type Error = serde_json::Error;

    fn next_element_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Self::Error> {
        let i = self.next;
        if i == self.count {
            return Ok(None);
        }
        self.next += 1;
        self.failed.set(Some(i));
        let value = element(seed, found(self.values, i))?;
        self.failed.set(None);
        Ok(Some(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.count - self.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Json;
    use proptest::prelude::*;

    fn one<T: DeserializeOwned>(field: &str, line: &str) -> Result<Option<T>, BagError> {
        Projection::new(vec![Field::from(field)], true)
            .parse(line.as_bytes(), &mut Shapes::default())
    }

    fn many<T: DeserializeOwned>(fields: &[&str], line: &str) -> Result<Option<T>, BagError> {
        let fields = fields.iter().map(|f| Field::from(*f)).collect();
        Projection::new(fields, false).parse(line.as_bytes(), &mut Shapes::default())
    }

    #[test]
    fn reads_nested_fields_and_escapes() {
        let line = r#"{"id": 1, "actor": {"id": 2, "login": "a\"d\u00e9"}, "x": [1, {"y": 2}]}"#;
        assert_eq!(
            one::<String>("actor.login", line).unwrap(),
            Some("a\"dé".to_string())
        );
        let (id, login): (u64, String) = many(&["actor.id", "actor.login"], line).unwrap().unwrap();
        assert_eq!((id, login.as_str()), (2, "a\"dé"));
        assert_eq!(one::<u64>("x.1.y", line).unwrap(), Some(2));
        assert_eq!(one::<String>("actor.login", "   ").unwrap(), None);
    }

    #[test]
    fn missing_fields_are_none_or_an_error_naming_the_field() {
        for line in [
            r#"{"type": "A"}"#,
            r#"{"type": "A", "payload": {}}"#,
            r#"{"type": "A", "payload": 5}"#,
            r#"{"type": "A", "payload": null}"#,
            r#"{"type": "A", "payload": {"size": null}}"#,
        ] {
            let (kind, size): (String, Option<u64>) =
                many(&["type", "payload.size"], line).unwrap().unwrap();
            assert_eq!((kind.as_str(), size), ("A", None), "{line}");
            let e = one::<u64>("payload.size", line).unwrap_err();
            let expected = if line.contains("\"size\": null") {
                "field \"payload.size\": invalid type: null, expected u64"
            } else {
                "record has no field \"payload.size\""
            };
            assert!(e.to_string().starts_with(expected), "{line}: {e}");
        }
    }

    #[test]
    fn plain_strings_read_as_the_parser_reads_them() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        enum Kind {
            PushEvent,
            WatchEvent,
        }
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Login(String);
        let line = r#"{"t": "PushEvent", "w": "WatchEvent", "c": "x", "e": "a\\b", "n": "12"}"#;
        let (push, watch, c, e): (Kind, Option<Kind>, char, String) =
            many(&["t", "w", "c", "e"], line).unwrap().unwrap();
        assert_eq!(
            (push, watch, c, e.as_str()),
            (Kind::PushEvent, Some(Kind::WatchEvent), 'x', "a\\b")
        );
        let login: Login = one("t", line).unwrap().unwrap();
        assert_eq!(login, Login("PushEvent".into()));
        let json: Json = one("t", line).unwrap().unwrap();
        assert_eq!(json, Json::from("PushEvent"));
        let e = one::<Kind>("c", line).unwrap_err();
        assert!(e.to_string().contains("unknown variant `x`"), "{e}");
        let e = one::<u64>("n", line).unwrap_err();
        assert!(
            e.to_string()
                .contains("invalid type: string \"12\", expected u64"),
            "{e}"
        );
    }

    #[test]
    fn plain_integers_read_as_the_parser_reads_them() {
        let line = r#"{"a": 7, "b": 0, "c": 123456789012345678, "d": 12345678901234567890, "e": -3, "f": 1.5}"#;
        let fields = ["a", "b", "c", "d", "e", "f"];
        type Six = (u8, f64, u64, u64, i64, f64);
        let got: Six = many(&fields, line).unwrap().unwrap();
        assert_eq!(
            got,
            (7, 0.0, 123456789012345678, 12345678901234567890, -3, 1.5)
        );
        let json: (Json, Option<Json>) = many(&["a", "d"], line).unwrap().unwrap();
        assert_eq!(
            json,
            (Json::from(7), Some(Json::from(12345678901234567890_u64)))
        );
        for (field, expected) in [
            ("a", "invalid type: integer `7`, expected a string"),
            (
                "d",
                "invalid type: integer `12345678901234567890`, expected a string",
            ),
        ] {
            let e = one::<String>(field, line).unwrap_err();
            assert!(e.to_string().contains(expected), "{e}");
        }
        let e = one::<u8>("c", line).unwrap_err();
        assert!(
            e.to_string()
                .contains("invalid value: integer `123456789012345678`, expected u8"),
            "{e}"
        );
        let e = one::<bool>("a", line).unwrap_err();
        assert!(
            e.to_string()
                .contains("invalid type: integer `7`, expected a boolean"),
            "{e}"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_the_field() {
        let e = one::<String>("actor.login", r#"{"actor": {"login": 7}}"#).unwrap_err();
        assert!(matches!(e, BagError::FieldType { ref field, .. } if field == "actor.login"));
        assert!(e.to_string().contains("expected a string"), "{e}");
    }

    #[test]
    fn malformed_lines_are_json_errors_wherever_the_fault_is() {
        for line in [
            r#"{"a": "x", "b": [1, 2"#,
            r#"{"a": "x"} trailing"#,
            r#"{"a": "x"} {"a": "y"}"#,
            r#"{"a": "x" "b": 1}"#,
            r#"{"b": tru, "a": "x"}"#,
            r#"{"a": "x", "b": "\q"}"#,
        ] {
            let e = one::<String>("a", line).unwrap_err();
            assert!(matches!(e, BagError::Json { .. }), "{line}: {e}");
        }
        let bad_utf8 = b"{\"a\": \"x\", \"b\": \"\xff\"}";
        let projection = Projection::new(vec![Field::from("a")], true);
        let e = projection
            .parse::<String>(bad_utf8, &mut Shapes::default())
            .unwrap_err();
        assert!(matches!(e, BagError::Utf8 { .. }), "{e}");
    }

    #[test]
    fn agrees_with_parsing_the_whole_record() {
        let lines = [
            r#"{"a": {"b": 1, "c": [true, null]}, "d": "x"}"#,
            r#"{"a": [], "d": 2.5}"#,
            r#"[1, 2]"#,
            r#"7"#,
            r#"{"a": {"b": {"deep": [1, [2, [3]]]}}, "d": {}}"#,
        ];
        for line in lines {
            let record: Json = serde_json::from_str(line).unwrap();
            for path in ["a", "a.b", "a.c", "d", "a.b.deep", "zz"] {
                let expected = Field::from(path).get(&record).cloned();
                let got = one::<Option<Json>>(path, line).unwrap().unwrap();
                // a present null reads as None through Option, as serde does
                let expected = expected.filter(|v| !v.is_null());
                assert_eq!(got, expected, "{line} {path}");
            }
        }
    }

    /// JSON values of every kind, nested a few levels, with member names
    /// that the paths below use.
    fn json_value() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<i64>().prop_map(Json::from),
            (-1e6..1e6f64).prop_map(Json::from),
            "[a-z\\\"\n\u{e9}\u{1F600}\t\u{1}/]{0,12}".prop_map(Json::from),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::from),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("a".to_string()),
                            Just("b".to_string()),
                            Just("0".to_string()),
                            "[a-c\\\"]{0,3}"
                        ],
                        inner
                    ),
                    0..5
                )
                .prop_map(|members| Json::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The scanner and `serde_json` agree on every line: the same
        /// fields' text, or both refuse it; and lines damaged at one
        /// byte too.
        #[test]
        fn the_scanner_agrees_with_serde_json(
            value in json_value(),
            pretty in any::<bool>(),
            unicode_escapes in any::<bool>(),
            damage in proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
        ) {
            let mut text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            if unicode_escapes {
                // the same strings, with `\u` escapes (a surrogate pair too)
                text = text.replace('\u{e9}', "\\u00E9").replace('\u{1F600}', "\\ud83d\\ude00");
            }
            // damage: any byte anywhere, so UTF-8 breaks too
            let mut line = text.clone().into_bytes();
            if let Some((at, byte)) = damage {
                if !line.is_empty() {
                    let i = at.index(line.len());
                    line[i] = byte;
                }
            }
            let fields: Vec<Field> = ["a", "a.b", "b.0", "0", "a.a.a", "b.1.a"]
                .into_iter()
                .map(Field::from)
                .collect();
            let projection = Projection::new(fields, false);
            let mut fast = vec![None; 6];
            let fast_ok = scan::scan(&line, &projection.steps, &mut fast).is_some();
            match std::str::from_utf8(&line) {
                Err(_) => prop_assert!(!fast_ok, "scanner took bad UTF-8: {:?}", line),
                Ok(line) => {
                    let mut slow = vec![None; 6];
                    let slow = projection.walk(line, &mut slow).map(|()| slow);
                    // serde_json refuses numbers beyond f64 where it builds
                    // them (not where it skips them); JSON has no such limit
                    let out_of_range = matches!(&slow, Err(e) if e.to_string().starts_with("number out of range"));
                    if fast_ok && !out_of_range {
                        prop_assert!(slow.is_ok(), "scanner took what serde_json refuses: {}", line);
                        let slow = slow.unwrap();
                        fn texts<'a>(v: &[Option<Text<'a>>]) -> Vec<Option<&'a str>> {
                            v.iter().map(|t| t.map(|t| t.json)).collect()
                        }
                        prop_assert_eq!(texts(&fast), texts(&slow), "{}", line);
                        // a string said to be plain is one without escapes
                        for t in fast.iter().flatten().filter(|t| t.plain_string) {
                            let decoded: String = serde_json::from_str(t.json).unwrap();
                            prop_assert_eq!(&decoded, &t.json[1..t.json.len() - 1], "{}", line);
                        }
                    }
                }
            }
            if damage.is_none() {
                prop_assert!(fast_ok, "scanner gave up on valid JSON: {}", text);
            }
        }

        /// Once a line's shape is recorded, a line is found by it (or
        /// refused) exactly as the scanner finds it (or refuses it): a line
        /// of the same shape (the same value with other scalars), a line
        /// of another, and a damaged one.
        #[test]
        fn shapes_agree_with_the_scanner(
            value in json_value(),
            other in json_value(),
            pretty in any::<bool>(),
            unicode_escapes in any::<bool>(),
            damage in (any::<prop::sample::Index>(), any::<u8>()),
        ) {
            let show = |v: &Json| {
                let text = if pretty {
                    serde_json::to_string_pretty(v).unwrap()
                } else {
                    serde_json::to_string(v).unwrap()
                };
                if unicode_escapes {
                    text.replace('\u{e9}', "\\u00e9").replace('\u{1F600}', "\\uD83D\\uDE00")
                } else {
                    text
                }
            };
            let fields: Vec<Field> = ["a", "a.b", "b.0", "0", "a.a.a", "b.1.a"]
                .into_iter()
                .map(Field::from)
                .collect();
            let steps = Projection::new(fields, false).steps;
            let mut shapes = Shapes::default();
            let mut first = vec![None; 6];
            let learned = shapes.find(show(&value).as_bytes(), &steps, &mut first).is_some();
            let twin = show(&other_scalars(&value, &steps, Some(0))).into_bytes();
            let mut damaged = twin.clone();
            if !damaged.is_empty() {
                let i = damage.0.index(damaged.len());
                damaged[i] = damage.1;
            }
            if learned && shapes.recorded() {
                let mut values = vec![None; 6];
                prop_assert!(shapes.matches(&twin, &steps, &mut values).is_some(), "{}", show(&value));
            }
            for line in [twin, show(&other).into_bytes(), damaged] {
                let mut want = vec![None; 6];
                let want_ok = scan::scan(&line, &steps, &mut want).is_some();
                let mut got = vec![None; 6];
                let got_ok = shapes.find(&line, &steps, &mut got).is_some();
                let shown = String::from_utf8_lossy(&line);
                prop_assert_eq!(got_ok, want_ok, "{}", shown);
                if want_ok {
                    let texts = |v: &[Option<Text>]| v.iter().map(|t| t.map(|t| (t.json.to_string(), t.plain_string))).collect::<Vec<_>>();
                    prop_assert_eq!(texts(&got), texts(&want), "{}", shown);
                }
            }
        }
    }

    /// `value` with every scalar replaced by another of the same kind
    /// (strings get escapes and non-ASCII text), but for the strings
    /// where a path goes on (a shape keeps those as they are). `node`: the
    /// node of the steps at `value`, if it is on a path.
    fn other_scalars(value: &Json, steps: &Steps, node: Option<usize>) -> Json {
        let child = |name: &str| {
            node.and_then(|n| steps.nodes[n].children.iter().find(|c| c.name == name))
                .map(|c| c.node)
        };
        match value {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(!b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Json::from(i / 3 - 7),
                None => Json::from(n.as_f64().unwrap_or(0.0) * -1.5 + 0.25),
            },
            Json::String(s) if node.is_some_and(|n| !steps.nodes[n].children.is_empty()) => {
                Json::from(s.clone())
            }
            Json::String(s) => Json::from(format!("{s}q\"\u{e9}{}", s.len())),
            Json::Array(items) => Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| other_scalars(v, steps, child(&i.to_string())))
                    .collect(),
            ),
            Json::Object(members) => Json::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), other_scalars(v, steps, child(k))))
                    .collect(),
            ),
        }
    }

    #[test]
    fn a_struct_takes_the_fields_in_order() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Event {
            kind: String,
            size: Option<u64>,
        }
        let e: Event = many(
            &["type", "payload.size"],
            r#"{"payload": {"size": 3}, "type": "P"}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            e,
            Event {
                kind: "P".into(),
                size: Some(3)
            }
        );
        let short = many::<(String, u64, u64)>(&["type", "payload.size"], r#"{"type": "P"}"#);
        assert!(short.is_err());
    }
}
