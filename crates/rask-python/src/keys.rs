//! Python keys as rask keys, and back.
//!
//! Dask's keys are strings, numbers or tuples of them. A string is a
//! [`Key::Str`], and a tuple of strings and integers (Dask's chunk keys,
//! `("x", 0, 1)`) a [`Key::Tuple`] with the same parts, so profiles and
//! errors name them as Python would. Any other key (a float, a nested
//! tuple, a big integer, a string that is not valid UTF-8) is kept in a
//! side table and stands in the rask graph as `("\0py", n)`: it is found
//! by Python's own equality, and given back as the very object.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString, PyTuple};
use rask_graph::{Key, KeyPart};

/// The first part of the tuple key that stands for a side-table key.
const SIDE: &str = "\0py";

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
            if let Ok(text) = s.to_cow() {
                return Ok(Key::from(&*text));
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

    /// The side table, to name keys once the map is gone.
    pub(crate) fn into_side(self) -> Vec<Py<PyAny>> {
        self.side.into_iter().map(Bound::unbind).collect()
    }
}

/// A tuple of strings and integers (not booleans, not too large) as a
/// tuple key; `None` for any other tuple.
fn plain_tuple(t: &Bound<'_, PyTuple>) -> Option<Key> {
    if t.is_empty() {
        return None;
    }
    let mut parts = Vec::with_capacity(t.len());
    for item in t.iter() {
        if let Ok(s) = item.cast::<PyString>() {
            let text = s.to_cow().ok()?;
            if parts.is_empty() && text == SIDE {
                return None;
            }
            parts.push(KeyPart::from(&*text));
        } else if item.is_exact_instance_of::<PyInt>() {
            parts.push(KeyPart::from(item.extract::<i64>().ok()?));
        } else {
            return None;
        }
    }
    Some(Key::tuple(parts))
}

/// The Python key of `key`, with `side` the side table of its run.
pub(crate) fn to_python<'py>(
    py: Python<'py>,
    side: &[impl AsSide<'py>],
    key: &Key,
) -> PyResult<Bound<'py, PyAny>> {
    match key {
        Key::Str(s) => Ok(PyString::new(py, s).into_any()),
        Key::Tuple(parts) => {
            if let [KeyPart::Str(mark), KeyPart::Int(n)] = &parts[..] {
                if mark.as_str() == SIDE {
                    if let Some(obj) = usize::try_from(*n).ok().and_then(|n| side.get(n)) {
                        return Ok(obj.bound(py));
                    }
                }
            }
            let items = parts.iter().map(|p| match p {
                KeyPart::Str(s) => PyString::new(py, s).into_any(),
                KeyPart::Int(i) => i
                    .into_pyobject(py)
                    .map(|i| i.into_any())
                    .unwrap_or_else(|e| match e {}),
            });
            Ok(PyTuple::new(py, items)?.into_any())
        }
    }
}

/// A side-table entry, borrowed or owned.
pub(crate) trait AsSide<'py> {
    fn bound(&self, py: Python<'py>) -> Bound<'py, PyAny>;
}

impl<'py> AsSide<'py> for Bound<'py, PyAny> {
    fn bound(&self, _py: Python<'py>) -> Bound<'py, PyAny> {
        self.clone()
    }
}

impl<'py> AsSide<'py> for Py<PyAny> {
    fn bound(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        self.bind(py).clone()
    }
}
