//! Line shapes: the JSON lines of one source mostly have the same members
//! in the same order, with values of the same kinds (all the push events
//! of a log look alike), and such lines are checked faster against the
//! shape of an earlier line than by scanning their grammar again.
//!
//! A line's shape is what is left of it without its scalar values: the
//! text between them (brackets, member names, colons, commas, white space:
//! the *glue*) and the kind of each value (string, number, boolean,
//! `null`). A line that the scanner validated is recorded as a
//! path of a tree of shapes (lines share their beginnings). A later line
//! matches a shape when its text is the same glue with values of the same
//! kinds in between: comparing glue is comparing bytes, eight at a time,
//! and a value is checked as the scanner checks it (a string's escapes and
//! UTF-8, a number's grammar). Such a line is valid JSON (a scalar value
//! can take the place of any other in a valid text), its member names are
//! those of the recorded line, so its fields are the values in the same
//! places.
//!
//! A line that matches no shape is scanned as before and its shape
//! recorded, until the tree holds [`MAX_NODES`] values: sources whose
//! lines all differ (arrays of any length, say) stop being recorded, and
//! if fewer than half of the lines of any thousand in a row had a shape
//! seen before, the shapes are no longer tried. A
//! line whose projected field is an object or an array is not recorded
//! (its text is not one value of the shape).

use super::scan::{self, Kind, Record, Scanner};
use super::{Steps, Text};

/// The most values the tree of shapes holds.
pub(super) const MAX_NODES: usize = 4096;

/// Shapes are no longer tried once fewer than half of the lines of a
/// window of this many had one seen before (the scanner alone is then
/// faster).
const TRIAL: u64 = 1024;

/// The shapes of the lines seen so far, as a tree.
pub(crate) struct Shapes {
    /// Node 0 is the start of a line.
    nodes: Vec<Node>,
    /// Whether new shapes are still recorded.
    learning: bool,
    /// Lines tried against the shapes in this window, and those that
    /// had one.
    tried: u64,
    matched: u64,
    /// Whether shapes are tried at all.
    trying: bool,
    /// The values of the line being recorded (kept for its allocation).
    marks: Vec<Mark>,
}

#[derive(Default)]
struct Node {
    edges: Vec<Edge>,
}

/// Glue, then a value or the end of the line.
struct Edge {
    glue: Box<[u8]>,
    next: Next,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    /// A value of `kind`, the value of the fields of the steps' node
    /// `step` (if it is on a path), then the node `then`.
    Value {
        kind: Kind,
        step: Option<usize>,
        then: usize,
    },
    /// The end of the line.
    End,
}

/// A scalar value where the scanner met it.
#[derive(Clone, Copy)]
struct Mark {
    start: usize,
    end: usize,
    kind: Kind,
    /// The steps' node it is the value of, if it is on a path.
    step: Option<usize>,
}

/// Records the values of a line into `marks`; `spoiled` when a field's
/// value is a container.
struct Marks<'m> {
    marks: &'m mut Vec<Mark>,
    spoiled: bool,
}

impl Record for &mut Marks<'_> {
    fn value(&mut self, start: usize, end: usize, kind: Kind, step: Option<usize>) {
        self.marks.push(Mark {
            start,
            end,
            kind,
            step,
        });
    }

    fn container_field(&mut self) {
        self.spoiled = true;
    }
}

impl Default for Shapes {
    fn default() -> Shapes {
        Shapes {
            nodes: vec![Node::default()],
            learning: true,
            tried: 0,
            matched: 0,
            trying: true,
            marks: Vec::new(),
        }
    }
}

impl Shapes {
    /// Finds the fields of `line` in `values` (all `None` on entry) by
    /// the shape it has, or, if it has none seen before, by scanning it
    /// (then its shape is recorded). `None`: the line is not valid JSON
    /// or the scanner gave up on it; `values` must be cleared.
    pub(super) fn find<'a>(
        &mut self,
        line: &'a [u8],
        steps: &Steps,
        values: &mut [Option<Text<'a>>],
    ) -> Option<()> {
        if self.tried == TRIAL {
            // a source whose lines mostly differ: the scanner alone
            self.trying = 2 * self.matched >= self.tried;
            (self.tried, self.matched) = (0, 0);
        }
        if !self.trying {
            return scan::scan(line, steps, values);
        }
        self.tried += 1;
        if self.matches(line, steps, values).is_some() {
            self.matched += 1;
            return Some(());
        }
        values.fill(None);
        if !self.learning {
            return scan::scan(line, steps, values);
        }
        let mut marks = std::mem::take(&mut self.marks);
        marks.clear();
        let mut record = Marks {
            marks: &mut marks,
            spoiled: false,
        };
        let found = scan::scan_with(line, steps, values, &mut record);
        if found.is_some() && !record.spoiled {
            self.add(line, &marks);
        }
        self.marks = marks;
        found
    }

    /// Whether any shape is recorded.
    #[cfg(test)]
    pub(super) fn recorded(&self) -> bool {
        !self.nodes[0].edges.is_empty()
    }

