//! The Unikernel Linux backend of ternion.
//!
//! This crate will host the in-kernel implementation of the core's socket,
//! clock and notification traits (issue 5). Until then it only proves that
//! the core links into a `no_std` crate with no platform of its own.
#![no_std]

pub use ternion_core::PROTOCOL_VERSION;
