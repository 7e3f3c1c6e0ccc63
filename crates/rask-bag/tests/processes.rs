//! Every bag operation on the `Processes` executor, against the same
//! computation on `Threads`: partitions, partial results and answers
//! cross the pipes through the codecs the bag registers, with no
//! registration by the test (the user) for built-in types.
//!
//! One `#[test]` runs every case in turn: forking while other test
//! threads run is what the docs tell programs not to do.

use std::fmt::Debug;
use std::io::Write;

use rask::bag::{
    from_filenames, from_partitions, from_sequence, range, read_text, Bag, Json, Shuffle,
};
use rask::{Executor, Processes, Threads};
use serde_json::json;

/// Collects the cases whose answers differ (or fail) on `Processes`.
struct Check {
    threads: Threads,
    processes: Processes,
    failures: Vec<String>,
}

impl Check {
    fn bag<T: Clone + Send + Sync + PartialEq + Debug + 'static>(
        &mut self,
        what: &str,
        b: &Bag<T>,
    ) {
        self.agree(what, |e| b.compute(e));
    }

    fn item<T: Clone + Send + Sync + PartialEq + Debug + 'static>(
        &mut self,
        what: &str,
        i: &rask::bag::Item<T>,
    ) {
        self.agree(what, |e| i.compute(e));
    }

    fn agree<T: PartialEq + Debug>(
        &mut self,
        what: &str,
        f: impl Fn(&dyn Executor) -> Result<T, rask::ComputeError>,
    ) {
        let want = match f(&self.threads) {
            Ok(v) => v,
            Err(e) => {
                self.failures.push(format!("{what}: Threads failed: {e}"));
                return;
            }
        };
        match f(&self.processes) {
            Ok(got) if got == want => {}
            Ok(got) => self
                .failures
                .push(format!("{what}: Processes gave {got:?}, Threads {want:?}")),
            Err(e) => self.failures.push(format!("{what}: Processes failed: {e}")),
        }
    }
}

fn ints() -> Bag<i64> {
    from_partitions(vec![
        vec![3, -1, 4],
        vec![],
        vec![1, 5, -9, 2],
        vec![6, 5, 3, 5],
    ])
}

fn floats() -> Bag<f64> {
    from_sequence(vec![0.5, -2.25, 3.0, 1e-3, 7.5], 2)
}

fn words() -> Bag<String> {
    from_sequence(
        "the cat and the hat and the bat"
            .split(' ')
            .map(String::from)
            .collect(),
        3,
    )
}

fn records() -> Bag<Json> {
    from_sequence(
        vec![
            json!({"name": "ada", "age": 36, "tags": ["x"]}),
            json!({"name": "bob", "age": 25, "tags": []}),
            json!({"name": "ada", "age": 37.5, "tags": ["y", "z"]}),
            json!({"name": "cy", "age": null}),
        ],
        2,
    )
}

