//! Keys name the tasks of a graph: a string (`"x"`) or a tuple
//! (`("x", 0)`, the chunk 0 of collection `x`), as in Dask.
//!
//! Keys are cheap to clone (one reference count) and hash, and they print as
//! Python would print them, which is also how graph files write tuple keys:
//!
//! ```
//! use rask::Key;
//! assert_eq!(Key::from("x").to_string(), "x");
//! assert_eq!(Key::from(("x", 0)).to_string(), "('x', 0)");
//! assert_eq!(Key::parse("('x', 0)"), Key::from(("x", 0)));
//! ```

use std::fmt;
use std::sync::Arc;

use smol_str::SmolStr;

/// One element of a tuple key: a name or an index.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum KeyPart {
    /// A string element, such as the collection name in `("x", 0)`.
    Str(SmolStr),
    /// An integer element, such as a chunk index.
    Int(i64),
}

/// The name of a task: a string or a tuple of strings and integers.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// A plain string key, `"x"` (stored inline up to 23 bytes).
    Str(SmolStr),
    /// A tuple key, `("x", 0)`.
    Tuple(Arc<[KeyPart]>),
}

impl Key {
    /// A tuple key from its parts.
    ///
    /// ```
    /// use rask::{Key, KeyPart};
    /// let k = Key::tuple([KeyPart::from("x"), KeyPart::from(1), KeyPart::from(2)]);
    /// assert_eq!(k.to_string(), "('x', 1, 2)");
    /// ```
    pub fn tuple(parts: impl IntoIterator<Item = KeyPart>) -> Key {
        Key::Tuple(parts.into_iter().collect())
    }

    /// The name of the key: the string itself, or the first string element
    /// of a tuple (`"x"` for `("x", 0)`).
    pub fn name(&self) -> &str {
        match self {
            Key::Str(s) => s,
            Key::Tuple(parts) => match parts.first() {
                Some(KeyPart::Str(s)) => s,
                _ => "",
            },
        }
    }

    /// The key as a graph file writes it, which [`Key::parse`] reads back
    /// to the same key: a string key as is, a tuple key in Python's
    /// notation, `('x', 0)`, with its strings written as Python writes
    /// them (`("it's", 0)`, `('a\\b', 1)`). A string key whose text would
    /// read as something else (a tuple, or a quoted string) is written as
    /// a quoted Python string, `"('x', 0)"`, so that two keys never print
    /// the same.
    pub fn to_text(&self) -> String {
        self.to_string()
    }

    /// Reads a key from its text: `('x', 0)` is a tuple key (strings in
    /// single or double quotes with Python's backslash escapes, integers,
    /// separated by commas; `()` is the empty tuple); a whole text in
    /// quotes, `'x'` or `"('x', 0)"`, is the string key it quotes;
    /// anything else is a string key as it is.
    pub fn parse(text: &str) -> Key {
        parse_tuple(text)
            .or_else(|| parse_quoted(text).map(|s| Key::Str(SmolStr::from(s))))
            .unwrap_or_else(|| Key::Str(SmolStr::new(text)))
    }
}

/// Whether `text` reads as a key other than the string key `text`.
fn reads_as_other(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(b'(') => parse_tuple(text).is_some(),
        Some(b'\'' | b'"') => parse_quoted(text).is_some(),
        _ => false,
    }
}

/// The whole of `text` as one quoted string literal.
fn parse_quoted(text: &str) -> Option<String> {
    let (s, rest) = quoted(text)?;
    rest.is_empty().then_some(s)
}

/// A Python string literal at the start of `text` (in `'` or `"`, with the
/// escapes `\\ \' \" \n \r \t \0 \xNN \uNNNN \UNNNNNNNN`): its value and
/// the text after it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut chars = text.char_indices();
    let (_, q) = chars.next().filter(|(_, c)| *c == '\'' || *c == '"')?;
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == q => return Some((out, &text[i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                let hex = |chars: &mut std::str::CharIndices<'_>, n: usize| {
                    let mut v = 0_u32;
                    for _ in 0..n {
                        v = v * 16 + chars.next()?.1.to_digit(16)?;
                    }
                    char::from_u32(v)
                };
                out.push(match e {
                    '\\' | '\'' | '"' => e,
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    'x' => hex(&mut chars, 2)?,
                    'u' => hex(&mut chars, 4)?,
                    'U' => hex(&mut chars, 8)?,
                    _ => return None,
                });
            }
            c => out.push(c),
        }
    }
    None
}

/// Writes `s` as Python's `repr` does: in single quotes, or in double
/// quotes when it holds a single quote and no double quote; backslashes,
/// the quote and control characters escaped.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    use fmt::Write;
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    f.write_char(q)?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c == q => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => write!(f, "\\x{:02x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char(q)
}

fn parse_tuple(text: &str) -> Option<Key> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = Vec::new();
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        let (part, after) = if rest.starts_with(['\'', '"']) {
            let (s, after) = quoted(rest)?;
            (KeyPart::Str(SmolStr::from(s)), after)
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let n: i64 = rest[..end].trim().parse().ok()?;
            (KeyPart::Int(n), &rest[end..])
        };
        parts.push(part);
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if after.is_empty() => after,
            None => return None,
        };
    }
    Some(Key::Tuple(parts.into()))
}

impl std::hash::Hash for Key {
    /// A string key hashes as its `str`, so that a graph can look up a
    /// string without making a key of it.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Key::Str(s) => s.as_str().hash(state),
            Key::Tuple(parts) => {
                state.write_u8(0xfe);
                parts.hash(state);
            }
        }
    }
}

impl fmt::Display for KeyPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyPart::Str(s) => write_quoted(f, s),
            KeyPart::Int(i) => write!(f, "{i}"),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Str(s) if reads_as_other(s) => write_quoted(f, s),
            Key::Str(s) => f.write_str(s),
            Key::Tuple(parts) => {
                f.write_str("(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                if parts.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Str(s) => write!(f, "{s:?}"),
            Key::Tuple(_) => write!(f, "{self}"),
        }
    }
}

impl From<&str> for KeyPart {
    fn from(s: &str) -> Self {
        KeyPart::Str(SmolStr::new(s))
    }
}
impl From<String> for KeyPart {
    fn from(s: String) -> Self {
        KeyPart::Str(SmolStr::from(s))
    }
}
macro_rules! int_part {
    ($($t:ty),*) => {$(
        impl From<$t> for KeyPart {
            fn from(i: $t) -> Self {
                KeyPart::Int(i as i64)
            }
        }
    )*};
}
int_part!(i32, i64, u32, usize);

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key::Str(SmolStr::new(s))
    }
}
impl From<String> for Key {
    fn from(s: String) -> Self {
        Key::Str(SmolStr::from(s))
    }
}
impl From<&String> for Key {
    fn from(s: &String) -> Self {
        Key::Str(SmolStr::new(s))
    }
}
impl From<&Key> for Key {
    fn from(k: &Key) -> Self {
        k.clone()
    }
}
macro_rules! tuple_key {
    ($($name:ident),+) => {
        impl<$($name: Into<KeyPart>),+> From<($($name,)+)> for Key {
            #[allow(non_snake_case)]
            fn from(($($name,)+): ($($name,)+)) -> Self {
                Key::Tuple(Arc::from([$($name.into()),+]))
            }
        }
    };
}
tuple_key!(A, B);
tuple_key!(A, B, C);
tuple_key!(A, B, C, D);
tuple_key!(A, B, C, D, E);

#[cfg(test)]
mod tests;
