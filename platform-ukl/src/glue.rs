//! The kernel, as `kernel/ternion_glue.h` presents it, and safe wrappers.
//!
//! This module and the C ABI exports in [`crate::libc`] are the crate's only
//! foreign boundary: every `unsafe` call into the kernel is here, each with
//! the reason it is sound. The declarations must match the header; the
//! glue's `static_assert`s pin the one shared struct layout (`Iovec`).

use core::ffi::{c_char, c_int, c_long, c_void};

/// A socket handle the glue owns (`struct ternion_k_sock`).
#[repr(C)]
pub struct RawSock {
    _opaque: [u8; 0],
}

/// A joinable kernel thread (`struct ternion_k_thread`).
#[repr(C)]
pub struct RawThread {
    _opaque: [u8; 0],
}

/// One piece of a vectored transfer (`struct ternion_k_iovec`, laid out as `struct kvec`).
#[repr(C)]
pub struct Iovec {
    base: *mut c_void,
    len: usize,
}

/// Which counter a thread sleeps on (`enum ternion_k_channel`).
#[repr(C)]
#[derive(Clone, Copy)]
pub enum Channel {
    /// Socket readiness of any kind.
    Sockets = 0,
    /// Requests for the communication thread.
    Kicks = 1,
}

extern "C" {
    fn ternion_k_alloc(size: usize) -> *mut c_void;
    fn ternion_k_free(ptr: *mut c_void);
    fn ternion_k_print(text: *const c_char, len: usize);
    fn ternion_k_monotonic_ns() -> u64;
    fn ternion_k_realtime_ns() -> u64;
    fn ternion_k_sleep_ns(ns: u64);
    fn ternion_k_yield();
    fn ternion_k_random(buf: *mut c_void, len: usize);
    fn ternion_k_events(channel: Channel) -> u32;
    fn ternion_k_signal(channel: Channel);
    fn ternion_k_wait(channel: Channel, seen: u32, timeout_ns: u64);
    fn ternion_k_listen(addr: u32, port: u16, backlog: c_int, out: *mut *mut RawSock) -> c_int;
    fn ternion_k_accept(listener: *mut RawSock, out: *mut *mut RawSock) -> c_int;
    fn ternion_k_connect(addr: u32, port: u16, out: *mut *mut RawSock) -> c_int;
    fn ternion_k_connected(sock: *mut RawSock) -> c_int;
    fn ternion_k_send(sock: *mut RawSock, iov: *const Iovec, count: usize) -> c_long;
    fn ternion_k_recv(sock: *mut RawSock, iov: *mut Iovec, count: usize) -> c_long;
    fn ternion_k_peer(sock: *mut RawSock, addr: *mut u32, port: *mut u16) -> c_int;
    fn ternion_k_release(sock: *mut RawSock);
    fn ternion_k_thread_start(
        f: extern "C" fn(*mut c_void),
        arg: *mut c_void,
        name: *const c_char,
    ) -> *mut RawThread;
    fn ternion_k_thread_join(thread: *mut RawThread);
    fn ternion_k_environment() -> *const c_char;
    fn ternion_k_exit(code: c_int) -> !;
}

/// Kernel memory for the allocator: 8-byte aligned, or null.
pub fn alloc(size: usize) -> *mut u8 {
    // SAFETY: kvmalloc accepts any size and returns null on failure.
    unsafe { ternion_k_alloc(size).cast() }
}

/// Returns memory from [`alloc`].
///
/// # Safety
/// `ptr` must come from [`alloc`] and not have been freed.
pub unsafe fn free(ptr: *mut u8) {
    // SAFETY: the caller passes a live pointer from kvmalloc.
    unsafe { ternion_k_free(ptr.cast()) }
}

/// Prints one line on the kernel console.
pub fn print(text: &[u8]) {
    // SAFETY: printk reads exactly `len` bytes ("%.*s") and keeps no reference.
    unsafe { ternion_k_print(text.as_ptr().cast(), text.len()) }
}

