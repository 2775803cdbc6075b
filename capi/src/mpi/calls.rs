//! The MPI subset, written once over any [`Backend`].
//!
//! Errors follow MPI's default handler, `MPI_ERRORS_ARE_FATAL`: the call
//! prints what failed, naming this party's rank, and aborts the whole job.
//! After `MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)` the
//! error code is returned instead (a peer's abort still ends the process, as
//! the job is over). Calls made before `MPI_Init` return
//! `MPI_ERR_NOT_INITIALIZED`, as there is no job to abort yet.

#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

use super::reduce;
use super::types::*;
use crate::backend::Backend;
use crate::blocking::{self, RecvOp, SendOp};
use crate::state::Global;
use crate::usage;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void};
use ternion_core::collective::Plan;
use ternion_core::{Error, LinkError, Rank, RequestId, Source, Status, TagFilter, PARTIES};

/// A failed check: an MPI error code and what exactly was wrong.
type Failure = (c_int, alloc::string::String);

fn fail(code: c_int, detail: impl Into<alloc::string::String>) -> Failure {
    (code, detail.into())
}

/// Ends the job the way `MPI_ERRORS_ARE_FATAL` does.
fn fatal<B: Backend>(party: &B, call: &str, (code, detail): Failure) -> ! {
    B::report(format_args!(
        "ternion MPI: {}: {call}: {} ({detail}); aborting the job",
        party.rank(),
        error_message(code)
    ));
    party.abort(code)
}

/// Runs `body` on the initialized party, applying the default error handler.
fn with_party<B: Backend>(
    g: &Global<B>,
    call: &str,
    body: impl FnOnce(&B) -> Result<(), Failure>,
) -> c_int {
    let Some(party) = g.get() else {
        B::report(format_args!(
            "ternion MPI: {call}: {}",
            error_message(code::MPI_ERR_NOT_INITIALIZED)
        ));
        return code::MPI_ERR_NOT_INITIALIZED;
    };
    match body(party) {
        Ok(()) => code::MPI_SUCCESS,
        Err((code, _)) if g.errors_return() => code,
        Err(failure) => fatal(party, call, failure),
    }
}

/// Maps a core error to an MPI code. A peer's abort ends this process with
/// the peer's code, so all parties stop as one job.
fn from_core<B: Backend>(party: &B, e: Error) -> Failure {
    match e {
        Error::Truncated {
            message_len,
            buffer_len,
        } => fail(
            code::MPI_ERR_TRUNCATE,
            alloc::format!("a {message_len}-byte message for a {buffer_len}-byte buffer"),
        ),
        Error::Link {
            peer,
            reason: LinkError::PeerAborted { code },
        } => {
            B::report(format_args!(
                "ternion MPI: {}: {peer} aborted the job with code {code}",
                party.rank()
            ));
            party.abort(code)
        }
        Error::Link { .. } | Error::LinkClosed { .. } => {
            fail(code::MPI_ERR_LINK, alloc::format!("{e}"))
        }
        Error::SelfMessage => fail(code::MPI_ERR_RANK, "ternion does not message its own rank"),
        Error::InvalidTag(t) => fail(code::MPI_ERR_TAG, alloc::format!("tag {t}")),
        Error::UnknownRequest => fail(code::MPI_ERR_REQUEST, "unknown or completed request"),
        Error::EndpointClosed => fail(code::MPI_ERR_OTHER, "MPI_Finalize has been called"),
        other => fail(code::MPI_ERR_INTERN, alloc::format!("{other}")),
    }
}

fn check_comm(comm: MPI_Comm) -> Result<(), Failure> {
    if comm == MPI_COMM_WORLD {
        Ok(())
    } else {
        Err(fail(
            code::MPI_ERR_COMM,
            alloc::format!("communicator {comm}"),
        ))
    }
}

/// Bytes in `count` elements of `dt`, and the element.
fn extent(count: c_int, dt: MPI_Datatype) -> Result<(usize, Element), Failure> {
    let element =
        element_of(dt).ok_or_else(|| fail(code::MPI_ERR_TYPE, alloc::format!("datatype {dt}")))?;
    let count = usize::try_from(count)
        .map_err(|_| fail(code::MPI_ERR_COUNT, alloc::format!("count {count}")))?;
    Ok((count * element.size(), element))
}

