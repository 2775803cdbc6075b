//! The `hello` target: the hello decoder on arbitrary bytes.
//!
//! Checks, beyond "never panics":
//! - the view refuses exactly the buffers shorter than a hello;
//! - an accepted hello obeys `docs/protocol.md` §2.1 (magic, version, two
//!   distinct ranks in range), and its fields are the view's;
//! - emitting the parsed hello reproduces the input's hello bytes exactly,
//!   touches nothing past the hello, and parses back to the same value.

use ternion_core::wire::{Hello, HelloRepr, WireError, HELLO_LEN, MAGIC};
use ternion_core::PROTOCOL_VERSION;

/// Fills the output buffer around an emitted hello, to see that emit writes
/// its hello and nothing else.
const CANARY: u8 = 0x5a;

/// Runs every check on one input.
pub fn check(data: &[u8]) {
    let view = match Hello::new_checked(data) {
        Ok(view) => view,
        Err(error) => {
            assert_eq!(error, WireError::Truncated);
            assert!(data.len() < HELLO_LEN, "refused a whole hello");
            return;
        }
    };
    assert!(data.len() >= HELLO_LEN, "accepted a short buffer");
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

    let mut out = [CANARY; HELLO_LEN + 8];
    repr.emit(&mut out).expect("a hello-sized buffer is enough");
    assert_eq!(out[..HELLO_LEN], data[..HELLO_LEN]);
    assert!(
        out[HELLO_LEN..].iter().all(|&b| b == CANARY),
        "emit wrote past the hello"
    );
    let emitted = Hello::new_checked(&out[..]).expect("emitted a whole hello");
    assert_eq!(HelloRepr::parse(&emitted), Ok(repr));
    assert_eq!(
        repr.emit(&mut out[..HELLO_LEN - 1]),
        Err(WireError::Truncated)
    );
}
