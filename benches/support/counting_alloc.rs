//! A global allocator for the memory benchmarks: it forwards every call to the system allocator
//! and counts the heap bytes live and their peak, on every thread but those marked as excluded
//! (an in-process server whose memory is not the client's).
//!
//! A bench includes it with `#[path = "support/counting_alloc.rs"] mod counting_alloc;` and installs
//! `counting_alloc::Counting` as its `#[global_allocator]`.

// Each bench uses part of this module.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// The counting allocator.
pub struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static EXCLUDED: Cell<bool> = const { Cell::new(false) };
}

/// Starts counting (nothing is counted before: allocations made earlier are freed uncounted).
pub fn start() {
    COUNTING.store(true, Ordering::Relaxed);
}

/// Leaves the calling thread's allocations out of the counts.
pub fn exclude_this_thread() {
    EXCLUDED.with(|e| e.set(true));
}

/// Heap bytes live now.
pub fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// The most heap bytes live at once since the last [`reset_peak`].
pub fn peak() -> isize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new peak from what is live now, and returns that.
pub fn reset_peak() -> isize {
    let live = live();
    PEAK.store(live, Ordering::Relaxed);
    live
}

fn count(delta: isize) {
    // `try_with`: a thread being torn down has no locals left; it is not an excluded one then.
    if !COUNTING.load(Ordering::Relaxed) || EXCLUDED.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    let live = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (see `alloc`).
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller upholds `realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        new
    }
}