fn peer_rank<B: Backend>(party: &B, rank: c_int, what: &str) -> Result<Rank, Failure> {
    let r = u8::try_from(rank).ok().and_then(Rank::new);
    match r {
        Some(r) if r != party.rank() => Ok(r),
        _ => Err(fail(
            code::MPI_ERR_RANK,
            alloc::format!("{what} {rank} (valid: the other two of 0..3)"),
        )),
    }
}

fn user_tag(tag: c_int) -> Result<u32, Failure> {
    u32::try_from(tag).map_err(|_| fail(code::MPI_ERR_TAG, alloc::format!("tag {tag}")))
}

fn source_filter<B: Backend>(party: &B, source: c_int) -> Result<Source, Failure> {
    if source == MPI_ANY_SOURCE {
        Ok(Source::Any)
    } else {
        peer_rank(party, source, "source").map(Source::Rank)
    }
}

fn tag_filter(tag: c_int) -> Result<TagFilter, Failure> {
    if tag == MPI_ANY_TAG {
        Ok(TagFilter::Any)
    } else {
        user_tag(tag).map(TagFilter::Tag)
    }
}

fn buffer_ptr(buf: *const c_void, len: usize) -> Result<*const u8, Failure> {
    if buf.is_null() && len > 0 {
        return Err(fail(code::MPI_ERR_BUFFER, "null buffer"));
    }
    Ok(buf.cast())
}

/// Writes `status` where the caller asked for it. `MPI_ERROR` is left as
/// the caller had it: MPI sets that field only when a multiple-completion
/// call returns `MPI_ERR_IN_STATUS`, never on success.
unsafe fn store_status(out: *mut MPI_Status, status: &Status) {
    if !out.is_null() {
        // SAFETY: the caller passed a valid MPI_Status or MPI_STATUS_IGNORE (null).
        unsafe {
            (*out).MPI_SOURCE = status.peer.index() as c_int;
            (*out).MPI_TAG = status.tag as c_int;
            (*out).ternion_bytes = status.len as i64;
        }
    }
}

/// The empty status of a null request (any source, any tag, no bytes).
unsafe fn store_empty_status(out: *mut MPI_Status) {
    if !out.is_null() {
        // SAFETY: as in `store_status`.
        unsafe {
            (*out).MPI_SOURCE = MPI_ANY_SOURCE;
            (*out).MPI_TAG = MPI_ANY_TAG;
            (*out).ternion_bytes = 0;
        }
    }
}

/// Waits for `ids` and turns their results into statuses or the first failure.
fn wait_statuses<B: Backend>(party: &B, ids: &[RequestId]) -> Result<Vec<Status>, Failure> {
    blocking::wait_all_ok(party, ids).map_err(|e| from_core(party, e))
}

/// Executes a collective's plan (see [`blocking::run_plan`]).
///
/// # Safety
/// Every pointer must be valid for its length for the duration of the call.
unsafe fn run_plan<B: Backend>(
    party: &B,
    plan: &Plan,
    outs: &[(*mut u8, usize)],
    data: (*const u8, usize),
) -> Result<Vec<Status>, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { blocking::run_plan(party, plan, outs, data) }.map_err(|e| from_core(party, e))
}

/// Sends and receives on the caller's memory, all at once, returning when done.
///
/// # Safety
/// Every pointer must be valid for its length (see [`Backend::start_send`]).
unsafe fn exchange_blocking<B: Backend>(
    party: &B,
    sends: &[SendOp],
    recvs: &[RecvOp],
) -> Result<Vec<Status>, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { blocking::run(party, recvs, sends) }.map_err(|e| from_core(party, e))
}

/// `MPI_Init`.
pub unsafe fn init<B: Backend>(g: &Global<B>) -> c_int {
    match g.init(B::connect_from_env) {
        Ok(party) => {
            g.set_connected_at(party.seconds());
            party.exit_when_peers_abort();
            code::MPI_SUCCESS
        }
        Err(e) => {
            B::report(format_args!("ternion MPI: MPI_Init: {e}"));
            B::exit_process(1)
        }
    }
}

/// `MPI_Finalize`.
pub fn finalize<B: Backend>(g: &Global<B>) -> c_int {
    let status = with_party(g, "MPI_Finalize", |party| {
        if usage::wanted::<B>() {
            usage::report(party, party.seconds() - g.connected_at());
        }
        party.close().map_err(|e| from_core(party, e))
    });
    g.finalize();
    status
}

