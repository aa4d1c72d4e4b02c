//! A counting global allocator: the system allocator, plus the heap bytes live now, the
//! most live since a measurement started, and how many allocations were made. A test
//! binary that bounds the memory something costs installs it in one declaration:
//!
//! ```ignore
//! #[global_allocator]
//! static HEAP: harness::alloc::Counting = harness::alloc::Counting::new();
//! ```
//!
//! then reads `HEAP.live()`, or starts a measurement with `HEAP.reset_peak()` and reads
//! `HEAP.peak()`, or counts allocations between two reads of `HEAP.allocations()`. The
//! counters are the whole process's: measurements in one test binary must run one after
//! another (one test function, or `--test-threads=1`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// The system allocator, counting.
#[derive(Debug, Default)]
pub struct Counting {
    live: AtomicIsize,
    peak: AtomicIsize,
    allocations: AtomicIsize,
}

impl Counting {
    pub const fn new() -> Self {
        Counting {
            live: AtomicIsize::new(0),
            peak: AtomicIsize::new(0),
            allocations: AtomicIsize::new(0),
        }
    }

    /// Heap bytes allocated and not freed.
    pub fn live(&self) -> isize {
        self.live.load(Ordering::Relaxed)
    }

    /// Allocations made so far (a `realloc` counts as one).
    pub fn allocations(&self) -> isize {
        self.allocations.load(Ordering::Relaxed)
    }

    /// The most bytes live since the last [`Counting::reset_peak`].
    pub fn peak(&self) -> isize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Starts a measurement: the peak becomes what is live now, which is returned (the
    /// base to subtract from [`Counting::peak`]).
    pub fn reset_peak(&self) -> isize {
        let base = self.live();
        self.peak.store(base, Ordering::Relaxed);
        base
    }

    fn grew(&self, by: isize) {
        self.allocations.fetch_add(1, Ordering::Relaxed);
        let now = self.live.fetch_add(by, Ordering::Relaxed) + by;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}

// GlobalAlloc is an unsafe trait, so counting needs `unsafe`: this test-only wrapper is
// the one use of it outside the FFI layer, and it only forwards to the system allocator
// with the caller's arguments (whose contracts the caller upholds) after counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.grew(layout.size() as isize);
        // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.live
            .fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from this allocator, that is from System, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.grew(new_size as isize - layout.size() as isize);
        // SAFETY: `ptr` came from System with `layout`; the caller checked `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
