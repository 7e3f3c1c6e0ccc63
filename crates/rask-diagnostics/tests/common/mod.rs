//! Shapes and helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use rask_graph::{Function, Graph, Key, Task};

/// A writer whose text the test reads back.
#[derive(Clone, Default)]
pub(crate) struct Buffer(pub(crate) Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

pub(crate) fn inc() -> Function {
    Function::new("inc", |x: i64| x + 1)
}

/// `x` and `n` tasks `inc(x)` named `("y", i)`, summed by `total`: a fan
/// out and in of `n + 2` tasks.
pub(crate) fn fan(n: usize) -> Graph {
    let mut g = Graph::new();
    g.insert("x", 1);
    let sum = Function::new("sum", |xs: Vec<i64>| xs.iter().sum::<i64>());
    let mut parts = Vec::new();
    for i in 0..n {
        let k = Key::from(("y", i as i64));
        g.insert(k.clone(), Task::call(&inc(), ["x"]));
        parts.push(Task::Key(k));
    }
    g.insert("total", Task::call(&sum, [Task::list(parts)]));
    g
}

/// Is Graphviz's `dot` here? Without it a test skips with a note, except
/// in CI (`CI=true`), which installs it and must run every test.
pub(crate) fn dot_or_skip(test: &str) -> bool {
    if rask_diagnostics::visualize::graphviz_installed() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: Graphviz's `dot` is missing in CI (.ci/run installs graphviz)");
    }
    eprintln!("note: {test} skipped: Graphviz's `dot` is not installed (apt-get install graphviz)");
    false
}
