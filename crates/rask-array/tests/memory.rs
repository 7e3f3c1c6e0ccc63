//! An array whose chunks together are larger than the test allows in
//! memory, reduced with a bounded number of live chunks: the scheduler's
//! depth-first order releases each chunk as soon as its partial sum is
//! taken. Live chunks are counted with a callback, and the bytes
//! allocated are measured by a counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use rask_array::RandomState;
use rask_scheduler::{Callback, TaskEvent, Threads};

struct Counting;
static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let n = NOW.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(n, Relaxed);
        // SAFETY: same layout, as the caller promised.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        NOW.fetch_sub(l.size(), Relaxed);
        // SAFETY: `p` came from `alloc` with this layout.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Chunks made minus chunks consumed, and the most at once.
#[derive(Debug, Default)]
struct LiveChunks {
    live: AtomicUsize,
    peak: AtomicUsize,
    made: AtomicUsize,
}

impl Callback for LiveChunks {
    fn task_finished(&self, e: &TaskEvent<'_>) {
        let name = e.key.name();
        if name.starts_with("map-blocks-") {
            self.made.fetch_add(1, Relaxed);
            let n = self.live.fetch_add(1, Relaxed) + 1;
            self.peak.fetch_max(n, Relaxed);
        } else if name.starts_with("sum-partial-") {
            self.live.fetch_sub(1, Relaxed);
        }
    }
}

fn run(executor: &dyn rask_scheduler::Executor) -> (usize, usize) {
    const N: usize = 32 << 20; // 256 MiB of f64
    const CHUNK: usize = 1 << 17; // 1 MiB chunks, 256 of them
    let x = RandomState::new(5).random(&[N], CHUNK).unwrap();
    // map_blocks makes real chunks (a fused expression would make none)
    let y = x.map_blocks("square", |c, _| c.mapv(|v| v * v));
    let s = y.sum();
    let live = LiveChunks::default();
    let base = NOW.load(Relaxed);
    PEAK.store(base, Relaxed);
    let total = s.compute_with(executor, &[&live]).unwrap();
    let mean_square = total[[]] / N as f64;
    assert!((mean_square - 1.0 / 3.0).abs() < 1e-3, "{mean_square}");
    assert_eq!(live.made.load(Relaxed), N / CHUNK);
    let peak_bytes = PEAK.load(Relaxed) - base;
    (live.peak.load(Relaxed), peak_bytes)
}

/// What the test allows in memory: under a fifth of the array.
const LIMIT: usize = 48 << 20;

#[test]
fn a_reduction_larger_than_memory_keeps_few_chunks_alive() {
    // one thread: each chunk is summed as soon as it is made
    let (chunks, bytes) = run(&rask_scheduler::Sync);
    assert!(chunks <= 1, "{chunks} chunks alive at once");
    assert!(bytes < LIMIT / 4, "peak {} MiB", bytes >> 20);
    // two threads: the pool takes a first batch of up to 16 ready tasks per
    // worker before it knows how long they take, then one at a time
    let (chunks, bytes) = run(&Threads::new(2));
    assert!(chunks <= 2 * 16 + 4, "{chunks} chunks alive at once");
    assert!(bytes < LIMIT, "peak {} MiB of a 256 MiB array", bytes >> 20);
}