#[test]
fn every_bag_operation_on_processes_equals_threads() {
    a_users_type_needs_one_registration_which_the_error_names();
    let mut c = Check {
        threads: Threads::new(2),
        processes: Processes::new(2),
        failures: Vec::new(),
    };
    let dir = tempfile::tempdir().unwrap();

    // element-wise
    c.bag("from_sequence", &ints());
    c.bag("range", &range(10, 3));
    c.bag("map", &ints().map(|x| x * 2));
    c.bag("map to f64", &ints().map(|x| x as f64 / 3.0));
    c.bag("map to bool", &ints().map(|x| x > 2));
    c.bag("map to String", &ints().map(|x| format!("<{x}>")));
    c.bag("filter", &ints().filter(|x| x % 2 == 0));
    c.bag("remove", &ints().remove(|x| x % 2 == 0));
    c.bag(
        "flat_map",
        &ints().flat_map(|x| vec![x; x.rem_euclid(3) as usize]),
    );
    c.bag("flatten", &words().str().split("a").flatten());
    c.bag(
        "map_partitions",
        &ints().map_partitions(|p| vec![p.len() as i64]),
    );
    c.bag("try_map", &ints().try_map(|x| Ok::<_, String>(x + 1)));
    let skipped = rask::bag::Skipped::new();
    c.bag(
        "try_map_skipping",
        &ints().try_map_skipping(|x| if x > 0 { Ok(x) } else { Err("neg") }, &skipped),
    );
    c.bag("random_sample", &ints().random_sample(0.5, 7));
    c.bag("repartition", &ints().repartition(2));
    c.bag("zip", &ints().zip(&ints().map(|x| x * x)));
    c.bag("product", &ints().product(&words()));
    c.bag("starmap", &ints().zip(&ints()).starmap(|a, b| a + b));
    let (a, b) = ints().zip(&ints().map(|x| format!("{x}"))).unzip();
    c.bag("unzip a", &a);
    c.bag("unzip b", &b);
    c.bag(
        "join",
        &ints().join(
            vec![(1_i64, "one".to_string()), (5, "five".into())],
            |x| *x,
            |y| y.0,
        ),
    );
    c.bag("take", &ints().take(5));
    c.bag("accumulate", &ints().accumulate(|a, b| a + b));
    c.bag(
        "accumulate_from",
        &ints().accumulate_from(|a: f64, b| a + b as f64, 0.5),
    );

    // aggregations
    c.item("count", &ints().count());
    c.item("sum i64", &ints().sum());
    c.item("sum f64", &floats().sum());
    c.item("min", &ints().min());
    c.item("max", &floats().max());
    c.item("min String", &words().min());
    c.item("mean", &ints().mean());
    c.item("var", &ints().var());
    c.item("var_ddof", &floats().var_ddof(1.0));
    c.item("std", &ints().std());
    c.item("std_ddof", &ints().std_ddof(1.0));
    c.item("all", &ints().map(|x| x > -10).all());
    c.item("any", &ints().map(|x| x > 5).any());
    c.item(
        "fold",
        &ints().fold(|| 0_i64, |a, x| *a += x, |a, b| *a += b),
    );
    c.item(
        "reduction",
        &ints().reduction(
            |p| p.into_iter().max().unwrap_or(0),
            |xs| xs.into_iter().max().unwrap_or(0),
        ),
    );
    c.bag("frequencies", &ints().frequencies());
    c.bag("frequencies_sorted", &words().frequencies_sorted());
    c.bag("frequencies Json", &records().pluck("name").frequencies());
    c.bag(
        "foldby",
        &ints().foldby(|x| x.rem_euclid(3), |a, x| a + x, 0_i64, |a, b| a + b, 0),
    );
    c.bag(
        "foldby_in_place",
        &words().foldby_in_place(|w| w.len(), || 0_u64, |n, _| *n += 1, |n, m| *n += m),
    );
    c.bag("topk", &ints().topk(3, |x| *x));
    c.bag("topk String", &words().topk(2, |w| w.clone()));
    c.bag("distinct", &ints().distinct());
    c.bag("distinct String", &words().distinct());
    c.bag("distinct Json", &records().pluck("name").distinct());

    // shuffles
    c.bag("groupby", &ints().groupby(|x: &i64| x.rem_euclid(4)));
    c.bag("groupby String", &words().groupby(|w: &String| w.len()));
    c.bag("groupby_field", &records().groupby_field("name"));
    let spill = tempfile::tempdir().unwrap();
    let tiny = Shuffle::new()
        .memory_budget(1)
        .spill_dir(spill.path())
        .npartitions(3);
    c.bag(
        "groupby spilling",
        &words().groupby_with(|w: &String| w.len(), &tiny),
    );
    c.bag(
        "groupby_field spilling",
        &records().groupby_field_with("name", &tiny),
    );
    let left: Vec<_> = std::fs::read_dir(spill.path()).unwrap().collect();
    if !left.is_empty() {
        c.failures.push(format!("spilling groupbys left {left:?}"));
    }

    // JSON and strings
    c.bag("pluck", &records().pluck("age"));
    c.bag(
        "pluck path",
        &records().filter(|r| r["tags"].is_array()).pluck(["tags"]),
    );
    c.bag("pluck_or", &records().pluck_or("missing", json!(0)));
    c.bag("str lower", &words().str().upper().str().lower());
    c.bag(
        "str strip",
        &words().map(|w| format!(" {w} ")).str().strip(),
    );
    c.bag("str replace", &words().str().replace("a", "o"));
    c.bag("str startswith", &words().str().startswith("t"));
    c.bag("str endswith", &words().str().endswith("t"));
    c.bag("str contains", &words().str().contains("at"));
    c.bag("str len", &words().str().len());

    // files
    let input = dir.path().join("in.jsonl");
    let mut f = std::fs::File::create(&input).unwrap();
    for i in 0..20 {
        writeln!(
            f,
            "{{\"id\": {i}, \"kind\": \"k{}\", \"x\": {}.5}}",
            i % 3,
            i
        )
        .unwrap();
    }
    drop(f);
    let text = read_text(&input).unwrap();
    c.bag("read_text", &text);
    c.bag("json", &text.json::<Json>());
    c.bag("json_field", &text.json_field::<String>("kind"));
    // a tuple the user chose is the user's type: one registration
    rask::codec::register::<(i64, f64)>();
    c.bag("json_fields", &text.json_fields::<(i64, f64)>(["id", "x"]));
    c.bag(
        "json groupby_field",
        &text.json::<Json>().groupby_field("kind"),
    );
    c.bag("from_filenames", &from_filenames(&input).unwrap());
    for (name, e) in [
        ("threads", &c.threads as &dyn Executor),
        ("processes", &c.processes),
    ] {
        let pattern = dir.path().join(format!("out-{name}-*.txt"));
        let out = words().to_textfiles(&pattern);
        match out.compute(e) {
            Ok(paths) => {
                let back = read_text(paths).unwrap().compute(&c.threads).unwrap();
                let want: Vec<String> = words().compute(&c.threads).unwrap();
                if back != want {
                    c.failures
                        .push(format!("to_textfiles on {name}: read back {back:?}"));
                }
            }
            Err(e) => c.failures.push(format!("to_textfiles on {name}: {e}")),
        }
    }

    assert!(
        c.failures.is_empty(),
        "{} failures:\n{}",
        c.failures.len(),
        c.failures.join("\n")
    );
}

