//! The length prefix that delimits a Noise message on the stream: every
//! handshake message and every sealed record travels as `u16 length ‖ body`.

use super::{get_u16, WireError};

/// Bytes of the length prefix.
pub const RECORD_PREFIX_LEN: usize = 2;

/// The largest body a prefix can announce (Noise's message limit).
pub const MAX_RECORD_BODY: usize = u16::MAX as usize;

/// A typed view over a buffer that starts with a length-prefixed record.
#[derive(Debug)]
pub struct Record<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Record<T> {
    /// Wraps `buffer` after checking it holds the length prefix.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < RECORD_PREFIX_LEN {
            return Err(WireError::Truncated);
        }
        Ok(Record { buffer })
    }

    /// The announced body length.
    pub fn body_len(&self) -> usize {
        usize::from(get_u16(self.buffer.as_ref(), 0))
    }

    /// Prefix and body: the bytes the whole record takes on the stream.
    pub fn total_len(&self) -> usize {
        RECORD_PREFIX_LEN + self.body_len()
    }

    /// The body, once all of it is in the buffer (`None` while it is arriving).
    pub fn body(&self) -> Option<&[u8]> {
        self.buffer
            .as_ref()
            .get(RECORD_PREFIX_LEN..self.total_len())
    }
}

/// The validated prefix of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRepr {
    /// Bytes of the body that follows the prefix.
    pub body_len: usize,
}

impl RecordRepr {
    /// Reads the prefix; any length a `u16` holds is valid.
    pub fn parse<T: AsRef<[u8]>>(record: &Record<T>) -> Self {
        RecordRepr {
            body_len: record.body_len(),
        }
    }

    /// Writes the prefix into the first [`RECORD_PREFIX_LEN`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        let len = u16::try_from(self.body_len).map_err(|_| WireError::Oversized {
            len: self.body_len as u64,
            limit: MAX_RECORD_BODY as u64,
        })?;
        let prefix = buf
            .get_mut(..RECORD_PREFIX_LEN)
            .ok_or(WireError::Truncated)?;
        prefix.copy_from_slice(&len.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn round_trips_and_waits_for_the_body() {
        let mut buf = [0u8; 7];
        RecordRepr { body_len: 5 }.emit(&mut buf).unwrap();
        assert_eq!(buf[..2], [0, 5]);
        let record = Record::new_checked(&buf[..]).unwrap();
        assert_eq!(RecordRepr::parse(&record).body_len, 5);
        assert_eq!(record.total_len(), 7);
        assert_eq!(record.body(), Some(&buf[2..]));
        let partial = Record::new_checked(&buf[..6]).unwrap();
        assert_eq!(
            partial.body(),
            None,
            "a body still arriving is not handed out"
        );
    }

    #[test]
    fn rejects_short_buffers_and_oversized_bodies() {
        assert_eq!(
            Record::new_checked(&[1u8][..]).unwrap_err(),
            WireError::Truncated
        );
        let mut buf = [0u8; 2];
        assert!(matches!(
            RecordRepr { body_len: 70_000 }.emit(&mut buf),
            Err(WireError::Oversized { .. })
        ));
        assert_eq!(
            RecordRepr { body_len: 1 }.emit(&mut buf[..1]),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn no_input_panics() {
        for len in 0..8 {
            for fill in [0u8, 0x7f, 0xff] {
                let buf = [fill; 8];
                if let Ok(record) = Record::new_checked(&buf[..len]) {
                    let _ = RecordRepr::parse(&record);
                    let _ = record.body();
                }
            }
        }
    }
}
