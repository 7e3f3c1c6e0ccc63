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

    /// The key as a graph file writes it: a string key as is, a tuple key
    /// in Python's notation, `('x', 0)`.
    pub fn to_text(&self) -> String {
        self.to_string()
    }

    /// Reads a key from its text: `('x', 0)` is a tuple key (strings in
    /// single or double quotes, integers, separated by commas); anything
    /// else is a string key.
    pub fn parse(text: &str) -> Key {
        parse_tuple(text).unwrap_or_else(|| Key::Str(SmolStr::new(text)))
    }
}

fn parse_tuple(text: &str) -> Option<Key> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = Vec::new();
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        let (part, after) = if let Some(q) = rest.chars().next().filter(|c| *c == '\'' || *c == '"')
        {
            let body = &rest[1..];
            let end = body.find(q)?;
            (KeyPart::Str(SmolStr::new(&body[..end])), &body[end + 1..])
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
    if parts.is_empty() {
        return None;
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
            KeyPart::Str(s) => write!(f, "'{s}'"),
            KeyPart::Int(i) => write!(f, "{i}"),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