/// `MPI_Initialized`.
pub unsafe fn initialized<B: Backend>(g: &Global<B>, flag: *mut c_int) -> c_int {
    if !flag.is_null() {
        // SAFETY: the caller passed a valid int pointer.
        unsafe { *flag = c_int::from(g.initialized()) };
    }
    code::MPI_SUCCESS
}

/// `MPI_Finalized`.
pub unsafe fn finalized<B: Backend>(g: &Global<B>, flag: *mut c_int) -> c_int {
    if !flag.is_null() {
        // SAFETY: the caller passed a valid int pointer.
        unsafe { *flag = c_int::from(g.finalized()) };
    }
    code::MPI_SUCCESS
}

/// `MPI_Comm_rank`.
pub unsafe fn comm_rank<B: Backend>(g: &Global<B>, comm: MPI_Comm, rank: *mut c_int) -> c_int {
    with_party(g, "MPI_Comm_rank", |party| {
        check_comm(comm)?;
        if rank.is_null() {
            return Err(fail(code::MPI_ERR_ARG, "null rank pointer"));
        }
        // SAFETY: checked non-null; the caller passed a valid int pointer.
        unsafe { *rank = party.rank().index() as c_int };
        Ok(())
    })
}

/// `MPI_Comm_size`.
pub unsafe fn comm_size<B: Backend>(g: &Global<B>, comm: MPI_Comm, size: *mut c_int) -> c_int {
    with_party(g, "MPI_Comm_size", |_| {
        check_comm(comm)?;
        if size.is_null() {
            return Err(fail(code::MPI_ERR_ARG, "null size pointer"));
        }
        // SAFETY: checked non-null; the caller passed a valid int pointer.
        unsafe { *size = PARTIES as c_int };
        Ok(())
    })
}

/// `MPI_Abort`.
pub fn abort<B: Backend>(g: &Global<B>, _comm: MPI_Comm, errorcode: c_int) -> c_int {
    match g.get() {
        Some(party) => {
            B::report(format_args!(
                "ternion MPI: {}: MPI_Abort with code {errorcode}",
                party.rank()
            ));
            party.abort(errorcode)
        }
        None => B::exit_process(errorcode),
    }
}

/// `MPI_Send`.
pub unsafe fn send<B: Backend>(
    g: &Global<B>,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
) -> c_int {
    with_party(g, "MPI_Send", |party| {
        check_comm(comm)?;
        let (len, _) = extent(count, dt)?;
        let send = (
            peer_rank(party, dest, "destination")?,
            user_tag(tag)?,
            buffer_ptr(buf, len)?,
            len,
        );
        // SAFETY: MPI_Send's buffer is valid for `count` elements for the call.
        unsafe { exchange_blocking(party, &[send], &[]) }.map(drop)
    })
}

/// `MPI_Recv`.
pub unsafe fn recv<B: Backend>(
    g: &Global<B>,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    comm: MPI_Comm,
    status: *mut MPI_Status,
) -> c_int {
    with_party(g, "MPI_Recv", |party| {
        check_comm(comm)?;
        let (len, element) = extent(count, dt)?;
        let recv = (
            source_filter(party, source)?,
            tag_filter(tag)?,
            buffer_ptr(buf, len)?.cast_mut(),
            len,
        );
        // SAFETY: MPI_Recv's buffer is valid for `count` elements for the call.
        let got = unsafe { exchange_blocking(party, &[], &[recv]) }?;
        check_whole_elements(&got[0], element)?;
        // SAFETY: `status` is a valid MPI_Status or MPI_STATUS_IGNORE.
        unsafe { store_status(status, &got[0]) };
        Ok(())
    })
}

/// A received message must be a whole number of the receive's elements: a
/// mismatch of types that ternion can detect.
fn check_whole_elements(status: &Status, element: Element) -> Result<(), Failure> {
    if !status.len.is_multiple_of(element.size() as u64) {
        return Err(fail(
            code::MPI_ERR_TYPE,
            alloc::format!(
                "a {}-byte message is not a whole number of {}-byte elements",
                status.len,
                element.size()
            ),
        ));
    }
    Ok(())
}

