//! Deterministic names for the keys of bag operations.
//!
//! A bag's partitions are the keys `(name, 0)`, `(name, 1)`, ... where
//! `name` is `OP-TOKEN`: the operation (`read_text`, `map`, `frequencies`)
//! and 16 hex digits hashed from what the result depends on. Sources hash
//! their data's identity (paths, sizes and modification times of files);
//! operations hash their inputs' names, their parameters and, when they
//! take a closure (whose code cannot be hashed), a number from a
//! per-process sequence. So keys never depend on chance: a program that
//! builds the same bags in the same order gets the same keys, as every
//! rank of an MPI job must.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustc_hash::FxHasher;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// The next number of the per-process sequence that tells operations on
/// closures apart.
pub(crate) fn sequence() -> u64 {
    SEQUENCE.fetch_add(1, Ordering::Relaxed)
}

/// `OP-TOKEN`, TOKEN hashed from `parts`.
pub(crate) fn name(op: &str, parts: impl Hash) -> Arc<str> {
    let mut h = FxHasher::default();
    op.hash(&mut h);
    parts.hash(&mut h);
    // mix the high bits down: Fx leaves the low bits of short inputs weak
    let x = h.finish();
    let x = (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = x ^ (x >> 32);
    Arc::from(format!("{op}-{x:016x}"))
}
