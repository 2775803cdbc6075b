//! The time source of the demo's and the ring benchmark's measurements.
//!
//! The protocol core never reads a clock (the time is passed in); what this
//! crate measures, it measures itself, through the platform's clock.

use ternion_core::time::Instant;

/// A monotonic clock, supplied by the platform.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> Instant;
}
