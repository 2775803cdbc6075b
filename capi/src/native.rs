//! The native C API of `include/ternion.h`, written once over any [`Backend`].
//!
//! Unlike the MPI subset, errors are returned, never fatal: every function
//! returns `TERNION_OK` (0) or a negative `TERNION_ERR_*` code that
//! `ternion_strerror` explains.

#![allow(clippy::missing_safety_doc)]

use crate::backend::Backend;
use crate::blocking::{self, RecvOp, SendOp};
use crate::mpi::reduce;
use crate::mpi::types::{op, Element};
use crate::state::Global;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void, CStr};
use ternion_core::collective::Plan;
use ternion_core::{
    Error, LinkError, Rank, RequestId, Source, Status, TagFilter, FIRST_RESERVED_TAG,
};

/// Error codes of `ternion.h` (all negative; `TERNION_OK` is 0).
pub mod code {
    #![allow(missing_docs)]
    use core::ffi::c_int;
    pub const TERNION_OK: c_int = 0;
    pub const TERNION_ERR_NOT_INITIALIZED: c_int = -1;
    pub const TERNION_ERR_CONNECT: c_int = -2;
    pub const TERNION_ERR_RANK: c_int = -3;
    pub const TERNION_ERR_TAG: c_int = -4;
    pub const TERNION_ERR_TRUNCATED: c_int = -5;
    pub const TERNION_ERR_LINK: c_int = -6;
    pub const TERNION_ERR_CLOSED: c_int = -7;
    pub const TERNION_ERR_REQUEST: c_int = -8;
    pub const TERNION_ERR_ARGUMENT: c_int = -9;
    pub const TERNION_ERR_LENGTH: c_int = -10;
    pub const TERNION_ERR_PEER_ABORTED: c_int = -11;
    pub const TERNION_ERR_VALUE: c_int = -12;
}
use code::*;

/// `ternion_strerror`.
pub fn strerror(c: c_int) -> &'static CStr {
    match c {
        TERNION_OK => c"success",
        TERNION_ERR_NOT_INITIALIZED => {
            c"ternion_init has not succeeded (or ternion_close was called)"
        }
        TERNION_ERR_CONNECT => {
            c"could not connect to the other parties (see the message on stderr)"
        }
        TERNION_ERR_RANK => c"invalid peer rank (use one of the other two of 0, 1, 2)",
        TERNION_ERR_TAG => c"invalid tag (use 0 to 2^31-1, or -1 for any when receiving)",
        TERNION_ERR_TRUNCATED => c"message longer than the receive buffer",
        TERNION_ERR_LINK => c"the link to a peer failed",
        TERNION_ERR_CLOSED => c"the party is closed",
        TERNION_ERR_REQUEST => c"invalid or already completed request",
        TERNION_ERR_ARGUMENT => c"invalid argument (null pointer or bad value)",
        TERNION_ERR_LENGTH => c"message length differs from the one expected",
        TERNION_ERR_PEER_ABORTED => c"a peer aborted the job",
        TERNION_ERR_VALUE => {
            c"received bytes are not valid values of the type (bool must be 0 or 1)"
        }
        _ => c"unknown error code",
    }
}

fn from_core(e: Error) -> c_int {
    match e {
        Error::Truncated { .. } => TERNION_ERR_TRUNCATED,
        Error::Link {
            reason: LinkError::PeerAborted { .. },
            ..
        } => TERNION_ERR_PEER_ABORTED,
        Error::LinkClosed { .. } | Error::EndpointClosed => TERNION_ERR_CLOSED,
        Error::Link { .. } => TERNION_ERR_LINK,
        Error::SelfMessage => TERNION_ERR_RANK,
        Error::InvalidTag(_) => TERNION_ERR_TAG,
        Error::UnknownRequest => TERNION_ERR_REQUEST,
        _ => TERNION_ERR_LINK,
    }
}

fn party<B: Backend>(g: &Global<B>) -> Result<&B, c_int> {
    g.get().ok_or(TERNION_ERR_NOT_INITIALIZED)
}

fn result(r: Result<(), c_int>) -> c_int {
    r.err().unwrap_or(TERNION_OK)
}

fn peer<B: Backend>(p: &B, rank: c_int) -> Result<Rank, c_int> {
    match u8::try_from(rank).ok().and_then(Rank::new) {
        Some(r) if r != p.rank() => Ok(r),
        _ => Err(TERNION_ERR_RANK),
    }
}

fn tag(t: c_int) -> Result<u32, c_int> {
    u32::try_from(t)
        .ok()
        .filter(|&t| t < FIRST_RESERVED_TAG)
        .ok_or(TERNION_ERR_TAG)
}