/// Nanoseconds on the kernel's monotonic clock.
pub fn monotonic_ns() -> u64 {
    // SAFETY: ktime_get_ns has no preconditions.
    unsafe { ternion_k_monotonic_ns() }
}

/// Nanoseconds since the Unix epoch.
pub fn realtime_ns() -> u64 {
    // SAFETY: ktime_get_real_ns has no preconditions.
    unsafe { ternion_k_realtime_ns() }
}

/// Sleeps the calling thread.
pub fn sleep_ns(ns: u64) {
    // SAFETY: called from thread context, where sleeping is allowed.
    unsafe { ternion_k_sleep_ns(ns) }
}

/// Lets another thread run if one is waiting.
pub fn yield_now() {
    // SAFETY: cond_resched from thread context.
    unsafe { ternion_k_yield() }
}

/// Fills `buf` from the kernel's RNG.
pub fn random(buf: &mut [u8]) {
    // SAFETY: get_random_bytes writes exactly `len` bytes into `buf`.
    unsafe { ternion_k_random(buf.as_mut_ptr().cast(), buf.len()) }
}

/// The current count of events on `channel`.
pub fn events(channel: Channel) -> u32 {
    // SAFETY: an atomic read.
    unsafe { ternion_k_events(channel) }
}

/// Counts an event on `channel` and wakes its sleepers.
pub fn signal(channel: Channel) {
    // SAFETY: an atomic increment and a wake-up; callable from any context.
    unsafe { ternion_k_signal(channel) }
}

/// Sleeps until `channel` counts past `seen`, or for `timeout_ns`.
pub fn wait(channel: Channel, seen: u32, timeout_ns: u64) {
    // SAFETY: called from thread context, where sleeping is allowed.
    unsafe { ternion_k_wait(channel, seen, timeout_ns) }
}

/// A kernel errno (positive), from the glue's negative return values.
pub type Errno = i32;

fn result(code: c_long) -> Result<usize, Errno> {
    if code < 0 {
        Err(-(code as i32))
    } else {
        Ok(code as usize)
    }
}

/// An owned kernel TCP socket; released on drop.
pub struct Sock(*mut RawSock);

// SAFETY: the glue's socket calls take the kernel's socket locks; a handle
// may be used from any thread, one call at a time (`&mut self`).
unsafe impl Send for Sock {}

