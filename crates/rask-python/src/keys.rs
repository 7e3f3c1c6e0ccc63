//! Python keys as rask keys, and back.
//!
//! Every key of a run's graph (and of its `cache`) is numbered once, in a
//! Python dict from key to number: whether an object is a key, and which,
//! is one lookup in that dict, by Python's own equality (`1` and `1.0` are
//! one key, as in Dask), and a key is given back as the very object. In
//! the rask graph a key is named by its number, written as a short string
//! (stored inline, no allocation).
//!
//! When the run is profiled, keys are named as Python prints them instead,
//! so that the timeline is readable: a string is a [`Key::Str`], a tuple of
//! strings and integers (Dask's chunk keys, `("x", 0, 1)`) a
//! [`Key::Tuple`] with the same parts, and any other key (a float, a
//! nested tuple, a big integer) `("\0py", n)`.

use std::ffi::c_char;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString, PyTuple};
use rask_graph::{Key, KeyPart};
use smallvec::SmallVec;

/// The first part of the tuple key that stands for a side-table key.
const SIDE: &str = "\0py";

extern "C" {
    // In the stable ABI from Python 3.10 on, and exported by every
    // CPython 3: a view of a string's UTF-8 form, cached in the string
    // (no copy), where `PyUnicode_AsUTF8String` would allocate one.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut ffi::PyObject,
        size: *mut ffi::Py_ssize_t,
    ) -> *const c_char;
}

/// The text of a Python string, borrowed from it; `None` if it is not
/// valid UTF-8 (lone surrogates), with no Python error left set.
fn text_of<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live str object, and we hold the GIL; the returned
    // buffer lives as long as the string, which `'a` borrows.
    let data = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if data.is_null() {
        // clear the UnicodeEncodeError
        drop(PyErr::take(s.py()));
        return None;
    }
    let len = usize::try_from(size).ok()?;
    // SAFETY: CPython returns `size` bytes of valid UTF-8 at `data`.
    Some(unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(data.cast(), len)) })
}

/// Maps Python keys to rask keys and back, for one run.
pub(crate) struct KeyMap<'py> {
    keys: Vec<Bound<'py, PyAny>>,
    index: Bound<'py, PyDict>,
    readable: bool,
}

impl<'py> KeyMap<'py> {
    /// An empty map; `readable`: name keys as Python prints them.
    pub(crate) fn new(py: Python<'py>, readable: bool) -> KeyMap<'py> {
        KeyMap {
            keys: Vec::new(),
            index: PyDict::new(py),
            readable,
        }
    }

    /// Adds a key of the graph that is not in the map yet (a dict's keys
    /// are distinct); its rask key.
    pub(crate) fn add(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Key> {
        let n = self.keys.len();
        self.index.set_item(obj, n)?;
        self.keys.push(obj.clone());
        Ok(self.name(n, obj))
    }

    /// Whether `obj` is a key of the map (an unhashable object is none).
    pub(crate) fn contains(&self, obj: &Bound<'py, PyAny>) -> bool {
        self.index.contains(obj).unwrap_or(false)
    }

    /// The rask key of `obj` if it is a key of the map.
    pub(crate) fn lookup(&self, obj: &Bound<'py, PyAny>) -> Option<Key> {
        let n = self.index.get_item(obj).ok()??;
        let n = n.extract::<usize>().ok()?;
        Some(self.name(n, obj))
    }

    fn name(&self, n: usize, obj: &Bound<'py, PyAny>) -> Key {
        if !self.readable {
            return numbered(n);
        }
        if let Ok(s) = obj.cast::<PyString>() {
            if let Some(text) = text_of(s) {
                return Key::from(text);
            }
        } else if let Ok(t) = obj.cast_exact::<PyTuple>() {
            if let Some(key) = plain_tuple(t) {
                return key;
            }
        }
        Key::tuple([KeyPart::from(SIDE), KeyPart::from(n as i64)])
    }

    /// What names the keys once the map is gone.
    pub(crate) fn into_names(self) -> Names {
        Names {
            keys: self.keys.into_iter().map(Bound::unbind).collect(),
            readable: self.readable,
        }
    }
}

/// The key numbered `n`: the string of its digits (stored inline).
fn numbered(mut n: usize) -> Key {
    let mut digits = [0_u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // only ASCII digits were written
    Key::from(std::str::from_utf8(&digits[at..]).unwrap_or("0"))
}

/// A tuple of strings and integers (not booleans, not too large) as a
/// tuple key; `None` for any other tuple.
fn plain_tuple(t: &Bound<'_, PyTuple>) -> Option<Key> {
    if t.is_empty() {
        return None;
    }
    // gathered on the stack, then copied into the key's one allocation
    let mut parts: SmallVec<[KeyPart; 4]> = SmallVec::new();
    for item in t.iter() {
        if let Ok(s) = item.cast::<PyString>() {
            let text = text_of(s)?;
            if parts.is_empty() && text == SIDE {
                return None;
            }
            parts.push(KeyPart::from(text));
        } else if item.is_exact_instance_of::<PyInt>() {
            parts.push(KeyPart::from(item.extract::<i64>().ok()?));
        } else {
            return None;
        }
    }
    Some(Key::tuple(parts.iter().cloned()))
}

/// The Python keys of a run, to name rask keys in errors.
pub(crate) struct Names {
    keys: Vec<Py<PyAny>>,
    readable: bool,
}

impl Names {
    /// The Python key that `key` names.
    pub(crate) fn python<'py>(&self, py: Python<'py>, key: &Key) -> PyResult<Bound<'py, PyAny>> {
        let by_number = |n: Option<usize>| n.and_then(|n| self.keys.get(n));
        match key {
            Key::Str(s) if !self.readable => match by_number(s.parse().ok()) {
                Some(obj) => Ok(obj.bind(py).clone()),
                None => Ok(PyString::new(py, s).into_any()),
            },
            Key::Str(s) => Ok(PyString::new(py, s).into_any()),
            Key::Tuple(parts) => {
                if let [KeyPart::Str(mark), KeyPart::Int(n)] = &parts[..] {
                    if mark.as_str() == SIDE {
                        if let Some(obj) = by_number(usize::try_from(*n).ok()) {
                            return Ok(obj.bind(py).clone());
                        }
                    }
                }
                let mut items = Vec::with_capacity(parts.len());
                for p in parts.iter() {
                    items.push(match p {
                        KeyPart::Str(s) => PyString::new(py, s).into_any(),
                        KeyPart::Int(i) => i.into_pyobject(py)?.into_any(),
                    });
                }
                Ok(PyTuple::new(py, items)?.into_any())
            }
        }
    }
}