fn checked_ptr<T>(p: *const T, len: usize) -> Result<*const T, c_int> {
    if p.is_null() && len > 0 {
        Err(TERNION_ERR_ARGUMENT)
    } else {
        Ok(p)
    }
}

/// Posts receives, then sends, on the caller's memory, and waits for all.
///
/// # Safety
/// Every pointer must be valid for its length for the duration of the call.
unsafe fn blocking<B: Backend>(
    p: &B,
    recvs: &[RecvOp],
    sends: &[SendOp],
) -> Result<Vec<Status>, c_int> {
    // SAFETY: forwarded from the caller.
    unsafe { blocking::run(p, recvs, sends) }.map_err(from_core)
}

/// Executes a collective's plan (see [`blocking::run_plan`]).
///
/// # Safety
/// Every pointer must be valid for its length for the duration of the call.
unsafe fn run_plan<B: Backend>(
    p: &B,
    plan: &Plan,
    outs: &[(*mut u8, usize)],
    data: (*const u8, usize),
) -> Result<Vec<Status>, c_int> {
    // SAFETY: forwarded from the caller.
    unsafe { blocking::run_plan(p, plan, outs, data) }.map_err(from_core)
}

/// `ternion_init`: connects with the configuration `ternion run` provides.
pub fn init<B: Backend>(g: &Global<B>) -> c_int {
    match g.init(B::connect_from_env) {
        Ok(_) => TERNION_OK,
        Err(e) => {
            B::report(format_args!("ternion_init: {e}"));
            TERNION_ERR_CONNECT
        }
    }
}

/// `ternion_init_explicit`.
pub unsafe fn init_explicit<B: Backend>(
    g: &Global<B>,
    rank: c_int,
    peers: *const *const c_char,
    session: *const c_char,
) -> c_int {
    let Ok(rank) = u8::try_from(rank) else {
        return TERNION_ERR_RANK;
    };
    if peers.is_null() {
        return TERNION_ERR_ARGUMENT;
    }
    let mut addrs = [""; 3];
    for (i, addr) in addrs.iter_mut().enumerate() {
        // SAFETY: the caller passed an array of three C strings.
        let p = unsafe { *peers.add(i) };
        if p.is_null() {
            return TERNION_ERR_ARGUMENT;
        }
        // SAFETY: non-null, NUL-terminated per the API contract.
        match unsafe { CStr::from_ptr(p) }.to_str() {
            Ok(s) => *addr = s,
            Err(_) => return TERNION_ERR_ARGUMENT,
        }
    }
    let session = if session.is_null() {
        None
    } else {
        // SAFETY: non-null, NUL-terminated per the API contract.
        match unsafe { CStr::from_ptr(session) }.to_str() {
            Ok(s) => Some(s),
            Err(_) => return TERNION_ERR_ARGUMENT,
        }
    };
    match g.init(|| B::connect_explicit(rank, addrs, session)) {
        Ok(_) => TERNION_OK,
        Err(e) => {
            B::report(format_args!("ternion_init_explicit: {e}"));
            TERNION_ERR_CONNECT
        }
    }
}

/// `ternion_rank`, `ternion_succ`, `ternion_pred` (`which` picks one).
pub fn ring_rank<B: Backend>(g: &Global<B>, which: fn(Rank) -> Rank) -> c_int {
    party(g).map_or(TERNION_ERR_NOT_INITIALIZED, |p| {
        which(p.rank()).index() as c_int
    })
}

/// `ternion_send`.
pub unsafe fn send<B: Backend>(
    g: &Global<B>,
    to: c_int,
    t: c_int,
    buf: *const c_void,
    len: usize,
) -> c_int {
    result((|| {
        let p = party(g)?;
        let send = (
            peer(p, to)?,
            tag(t)?,
            checked_ptr(buf, len)?.cast::<u8>(),
            len,
        );
        // SAFETY: `buf` holds `len` bytes for the call.
        unsafe { blocking(p, &[], &[send]) }.map(drop)
    })())
}

fn source<B: Backend>(p: &B, from: c_int) -> Result<Source, c_int> {
    if from == -1 {
        Ok(Source::Any)
    } else {
        peer(p, from).map(Source::Rank)
    }
}

fn tag_filter(t: c_int) -> Result<TagFilter, c_int> {
    if t == -1 {
        Ok(TagFilter::Any)
    } else {
        tag(t).map(TagFilter::Tag)
    }
}

/// `ternion_recv`.
pub unsafe fn recv<B: Backend>(
    g: &Global<B>,
    from: c_int,
    t: c_int,
    buf: *mut c_void,
    len: usize,
    received: *mut usize,
) -> c_int {
    result((|| {
        let p = party(g)?;
        let recv = (
            source(p, from)?,
            tag_filter(t)?,
            checked_ptr(buf, len)?.cast_mut().cast::<u8>(),
            len,
        );
        // SAFETY: `buf` holds `len` bytes for the call.
        let got = unsafe { blocking(p, &[recv], &[]) }?;
        if !received.is_null() {
            // SAFETY: the caller passed a valid size_t pointer.
            unsafe { *received = got[0].len as usize };
        }
        Ok(())
    })())
}

