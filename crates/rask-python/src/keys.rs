//! Python keys as rask keys, and back.
//!
//! Dask's keys are strings, numbers or tuples of them. A string is a
//! [`Key::Str`], and a tuple of strings and integers (Dask's chunk keys,
//! `("x", 0, 1)`) a [`Key::Tuple`] with the same parts, so profiles and
//! errors name them as Python prints them. Any other key (a float, a
//! nested tuple, a big integer, a string that is not valid UTF-8) is kept
//! in a side table, found by Python's own equality, and stands in the
//! rask graph as `("\0py", n)`; it is given back as the very object.
//!
//! Whether an object is a key at all is asked of the graph's dict (and the
//! cache's), as Dask asks it; this module only names keys.

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
    side: Vec<Bound<'py, PyAny>>,
    side_index: Bound<'py, PyDict>,
}

impl<'py> KeyMap<'py> {
    pub(crate) fn new(py: Python<'py>) -> KeyMap<'py> {
        KeyMap {
            side: Vec::new(),
            side_index: PyDict::new(py),
        }
    }

    /// The rask key of the Python key `obj`.
    pub(crate) fn rask_key(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Key> {
        if let Ok(s) = obj.cast::<PyString>() {
            if let Some(text) = text_of(s) {
                return Ok(Key::from(text));
            }
        } else if let Ok(t) = obj.cast_exact::<PyTuple>() {
            if let Some(key) = plain_tuple(t) {
                return Ok(key);
            }
        }
        self.side_key(obj)
    }

    fn side_key(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Key> {
        let n = match self.side_index.get_item(obj)? {
            Some(n) => n.extract::<i64>()?,
            None => {
                let n = self.side.len() as i64;
                self.side.push(obj.clone());
                self.side_index.set_item(obj, n)?;
                n
            }
        };
        Ok(Key::tuple([KeyPart::from(SIDE), KeyPart::from(n)]))
    }

    /// What names the keys once the map is gone.
    pub(crate) fn into_names(self) -> Names {
        Names {
            side: self.side.into_iter().map(Bound::unbind).collect(),
        }
    }
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

/// The Python keys of a run's side table, to name rask keys in errors.
pub(crate) struct Names {
    side: Vec<Py<PyAny>>,
}

impl Names {
    /// The Python key that `key` names.
    pub(crate) fn python<'py>(&self, py: Python<'py>, key: &Key) -> PyResult<Bound<'py, PyAny>> {
        match key {
            Key::Str(s) => Ok(PyString::new(py, s).into_any()),
            Key::Tuple(parts) => {
                if let [KeyPart::Str(mark), KeyPart::Int(n)] = &parts[..] {
                    if mark.as_str() == SIDE {
                        if let Some(obj) = usize::try_from(*n).ok().and_then(|n| self.side.get(n)) {
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
