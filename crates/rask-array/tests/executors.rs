//! Every array operation on the `Processes` executor against the same
//! computation on `Threads`: chunks, partial results (argmin's pairs,
//! moments, histograms, top-k lists) and answers cross the pipes through
//! the codecs the arrays register, with nothing registered by the test.
//!
//! One `#[test]` runs every case in turn: forking while other test
//! threads run is what the docs tell programs not to do.

use std::fmt::Debug;

use rask::array::ndarray::{s, Array2, ArrayD};
use rask::array::{
    arange, concatenate, diag, einsum, eye, from_ndarray, full, histogram, linspace, ones,
    percentile, stack, tensordot, where_, zeros, Array, ArrayError, Boundary, Element, RandomState,
    Reduce,
};
use rask::{Executor, Processes, Threads};

struct Check {
    threads: Threads,
    processes: Processes,
    failures: Vec<String>,
    cases: usize,
}

/// Equal, NaN equal to NaN.
fn same<T: Element>(a: &ArrayD<T>, b: &ArrayD<T>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

impl Check {
    fn array<T: Element>(&mut self, what: &str, a: Result<Array<T>, ArrayError>) {
        match a {
            Ok(a) => self.agree(what, |e| a.compute(e), same),
            Err(e) => self.failures.push(format!("{what}: not built: {e}")),
        }
    }

    fn agree<V: Debug>(
        &mut self,
        what: &str,
        f: impl Fn(&dyn Executor) -> Result<V, ArrayError>,
        eq: impl Fn(&V, &V) -> bool,
    ) {
        self.cases += 1;
        let want = match f(&self.threads) {
            Ok(v) => v,
            Err(e) => {
                self.failures.push(format!("{what}: Threads failed: {e}"));
                return;
            }
        };
        match f(&self.processes) {
            Ok(got) if eq(&got, &want) => {}
            Ok(got) => self
                .failures
                .push(format!("{what}: Processes gave {got:?}, Threads {want:?}")),
            Err(e) => self.failures.push(format!("{what}: Processes failed: {e}")),
        }
    }
}

#[test]
fn every_array_operation_on_processes_equals_threads() {
    let mut c = Check {
        threads: Threads::new(2),
        processes: Processes::new(2),
        failures: Vec::new(),
        cases: 0,
    };
    let data = Array2::from_shape_fn((6, 5), |(i, j)| {
        if (i + j) % 7 == 3 {
            f64::NAN
        } else {
            (i as f64 - 2.5) * (j as f64 + 0.5)
        }
    });
    let x = from_ndarray(&data.clone().into_dyn(), [4, 2]).unwrap();
    let clean = x.map("clean", |v: f64| if v.is_nan() { 0.5 } else { v });
    let xi = clean.astype::<i64>();
    let xf32 = clean.astype::<f32>();
    let v = arange(11, 4);
    let vf = v.astype::<f64>();

    // creation
    c.array("arange", Ok(arange(10, 3)));
    c.array("linspace", linspace(0.0, 1.0, 7, 3));
    c.array("full", full(&[3, 4], 2.5_f64, [2, 3]));
    c.array("ones", ones(&[5], 2));
    c.array("zeros", zeros(&[2, 3], [1, 2]));
    c.array("eye", eye(4, 3));
    let rs = RandomState::new(7);
    c.array("random", rs.random(&[5, 4], [2, 3]));
    c.array("normal", rs.normal(1.0, 2.0, &[7], 3));
    c.array("randint", rs.randint(-5, 5, &[3, 3], 2));
    c.array(
        "fromfunction",
        Array::<f64>::fromfunction("f", &[4, 3], [3, 2], |ix| (ix[0] * 10 + ix[1]) as f64),
    );

    // elementwise (fused) and casts
    c.array("arith", Ok((2.0 * &x + 1.0) / 3.0 - &x));
    c.array("int arith", Ok(&xi * 3 + 100 - &xi % 4));
    c.array("ufuncs", Ok(x.sin().exp().log1p().sqrt().abs()));
    c.array("powi powf", Ok(clean.powi(2) + clean.abs().powf(0.5)));
    c.array("compare", Ok(x.gt(0.0).unwrap().astype::<i64>()));
    c.array("isnan", Ok(x.isnan().astype::<i64>()));
    c.array("clip", clean.clip(-2.0, 3.0));
    c.array("where", where_(&x.gt(0.0).unwrap(), &x, -1.0));
    c.array(
        "maximum",
        clean.maximum(&clean.slice(s![..;-1, ..]).unwrap()),
    );
    c.array("f32", Ok(&xf32 * 2.0_f32));
    c.array("bool", Ok(x.isfinite()));
    c.array(
        "broadcast",
        Ok(&x + &from_ndarray(&data.row(0).to_owned().into_dyn(), 2).unwrap()),
    );

    // reductions
    c.array("sum", Ok(clean.sum()));
    c.array("sum_axis", clean.sum_axis(1));
    c.array("prod", Ok(xi.prod()));
    c.array("min", clean.min());
    c.array("max_axis", clean.max_axis(0));
    c.array("mean", Ok(clean.mean()));
    c.array("var", Ok(clean.var()));
    c.array("std_axis", clean.std_axis(0));
    c.array("argmin", clean.argmin());
    c.array("argmax_axis", clean.argmax_axis(1));
    c.array("nansum", Ok(x.nansum()));
    c.array("nanmean", Ok(x.nanmean()));
    c.array("nanmin", x.nanmin());
    c.array("nanmax_axis", x.nanmax_axis(1));
    c.array("nanvar", Ok(x.nanvar()));
    c.array("nanstd", Ok(x.nanstd()));
    c.array("any", Ok(x.gt(10.0).unwrap().any()));
    c.array("all", Ok(x.isfinite().all()));
    c.array("count_nonzero", Ok(x.count_nonzero()));
    c.array("norm", Ok(clean.norm()));
    c.array(
        "sum_with",
        clean.sum_with(&Reduce::axes(&[0, 1]).keepdims(true).split_every(2)),
    );
    c.array("i64 mean", Ok(xi.mean()));
    c.array("f32 var", Ok(xf32.var()));

    // cumulative, sorting
    c.array("cumsum", clean.cumsum(0));
    c.array("cumprod", xi.cumprod(1));
    c.array("diff", clean.diff(1, 1));
    c.array("topk", vf.topk(3));
    c.array("argtopk", v.argtopk(-2));
    c.array("argsort", vf.argsort());
    c.array(
        "histogram counts",
        histogram(&clean, 4, (-10.0, 10.0)).map(|h| h.0),
    );
    c.array(
        "histogram edges",
        histogram(&clean, 4, (-10.0, 10.0)).map(|h| h.1),
    );
    c.array("percentile", percentile(&clean, &[5.0, 50.0, 95.0]));

    // shape
    c.array("slice", x.slice(s![1..5;2, ..;-1]));
    c.array("index", x.slice(s![2, 1..]));
    c.array("take", x.take(1, &[4, 0, -1]));
    c.array("transpose", Ok(x.t()));
    c.array("reshape", xi.reshape(&[5, -1]));
    c.array("squeeze", x.expand_dims(0).and_then(|a| a.squeeze()));
    c.array("broadcast_to", vf.broadcast_to(&[2, 11]));
    c.array("rechunk", x.rechunk([3, 5]));
    c.array("concatenate", concatenate(&[&x, &clean], 0));
    c.array("stack", stack(&[&x, &clean], 1));
    c.array("diag", diag(&vf));
    c.array("diag of 2-d", clean.diag(1));
    c.array("tril", clean.tril(0));
    c.array("triu", clean.triu(1));

    // linear algebra
    c.array("matmul", clean.matmul(&clean.t()));
    c.array("dot", clean.t().dot(&clean));
    c.array("tensordot", tensordot(&clean, &clean, &[0], &[0]));
    c.array("einsum", einsum("ij,kj->ik", &clean, &xi.astype::<f64>()));

    // blocks and overlap
    c.array(
        "map_overlap",
        clean.map_overlap("smooth", &[1, 1], Boundary::Reflect, |b| b.to_owned() * 2.0),
    );
    c.array(
        "map_overlap constant",
        xi.map_overlap("pad", &[1, 0], Boundary::Constant(9), |b| b.to_owned()),
    );

    // storage: written on one executor, read back on the other
    let dir = tempfile::tempdir().unwrap();
    for (name, e) in [
        ("threads", &c.threads as &dyn Executor),
        ("processes", &c.processes),
    ] {
        let npy = dir.path().join(format!("{name}.npy"));
        let zarr = dir.path().join(format!("{name}.zarr"));
        if let Err(e) = clean.to_npy(&npy, e) {
            c.failures.push(format!("to_npy on {name}: {e}"));
        }
        if let Err(e) = xi.to_zarr_with(&zarr, Some(3), e) {
            c.failures.push(format!("to_zarr on {name}: {e}"));
        }
    }
    for name in ["threads", "processes"] {
        c.array(
            &format!("from_npy written on {name}"),
            Array::<f64>::from_npy(dir.path().join(format!("{name}.npy")), [4, 4]),
        );
        c.array(
            &format!("from_zarr written on {name}"),
            Array::<i64>::from_zarr(dir.path().join(format!("{name}.zarr")), None),
        );
    }
    let from_threads = Array::<f64>::from_npy(dir.path().join("threads.npy"), [6, 5])
        .and_then(|a| a.compute(&Threads::new(2)));
    if !from_threads.as_ref().is_ok_and(|a| {
        same(
            a,
            &data.mapv(|v| if v.is_nan() { 0.5 } else { v }).into_dyn(),
        )
    }) {
        c.failures.push(format!("to_npy wrote {from_threads:?}"));
    }

    // several arrays in one graph, and persist
    let many = [clean.sum_axis(0).unwrap(), clean.max_axis(0).unwrap()];
    c.agree(
        "compute_many",
        |e| rask::array::compute_many(&many.iter().collect::<Vec<_>>(), e),
        |a, b| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
    );
    c.agree(
        "persist",
        |e| (&clean.persist(e)? * 2.0).compute(&Threads::new(2)),
        same,
    );

    assert!(
        c.failures.is_empty(),
        "{} of {} cases failed:\n{}",
        c.failures.len(),
        c.cases,
        c.failures.join("\n")
    );
}