/// Starts a non-blocking operation with `start` and stores its handle in `req`.
fn post<B: Backend>(
    g: &Global<B>,
    req: *mut u64,
    start: impl FnOnce(&B) -> Result<RequestId, c_int>,
) -> c_int {
    result((|| {
        let p = party(g)?;
        if req.is_null() {
            return Err(TERNION_ERR_ARGUMENT);
        }
        let id = start(p)?;
        // SAFETY: checked non-null; the caller passed a valid request pointer.
        unsafe { *req = id.to_bits() };
        Ok(())
    })())
}

/// `ternion_isend`.
pub unsafe fn isend<B: Backend>(
    g: &Global<B>,
    to: c_int,
    t: c_int,
    buf: *const c_void,
    len: usize,
    req: *mut u64,
) -> c_int {
    post(g, req, |p| {
        let (to, t, data) = (peer(p, to)?, tag(t)?, checked_ptr(buf, len)?.cast::<u8>());
        // SAFETY: the API requires `buf` to stay valid until the request completes.
        unsafe { p.start_send(to, t, data, len) }.map_err(from_core)
    })
}

/// `ternion_irecv`.
pub unsafe fn irecv<B: Backend>(
    g: &Global<B>,
    from: c_int,
    t: c_int,
    buf: *mut c_void,
    len: usize,
    req: *mut u64,
) -> c_int {
    post(g, req, |p| {
        let (from, t, out) = (
            source(p, from)?,
            tag_filter(t)?,
            checked_ptr(buf, len)?.cast_mut().cast::<u8>(),
        );
        // SAFETY: the API requires `buf` to stay valid until the request completes.
        unsafe { p.start_recv(from, t, out, len) }.map_err(from_core)
    })
}

/// `ternion_wait`.
pub unsafe fn wait_one<B: Backend>(g: &Global<B>, req: *mut u64, len: *mut usize) -> c_int {
    result((|| {
        let p = party(g)?;
        if req.is_null() {
            return Err(TERNION_ERR_ARGUMENT);
        }
        // SAFETY: checked non-null.
        let id = RequestId::from_bits(unsafe { *req }).ok_or(TERNION_ERR_REQUEST)?;
        // SAFETY: as above.
        unsafe { *req = 0 };
        let got = blocking::wait_all_ok(p, &[id]).map_err(from_core)?;
        if !len.is_null() {
            // SAFETY: the caller passed a valid size_t pointer.
            unsafe { *len = got[0].len as usize };
        }
        Ok(())
    })())
}

/// `ternion_test`.
pub unsafe fn test<B: Backend>(
    g: &Global<B>,
    req: *mut u64,
    done: *mut c_int,
    len: *mut usize,
) -> c_int {
    result((|| {
        let p = party(g)?;
        if req.is_null() || done.is_null() {
            return Err(TERNION_ERR_ARGUMENT);
        }
        // SAFETY: checked non-null.
        let id = RequestId::from_bits(unsafe { *req }).ok_or(TERNION_ERR_REQUEST)?;
        let complete = p.poll_complete(id);
        // SAFETY: checked non-null.
        unsafe { *done = c_int::from(complete) };
        if complete {
            // SAFETY: forwarded; complete, so this does not block.
            return match unsafe { wait_one(g, req, len) } {
                TERNION_OK => Ok(()),
                e => Err(e),
            };
        }
        Ok(())
    })())
}

/// What one of the typed array functions works on.
#[derive(Clone, Copy)]
pub struct Typed {
    /// The element type.
    pub element: Element,
}

fn combine_op(how: c_int) -> Result<c_int, c_int> {
    match how {
        0 => Ok(op::MPI_BXOR),
        1 => Ok(op::MPI_SUM),
        _ => Err(TERNION_ERR_ARGUMENT),
    }
}

fn check_values(ty: Typed, bytes: &[u8]) -> Result<(), c_int> {
    if ty.element == Element::Bool && bytes.iter().any(|&b| b > 1) {
        return Err(TERNION_ERR_VALUE);
    }
    Ok(())
}

