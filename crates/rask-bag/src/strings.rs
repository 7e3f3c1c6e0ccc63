//! The string methods of a bag of strings, as Dask's `b.str` accessor
//! (Python's `str` methods, item by item): `b.str().lower()`,
//! `b.str().split(",")`, ... Each is a `map`, fused like any other.
//!
//! ```
//! let b = rask::bag::from_sequence(vec![" Alice,1 ".to_string(), "bob,2".to_string()], 1);
//! let names = b.str().strip().str().lower().str().split(",");
//! assert_eq!(names.compute(&rask::Sync).unwrap()[0], ["alice", "1"]);
//! assert_eq!(b.str().startswith("bob").compute(&rask::Sync).unwrap(), [false, true]);
//! ```

use crate::bag::Bag;

/// The string methods of a `Bag<String>`: see [`Bag::str`].
#[derive(Debug, Clone, Copy)]
pub struct StrMethods<'a> {
    bag: &'a Bag<String>,
}

impl Bag<String> {
    /// The string methods (Dask's `b.str`).
    pub fn str(&self) -> StrMethods<'_> {
        StrMethods { bag: self }
    }
}

impl StrMethods<'_> {
    /// Each string in lower case (Python's `lower`).
    pub fn lower(&self) -> Bag<String> {
        self.bag.map(|s| s.to_lowercase())
    }

    /// Each string in upper case (Python's `upper`).
    pub fn upper(&self) -> Bag<String> {
        self.bag.map(|s| s.to_uppercase())
    }

    /// Each string without leading and trailing whitespace (Python's
    /// `strip`).
    pub fn strip(&self) -> Bag<String> {
        self.bag.map(|s| s.trim().to_string())
    }

    /// Each string cut at every `sep` (Python's `split(sep)`).
    pub fn split(&self, sep: &str) -> Bag<Vec<String>> {
        let sep = sep.to_string();
        self.bag
            .map(move |s| s.split(sep.as_str()).map(str::to_string).collect())
    }

    /// Each string with every `from` replaced by `to` (Python's
    /// `replace`).
    pub fn replace(&self, from: &str, to: &str) -> Bag<String> {
        let (from, to) = (from.to_string(), to.to_string());
        self.bag.map(move |s| s.replace(from.as_str(), &to))
    }

    /// Whether each string starts with `prefix` (Python's `startswith`).
    pub fn startswith(&self, prefix: &str) -> Bag<bool> {
        let prefix = prefix.to_string();
        self.bag.map(move |s| s.starts_with(prefix.as_str()))
    }

    /// Whether each string ends with `suffix` (Python's `endswith`).
    pub fn endswith(&self, suffix: &str) -> Bag<bool> {
        let suffix = suffix.to_string();
        self.bag.map(move |s| s.ends_with(suffix.as_str()))
    }

    /// Whether each string contains `pattern` (a substring, as Python's
    /// `pattern in s`).
    pub fn contains(&self, pattern: &str) -> Bag<bool> {
        let pattern = pattern.to_string();
        self.bag.map(move |s| s.contains(pattern.as_str()))
    }

    /// The length of each string in characters (Python's `len`).
    pub fn len(&self) -> Bag<usize> {
        self.bag.map(|s| s.chars().count())
    }
}
