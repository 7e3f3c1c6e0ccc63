//! Bags and arrays on MPI ranks against `Threads`: every rank builds the
//! same collections (SPMD: their keys are tokens and counters, the same
//! on every rank) and computes them; rank 0, which gets the answers,
//! compares them with a thread pool's. Nothing is registered: the
//! collections register the codecs of everything their graphs produce.

use std::fmt::Debug;
use std::io::Write;

use rask::array::ndarray::{s, Array2, ArrayD};
use rask::array::{from_ndarray, histogram, percentile, Array, Boundary, Element};
use rask::bag::{from_partitions, from_sequence, read_text, Bag, Item, Json, Shuffle};
use rask::{Executor, Threads};
use rask_mpi::Mpi;
use serde_json::json;

/// Compares on rank 0; the other ranks only take part.
struct Agree<'a> {
    mpi: &'a Mpi,
    failures: Vec<String>,
}

impl Agree<'_> {
    fn check<V: PartialEq + Debug, E: std::fmt::Display>(
        &mut self,
        what: &str,
        f: impl Fn(&dyn Executor) -> Result<V, E>,
    ) {
        let got = f(self.mpi);
        if !self.mpi.is_root() {
            return;
        }
        let want = f(&Threads::new(2));
        match (got, want) {
            (Ok(g), Ok(w)) if g == w => {}
            (Ok(g), Ok(w)) => self
                .failures
                .push(format!("{what}: mpi gave {g:?}, threads {w:?}")),
            (Err(e), _) => self.failures.push(format!("{what}: mpi failed: {e}")),
            (_, Err(e)) => self.failures.push(format!("{what}: threads failed: {e}")),
        }
    }

    fn bag<T: Clone + Send + Sync + PartialEq + Debug + 'static>(
        &mut self,
        what: &str,
        b: &Bag<T>,
    ) {
        self.check(what, |e| b.compute(e));
    }

    fn item<T: Clone + Send + Sync + PartialEq + Debug + 'static>(
        &mut self,
        what: &str,
        i: &Item<T>,
    ) {
        self.check(what, |e| i.compute(e));
    }

    fn array<T: Element>(&mut self, what: &str, a: &Array<T>) {
        self.check(what, |e| a.compute(e).map(Same));
    }

    fn done(self) -> Result<(), String> {
        if self.failures.is_empty() {
            Ok(())
        } else {
            Err(self.failures.join("\n"))
        }
    }
}

/// An array compared with NaN equal to NaN.
#[derive(Debug)]
struct Same<T>(ArrayD<T>);

impl<T: Element> PartialEq for Same<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.shape() == other.0.shape()
            && self
                .0
                .iter()
                .zip(other.0.iter())
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
    }
}

