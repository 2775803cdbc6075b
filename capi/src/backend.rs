//! What a platform provides to the C layer.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use ternion_core::{Error, LinkStats, Rank, RequestId, Source, Status, TagFilter};

/// A connected party, as a platform implements it. Every C entry point is
/// written once against this trait; a platform's library instantiates them
/// with [`crate::export_mpi`] and [`crate::export_native`].
pub trait Backend: Sync + Sized + 'static {
    /// Connects with the configuration the launcher put in the environment.
    fn connect_from_env() -> Result<Self, String>;

    /// Connects with an explicit configuration: this party's rank, the
    /// three `host:port` addresses (rank 0 first) and an optional session id
    /// of 32 hex digits.
    fn connect_explicit(rank: u8, peers: [&str; 3], session: Option<&str>) -> Result<Self, String>;

    /// This party's rank.
    fn rank(&self) -> Rank;

    /// Starts sending `len` bytes at `data` to `peer` (any tag, reserved ones
    /// included: the C layer checks what its callers may use).
    ///
    /// # Safety
    /// The `len` bytes at `data` must stay valid and unmodified until the
    /// request has completed (tested or waited to completion).
    unsafe fn start_send(
        &self,
        peer: Rank,
        tag: u32,
        data: *const u8,
        len: usize,
    ) -> Result<RequestId, Error>;

    /// Starts receiving at most `len` bytes into `out`.
    ///
    /// # Safety
    /// The `len` bytes at `out` must stay valid, and untouched by anyone
    /// else, until the request has completed.
    unsafe fn start_recv(
        &self,
        source: Source,
        tag: TagFilter,
        out: *mut u8,
        len: usize,
    ) -> Result<RequestId, Error>;

    /// Makes progress, then says whether `id` is complete (without taking it).
    fn poll_complete(&self, id: RequestId) -> bool;

    /// Blocks until every request is complete; their results, in order.
    fn wait_all(&self, ids: &[RequestId]) -> Vec<Result<Status, Error>>;

    /// Ends the job: tells the other parties, then ends this process with `code`.
    fn abort(&self, code: i32) -> !;

    /// From now on, a peer's abort ends this process with the peer's code
    /// even while the application is busy elsewhere (MPI's semantics).
    fn exit_when_peers_abort(&self);

    /// Ends this process (or, in a kernel, the application) with `code`,
    /// when there is no connected party to abort through.
    fn exit_process(code: i32) -> !;

    /// Closes every link in order (after which the backend accepts nothing more).
    fn close(&self) -> Result<(), Error>;

    /// Seconds on a monotonic clock.
    fn seconds(&self) -> f64;

    /// Traffic on the link to `peer`.
    fn stats(&self, peer: Rank) -> LinkStats;

    /// The value of the environment variable `name` (in a kernel, the
    /// command line's `KEY=VALUE` words).
    fn env(name: &str) -> Option<String>;

    /// Prints a diagnostic on the platform's console (stderr, or the kernel log).
    fn report(args: fmt::Arguments<'_>);
}
