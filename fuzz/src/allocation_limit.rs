//! A cap on any single allocation, so that the targets catch memory
//! amplification without a sanitizer.
//!
//! libFuzzer's own `-malloc_limit_mb` relies on a sanitizer's malloc hooks,
//! and `scripts/fuzz.sh` builds without one. An input that makes the core
//! reserve gigabytes would then pass unnoticed: a reservation that is never
//! written to never shows in the resident set either. This allocator
//! aborts on any single allocation above [`MAX_ALLOCATION`], which libFuzzer
//! reports as a crash and saves the input of.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;

/// Far above the largest allocation the targets make honestly: a receive
/// buffer grown by one 4 MiB frame (`MAX_FRAME_PAYLOAD`) past the bytes
/// that arrived, which fit in libFuzzer's inputs and the `link` probe.
pub const MAX_ALLOCATION: usize = 64 << 20;

/// The system allocator, but refusing allocations above [`MAX_ALLOCATION`].
pub struct CappedAllocator;

/// Aborts the process if `size` is above the cap. It must not panic: an
/// allocator may not unwind.
fn enforce_cap(size: usize) {
    if size > MAX_ALLOCATION {
        // Formatting integers into stderr does not allocate.
        let _ = writeln!(
            std::io::stderr(),
            "allocation of {size} bytes exceeds the fuzzing cap of {MAX_ALLOCATION} bytes"
        );
        std::process::abort();
    }
}

// SAFETY: every method checks the size and then forwards its arguments,
// unchanged, to the system allocator, which upholds `GlobalAlloc`'s contract.
unsafe impl GlobalAlloc for CappedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        enforce_cap(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        enforce_cap(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        enforce_cap(new_size);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}