    /// Finds the fields of `line` by a recorded shape.
    pub(super) fn matches<'a>(
        &self,
        line: &'a [u8],
        steps: &Steps,
        values: &mut [Option<Text<'a>>],
    ) -> Option<()> {
        let mut s = Scanner::new(line);
        let mut node = 0;
        loop {
            let rest = line.get(s.i..)?;
            let edge = self.nodes[node].edges.iter().find(|e| {
                rest.len() >= e.glue.len()
                    && same(&rest[..e.glue.len()], &e.glue)
                    && match e.next {
                        Next::End => rest.len() == e.glue.len(),
                        Next::Value { kind, .. } => starts(kind, rest.get(e.glue.len()).copied()),
                    }
            })?;
            s.i += edge.glue.len();
            let Next::Value { kind, step, then } = edge.next else {
                return Some(());
            };
            let start = s.i;
            let escaped = s.value_of(kind)?;
            if let Some(n) = step {
                let raw = line.get(start..s.i)?;
                // SAFETY: as in the scanner: a value that passed is ASCII
                // outside strings and checked UTF-8 inside them, and both
                // ends are at ASCII bytes
                let json = unsafe { std::str::from_utf8_unchecked(raw) };
                let text = Text {
                    json,
                    plain_string: kind == Kind::Str && !escaped,
                };
                for &f in &steps.nodes[n].fields {
                    values[f] = Some(text);
                }
            }
            node = then;
        }
    }

    /// Records the shape of `line`, whose values are `marks`.
    fn add(&mut self, line: &[u8], marks: &[Mark]) {
        let mut node = 0;
        let mut at = 0;
        let steps = marks
            .iter()
            .map(|m| (m.start, Some(*m)))
            .chain(std::iter::once((line.len(), None)));
        for (start, mark) in steps {
            let glue = &line[at..start];
            let known = self.nodes[node].edges.iter().find(|e| {
                *e.glue == *glue
                    && match (e.next, mark) {
                        (Next::End, None) => true,
                        (Next::Value { kind, step, .. }, Some(m)) => {
                            kind == m.kind && step == m.step
                        }
                        _ => false,
                    }
            });
            let next = match (known, mark) {
                (Some(e), _) => e.next,
                (None, _) if self.nodes.len() >= MAX_NODES => {
                    // too many shapes: stop recording (what is recorded of
                    // this line leads nowhere it could match)
                    self.learning = false;
                    return;
                }
                (None, mark) => {
                    let next = match mark {
                        Some(m) => {
                            self.nodes.push(Node::default());
                            Next::Value {
                                kind: m.kind,
                                step: m.step,
                                then: self.nodes.len() - 1,
                            }
                        }
                        None => Next::End,
                    };
                    self.nodes[node].edges.push(Edge {
                        glue: glue.into(),
                        next,
                    });
                    next
                }
            };
            match (next, mark) {
                (Next::Value { then, .. }, Some(m)) => {
                    node = then;
                    at = m.end;
                }
                _ => return,
            }
        }
    }
}

/// Whether a value of `kind` can start with `first`.
#[inline(always)]
fn starts(kind: Kind, first: Option<u8>) -> bool {
    matches!(
        (kind, first),
        (Kind::Str, Some(b'"'))
            | (Kind::Num, Some(b'-' | b'0'..=b'9'))
            | (Kind::Bool, Some(b't' | b'f'))
            | (Kind::Null, Some(b'n'))
    )
}