impl Sock {
    /// Listens on `addr:port` (address in network order).
    pub fn listen(addr: u32, port: u16, backlog: i32) -> Result<Sock, Errno> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: on success the glue stores a live handle in `raw`.
        result(unsafe { ternion_k_listen(addr, port, backlog, &mut raw) }.into())?;
        Ok(Sock(raw))
    }

    /// Accepts a waiting connection without blocking (`EAGAIN` if none).
    pub fn accept(&mut self) -> Result<Sock, Errno> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: `self.0` is live; on success the glue stores a new handle.
        result(unsafe { ternion_k_accept(self.0, &mut raw) }.into())?;
        Ok(Sock(raw))
    }

    /// Starts connecting to `addr:port` without blocking.
    pub fn connect(addr: u32, port: u16) -> Result<Sock, Errno> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: on success the glue stores a live handle in `raw`.
        result(unsafe { ternion_k_connect(addr, port, &mut raw) }.into())?;
        Ok(Sock(raw))
    }

    /// `Ok` once connected, `EINPROGRESS` while connecting, else the error.
    pub fn connected(&self) -> Result<(), Errno> {
        // SAFETY: `self.0` is live.
        result(unsafe { ternion_k_connected(self.0) }.into()).map(drop)
    }

    /// Sends from `bufs` without blocking; bytes taken.
    pub fn send(&mut self, bufs: &[&[u8]]) -> Result<usize, Errno> {
        let mut iov = [const {
            Iovec {
                base: core::ptr::null_mut(),
                len: 0,
            }
        }; MAX_IOVEC];
        let n = bufs.len().min(MAX_IOVEC);
        for (slot, buf) in iov.iter_mut().zip(&bufs[..n]) {
            *slot = Iovec {
                base: buf.as_ptr() as *mut c_void,
                len: buf.len(),
            };
        }
        // SAFETY: each iovec describes a live shared slice; the kernel only
        // reads through them during the call.
        result(unsafe { ternion_k_send(self.0, iov.as_ptr(), n) })
    }

    /// Receives into `bufs` without blocking; bytes read (0 at end of stream).
    pub fn recv(&mut self, bufs: &mut [&mut [u8]]) -> Result<usize, Errno> {
        let mut iov = [const {
            Iovec {
                base: core::ptr::null_mut(),
                len: 0,
            }
        }; MAX_IOVEC];
        let n = bufs.len().min(MAX_IOVEC);
        for (slot, buf) in iov.iter_mut().zip(bufs[..n].iter_mut()) {
            *slot = Iovec {
                base: buf.as_mut_ptr().cast(),
                len: buf.len(),
            };
        }
        // SAFETY: each iovec describes a live exclusive slice; the kernel
        // writes at most `len` bytes to each during the call.
        result(unsafe { ternion_k_recv(self.0, iov.as_mut_ptr(), n) })
    }

    /// The remote address (network order) and port.
    pub fn peer(&self) -> Result<(u32, u16), Errno> {
        let (mut addr, mut port) = (0, 0);
        // SAFETY: `self.0` is live; the glue writes both outputs on success.
        result(unsafe { ternion_k_peer(self.0, &mut addr, &mut port) }.into())?;
        Ok((addr, port))
    }
}

/// Pieces one vectored call passes (the core hands at most a header, a
/// payload and a record tail).
const MAX_IOVEC: usize = 8;

impl Drop for Sock {
    fn drop(&mut self) {
        // SAFETY: the handle is live and dropped exactly once.
        unsafe { ternion_k_release(self.0) }
    }
}

/// A kernel thread running a boxed closure; [`Thread::join`] waits for it.
pub struct Thread(*mut RawThread);

// SAFETY: the handle is only a completion to wait on.
unsafe impl Send for Thread {}

impl Thread {
    /// Starts `body` on a new kernel thread; `None` if the kernel refused.
    pub fn spawn(
        name: &core::ffi::CStr,
        body: alloc::boxed::Box<dyn FnOnce() + Send>,
    ) -> Option<Thread> {
        extern "C" fn trampoline(arg: *mut c_void) {
            // SAFETY: `arg` is the box leaked below, handed over exactly once.
            let body = unsafe {
                alloc::boxed::Box::from_raw(arg.cast::<alloc::boxed::Box<dyn FnOnce() + Send>>())
            };
            body();
        }
        let arg = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(body));
        // SAFETY: the trampoline takes ownership of `arg`; `name` is a valid C string.
        let raw = unsafe { ternion_k_thread_start(trampoline, arg.cast(), name.as_ptr()) };
        if raw.is_null() {
            // SAFETY: the thread never started, so the box is still ours.
            drop(unsafe { alloc::boxed::Box::from_raw(arg) });
            return None;
        }
        Some(Thread(raw))
    }

    /// Waits for the thread's body to return.
    pub fn join(self) {
        // SAFETY: the handle is live and joined exactly once (self is consumed).
        unsafe { ternion_k_thread_join(self.0) }
    }
}

/// The application's environment words (`KEY=VALUE ...`).
pub fn environment() -> &'static [u8] {
    // SAFETY: the glue returns a NUL-terminated string that lives as long as
    // the kernel (the saved command line) or the module (its parameter).
    unsafe { core::ffi::CStr::from_ptr(ternion_k_environment()) }.to_bytes()
}

/// Ends the application with `code` (ends the calling thread).
pub fn exit(code: i32) -> ! {
    // SAFETY: never returns; the glue records the code and ends the thread.
    unsafe { ternion_k_exit(code) }
}
