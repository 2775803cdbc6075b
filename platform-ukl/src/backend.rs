//! The in-kernel party as the backend of the C API and MPI subset, so C
//! programs linked into the kernel call `MPI_*` and `ternion_*` exactly as
//! they do on Linux.

use crate::environment::{self, PartyConfig};
use crate::party::{now, KernelParty};
use crate::{console, glue};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use ternion_capi::buffer::{c_bytes, c_bytes_mut};
use ternion_capi::Backend;
use ternion_core::{Error, LinkStats, Rank, RequestId, Source, Status, TagFilter};

impl Backend for KernelParty {
    fn connect_from_env() -> Result<Self, String> {
        KernelParty::connect(&PartyConfig::from_environment(None, None, None)?)
    }

    fn connect_explicit(rank: u8, peers: [&str; 3], session: Option<&str>) -> Result<Self, String> {
        KernelParty::connect(&PartyConfig::from_environment(
            Some(rank),
            Some(peers),
            session,
        )?)
    }

    fn rank(&self) -> Rank {
        KernelParty::rank(self)
    }

    unsafe fn start_send(
        &self,
        peer: Rank,
        tag: u32,
        data: *const u8,
        len: usize,
    ) -> Result<RequestId, Error> {
        // SAFETY: the caller guarantees `len` valid bytes at `data` until completion.
        unsafe { self.post_send(peer, tag, c_bytes(data, len)) }
    }

    unsafe fn start_recv(
        &self,
        source: Source,
        tag: TagFilter,
        out: *mut u8,
        len: usize,
    ) -> Result<RequestId, Error> {
        // SAFETY: the caller guarantees `len` writable bytes at `out`,
        // untouched by anyone else, until completion.
        unsafe { self.post_recv(source, tag, c_bytes_mut(out, len)) }
    }

    fn poll_complete(&self, id: RequestId) -> bool {
        KernelParty::poll_complete(self, id)
    }

    fn wait_all(&self, ids: &[RequestId]) -> Vec<Result<Status, Error>> {
        self.wait_ids(ids).into_iter().map(|c| c.result).collect()
    }

    fn abort(&self, code: i32) -> ! {
        KernelParty::abort(self, code);
        glue::exit(code)
    }

    fn exit_when_peers_abort(&self) {
        KernelParty::exit_when_peers_abort(self);
    }

    fn exit_process(code: i32) -> ! {
        glue::exit(code)
    }

    fn close(&self) -> Result<(), Error> {
        KernelParty::close(self)
    }

    fn seconds(&self) -> f64 {
        now().as_micros() as f64 / 1e6
    }

    fn stats(&self, peer: Rank) -> LinkStats {
        KernelParty::stats(self, peer)
    }

    fn env(name: &str) -> Option<String> {
        environment::var(name).map(String::from)
    }

    fn report(args: fmt::Arguments<'_>) {
        console::print(args);
    }
}
