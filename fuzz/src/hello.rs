//! The `hello` target: the hello decoder on arbitrary bytes.
//!
//! Checks, beyond "never panics":
//! - the view refuses exactly the buffers shorter than a hello;
//! - an accepted hello obeys `docs/protocol.md` §2.1 (magic, version, two
//!   distinct ranks in range), and its fields are the view's;
//! - emitting the parsed hello reproduces the input's hello bytes exactly,
//!   touches nothing past the hello, and parses back to the same value.

use crate::fixed_size_codec::{check_emit, checked_view};
use ternion_core::wire::{Hello, HelloRepr, HELLO_LEN, MAGIC};
use ternion_core::PROTOCOL_VERSION;

/// Runs every check on one input.
pub fn check(data: &[u8]) {
    let Some(view) = checked_view(data, HELLO_LEN, Hello::new_checked(data)) else {
        return;
    };
    let Ok(repr) = HelloRepr::parse(&view) else {
        return;
    };

    assert_eq!(view.magic(), MAGIC);
    assert_eq!(view.version(), PROTOCOL_VERSION);
    assert_eq!(repr.capabilities.bits(), view.capability_bits());
    assert_eq!(repr.session, view.session());
    assert_eq!(repr.resume_seq, view.resume_seq());
    assert_eq!(repr.sender.index(), usize::from(view.sender()));
    assert_eq!(repr.receiver.index(), usize::from(view.receiver()));
    assert_ne!(repr.sender, repr.receiver, "a hello to oneself");

    let out = check_emit(data, HELLO_LEN, |buf| repr.emit(buf));
    let emitted = Hello::new_checked(&out[..]).expect("emitted a whole hello");
    assert_eq!(HelloRepr::parse(&emitted), Ok(repr));
}
