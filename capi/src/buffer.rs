//! The buffers a platform lends the core: owned vectors, or the
//! caller's own memory for the duration of a blocking call.
//!
//! Lending the caller's memory is what lets a 128 MiB exchange go from the
//! application's array to the socket and back with no intermediate copy.

use alloc::vec::Vec;
use core::fmt;

/// Memory a send reads from.
pub enum SendBuf {
    /// Bytes the request owns.
    Owned(Vec<u8>),
    /// The caller's bytes, borrowed while the request runs.
    Borrowed(Lent),
}

/// Memory a receive writes into.
pub enum RecvBuf {
    /// Bytes the request owns.
    Owned(Vec<u8>),
    /// The caller's bytes, borrowed while the request runs.
    Borrowed(LentMut),
}

/// A raw view of a caller's shared slice.
pub struct Lent {
    ptr: *const u8,
    len: usize,
}

/// A raw view of a caller's exclusive slice.
pub struct LentMut {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a `Lent` is only a pointer to bytes that are not mutated while it
// exists (see `Lent::new`); sharing it across threads is sharing `&[u8]`.
unsafe impl Send for Lent {}
// SAFETY: a `LentMut` is the only access path to its bytes while it exists
// (see `LentMut::new`); moving it across threads is moving `&mut [u8]`.
unsafe impl Send for LentMut {}

/// The `len` bytes a C caller passes at `data` (which may be null, or
/// anything, when `len` is 0), as a slice.
///
/// # Safety
/// When `len > 0`, `data` must point to `len` readable bytes that stay valid
/// and unmodified for `'a`.
pub unsafe fn c_bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `len` valid bytes at `data` for `'a`.
        unsafe { core::slice::from_raw_parts(data, len) }
    }
}

/// The `len` writable bytes a C caller passes at `out`, as a slice.
///
/// # Safety
/// When `len > 0`, `out` must point to `len` writable bytes that stay valid,
/// and untouched by anyone else, for `'a`.
pub unsafe fn c_bytes_mut<'a>(out: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 {
        &mut []
    } else {
        // SAFETY: the caller guarantees `len` exclusive writable bytes at `out` for `'a`.
        unsafe { core::slice::from_raw_parts_mut(out, len) }
    }
}

impl Lent {
    /// Lends `bytes` to a request.
    ///
    /// # Safety
    /// `bytes` must stay valid and unmodified until the request holding this
    /// value has completed and handed it back (or been dropped).
    pub unsafe fn new(bytes: &[u8]) -> Lent {
        Lent {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

impl LentMut {
    /// Lends `bytes` to a request.
    ///
    /// # Safety
    /// `bytes` must stay valid, and not be accessed by anyone else, until the
    /// request holding this value has completed and handed it back.
    pub unsafe fn new(bytes: &mut [u8]) -> LentMut {
        LentMut {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
        }
    }
}

impl AsRef<[u8]> for SendBuf {
    fn as_ref(&self) -> &[u8] {
        match self {
            SendBuf::Owned(v) => v,
            // SAFETY: `Lent::new`'s contract keeps the memory valid and unaliased by writers.
            SendBuf::Borrowed(l) => unsafe { core::slice::from_raw_parts(l.ptr, l.len) },
        }
    }
}

impl AsMut<[u8]> for RecvBuf {
    fn as_mut(&mut self) -> &mut [u8] {
        match self {
            RecvBuf::Owned(v) => v,
            // SAFETY: `LentMut::new`'s contract makes this the only access to the memory.
            RecvBuf::Borrowed(l) => unsafe { core::slice::from_raw_parts_mut(l.ptr, l.len) },
        }
    }
}

impl fmt::Debug for SendBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SendBuf({} bytes)", self.as_ref().len())
    }
}

impl fmt::Debug for RecvBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvBuf::Owned(v) => write!(f, "RecvBuf({} bytes)", v.len()),
            RecvBuf::Borrowed(l) => write!(f, "RecvBuf({} bytes, lent)", l.len),
        }
    }
}
