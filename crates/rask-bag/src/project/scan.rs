//! The fast way through a line: a validating JSON scanner that walks the
//! fields' paths and skips everything else without building anything.
//!
//! It checks the JSON grammar of the whole line (strings without control
//! characters, with valid escapes and valid UTF-8; numbers, literals,
//! nesting) and hands back the text of the fields' values. It gives up
//! (returns `None`) on anything unusual: invalid JSON, nesting deeper than
//! [`MAX_DEPTH`], a member name with escapes that does not decode. The
//! caller then parses the line with `serde_json`, which gives the answer
//! or the error, so giving up is never wrong, only slower.
//!
//! A `\u` escape is checked for its four hex digits, as `serde_json`
//! checks the strings it skips; a field's value is decoded by
//! `serde_json` afterwards, which refuses a lone surrogate there.
//!
//! Strings, most of a record's bytes, are skipped 16 bytes at a time with
//! SSE2 on x86-64 (part of its baseline), a byte at a time elsewhere; a
//! run of non-ASCII bytes in a string is checked to be UTF-8 where it is
//! met, so a line that passes is UTF-8 without a pass of its own (bytes
//! outside strings must be ASCII JSON anyway).

use super::{Steps, Text};

/// Nesting the scanner follows while skipping; deeper lines take the slow
/// way (where `serde_json` stops at 128).
pub(super) const MAX_DEPTH: u32 = 128;

/// Finds the fields of `steps` in `line`, validating all of it, and puts
/// their JSON text in `values`. `None`: the caller must take the slow way.
pub(super) fn scan<'a>(
    line: &'a [u8],
    steps: &Steps,
    values: &mut [Option<Text<'a>>],
) -> Option<()> {
    scan_with(line, steps, values, Ignore)
}

/// [`scan`], telling `record` where each scalar value of the line is
/// (strings that are not member names, numbers, literals).
pub(super) fn scan_with<'a, R: Record>(
    line: &'a [u8],
    steps: &Steps,
    values: &mut [Option<Text<'a>>],
    record: R,
) -> Option<()> {
    let mut s = Scanner {
        b: line,
        i: 0,
        record,
    };
    s.walk(steps, 0, values)?;
    s.ws();
    (s.i == s.b.len()).then_some(())
}

/// The kinds of scalar values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Str,
    Num,
    /// `true` or `false`.
    Bool,
    Null,
}

/// Told where the scalar values of a line are, as it is scanned.
pub(super) trait Record {
    /// A scalar value at `start..end`; `node`: the node of the steps it
    /// is the value of, if it is on a path.
    fn value(&mut self, start: usize, end: usize, kind: Kind, node: Option<usize>);
    /// A field's value is not a scalar.
    fn container_field(&mut self);
}

/// Records nothing.
pub(super) struct Ignore;

impl Record for Ignore {
    #[inline(always)]
    fn value(&mut self, _: usize, _: usize, _: Kind, _: Option<usize>) {}
    #[inline(always)]
    fn container_field(&mut self) {}
}

pub(super) struct Scanner<'a, R> {
    pub(super) b: &'a [u8],
    pub(super) i: usize,
    record: R,
}