/// A record type of the user's, with serde but not registered.
#[derive(Clone, Debug, PartialEq, Hash, Eq, serde::Serialize, serde::Deserialize)]
struct Visit {
    page: String,
    n: i64,
}

/// Run by the one test, before anything registers `Visit`.
fn a_users_type_needs_one_registration_which_the_error_names() {
    let p = Processes::new(2);
    let visits = from_sequence(
        (0..6)
            .map(|n| Visit {
                page: format!("/{}", n % 2),
                n,
            })
            .collect(),
        2,
    );
    let freq = visits.frequencies();
    let e = freq.compute(&p).unwrap_err().to_string();
    let name = std::any::type_name::<Visit>();
    assert!(
        e.contains(&format!("a value of type {name} has no codec"))
            && e.contains(&format!("rask::codec::register::<{name}>()")),
        "{e}"
    );
    rask::codec::register::<Visit>();
    let t = Threads::new(2);
    assert_eq!(freq.compute(&p).unwrap(), freq.compute(&t).unwrap());
    let by_page = visits.groupby(|v: &Visit| v.page.clone());
    assert_eq!(by_page.compute(&p).unwrap(), by_page.compute(&t).unwrap());
    let top = visits.topk(2, |v| v.n).map(|v| v.n).sum();
    assert_eq!(top.compute(&p).unwrap(), 9);
}
