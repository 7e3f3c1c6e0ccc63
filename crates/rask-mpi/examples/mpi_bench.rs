//! The MPI benchmark (see bench/mpi.sh).

fn main() {}
