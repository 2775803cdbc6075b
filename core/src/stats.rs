//! Per-link counters.

/// Traffic on one link since the endpoint started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Bytes written to the socket, framing included.
    pub bytes_sent: u64,
    /// Bytes read from the socket, framing included.
    pub bytes_received: u64,
    /// Application messages written in full.
    pub messages_sent: u64,
    /// Application messages received in full.
    pub messages_received: u64,
    /// Times the link was re-established after its connection broke.
    pub resumes: u64,
}
