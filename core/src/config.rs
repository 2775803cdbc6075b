//! What an endpoint needs to know before it starts.

use crate::rank::Rank;
use crate::secure::SecureConfig;
use crate::time::Duration;
use crate::wire::Capabilities;

/// The largest frame payload any version-1 peer may send. A sender may use
/// smaller frames (the secure channel must fit each in one record).
pub const MAX_FRAME_PAYLOAD: usize = 4 * 1024 * 1024;

/// Settings for one party's endpoint.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// This party's rank.
    pub rank: Rank,
    /// Identifies the job; every connection must present the same value.
    pub session: [u8; 16],
    /// Link capabilities this party requires; peers must ask for the same.
    pub capabilities: Capabilities,
    /// Payload bytes per frame this party sends (at most [`MAX_FRAME_PAYLOAD`]).
    pub frame_payload: usize,
    /// Messages that may wait for a receive before the link fails.
    pub max_unexpected_messages: usize,
    /// Bytes that may wait for a receive before the link fails.
    pub max_unexpected_bytes: u64,
    /// Accepted connections that may be waiting for their hello at once.
    pub max_pending_connections: usize,
    /// How long all links may take to come up, from the endpoint's start.
    pub connect_timeout: Duration,
    /// How long a new connection may take to present its hello (and
    /// complete the secure handshake).
    pub handshake_timeout: Duration,
    /// Keys for the secure channel. `None` runs links in plaintext, which a
    /// platform must only do on explicit request; a secure party refuses a
    /// plaintext peer.
    pub secure: Option<SecureConfig>,
}

impl EndpointConfig {
    /// Defaults for party `rank` of session `session`.
    pub fn new(rank: Rank, session: [u8; 16]) -> Self {
        EndpointConfig {
            rank,
            session,
            capabilities: Capabilities::empty(),
            frame_payload: MAX_FRAME_PAYLOAD,
            max_unexpected_messages: 1 << 20,
            max_unexpected_bytes: 8 << 30,
            max_pending_connections: 16,
            connect_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(5),
            secure: None,
        }
    }
}
