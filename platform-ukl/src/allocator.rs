//! The global allocator: `kvmalloc`/`kvfree`, so small allocations come from
//! the slab and large receive buffers fall back to vmalloc instead of
//! failing for want of contiguous pages.

use crate::glue;
use core::alloc::{GlobalAlloc, Layout};

/// The alignment kvmalloc guarantees for every size (ARCH_KMALLOC_MINALIGN on x86-64).
const KERNEL_ALIGN: usize = 8;

/// Allocates through the kernel. Alignments above 8 bytes are met by
/// over-allocating and storing the kernel's pointer just below the block.
pub struct KernelAllocator;

// SAFETY: every block comes from kvmalloc with at least `layout.size()`
// bytes at the requested alignment, and is returned to kvfree exactly once
// (the over-aligned path recovers the original pointer it stored).
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= KERNEL_ALIGN {
            return glue::alloc(layout.size());
        }
        let Some(total) = layout.size().checked_add(layout.align() + KERNEL_ALIGN) else {
            return core::ptr::null_mut();
        };
        let base = glue::alloc(total);
        if base.is_null() {
            return base;
        }
        let start = base as usize + KERNEL_ALIGN;
        let aligned = (start + layout.align() - 1) & !(layout.align() - 1);
        let block = aligned as *mut u8;
        // SAFETY: `aligned - 8 >= base`, inside the allocation, and 8-aligned.
        unsafe { block.cast::<*mut u8>().sub(1).write(base) };
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.align() <= KERNEL_ALIGN {
            // SAFETY: `ptr` came from `glue::alloc` in `alloc`.
            unsafe { glue::free(ptr) };
        } else {
            // SAFETY: `alloc` stored the kernel's pointer just below the block.
            unsafe { glue::free(ptr.cast::<*mut u8>().sub(1).read()) };
        }
    }
}