/// `MPI_Sendrecv`.
pub unsafe fn sendrecv<B: Backend>(
    g: &Global<B>,
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    source: c_int,
    recvtag: c_int,
    comm: MPI_Comm,
    status: *mut MPI_Status,
) -> c_int {
    with_party(g, "MPI_Sendrecv", |party| {
        check_comm(comm)?;
        let (send_len, _) = extent(sendcount, sendtype)?;
        let (recv_len, element) = extent(recvcount, recvtype)?;
        let send = (
            peer_rank(party, dest, "destination")?,
            user_tag(sendtag)?,
            buffer_ptr(sendbuf, send_len)?,
            send_len,
        );
        let recv = (
            source_filter(party, source)?,
            tag_filter(recvtag)?,
            buffer_ptr(recvbuf, recv_len)?.cast_mut(),
            recv_len,
        );
        // SAFETY: both buffers are valid for their counts for the call.
        let got = unsafe { exchange_blocking(party, &[send], &[recv]) }?;
        check_whole_elements(&got[0], element)?;
        // SAFETY: `status` is a valid MPI_Status or MPI_STATUS_IGNORE.
        unsafe { store_status(status, &got[0]) };
        Ok(())
    })
}

/// Starts a non-blocking operation with `start` and stores its handle in `request`.
fn post<B: Backend>(
    g: &Global<B>,
    call: &str,
    comm: MPI_Comm,
    request: *mut MPI_Request,
    start: impl FnOnce(&B) -> Result<RequestId, Failure>,
) -> c_int {
    with_party(g, call, |party| {
        check_comm(comm)?;
        if request.is_null() {
            return Err(fail(code::MPI_ERR_REQUEST, "null request pointer"));
        }
        let id = start(party)?;
        // SAFETY: checked non-null; the caller passed a valid MPI_Request pointer.
        unsafe { *request = id.to_bits() as MPI_Request };
        Ok(())
    })
}

/// `MPI_Isend`.
pub unsafe fn isend<B: Backend>(
    g: &Global<B>,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    post(g, "MPI_Isend", comm, request, |party| {
        let (len, _) = extent(count, dt)?;
        let (peer, tag, data) = (
            peer_rank(party, dest, "destination")?,
            user_tag(tag)?,
            buffer_ptr(buf, len)?,
        );
        // SAFETY: MPI requires the buffer to stay valid until the request completes.
        unsafe { party.start_send(peer, tag, data, len) }.map_err(|e| from_core(party, e))
    })
}

/// `MPI_Irecv`.
pub unsafe fn irecv<B: Backend>(
    g: &Global<B>,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    post(g, "MPI_Irecv", comm, request, |party| {
        let (len, _) = extent(count, dt)?;
        let (source, tag, out) = (
            source_filter(party, source)?,
            tag_filter(tag)?,
            buffer_ptr(buf, len)?.cast_mut(),
        );
        // SAFETY: MPI requires the buffer to stay valid until the request completes.
        unsafe { party.start_recv(source, tag, out, len) }.map_err(|e| from_core(party, e))
    })
}

fn request_id(request: MPI_Request) -> Option<RequestId> {
    RequestId::from_bits(request as u64)
}

/// `MPI_Wait`.
pub unsafe fn wait<B: Backend>(
    g: &Global<B>,
    request: *mut MPI_Request,
    status: *mut MPI_Status,
) -> c_int {
    // SAFETY: `request` and `status` are valid (status may be MPI_STATUS_IGNORE).
    unsafe { waitall(g, 1, request, status) }
}

/// `MPI_Waitall`.
pub unsafe fn waitall<B: Backend>(
    g: &Global<B>,
    count: c_int,
    requests: *mut MPI_Request,
    statuses: *mut MPI_Status,
) -> c_int {
    with_party(g, "MPI_Waitall", |party| {
        let n = usize::try_from(count)
            .map_err(|_| fail(code::MPI_ERR_COUNT, alloc::format!("count {count}")))?;
        if n == 0 {
            return Ok(());
        }
        if requests.is_null() {
            return Err(fail(code::MPI_ERR_REQUEST, "null request array"));
        }
        // SAFETY: the caller passed `count` valid requests.
        let reqs = unsafe { core::slice::from_raw_parts_mut(requests, n) };
        let ids: Vec<RequestId> = reqs.iter().filter_map(|&r| request_id(r)).collect();
        let mut done = wait_statuses(party, &ids)?.into_iter();
        for (i, r) in reqs.iter_mut().enumerate() {
            // SAFETY: `statuses` is null or holds `count` entries.
            let out = if statuses.is_null() {
                core::ptr::null_mut()
            } else {
                unsafe { statuses.add(i) }
            };
            match request_id(*r).and(done.next()) {
                // SAFETY: `out` is a valid status slot or null.
                Some(status) => unsafe { store_status(out, &status) },
                // SAFETY: as above.
                None => unsafe { store_empty_status(out) },
            }
            *r = MPI_REQUEST_NULL;
        }
        Ok(())
    })
}

