//! Blocking operations on caller memory, shared by the MPI and native layers.

use crate::backend::Backend;
use crate::usage;
use alloc::vec::Vec;
use ternion_core::collective::Plan;
use ternion_core::{Error, Rank, RequestId, Source, Status, TagFilter};

/// A receive into caller memory: source, tag, buffer, length.
pub type RecvOp = (Source, TagFilter, *mut u8, usize);
/// A send from caller memory: peer, tag, buffer, length.
pub type SendOp = (Rank, u32, *const u8, usize);

/// Waits for `ids`; their statuses in order, or the first error (all of
/// them are complete either way).
pub fn wait_all_ok<B: Backend>(party: &B, ids: &[RequestId]) -> Result<Vec<Status>, Error> {
    let mut statuses = Vec::with_capacity(ids.len());
    let mut first_error = None;
    let started = party.seconds();
    let results = party.wait_all(ids);
    usage::add_blocked(party.seconds() - started);
    for result in results {
        match result {
            Ok(status) => statuses.push(status),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(statuses), Err)
}

/// Executes a collective's `plan` on caller memory: its receives into
/// `outs` (one buffer per receive, in the plan's order), then its sends, each
/// of `data`. Returns the statuses, receives first.
///
/// # Safety
/// As for [`run`]: every pointer must be valid for its length until this returns.
pub unsafe fn run_plan<B: Backend>(
    party: &B,
    plan: &Plan,
    outs: &[(*mut u8, usize)],
    data: (*const u8, usize),
) -> Result<Vec<Status>, Error> {
    let tag = plan.tag();
    let recvs: Vec<RecvOp> = plan
        .receives()
        .zip(outs)
        .map(|(from, &(out, len))| (Source::Rank(from), TagFilter::Tag(tag), out, len))
        .collect();
    let sends: Vec<SendOp> = plan.sends().map(|to| (to, tag, data.0, data.1)).collect();
    // SAFETY: forwarded from the caller.
    unsafe { run(party, &recvs, &sends) }
}

/// Posts the receives, then the sends, and returns when every posted one
/// has completed: the statuses (receives first), or the first error.
///
/// # Safety
/// Every pointer must be valid for its length until this returns (see
/// [`Backend::start_send`] and [`Backend::start_recv`]).
pub unsafe fn run<B: Backend>(
    party: &B,
    recvs: &[RecvOp],
    sends: &[SendOp],
) -> Result<Vec<Status>, Error> {
    let mut ids = Vec::with_capacity(recvs.len() + sends.len());
    let mut posted = Ok(());
    for &(source, tag, out, len) in recvs {
        // SAFETY: forwarded from the caller; waited for below before returning.
        match unsafe { party.start_recv(source, tag, out, len) } {
            Ok(id) => ids.push(id),
            Err(e) => {
                posted = Err(e);
                break;
            }
        }
    }
    for &(peer, tag, data, len) in sends {
        if posted.is_err() {
            break;
        }
        // SAFETY: as above.
        match unsafe { party.start_send(peer, tag, data, len) } {
            Ok(id) => ids.push(id),
            Err(e) => posted = Err(e),
        }
    }
    // Every posted request completes before the caller's memory is released.
    let statuses = wait_all_ok(party, &ids);
    posted?;
    statuses
}
