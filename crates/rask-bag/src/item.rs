//! [`Item<R>`]: the lazy result of an aggregation over a bag.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use rask_graph::{Graph, Key};
use rask_scheduler::{Callback, ComputeError, Executor};

use crate::bag::{compute_keys, take_value};
use crate::fragment::{self, Fragment};

/// One lazy value computed from a bag, such as its `count`: the key
/// `(name, 0)` of [`graph`](Item::graph).
///
/// ```
/// let total = rask::bag::from_sequence((1..=100).collect::<Vec<i64>>(), 7).sum();
/// assert_eq!(total.compute(&rask::Sync).unwrap(), 5050);
/// ```
pub struct Item<R> {
    name: Arc<str>,
    fragment: Arc<Fragment>,
    _value: PhantomData<fn() -> R>,
}

impl<R> Clone for Item<R> {
    fn clone(&self) -> Self {
        Item {
            name: self.name.clone(),
            fragment: self.fragment.clone(),
            _value: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Item<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Item<{}>({:?})", std::any::type_name::<R>(), self.key())
    }
}

impl<R> Item<R> {
    pub(crate) fn new(name: Arc<str>, fragment: Arc<Fragment>) -> Item<R> {
        Item {
            name,
            fragment,
            _value: PhantomData,
        }
    }

    /// The key of the value: `(name, 0)`.
    pub fn key(&self) -> Key {
        Key::from((&*self.name, 0))
    }

    /// The graph that computes the value.
    pub fn graph(&self) -> Graph {
        fragment::build([&self.fragment])
    }
}

impl<R: Clone + Send + Sync + 'static> Item<R> {
    /// Computes the value with `executor`.
    pub fn compute(&self, executor: &dyn Executor) -> Result<R, ComputeError> {
        self.compute_with(executor, &[])
    }

    /// Computes the value with `executor`, calling `callbacks`.
    pub fn compute_with(
        &self,
        executor: &dyn Executor,
        callbacks: &[&dyn Callback],
    ) -> Result<R, ComputeError> {
        let key = self.key();
        let mut values = compute_keys(
            &[&self.fragment],
            std::slice::from_ref(&key),
            executor,
            callbacks,
        )?;
        let v = values.pop().unwrap_or_default();
        let type_name = v.type_name();
        take_value(v).ok_or_else(|| ComputeError::Executor {
            executor: executor.name().to_string(),
            message: format!(
                "{key:?} is a {type_name}, not a {}",
                std::any::type_name::<R>()
            ),
        })
    }
}
