//! The part of the C library that in-kernel C programs need and that is
//! best written over the kernel directly: memory, environment, time,
//! sleeping and exit. The formatted output, string and number functions
//! are C (`platform-ukl/libc/src`); together they are what UKL's glibc
//! provided to the original Secrecy experiment.

use crate::{console, environment, glue};
use core::ffi::{c_char, c_int, c_long, c_uint, c_void, CStr};
use core::sync::atomic::{AtomicI32, Ordering};

/// Bytes before each `malloc` block: its size, for `realloc`, padded so the
/// block keeps C's 16-byte alignment.
const HEADER: usize = 16;

/// `malloc`.
#[no_mangle]
pub extern "C" fn malloc(size: usize) -> *mut c_void {
    let Some(total) = size.checked_add(HEADER) else {
        return core::ptr::null_mut();
    };
    let Ok(layout) = core::alloc::Layout::from_size_align(total, HEADER) else {
        return core::ptr::null_mut();
    };
    // SAFETY: `layout` has a non-zero size.
    let base = unsafe { alloc::alloc::alloc(layout) };
    if base.is_null() {
        return base.cast();
    }
    // SAFETY: the block has HEADER bytes before the caller's part, 16-aligned.
    unsafe {
        base.cast::<usize>().write(size);
        base.add(HEADER).cast()
    }
}

/// `free`.
///
/// # Safety
/// `ptr` is null or a live block from `malloc`/`realloc`/`calloc`.
#[no_mangle]
pub unsafe extern "C" fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: the caller passes a live block; its header holds the size it was made with.
    unsafe {
        let base = ptr.cast::<u8>().sub(HEADER);
        let size = base.cast::<usize>().read();
        let layout = core::alloc::Layout::from_size_align_unchecked(size + HEADER, HEADER);
        alloc::alloc::dealloc(base, layout);
    }
}

/// `realloc`.
///
/// # Safety
/// As for [`free`].
#[no_mangle]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    if ptr.is_null() {
        return malloc(size);
    }
    let grown = malloc(size);
    if !grown.is_null() {
        // SAFETY: `ptr` is a live block whose header holds its size; both
        // blocks are valid for the smaller of the two sizes.
        unsafe {
            let old = ptr.cast::<u8>().sub(HEADER).cast::<usize>().read();
            core::ptr::copy_nonoverlapping(ptr.cast::<u8>(), grown.cast(), old.min(size));
            free(ptr);
        }
    }
    grown
}

/// `getenv`: the kernel command line's `KEY=VALUE` words.
///
/// # Safety
/// `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn getenv(name: *const c_char) -> *mut c_char {
    if name.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: the caller passes a C string.
    let name = unsafe { CStr::from_ptr(name) };
    environment::c_var(name.to_bytes()).cast_mut()
}

extern "C" {
    /// The C++ runtime's (platform-ukl/cxx): runs the destructors that
    /// objects of static storage registered, latest first.
    fn __cxa_finalize(dso: *mut c_void);
    /// The shim's stdio: a null stream flushes stdout and stderr.
    fn fflush(stream: *mut c_void) -> c_int;
}

/// `exit`: ends the application as C's exit does, after the static objects'
/// destructors and with stdout and stderr flushed (the kernel then reports
/// the code). Returning from a program's `main` ends here too.
#[no_mangle]
pub extern "C" fn exit(code: c_int) -> ! {
    // SAFETY: both take a null pointer to mean "everything"; the
    // application thread is the only one in C or C++ code.
    unsafe {
        __cxa_finalize(core::ptr::null_mut());
        fflush(core::ptr::null_mut());
    }
    glue::exit(code)
}

/// `abort`: ends the application as a C program killed by SIGABRT would.
#[no_mangle]
pub extern "C" fn abort() -> ! {
    console::print(format_args!("ternion: the application called abort()"));
    glue::exit(128 + 6)
}

