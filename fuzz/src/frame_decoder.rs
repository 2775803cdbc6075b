//! The `frame_decoder` target: the frame header decoder on arbitrary bytes.
//!
//! Checks, beyond "never panics":
//! - the view refuses exactly the buffers shorter than a header;
//! - a payload limit only ever refuses payloads longer than itself;
//! - an accepted header obeys the rules of `docs/protocol.md` §2.2, and its
//!   fields are the view's;
//! - emitting the parsed header reproduces the input's header bytes exactly,
//!   touches nothing past the header, and parses back to the same value.

use crate::fixed_size_codec::{check_emit, checked_view};
use ternion_core::wire::{FrameHeader, FrameKind, FrameRepr, WireError, FRAME_HEADER_LEN};
use ternion_core::MAX_FRAME_PAYLOAD;

/// The limit an endpoint parses with.
const ENDPOINT_LIMIT: u32 = MAX_FRAME_PAYLOAD as u32;

/// Runs every check on one input.
pub fn check(data: &[u8]) {
    let verdict = FrameHeader::new_checked(data);
    let Some(header) = checked_view(data, FRAME_HEADER_LEN, verdict) else {
        return;
    };

    let unlimited = FrameRepr::parse(&header, u32::MAX);
    let limited = FrameRepr::parse(&header, ENDPOINT_LIMIT);
    match (unlimited, limited) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Ok(repr), Err(error)) => {
            assert!(repr.len > ENDPOINT_LIMIT, "{error:?} for {repr:?}");
            assert_eq!(
                error,
                WireError::Oversized {
                    len: u64::from(repr.len),
                    limit: u64::from(ENDPOINT_LIMIT),
                }
            );
        }
        (Err(error), Ok(repr)) => panic!("the limit let {repr:?} through, no limit said {error:?}"),
        (Err(a), Err(b)) => {
            if !matches!(b, WireError::Oversized { .. }) {
                assert_eq!(a, b, "the limit changed a verdict that is not about length");
            }
        }
    }
    if let Err(WireError::UnknownKind(kind)) = unlimited {
        assert_eq!(kind, header.kind());
    }
    let Ok(repr) = unlimited else {
        return;
    };

    assert_eq!(repr.kind as u8, header.kind());
    assert_eq!(header.flags(), 0, "flags are undefined in version 1");
    assert_eq!(
        (repr.len, repr.seq, repr.tag, repr.aux),
        (header.len(), header.seq(), header.tag(), header.aux())
    );
    if repr.kind == FrameKind::Data {
        assert!(
            u64::from(repr.len) <= repr.aux,
            "a fragment longer than its message: {repr:?}"
        );
    } else {
        assert_eq!(
            (repr.len, repr.tag),
            (0, 0),
            "a control frame with payload or tag"
        );
    }

    let out = check_emit(data, FRAME_HEADER_LEN, |buf| repr.emit(buf));
    let emitted = FrameHeader::new_checked(&out[..]).expect("emitted a whole header");
    assert_eq!(FrameRepr::parse(&emitted, u32::MAX), Ok(repr));
}
