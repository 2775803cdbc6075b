//! ternion in the kernel: the core as a static library for Unikernel Linux.
//!
//! In UKL the application is linked into the kernel and runs in kernel
//! mode, so a send is a function call into the kernel's TCP stack rather
//! than a system call. This crate supplies what the core asks of a
//! platform, from the kernel's own facilities: TCP sockets (`net`), a
//! clock and a sleeping wait woken by socket callbacks (`party`), the
//! allocator, the console, randomness and threads (`glue`). It exports
//! the same C API and MPI subset as the Linux backend, plus the small part
//! of libc that C MPC programs need (`libc`), so those programs link into
//! the kernel unchanged.
//!
//! Kernel structures are reached only through `kernel/ternion_glue.c`,
//! compiled against the target kernel's headers; `glue` is the Rust side
//! of that narrow ABI. Nothing here may panic: errors become error codes,
//! and a malformed peer frame ends only that link (the core's rule).
#![no_std]

extern crate alloc;

mod allocator;
mod backend;
mod comm;
mod console;
mod environment;
mod glue;
mod libc;
mod math;
mod net;
mod party;
mod programs;

pub use party::KernelParty;

// Only in the kernel build: a host build (the workspace's lint pass) links
// std, which brings its own allocator and panic handler.
#[cfg(target_os = "none")]
#[global_allocator]
static ALLOCATOR: allocator::KernelAllocator = allocator::KernelAllocator;

/// The party behind the C entry points.
static PARTY: ternion_capi::Global<KernelParty> = ternion_capi::Global::new();
ternion_capi::export_mpi!(KernelParty, PARTY);
ternion_capi::export_native!(KernelParty, PARTY);

/// A panic is a bug; in the kernel it must not take the machine down with
/// it. The message goes to the console and the application ends with
/// code 101 (Rust's own code for a panicked program); its peers see the
/// links close and fail their operations cleanly.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    console::print(format_args!("ternion: BUG: {info}"));
    glue::exit(101)
}