/// `MPI_Test`.
pub unsafe fn test<B: Backend>(
    g: &Global<B>,
    request: *mut MPI_Request,
    flag: *mut c_int,
    status: *mut MPI_Status,
) -> c_int {
    // SAFETY: forwarded; a single request is an array of one.
    unsafe { testall(g, 1, request, flag, status) }
}

/// `MPI_Testall`: completes all the requests only if all are complete.
pub unsafe fn testall<B: Backend>(
    g: &Global<B>,
    count: c_int,
    requests: *mut MPI_Request,
    flag: *mut c_int,
    statuses: *mut MPI_Status,
) -> c_int {
    let all_done = {
        let Some(party) = g.get() else {
            return with_party(g, "MPI_Testall", |_| Ok(()));
        };
        let n = usize::try_from(count).unwrap_or(0);
        if n > 0 && requests.is_null() {
            fatal(
                party,
                "MPI_Testall",
                fail(code::MPI_ERR_REQUEST, "null request array"),
            );
        }
        // SAFETY: the caller passed `count` valid requests.
        let reqs = if n == 0 {
            &[][..]
        } else {
            unsafe { core::slice::from_raw_parts(requests, n) }
        };
        reqs.iter()
            .filter_map(|&r| request_id(r))
            .all(|id| party.poll_complete(id))
    };
    if !flag.is_null() {
        // SAFETY: the caller passed a valid int pointer.
        unsafe { *flag = c_int::from(all_done) };
    }
    if all_done {
        // SAFETY: forwarded; every request is complete, so this does not block.
        unsafe { waitall(g, count, requests, statuses) }
    } else {
        code::MPI_SUCCESS
    }
}

/// `MPI_Get_count`.
pub unsafe fn get_count(status: *const MPI_Status, dt: MPI_Datatype, count: *mut c_int) -> c_int {
    if status.is_null() || count.is_null() {
        return code::MPI_ERR_ARG;
    }
    let Some(element) = element_of(dt) else {
        return code::MPI_ERR_TYPE;
    };
    // SAFETY: both checked non-null; the caller passed valid pointers.
    let bytes = unsafe { (*status).ternion_bytes } as u64;
    let size = element.size() as u64;
    let value = if bytes.is_multiple_of(size) {
        c_int::try_from(bytes / size).unwrap_or(MPI_UNDEFINED)
    } else {
        MPI_UNDEFINED
    };
    // SAFETY: as above.
    unsafe { *count = value };
    code::MPI_SUCCESS
}

/// `MPI_Barrier`: every party sends an empty message to the other two and
/// waits for theirs.
pub fn barrier<B: Backend>(g: &Global<B>, comm: MPI_Comm) -> c_int {
    with_party(g, "MPI_Barrier", |party| {
        check_comm(comm)?;
        let none = core::ptr::NonNull::<u8>::dangling().as_ptr();
        let plan = Plan::barrier(party.rank());
        // SAFETY: zero-length buffers are never dereferenced.
        unsafe {
            run_plan(
                party,
                &plan,
                &[(none, 0), (none, 0)],
                (none.cast_const(), 0),
            )
        }
        .map(drop)
    })
}

fn root_rank(root: c_int) -> Result<Rank, Failure> {
    u8::try_from(root)
        .ok()
        .and_then(Rank::new)
        .ok_or_else(|| fail(code::MPI_ERR_ROOT, alloc::format!("root {root}")))
}

/// `MPI_Bcast`: the root sends its buffer to the other two.
pub unsafe fn bcast<B: Backend>(
    g: &Global<B>,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
) -> c_int {
    with_party(g, "MPI_Bcast", |party| {
        check_comm(comm)?;
        let (len, _) = extent(count, dt)?;
        let root = root_rank(root)?;
        let data = buffer_ptr(buf, len)?;
        let plan = Plan::broadcast(party.rank(), root);
        // SAFETY: the buffer is valid for `count` elements for the call; the
        // root only reads it, the others only write it.
        let got = unsafe { run_plan(party, &plan, &[(data.cast_mut(), len)], (data, len)) }?;
        if party.rank() == root {
            Ok(())
        } else {
            if got[0].len != len as u64 {
                return Err(fail(
                    code::MPI_ERR_TRUNCATE,
                    "the root broadcast a different count",
                ));
            }
            Ok(())
        }
    })
}