/// A representative set of bag operations: fused element-wise, tree
/// reductions with private partials, shuffles, JSON from a file.
pub(crate) fn bags(mpi: &Mpi) -> Result<(), String> {
    let mut c = Agree {
        mpi,
        failures: Vec::new(),
    };
    let ints: Bag<i64> = from_partitions(vec![
        vec![3, -1, 4],
        vec![],
        vec![1, 5, -9, 2],
        vec![6, 5, 3, 5],
    ]);
    let words: Bag<String> = from_sequence(
        "the cat and the hat and the bat"
            .split(' ')
            .map(String::from)
            .collect(),
        3,
    );
    let records: Bag<Json> = from_sequence(
        vec![
            json!({"name": "ada", "age": 36}),
            json!({"name": "bob", "age": 25}),
            json!({"name": "ada", "age": 37.5}),
        ],
        2,
    );
    c.bag("map filter", &ints.map(|x| x * 3).filter(|x| x % 2 == 0));
    c.bag("zip", &ints.zip(&ints.map(|x| x as f64 / 2.0)));
    c.item("sum", &ints.sum());
    c.item("min", &words.min());
    c.item("mean", &ints.mean());
    c.item("std", &ints.std());
    c.item("fold", &ints.fold(|| 0_i64, |a, x| *a += x, |a, b| *a += b));
    c.bag("frequencies", &words.frequencies_sorted());
    c.bag(
        "foldby",
        &ints.foldby(|x| x.rem_euclid(3), |a, x| a + x, 0_i64, |a, b| a + b, 0),
    );
    c.bag("distinct", &records.pluck("name").distinct());
    c.bag("topk", &words.topk(2, |w| w.clone()));
    c.bag("accumulate", &ints.accumulate(|a, b| a + b));
    c.bag("take", &ints.take(4));
    c.bag("groupby", &ints.groupby(|x: &i64| x.rem_euclid(4)));
    c.bag("groupby_field", &records.groupby_field("name"));
    // spills on the rank that splits; the files are read where grouped
    // (one machine here)
    let tiny = Shuffle::new().memory_budget(1).npartitions(2);
    c.bag(
        "groupby spilling",
        &words.groupby_with(|w: &String| w.len(), &tiny),
    );
    // rank 0 writes the file, every rank reads it (the ranks share the
    // machine and so their parent, which names the file)
    let path = std::env::temp_dir().join(format!(
        "rask-spmd-{}.jsonl",
        std::os::unix::process::parent_id()
    ));
    if mpi.is_root() {
        let written = std::fs::File::create(&path).and_then(|mut f| {
            (0..30).try_for_each(|i| writeln!(f, "{{\"id\": {i}, \"kind\": \"k{}\"}}", i % 4))
        });
        if let Err(e) = written {
            c.failures
                .push(format!("cannot write {}: {e}", path.display()));
        }
    }
    barrier(mpi);
    match read_text(&path) {
        Ok(text) => {
            let json = text.json::<Json>();
            c.bag("json", &json);
            c.bag("json frequencies", &json.pluck("kind").frequencies());
        }
        Err(e) => c.failures.push(format!("read_text: {e}")),
    }
    barrier(mpi);
    if mpi.is_root() {
        let _ = std::fs::remove_file(&path);
    }
    c.done()
}

fn barrier(mpi: &Mpi) {
    use rask_mpi::mpi::collective::CommunicatorCollectives;
    mpi.with_world(|w| w.barrier());
}

/// A representative set of array operations.
pub(crate) fn arrays(mpi: &Mpi) -> Result<(), String> {
    let mut c = Agree {
        mpi,
        failures: Vec::new(),
    };
    let data = Array2::from_shape_fn((7, 5), |(i, j)| {
        if (i + j) % 6 == 2 {
            f64::NAN
        } else {
            (i as f64 - 3.0) * (j as f64 + 0.25)
        }
    })
    .into_dyn();
    let x = from_ndarray(&data, [3, 2]).map_err(|e| e.to_string())?;
    let clean = x.map("clean", |v: f64| if v.is_nan() { 1.0 } else { v });
    let xi = clean.astype::<i64>();
    let built = (|| -> Result<Vec<(&str, Array<f64>)>, rask::array::ArrayError> {
        Ok(vec![
            ("elementwise", (2.0 * &x + 1.0).sin().abs()),
            ("sum_axis", clean.sum_axis(0)?),
            ("nanmean", x.nanmean()),
            ("nanstd", x.nanstd()),
            ("var", clean.var()),
            ("cumsum", clean.cumsum(1)?),
            ("matmul", clean.matmul(&clean.t())?),
            (
                "rechunk slice",
                clean.rechunk([4, 5])?.slice(s![1..;2, ..;-1])?,
            ),
            ("percentile", percentile(&clean, &[10.0, 90.0])?),
            ("histogram edges", histogram(&clean, 3, (-5.0, 5.0))?.1),
            (
                "map_overlap",
                clean.map_overlap("twice", &[1, 1], Boundary::Nearest, |b| b.to_owned() * 2.0)?,
            ),
        ])
    })()
    .map_err(|e| e.to_string())?;
    for (what, a) in &built {
        c.array(what, a);
    }
    let ints = (|| -> Result<Vec<(&str, Array<i64>)>, rask::array::ArrayError> {
        Ok(vec![
            ("argmin", clean.argmin()?),
            ("argmax_axis", clean.argmax_axis(1)?),
            ("i64 arithmetic", &xi * 3 - 7),
            ("count_nonzero", x.count_nonzero()),
            ("histogram counts", histogram(&clean, 3, (-5.0, 5.0))?.0),
        ])
    })()
    .map_err(|e| e.to_string())?;
    for (what, a) in &ints {
        c.array(what, a);
    }
    c.array(
        "topk",
        &clean
            .reshape(&[-1])
            .and_then(|v| v.topk(4))
            .map_err(|e| e.to_string())?,
    );
    c.done()
}