/// `getrandom`: the kernel's random number generator, which is seeded long
/// before the application starts, so no flag changes what it returns.
///
/// # Safety
/// `buf` points to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn getrandom(buf: *mut c_void, len: usize, _flags: c_uint) -> isize {
    const EFAULT: c_int = 14;
    let Ok(count) = isize::try_from(len) else {
        return fail(EINVAL) as isize;
    };
    if len == 0 {
        return 0;
    }
    if buf.is_null() {
        return fail(EFAULT) as isize;
    }
    // SAFETY: the caller passes `len` writable bytes.
    glue::random(unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), len) });
    count
}

/// `struct timespec` on x86-64.
#[repr(C)]
pub struct Timespec {
    tv_sec: i64,
    tv_nsec: c_long,
}

const CLOCK_REALTIME: c_int = 0;
const CLOCK_MONOTONIC: c_int = 1;
const EINVAL: c_int = 22;

/// `clock_gettime` for the realtime and monotonic clocks.
///
/// # Safety
/// `out` is null or points to a writable `struct timespec`.
#[no_mangle]
pub unsafe extern "C" fn clock_gettime(clock: c_int, out: *mut Timespec) -> c_int {
    let ns = match clock {
        CLOCK_REALTIME => glue::realtime_ns(),
        CLOCK_MONOTONIC => glue::monotonic_ns(),
        _ => return fail(EINVAL),
    };
    if out.is_null() {
        return fail(EINVAL);
    }
    let value = Timespec {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_nsec: (ns % 1_000_000_000) as c_long,
    };
    // SAFETY: the caller passes a writable timespec.
    unsafe { out.write(value) };
    0
}

/// `time`.
///
/// # Safety
/// `out` is null or points to a writable `time_t`.
#[no_mangle]
pub unsafe extern "C" fn time(out: *mut i64) -> i64 {
    let seconds = (glue::realtime_ns() / 1_000_000_000) as i64;
    if !out.is_null() {
        // SAFETY: the caller passes a writable time_t.
        unsafe { out.write(seconds) };
    }
    seconds
}

/// `nanosleep`: sleeps the whole interval (kernel threads get no signals).
///
/// # Safety
/// `request` points to a readable timespec; `remaining` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn nanosleep(request: *const Timespec, remaining: *mut Timespec) -> c_int {
    if request.is_null() {
        return fail(EINVAL);
    }
    // SAFETY: the caller passes a readable timespec.
    let Timespec { tv_sec, tv_nsec } = unsafe { request.read() };
    if tv_sec < 0 || !(0..1_000_000_000).contains(&tv_nsec) {
        return fail(EINVAL);
    }
    glue::sleep_ns(
        (tv_sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(tv_nsec as u64),
    );
    if !remaining.is_null() {
        // SAFETY: the caller passes a writable timespec.
        unsafe {
            remaining.write(Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            })
        };
    }
    0
}

/// `sleep`.
#[no_mangle]
pub extern "C" fn sleep(seconds: c_uint) -> c_uint {
    glue::sleep_ns(u64::from(seconds) * 1_000_000_000);
    0
}

/// `usleep`.
#[no_mangle]
pub extern "C" fn usleep(micros: c_uint) -> c_int {
    glue::sleep_ns(u64::from(micros) * 1_000);
    0
}

/// The application's `errno` (one application thread per kernel).
static ERRNO: AtomicI32 = AtomicI32::new(0);

/// `errno`'s address, as `<errno.h>` expects.
#[no_mangle]
pub extern "C" fn __errno_location() -> *mut c_int {
    ERRNO.as_ptr()
}

fn fail(errno: c_int) -> c_int {
    ERRNO.store(errno, Ordering::Relaxed);
    -1
}

/// Where the C stdio writes stdout and stderr.
///
/// # Safety
/// `bytes` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ternion_ukl_console_write(bytes: *const c_char, len: usize) {
    if bytes.is_null() || len == 0 {
        return;
    }
    // SAFETY: the caller passes `len` readable bytes.
    let text = unsafe { core::slice::from_raw_parts(bytes.cast::<u8>(), len) };
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    for line in text.split(|&b| b == b'\n') {
        glue::print(line);
    }
}