impl<'a> Scanner<'a, Ignore> {
    /// A scanner at the start of `line`, recording nothing.
    pub(super) fn new(line: &'a [u8]) -> Scanner<'a, Ignore> {
        Scanner {
            b: line,
            i: 0,
            record: Ignore,
        }
    }
}

impl<'a, R: Record> Scanner<'a, R> {
    #[inline(always)]
    fn ws(&mut self) {
        // compact JSON has none: one comparison says so
        if let Some(&c) = self.b.get(self.i) {
            if c > b' ' {
                return;
            }
        }
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn expect(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// Walks the value at `node` (after white space): keeps the text of
    /// the fields that end there, enters the members on a path.
    fn walk(&mut self, steps: &Steps, node: usize, values: &mut [Option<Text<'a>>]) -> Option<()> {
        self.ws();
        let n = &steps.nodes[node];
        let start = self.i;
        // for a scalar, whether it is a string without escapes
        let scalar = if n.children.is_empty() {
            self.skip_value(Some(node))?
        } else {
            self.descend(steps, node, values)?;
            None
        };
        if n.fields.is_empty() {
            return Some(());
        }
        if scalar.is_none() {
            self.record.container_field();
        }
        let plain_string = scalar.unwrap_or(false);
        let raw = self.b.get(start..self.i)?;
        // SAFETY: every byte scanned is either ASCII outside a string or
        // part of a string's text that `string` checked to be UTF-8, and
        // `start` and `self.i` are at ASCII bytes (a value's first byte,
        // the byte after its last): the slice is whole UTF-8.
        let json = unsafe { std::str::from_utf8_unchecked(raw) };
        for &f in &n.fields {
            values[f] = Some(Text { json, plain_string });
        }
        Some(())
    }

    /// The value at a node with steps on from it: an object's members or
    /// an array's items are entered where a step names them; any other
    /// value has nothing under it.
    fn descend(
        &mut self,
        steps: &Steps,
        node: usize,
        values: &mut [Option<Text<'a>>],
    ) -> Option<()> {
        let children = &steps.nodes[node].children;
        match self.peek()? {
            b'{' => {
                if self.empty(b'}')? {
                    return Some(());
                }
                loop {
                    self.ws();
                    let (quoted, escaped) = self.name()?;
                    let decoded;
                    let name = if escaped {
                        // rare: decode the name to compare it
                        decoded = serde_json::from_slice::<String>(quoted).ok()?;
                        decoded.as_bytes()
                    } else {
                        &quoted[1..quoted.len() - 1]
                    };
                    match children.iter().find(|c| c.is(name)) {
                        Some(child) => self.walk(steps, child.node, values)?,
                        None => {
                            self.skip_value(None)?;
                        }
                    }
                    if !self.more(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                if self.empty(b']')? {
                    return Some(());
                }
                let mut index = 0;
                loop {
                    match children.iter().find(|c| c.index == Some(index)) {
                        Some(child) => self.walk(steps, child.node, values)?,
                        None => {
                            self.skip_value(None)?;
                        }
                    }
                    if !self.more(b']')? {
                        return Some(());
                    }
                    index += 1;
                }
            }
            b'"' => {
                // a string where a path goes on: `serde_json` decodes it
                // there, refusing a lone surrogate, so one with escapes is
                // decoded too (rare). Not recorded as a value: a shape
                // keeps it as it is, since a shape's strings are only
                // skipped
                let start = self.i;
                if self.string()? {
                    serde_json::from_slice::<String>(self.b.get(start..self.i)?).ok()?;
                }
                Some(())
            }
            _ => self.skip(),
        }
    }

    /// At a container's opening bracket: steps past it, and past `close`
    /// too if the container is empty (then `true`).
    #[inline(always)]
    fn empty(&mut self, close: u8) -> Option<bool> {
        self.i += 1;
        self.ws();
        if self.peek()? == close {
            self.i += 1;
            Some(true)
        } else {
            Some(false)
        }
    }

    /// After a member or an item: `true` past a comma, `false` past the
    /// container's `close`.
    #[inline(always)]
    fn more(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let c = self.peek()?;
        self.i += 1;
        if c == b',' {
            Some(true)
        } else if c == close {
            Some(false)
        } else {
            None
        }
    }

    /// A member name and its colon: the name as JSON text, quotes
    /// included, and whether it holds escapes.
    #[inline(always)]
    fn name(&mut self) -> Option<(&'a [u8], bool)> {
        let start = self.i;
        let escaped = self.string()?;
        let quoted = self.b.get(start..self.i)?;
        self.ws();
        self.expect(b':')?;
        Some((quoted, escaped))
    }

    /// Skips one value (after white space): a scalar here, recorded as
    /// the value of the steps' node `node`, so the members of a record that
    /// are plain values cost no call; an object or an array in
    /// [`skip`](Self::skip). For a scalar, whether it is a string without
    /// escapes; `None` for an object or an array.
    #[inline(always)]
    fn skip_value(&mut self, node: Option<usize>) -> Option<Option<bool>> {
        self.ws();
        let start = self.i;
        let (kind, plain_string) = if self.peek()? == b'"' {
            (Kind::Str, !self.string()?)
        } else if let Some(kind) = self.scalar()? {
            (kind, false)
        } else {
            self.skip()?;
            return Some(None);
        };
        self.record.value(start, self.i, kind, node);
        Some(Some(plain_string))
    }

    /// A number or a literal at the scanner, skipped: its kind, or `None`
    /// (nothing skipped) at anything else.
    #[inline(always)]
    fn scalar(&mut self) -> Option<Option<Kind>> {
        let kind = match self.peek()? {
            b'-' | b'0'..=b'9' => {
                self.number()?;
                Kind::Num
            }
            b't' => {
                self.word(b"true")?;
                Kind::Bool
            }
            b'f' => {
                self.word(b"false")?;
                Kind::Bool
            }
            b'n' => {
                self.word(b"null")?;
                Kind::Null
            }
            _ => return Some(None),
        };
        Some(Some(kind))
    }

    /// Skips a value of `kind` (at its first byte); whether it is a string
    /// with escapes.
    #[inline(always)]
    pub(super) fn value_of(&mut self, kind: Kind) -> Option<bool> {
        match kind {
            Kind::Str => self.string(),
            Kind::Num => self.number().map(|()| false),
            Kind::Bool => match self.peek()? {
                b't' => self.word(b"true").map(|()| false),
                _ => self.word(b"false").map(|()| false),
            },
            Kind::Null => self.word(b"null").map(|()| false),
        }
    }

    /// Skips one value (after white space), checking its grammar.
    /// Iterative: nesting is counted in a bit stack, not in calls.
    fn skip(&mut self) -> Option<()> {
        // bit d of `objects`: the container at depth d is an object
        let mut objects: u128 = 0;
        let mut depth: u32 = 0;
        loop {
            // at the start of a value
            self.ws();
            match self.peek()? {
                open @ (b'{' | b'[') => {
                    let object = open == b'{';
                    if !self.empty(if object { b'}' } else { b']' })? {
                        if depth == MAX_DEPTH {
                            return None;
                        }
                        if object {
                            objects |= 1 << depth;
                            self.name()?;
                        } else {
                            objects &= !(1 << depth);
                        }
                        depth += 1;
                        continue;
                    }
                }
                b'"' => {
                    let start = self.i;
                    self.string()?;
                    self.record.value(start, self.i, Kind::Str, None);
                }
                _ => {
                    let start = self.i;
                    let kind = self.scalar()??;
                    self.record.value(start, self.i, kind, None);
                }
            }
            // after a value: close what ends here, or go on to the next
            loop {
                if depth == 0 {
                    return Some(());
                }
                let in_object = objects & (1 << (depth - 1)) != 0;
                self.ws();
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        if in_object {
                            self.ws();
                            self.name()?;
                        }
                        break;
                    }
                    b'}' if in_object => {
                        self.i += 1;
                        depth -= 1;
                    }
                    b']' if !in_object => {
                        self.i += 1;
                        depth -= 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// Skips a string (at its opening quote); whether it had escapes.
    /// A `\u` escape needs four hex digits (surrogates are left to
    /// whoever decodes the string).
    #[inline(always)]
    fn string(&mut self) -> Option<bool> {
        if self.peek()? != b'"' {
            return None;
        }
        self.i += 1;
        let mut escaped = false;
        loop {
            self.i = special::<true>(self.b, self.i);
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(escaped);
                }
                0x80.. => {
                    // a run of non-ASCII text up to the next special byte
                    // (never inside a UTF-8 sequence, whose bytes are all
                    // 0x80 or more): it must be whole UTF-8
                    let end = special::<false>(self.b, self.i);
                    std::str::from_utf8(self.b.get(self.i..end)?).ok()?;
                    self.i = end;
                }
                b'\\' => {
                    escaped = true;
                    match self.b.get(self.i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            let hex = self.b.get(self.i + 2..self.i + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a control character
            }
        }
    }

    /// Skips a number, checking JSON's grammar for it.
    #[inline(always)]
    fn number(&mut self) -> Option<()> {
        if self.peek()? == b'-' {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    /// Skips ASCII digits, eight at a time where the line has eight
    /// bytes left (numbers end at unpredictable lengths: a loop of one
    /// byte at a time mispredicts its exit).
    #[inline(always)]
    fn digits(&mut self) {
        while let Some(word) = self.b.get(self.i..self.i + 8) {
            let mut bytes = [0_u8; 8];
            bytes.copy_from_slice(word);
            let n = leading_digits(u64::from_le_bytes(bytes));
            self.i += n;
            if n < 8 {
                return;
            }
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    #[inline(always)]
    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    #[inline(always)]
    fn word(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }
}

/// How many of the 8 bytes of `word` (little-endian: the first byte is
/// the lowest) are ASCII digits before the first that is not.
#[inline(always)]
fn leading_digits(word: u64) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // digits become 0..=9 in their byte, any other byte 10 or more
    let x = word ^ (ONES * b'0' as u64);
    // the high bit of a byte is set where it is 10 or more: adding 0x76
    // carries into the high bit from 10 up, and bytes of 0x80 and up have
    // it already. A carry out of a byte only reaches bytes after the
    // first non-digit, which do not count.
    let high = (x.wrapping_add(ONES * 0x76) | x) & (ONES * 0x80);
    (high.trailing_zeros() / 8) as usize
}

/// The index of the first byte at or after `i` that ends a run of plain
/// string bytes: a quote, a backslash or a control character, and with
/// `NON_ASCII` a byte of 0x80 or more (`b.len()` if none).
#[inline(always)]
fn special<const NON_ASCII: bool>(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of the x86-64 baseline, and every load
        // reads 16 bytes at `i` with `i + 16 <= b.len()`.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let control = _mm_set1_epi8(0x1f);
            while i + 16 <= b.len() {
                let x = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
                // x <= 0x1f unsigned: max(x, 0x1f) == 0x1f
                let found = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                    _mm_cmpeq_epi8(_mm_max_epu8(x, control), control),
                );
                let mut mask = _mm_movemask_epi8(found) as u32;
                if NON_ASCII {
                    // the high bit of each byte
                    mask |= _mm_movemask_epi8(x) as u32;
                }
                if mask != 0 {
                    return i + mask.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 || (NON_ASCII && c >= 0x80) {
            return i;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_finds_the_first_quote_backslash_or_control_byte() {
        for len in 0..40 {
            for at in 0..len {
                for c in [b'"', b'\\', b'\n', 0x01] {
                    let mut b = vec![b'a'; len];
                    b[at] = c;
                    if at + 1 < len {
                        b[at + 1] = 0xe9; // not special, high bit set
                    }
                    assert_eq!(special::<false>(&b, 0), at, "len {len} at {at} byte {c}");
                    assert_eq!(special::<true>(&b, 0), at, "len {len} at {at} byte {c}");
                }
                let mut b = vec![b'a'; len];
                b[at] = 0xc3;
                assert_eq!(special::<true>(&b, 0), at);
                assert_eq!(special::<false>(&b, 0), len);
            }
            assert_eq!(special::<false>(&vec![0xc3; len], 0), len);
        }
    }

    #[test]
    fn leading_digits_counts_the_digits_before_any_other_byte() {
        for len in 0..=8 {
            for other in [
                b'a',
                b'.',
                b'e',
                b'/',
                b':',
                b' ',
                0x00,
                0x80,
                0xff,
                b'0' + 10,
                b'0' - 1,
            ] {
                let mut word = [other; 8];
                for (k, b) in word.iter_mut().take(len).enumerate() {
                    *b = b'0' + (k as u8 * 7 % 10);
                }
                // bytes after the first non-digit do not count, whatever they are
                if len < 7 {
                    word[len + 1] = b'5';
                }
                assert_eq!(leading_digits(u64::from_le_bytes(word)), len, "{word:?}");
            }
        }
        let mut s = Scanner::new(b"12345678901234567x");
        s.digits();
        assert_eq!(s.i, 17);
    }

    #[test]
    fn skips_valid_values_and_rejects_invalid_ones() {
        let steps = Steps::new(&[]);
        let ok = [
            r#"{}"#,
            r#"[]"#,
            r#" {"a": [1, -2.5e+3, true, false, null, "x\"\\\/\b\f\n\r\t", {"b": {}}, []]} "#,
            r#"0"#,
            r#""é""#,
            r#"[[[[[]]]]]"#,
            r#"["\u00e9\uD83D\ude00 \uD800", "\u0000"]"#,
        ];
        for line in ok {
            assert!(scan(line.as_bytes(), &steps, &mut []).is_some(), "{line}");
        }
        let bad = [
            r#"{"#,
            r#"{"a" 1}"#,
            r#"{"a": 1,}"#,
            r#"[1,]"#,
            r#"[1 2]"#,
            r#"{"a": 01}"#,
            r#"{"a": 1.}"#,
            r#"{"a": -}"#,
            r#"{"a": 1e}"#,
            r#"{"a": tru}"#,
            r#"{"a": "x\q"}"#,
            r#"["\u00g9"]"#,
            r#"["\u00e"]"#,
            r#"["\u"]"#,
            "{\"a\": \"x\ty\"}",
            r#"{"a": 1} 2"#,
            r#"{"a": [1}"#,
            r#"{"a": {]}"#,
            r#"{1: 2}"#,
            r#""#,
        ];
        for line in bad {
            assert!(scan(line.as_bytes(), &steps, &mut []).is_none(), "{line}");
        }
        for bad_utf8 in [
            &b"\"\xff\""[..],
            b"\"a\xc3\"",
            b"\"\xed\xa0\x80\"",
            b"[\xc3\xa9]",
        ] {
            assert!(scan(bad_utf8, &steps, &mut []).is_none(), "{bad_utf8:?}");
        }
        assert!(scan("\"é😀 x é\"".as_bytes(), &steps, &mut []).is_some());
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(scan(deep.as_bytes(), &steps, &mut []).is_none());
    }
}
