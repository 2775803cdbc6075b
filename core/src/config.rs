//! What an endpoint needs to know before it starts.

use crate::rank::{Rank, PARTIES};
use crate::secure::SecureConfig;
use crate::time::Duration;
use crate::wire::Capabilities;

/// The largest frame payload any version-1 peer may send. A sender may use
/// smaller frames (the secure channel must fit each in one record).
pub const MAX_FRAME_PAYLOAD: usize = 4 * 1024 * 1024;

/// How long a peer may send nothing before it is presumed dead, unless
/// configured otherwise: long enough for a loaded machine's scheduling
/// hiccups, short enough that a dead party is named in seconds.
pub const DEFAULT_PEER_TIMEOUT: Duration = Duration::from_secs(5);

/// How long all links may take to come up unless configured.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes of unacknowledged frames a link keeps for resume, unless configured
/// otherwise: several round trips' worth at wide-area bandwidths, and room
/// for a few of the largest plaintext frames.
pub const DEFAULT_RESUME_BUFFER: usize = 16 * 1024 * 1024;

/// The peer timeout a `*_PEER_TIMEOUT_MS` setting asks for: the default
/// when unset, no deadline for 0, else that many milliseconds.
pub fn peer_timeout_from_ms(ms: Option<u64>) -> Option<Duration> {
    match ms {
        None => Some(DEFAULT_PEER_TIMEOUT),
        Some(0) => None,
        Some(ms) => Some(Duration::from_millis(ms)),
    }
}

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
    /// A link that has sent nothing for this long sends a heartbeat. It
    /// must be well under every party's `peer_timeout`.
    pub heartbeat_interval: Duration,
    /// A peer that sends nothing (not even a heartbeat) for this long is
    /// presumed dead: its link fails with [`LinkError::PeerSilent`] and so
    /// does every operation that needs it. `None` waits forever.
    ///
    /// [`LinkError::PeerSilent`]: crate::error::LinkError::PeerSilent
    pub peer_timeout: Option<Duration>,
    /// Bytes of sent frames each link keeps until the peer acknowledges
    /// them, so a broken connection can be resumed with nothing lost. It
    /// bounds the data in flight per link: a sender that has this much
    /// unacknowledged waits. 0 turns resume off (both ends must agree).
    pub resume_buffer: usize,
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
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            handshake_timeout: Duration::from_secs(5),
            heartbeat_interval: Duration::from_secs(1),
            peer_timeout: Some(DEFAULT_PEER_TIMEOUT),
            resume_buffer: DEFAULT_RESUME_BUFFER,
            secure: None,
        }
    }
}

/// A session identifier all three parties derive alike when none is
/// configured: FNV-1a (two bases) over the comma-joined peer list. It only
/// keeps different jobs apart; it is not a secret.
pub fn session_from_peers(peers: [&str; PARTIES]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (half, basis) in [0xcbf2_9ce4_8422_2325u64, 0x6c62_272e_07bb_0142]
        .into_iter()
        .enumerate()
    {
        let mut h = basis;
        let mut feed = |bytes: &[u8]| {
            for &byte in bytes {
                h ^= u64::from(byte);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        for (i, peer) in peers.iter().enumerate() {
            if i > 0 {
                feed(b",");
            }
            feed(peer.as_bytes());
        }
        out[half * 8..half * 8 + 8].copy_from_slice(&h.to_be_bytes());
    }
    out
}

/// Reads an on/off setting from the environment or a kernel command line,
/// with the spellings the hosted command line's flags accept: `1`, `true`,
/// `yes`, `on`, `y`, `t` and their opposites, in any case. `None` for
/// anything else, so a typo is an error rather than a silent "off".
pub fn parse_switch(value: &str) -> Option<bool> {
    const ON: [&str; 6] = ["1", "true", "yes", "on", "y", "t"];
    const OFF: [&str; 6] = ["0", "false", "no", "off", "n", "f"];
    if ON.iter().any(|s| s.eq_ignore_ascii_case(value)) {
        Some(true)
    } else if OFF.iter().any(|s| s.eq_ignore_ascii_case(value)) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::parse_switch;

    #[test]
    fn peer_timeout_settings_mean_default_never_or_milliseconds() {
        use super::{peer_timeout_from_ms, Duration, DEFAULT_PEER_TIMEOUT};
        assert_eq!(peer_timeout_from_ms(None), Some(DEFAULT_PEER_TIMEOUT));
        assert_eq!(peer_timeout_from_ms(Some(0)), None);
        assert_eq!(
            peer_timeout_from_ms(Some(1500)),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn switches_read_the_usual_spellings_and_refuse_others() {
        for on in ["1", "true", "TRUE", "Yes", "on", "y"] {
            assert_eq!(parse_switch(on), Some(true), "{on}");
        }
        for off in ["0", "false", "NO", "Off", "n", "f"] {
            assert_eq!(parse_switch(off), Some(false), "{off}");
        }
        for bad in ["", "2", "truthy", "enable", " 1"] {
            assert_eq!(parse_switch(bad), None, "{bad:?}");
        }
    }
}