/// Combines the three parties' contributions in rank order (so floating-point
/// results are the same on every party): `out = c0 op c1 op c2`.
fn combine_in_rank_order(
    element: Element,
    how: MPI_Op,
    mine: (Rank, &[u8]),
    others: [(Rank, &[u8]); 2],
    out: &mut [u8],
) -> Result<(), Failure> {
    let mut parts = [mine, others[0], others[1]];
    parts.sort_by_key(|(r, _)| *r);
    out.copy_from_slice(parts[0].1);
    for (_, part) in &parts[1..] {
        reduce::combine(element, how, out, part).map_err(|c| fail(c, "reduce operation"))?;
    }
    Ok(())
}

/// `MPI_Reduce` (`all == false`) and `MPI_Allreduce` (`all == true`).
pub unsafe fn reduce<B: Backend>(
    g: &Global<B>,
    call: &str,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    how: MPI_Op,
    root: Option<c_int>,
    comm: MPI_Comm,
) -> c_int {
    with_party(g, call, |party| {
        check_comm(comm)?;
        let (len, element) = extent(count, dt)?;
        reduce::check(element, how)
            .map_err(|c| fail(c, alloc::format!("operation {how} on datatype {dt}")))?;
        let root = root.map(root_rank).transpose()?;
        let me = party.rank();
        let plan = Plan::reduce(me, root);
        let gathers = plan.gathers();
        let data = buffer_ptr(sendbuf, len)?;
        let mut from_a = vec![0u8; if gathers { len } else { 0 }];
        let mut from_b = vec![0u8; from_a.len()];
        let outs = [(from_a.as_mut_ptr(), len), (from_b.as_mut_ptr(), len)];
        // SAFETY: the send buffer is valid for `count` elements; the receive
        // buffers are owned here and outlive the call.
        let got = unsafe { run_plan(party, &plan, &outs, (data, len)) }?;
        if !gathers {
            return Ok(());
        }
        if got.iter().take(2).any(|s| s.len != len as u64) {
            return Err(fail(
                code::MPI_ERR_COUNT,
                "parties reduced different counts",
            ));
        }
        if recvbuf.is_null() && len > 0 {
            return Err(fail(code::MPI_ERR_BUFFER, "null receive buffer"));
        }
        // SAFETY: MPI's send and receive buffers are valid for `count`
        // elements; `mine` is copied before `out` is written.
        let mine = unsafe { core::slice::from_raw_parts(data, len) }.to_vec();
        let out = if len == 0 {
            &mut [][..]
        } else {
            unsafe { core::slice::from_raw_parts_mut(recvbuf.cast::<u8>(), len) }
        };
        // The statuses name who sent each contribution (receives come first).
        let others = [(got[0].peer, &from_a[..]), (got[1].peer, &from_b[..])];
        combine_in_rank_order(element, how, (me, &mine), others, out)
    })
}

/// `MPI_Comm_set_errhandler` with `MPI_ERRORS_ARE_FATAL` or `MPI_ERRORS_RETURN`.
pub fn set_errhandler<B: Backend>(g: &Global<B>, comm: MPI_Comm, handler: MPI_Errhandler) -> c_int {
    with_party(g, "MPI_Comm_set_errhandler", |_| {
        check_comm(comm)?;
        match handler {
            MPI_ERRORS_ARE_FATAL => g.set_errors_return(false),
            MPI_ERRORS_RETURN => g.set_errors_return(true),
            other => {
                return Err(fail(
                    code::MPI_ERR_ARG,
                    alloc::format!("error handler {other}"),
                ))
            }
        }
        Ok(())
    })
}

/// `MPI_Wtime`.
pub fn wtime<B: Backend>(g: &Global<B>) -> f64 {
    g.get().map_or(0.0, B::seconds)
}

/// `MPI_Error_string`.
pub unsafe fn error_string(errorcode: c_int, string: *mut c_char, resultlen: *mut c_int) -> c_int {
    if string.is_null() || resultlen.is_null() {
        return code::MPI_ERR_ARG;
    }
    let msg = error_message(errorcode).as_bytes();
    let n = msg.len().min(MPI_MAX_ERROR_STRING - 1);
    // SAFETY: MPI requires `string` to hold MPI_MAX_ERROR_STRING characters.
    unsafe {
        core::ptr::copy_nonoverlapping(msg.as_ptr(), string.cast::<u8>(), n);
        *string.add(n) = 0;
        *resultlen = n as c_int;
    }
    code::MPI_SUCCESS
}