/// `ternion_exchange_<type>`: `n` values to the predecessor, `n` from the successor.
pub unsafe fn exchange<B: Backend>(
    g: &Global<B>,
    ty: Typed,
    send: *const c_void,
    recv: *mut c_void,
    n: usize,
) -> c_int {
    result((|| {
        let p = party(g)?;
        let len = n
            .checked_mul(ty.element.size())
            .ok_or(TERNION_ERR_ARGUMENT)?;
        let out = checked_ptr(recv, len)?.cast_mut().cast::<u8>();
        let send = checked_ptr(send, len)?.cast::<u8>();
        let plan = Plan::exchange(p.rank());
        // SAFETY: both arrays hold `n` values for the call.
        let got = unsafe { run_plan(p, &plan, &[(out, len)], (send, len)) }?;
        if got[0].len != len as u64 {
            return Err(TERNION_ERR_LENGTH);
        }
        // SAFETY: `out` holds `len` received bytes.
        check_values(ty, unsafe { core::slice::from_raw_parts(out, len) })
    })())
}

/// `ternion_open_<type>` (`all == false`, result at rank 0 only) and
/// `ternion_reveal_<type>` (`all == true`).
pub unsafe fn open<B: Backend>(
    g: &Global<B>,
    ty: Typed,
    share: *const c_void,
    out: *mut c_void,
    n: usize,
    how: c_int,
    all: bool,
) -> c_int {
    result((|| {
        let p = party(g)?;
        let how = combine_op(how)?;
        let len = n
            .checked_mul(ty.element.size())
            .ok_or(TERNION_ERR_ARGUMENT)?;
        let share = checked_ptr(share, len)?.cast::<u8>();
        let plan = if all {
            Plan::reveal(p.rank())
        } else {
            Plan::open(p.rank())
        };
        let gathers = plan.gathers();
        let mut from_a = vec![0u8; if gathers { len } else { 0 }];
        let mut from_b = vec![0u8; from_a.len()];
        let outs = [(from_a.as_mut_ptr(), len), (from_b.as_mut_ptr(), len)];
        // SAFETY: `share` holds `n` values; the receive buffers are owned here.
        let got = unsafe { run_plan(p, &plan, &outs, (share, len)) }?;
        if !gathers {
            return Ok(());
        }
        if got.iter().take(2).any(|s| s.len != len as u64) {
            return Err(TERNION_ERR_LENGTH);
        }
        check_values(ty, &from_a)?;
        check_values(ty, &from_b)?;
        let out = checked_ptr(out, len)?.cast_mut().cast::<u8>();
        if len == 0 {
            return Ok(());
        }
        // SAFETY: `share` and `out` hold `n` values; `share` is read before `out` is written
        // (it is copied first, in case the caller passed the same array).
        let mine = unsafe { core::slice::from_raw_parts(share, len) }.to_vec();
        // SAFETY: as above.
        let out = unsafe { core::slice::from_raw_parts_mut(out, len) };
        out.copy_from_slice(&mine);
        reduce::combine(ty.element, how, out, &from_a).map_err(|_| TERNION_ERR_ARGUMENT)?;
        reduce::combine(ty.element, how, out, &from_b).map_err(|_| TERNION_ERR_ARGUMENT)
    })())
}

/// `ternion_barrier`.
pub fn barrier<B: Backend>(g: &Global<B>) -> c_int {
    result((|| {
        let p = party(g)?;
        let none = core::ptr::NonNull::<u8>::dangling().as_ptr();
        let plan = Plan::barrier(p.rank());
        // SAFETY: zero-length buffers are never dereferenced.
        unsafe { run_plan(p, &plan, &[(none, 0), (none, 0)], (none.cast_const(), 0)) }.map(drop)
    })())
}

/// `ternion_close`.
pub fn close<B: Backend>(g: &Global<B>) -> c_int {
    let r = party(g).and_then(|p| p.close().map_err(from_core));
    g.finalize();
    result(r)
}

/// Per-link counters, as `ternion.h` declares them.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkStatsC {
    /// Bytes written to the socket, framing included.
    pub bytes_sent: u64,
    /// Bytes read from the socket, framing included.
    pub bytes_received: u64,
    /// Messages sent in full.
    pub messages_sent: u64,
    /// Messages received in full.
    pub messages_received: u64,
    /// Times the link resumed on a new connection after its connection broke.
    pub resumes: u64,
}

/// `ternion_get_link_stats`.
pub unsafe fn link_stats<B: Backend>(g: &Global<B>, to: c_int, out: *mut LinkStatsC) -> c_int {
    result((|| {
        let p = party(g)?;
        if out.is_null() {
            return Err(TERNION_ERR_ARGUMENT);
        }
        let s = p.stats(peer(p, to)?);
        // SAFETY: checked non-null.
        unsafe {
            *out = LinkStatsC {
                bytes_sent: s.bytes_sent,
                bytes_received: s.bytes_received,
                messages_sent: s.messages_sent,
                messages_received: s.messages_received,
                resumes: s.resumes,
            }
        };
        Ok(())
    })())
}
