//! The Linux party as the backend of the C API and MPI subset
//! (`ternion-capi`), which the `libternion` and `libternion_mpi` libraries
//! export.

use crate::config::ConfigLayer;
use crate::party::Party;
use std::fmt;
use ternion_capi::buffer::{c_bytes, c_bytes_mut, Lent, LentMut, RecvBuf, SendBuf};
use ternion_capi::Backend;
use ternion_core::{Error, LinkStats, Rank, RequestId, Source, Status, TagFilter};

use ternion_capi::lifecycle::{self, BACKGROUND_MIN_BYTES};

impl Party {
    fn posted(&self, id: Result<RequestId, Error>, len: usize) -> Result<RequestId, Error> {
        if id.is_ok() && len >= BACKGROUND_MIN_BYTES {
            self.driver.request_background_progress();
        }
        id
    }
}

impl Backend for Party {
    fn connect_from_env() -> Result<Self, String> {
        Party::from_env().map_err(|e| e.to_string())
    }

    fn connect_explicit(rank: u8, peers: [&str; 3], session: Option<&str>) -> Result<Self, String> {
        // Rank, peers and session come from the call; keys (or the explicit
        // plaintext opt-in) from the same environment variables as always.
        let explicit = ConfigLayer {
            rank: Some(rank),
            peers: Some(peers.iter().map(|p| p.to_string()).collect()),
            session: session.map(str::to_owned),
            ..Default::default()
        };
        let config = ConfigLayer::from_env()
            .and_then(|env| env.overridden_by(explicit).finish())
            .map_err(|e| e.to_string())?;
        Party::connect(&config).map_err(|e| e.to_string())
    }

    fn rank(&self) -> Rank {
        Party::rank(self)
    }

    unsafe fn start_send(
        &self,
        peer: Rank,
        tag: u32,
        data: *const u8,
        len: usize,
    ) -> Result<RequestId, Error> {
        // SAFETY: the caller guarantees `len` valid bytes at `data` until
        // completion; the request holds the view until it completes.
        let buf = SendBuf::Borrowed(unsafe { Lent::new(c_bytes(data, len)) });
        let id = self.driver.post(|ep| ep.isend(peer, tag, buf));
        self.posted(id, len)
    }

    unsafe fn start_recv(
        &self,
        source: Source,
        tag: TagFilter,
        out: *mut u8,
        len: usize,
    ) -> Result<RequestId, Error> {
        // SAFETY: the caller guarantees `len` writable bytes at `out`, untouched
        // by anyone else, until completion.
        let buf = RecvBuf::Borrowed(unsafe { LentMut::new(c_bytes_mut(out, len)) });
        let id = self.driver.post(|ep| ep.irecv(source, tag, buf));
        self.posted(id, len)
    }

    fn poll_complete(&self, id: RequestId) -> bool {
        self.driver.with(|ep| ep.is_complete(id).unwrap_or(true))
    }

    fn wait_all(&self, ids: &[RequestId]) -> Vec<Result<Status, Error>> {
        self.wait_ids(ids).into_iter().map(|c| c.result).collect()
    }

    fn abort(&self, code: i32) -> ! {
        lifecycle::send_abort(&*self.driver, code);
        std::process::exit(code)
    }

    fn exit_when_peers_abort(&self) {
        self.driver.exit_when_peers_abort();
    }

    fn exit_process(code: i32) -> ! {
        std::process::exit(code)
    }

    fn close(&self) -> Result<(), Error> {
        self.shut_down().map_err(|e| match e {
            crate::Error::Protocol(p) => p,
            _ => Error::EndpointClosed,
        })
    }

    fn seconds(&self) -> f64 {
        self.driver.now().as_micros() as f64 / 1e6
    }

    fn stats(&self, peer: Rank) -> LinkStats {
        Party::stats(self, peer)
    }

    fn env(name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn report(args: fmt::Arguments<'_>) {
        eprintln!("{args}");
    }
}
