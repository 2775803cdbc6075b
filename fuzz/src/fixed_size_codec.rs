//! What every fixed-size wire encoding (the frame header, the hello) must
//! do, whatever its fields: shared by the `frame_decoder` and `hello`
//! targets, which add the checks of their own fields.

use ternion_core::wire::WireError;

/// Fills the buffers emit writes into, to see that it writes its encoding
/// and nothing else.
const CANARY: u8 = 0xa5;

/// Checks the verdict of a view's `new_checked` on `data`, for an encoding
/// of `len` bytes: it refuses exactly the buffers shorter than that, as
/// truncated. Returns the view when it accepted one.
pub(crate) fn checked_view<V>(data: &[u8], len: usize, verdict: Result<V, WireError>) -> Option<V> {
    match verdict {
        Ok(view) => {
            assert!(data.len() >= len, "accepted a short buffer");
            Some(view)
        }
        Err(error) => {
            assert_eq!(error, WireError::Truncated);
            assert!(data.len() < len, "refused a whole encoding");
            None
        }
    }
}

/// Checks that `emit`, the parsed value's emitter, reproduces the input's
/// first `len` bytes exactly and writes nothing past them, and that it
/// refuses a buffer one byte short without touching it. Returns what it
/// emitted, for the caller to parse back.
pub(crate) fn check_emit(
    data: &[u8],
    len: usize,
    emit: impl Fn(&mut [u8]) -> Result<(), WireError>,
) -> Vec<u8> {
    let mut out = vec![CANARY; len + 8];
    emit(&mut out).expect("a buffer of the encoding's length is enough");
    assert_eq!(out[..len], data[..len], "emit did not reproduce the input");
    assert!(
        out[len..].iter().all(|&b| b == CANARY),
        "emit wrote past the encoding"
    );
    let mut short = vec![CANARY; len - 1];
    assert_eq!(emit(&mut short), Err(WireError::Truncated));
    assert!(
        short.iter().all(|&b| b == CANARY),
        "a refused emit wrote into the buffer"
    );
    out.truncate(len);
    out
}
