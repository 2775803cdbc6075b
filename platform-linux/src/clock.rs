//! The monotonic clock the Linux backend gives the core and the MPC layer.

use ternion_core::Instant;

/// Microseconds since the clock was made, from the OS monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: std::time::Instant,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> MonotonicClock {
        MonotonicClock {
            origin: std::time::Instant::now(),
        }
    }

    /// The time since the origin.
    pub fn now(&self) -> Instant {
        Instant::from_micros(u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX))
    }
}

impl ternion_mpc::Clock for MonotonicClock {
    fn now(&self) -> Instant {
        MonotonicClock::now(self)
    }
}
