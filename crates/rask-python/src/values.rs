//! Python objects as rask values, and a Python exception as a task error.
//!
//! Every value of a Python run is a Python object held in a
//! [`Value::Opaque`]: the scheduler shares it between tasks by reference
//! count and never looks inside. A list task's value is a rask list, given
//! to Python as a `list`. A task's exception travels back to the caller as
//! the exception object itself ([`PyTaskError`]), so the caller raises it
//! with its own type, attributes and traceback.

use std::fmt;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use rask_graph::{CallError, Value};

/// A Python object held by the scheduler.
pub(crate) struct PyObj(pub(crate) Py<PyAny>);

/// A Python object as a value.
pub(crate) fn value_of(obj: Bound<'_, PyAny>) -> Value {
    Value::opaque(PyObj(obj.unbind()))
}

/// The Python object of a value made by this crate (and, for safety, of
/// the plain variants a rask value can have).
pub(crate) fn to_python<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Opaque(any) => match any.as_any().downcast_ref::<PyObj>() {
            Some(obj) => obj.0.bind(py).clone(),
            None => PyString::new(py, &format!("<{}>", any.type_name())).into_any(),
        },
        Value::List(items) => {
            let list = PyList::empty(py);
            for item in items.iter() {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => f.into_pyobject(py)?.into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::Dict(members) => {
            let d = PyDict::new(py);
            for (k, v) in members.iter() {
                d.set_item(&**k, to_python(py, v)?)?;
            }
            d.into_any()
        }
    })
}

/// The exception a Python task raised, carried to the caller.
pub(crate) struct PyTaskError(pub(crate) PyErr);

impl fmt::Debug for PyTaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for PyTaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Python::attach(|py| {
            let e = self.0.value(py);
            let name = e
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "Exception".into());
            match e.str() {
                Ok(text) => write!(f, "{name}: {text}"),
                Err(_) => write!(f, "{name}"),
            }
        })
    }
}

impl std::error::Error for PyTaskError {}

/// A Python exception as the error of a call.
pub(crate) fn call_error(e: PyErr) -> CallError {
    CallError::Failed(Box::new(PyTaskError(e)))
}
