//! `visualize()` on every collection (Dask's `x.visualize()`): the task
//! graph of an array, a bag, a bag's scalar or a delayed value as a
//! Graphviz picture, through the diagnostics' DOT writer.
//!
//! The collections do not depend on the diagnostics; this trait, in the
//! facade, joins them.

use std::path::Path;

use rask_diagnostics::visualize::{to_dot, write};
use rask_diagnostics::{DiagnosticsError, DotOptions};
use rask_graph::{Graph, GraphError};

/// Why a picture was not drawn.
#[derive(Debug, thiserror::Error)]
pub enum VisualizeError {
    /// The graph could not be laid out (a cycle or a missing key).
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The file could not be written, or Graphviz failed.
    #[error(transparent)]
    Picture(#[from] DiagnosticsError),
}

/// A collection whose task graph can be drawn: `x.visualize("x.svg")`.
///
/// ```
/// use rask::Visualize;
/// let x = rask::array::arange(15, 5).named("x");
/// let dot = (&x + 1).sum().to_dot().unwrap();
/// assert!(dot.starts_with("digraph"));
/// assert!(dot.matches("->").count() >= 6); // each chunk feeds an add and a partial sum
/// let dir = std::env::temp_dir().join(format!("rask-visualize-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// x.visualize(dir.join("x.dot")).unwrap(); // .svg, .png and .pdf need Graphviz
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub trait Visualize {
    /// The task graph drawn (as [`Graph`] of the collection: unfused,
    /// as Dask draws by default).
    fn task_graph(&self) -> Graph;

    /// The task graph as Graphviz DOT text.
    fn to_dot(&self) -> Result<String, VisualizeError> {
        Ok(to_dot(&self.task_graph(), &DotOptions::default())?)
    }

    /// Draws the task graph into `path`: DOT text for `.dot`, a picture
    /// through Graphviz's `dot` for `.svg`, `.png` or `.pdf`.
    fn visualize(&self, path: impl AsRef<Path>) -> Result<(), VisualizeError> {
        let dot = self.to_dot()?;
        Ok(write(&dot, path.as_ref())?)
    }
}

impl<T: rask_array::Element> Visualize for rask_array::Array<T> {
    fn task_graph(&self) -> Graph {
        self.graph()
    }
}

impl<T: rask_bag::Element> Visualize for rask_bag::Bag<T> {
    fn task_graph(&self) -> Graph {
        self.graph()
    }
}

impl<T: rask_bag::Element> Visualize for rask_bag::Item<T> {
    fn task_graph(&self) -> Graph {
        self.graph()
    }
}

impl<T> Visualize for rask_delayed::Delayed<T> {
    fn task_graph(&self) -> Graph {
        self.graph()
    }
}
