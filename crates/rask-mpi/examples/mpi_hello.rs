//! The seed graph of rask on an MPI job: every rank builds it, rank 0
//! prints the result.
//!
//! ```sh
//! cargo build --release -p rask-mpi --features mpi --example mpi_hello
//! mpirun -np 3 target/release/examples/mpi_hello
//! ```

use rask_graph::graph;
use rask_mpi::Mpi;
use rask_scheduler::Executor;

fn inc(x: i64) -> i64 {
    x + 1
}

fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {
    let mpi = Mpi::new().expect("MPI starts");
    let dsk = graph! {
        "x" => 1,
        "y" => (inc, "x"),
        "z" => (add, "y", 10),
    };
    let z = mpi.get(&dsk, "z").expect("the graph computes");
    if mpi.is_root() {
        println!("z = {z:?} on {} ranks", mpi.size());
    }
}