/// `a == b` for slices of one length, in a few word comparisons (glue is
/// short: a call to `memcmp` would cost more than the comparison).
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let w8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    let w4 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or_default());
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if w8(a, i) != w8(b, i) {
                return false;
            }
            i += 8;
        }
        // the last eight bytes, overlapping the word before
        w8(a, n - 8) == w8(b, n - 8)
    } else if n >= 4 {
        w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Field;

    fn steps(fields: &[&str]) -> Steps {
        let fields: Vec<Field> = fields.iter().map(|f| Field::from(*f)).collect();
        Steps::new(&fields)
    }

    fn texts<'a>(values: &[Option<Text<'a>>]) -> Vec<Option<&'a str>> {
        values.iter().map(|t| t.map(|t| t.json)).collect()
    }

    /// Finds the fields of `line` (two) by `shapes`, as the scanner does.
    fn finds_what_the_scanner_finds(shapes: &mut Shapes, steps: &Steps, line: &str) {
        let mut values = [None; 2];
        shapes.find(line.as_bytes(), steps, &mut values).unwrap();
        let mut want = [None; 2];
        scan::scan(line.as_bytes(), steps, &mut want).unwrap();
        assert_eq!(texts(&values), texts(&want), "{line}");
    }

    #[test]
    fn same_compares_every_byte() {
        for len in 0..40 {
            let a: Vec<u8> = (0..len as u8).collect();
            assert!(same(&a, &a));
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same(&a, &b), "{len} {at}");
            }
        }
    }

    #[test]
    fn lines_of_a_recorded_shape_are_matched_and_others_scanned() {
        let steps = steps(&["a.b", "c"]);
        let mut shapes = Shapes::default();
        let lines = [
            r#"{"a": {"b": "x", "z": 1}, "c": 2, "d": [true, null]}"#,
            r#"{"a": {"b": "yé", "z": -1.5e3}, "c": 30, "d": [false, null]}"#,
            r#"{"a": {"b": "q\"", "z": 0}, "c": 4, "d": [true, null]}"#,
            r#"{"a": {"b": 7, "z": 0}, "c": 4, "d": [true, null]}"#,
            r#"{"a": {"b": "x", "z": 1}, "c": 2}"#,
        ];
        for line in lines {
            finds_what_the_scanner_finds(&mut shapes, &steps, line);
        }
        // the first line's shape serves the second and third; the fourth
        // (a number for "a.b") and the fifth (no "d") have their own
        let mut values = [None; 2];
        assert!(shapes
            .matches(lines[1].as_bytes(), &steps, &mut values)
            .is_some());
        assert_eq!(texts(&values), [Some(r#""yé""#), Some("30")]);
        assert!(values[0].unwrap().plain_string);
        let mut values = [None; 2];
        assert!(shapes
            .matches(lines[2].as_bytes(), &steps, &mut values)
            .is_some());
        assert!(!values[0].unwrap().plain_string);
        for line in lines {
            let mut values = [None; 2];
            assert!(
                shapes
                    .matches(line.as_bytes(), &steps, &mut values)
                    .is_some(),
                "{line}"
            );
        }
    }

    #[test]
    fn a_line_of_the_same_glue_with_a_bad_value_does_not_match() {
        let steps = steps(&["a"]);
        let mut shapes = Shapes::default();
        let mut values = [None; 1];
        shapes
            .find(br#"{"a": "x", "b": 12}"#, &steps, &mut values)
            .unwrap();
        for bad in [
            &br#"{"a": "x", "b": 1x}"#[..],
            br#"{"a": "x", "b": 01}"#,
            br#"{"a": "x\q", "b": 1}"#,
            b"{\"a\": \"x\x01\", \"b\": 1}",
            b"{\"a\": \"\xff\", \"b\": 1}",
            br#"{"a": "x", "b": 1} "#,
            br#"{"a": "x", "b": 1}}"#,
            br#"{"a": "x", "b": "1"}"#,
        ] {
            let mut values = [None; 1];
            assert!(
                shapes.matches(bad, &steps, &mut values).is_none(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_member_named_twice_gives_what_the_scanner_gives() {
        let steps = steps(&["a", "b.c"]);
        let mut shapes = Shapes::default();
        for line in [
            r#"{"a": 1, "b": {"c": true}, "a": "x"}"#,
            r#"{"a": 2, "b": {"c": false}, "a": "y"}"#,
            r#"{"a": 2, "b": {"c": null, "c": 3}, "a": "y"}"#,
        ] {
            finds_what_the_scanner_finds(&mut shapes, &steps, line);
        }
        let mut values = [None; 2];
        let line = br#"{"a": 3, "b": {"c": true}, "a": "z"}"#;
        assert!(shapes.matches(line, &steps, &mut values).is_some());
        assert_eq!(texts(&values), [Some(r#""z""#), Some("true")]);
    }

    #[test]
    fn container_fields_are_not_recorded() {
        let steps = steps(&["a"]);
        let mut shapes = Shapes::default();
        let mut values = [None; 1];
        shapes
            .find(br#"{"a": [1, 2]}"#, &steps, &mut values)
            .unwrap();
        assert_eq!(values[0].unwrap().json, "[1, 2]");
        assert!(!shapes.recorded());
    }

    #[test]
    fn recording_stops_at_the_cap_and_trying_when_few_lines_match() {
        let steps = steps(&["a"]);
        let mut shapes = Shapes::default();
        // a member of another name on every line: a new shape each
        let mut n = 0;
        while shapes.learning {
            let line = format!(r#"{{"a": {n}, "b{n}": [{}]}}"#, "1, ".repeat(40) + "2");
            let mut values = [None; 1];
            shapes.find(line.as_bytes(), &steps, &mut values).unwrap();
            assert_eq!(values[0].unwrap().json, n.to_string());
            n += 1;
            assert!(n < TRIAL, "never stopped recording");
        }
        assert!(shapes.nodes.len() <= MAX_NODES);
        // no line matched: after a window, lines go to the scanner alone
        while shapes.trying {
            let line = format!(r#"{{"a": {n}, "b{n}": 1}}"#);
            let mut values = [None; 1];
            shapes.find(line.as_bytes(), &steps, &mut values).unwrap();
            n += 1;
            assert!(n < 2 * TRIAL, "never stopped trying");
        }
        let mut values = [None; 1];
        shapes
            .find(br#"{"a": "x", "b0": []}"#, &steps, &mut values)
            .unwrap();
        assert_eq!(values[0].unwrap().json, r#""x""#);
        assert_eq!((shapes.tried, shapes.matched), (0, 0));
    }
}
