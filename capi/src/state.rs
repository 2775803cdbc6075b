//! The one party a C program talks through, created by its init call.

use crate::backend::Backend;
use alloc::string::String;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The process-wide party behind the C entry points.
pub struct Global<B> {
    party: spin::Once<Result<B, String>>,
    finalized: AtomicBool,
    errors_return: AtomicBool,
    /// The party's clock when init connected it (an `f64`'s bits), for
    /// the usage report.
    connected_at: AtomicU64,
}

impl<B: Backend> Default for Global<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Global<B> {
    /// Nothing connected yet.
    pub const fn new() -> Self {
        Global {
            party: spin::Once::new(),
            finalized: AtomicBool::new(false),
            errors_return: AtomicBool::new(false),
            connected_at: AtomicU64::new(0),
        }
    }

    /// The party, if initialized successfully and not finalized.
    pub fn get(&self) -> Option<&B> {
        if self.finalized.load(Ordering::Acquire) {
            return None;
        }
        self.party.get().and_then(|r| r.as_ref().ok())
    }

    /// Connects on the first call; every call returns that first outcome.
    pub fn init(&self, connect: impl FnOnce() -> Result<B, String>) -> Result<&B, &str> {
        self.party
            .call_once(connect)
            .as_ref()
            .map_err(String::as_str)
    }

    /// Notes `seconds` on the party's clock as the moment it connected.
    pub fn set_connected_at(&self, seconds: f64) {
        self.connected_at
            .store(seconds.to_bits(), Ordering::Release);
    }

    /// When the party connected, on its clock.
    pub fn connected_at(&self) -> f64 {
        f64::from_bits(self.connected_at.load(Ordering::Acquire))
    }

    /// True once init has been called (successfully or not).
    pub fn initialized(&self) -> bool {
        self.party.is_completed()
    }

    /// Marks the party finalized: later calls find no party.
    pub fn finalize(&self) {
        self.finalized.store(true, Ordering::Release);
    }

    /// Chooses between MPI's two error handlers: return error codes
    /// (`MPI_ERRORS_RETURN`) or abort the job (`MPI_ERRORS_ARE_FATAL`, the default).
    pub fn set_errors_return(&self, on: bool) {
        self.errors_return.store(on, Ordering::Release);
    }

    /// True if errors are returned rather than fatal.
    pub fn errors_return(&self) -> bool {
        self.errors_return.load(Ordering::Acquire)
    }

    /// True once finalized.
    pub fn finalized(&self) -> bool {
        self.finalized.load(Ordering::Acquire)
    }
}
