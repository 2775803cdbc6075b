//! How a simulated network is built.

use super::impairments::Impairments;
use crate::time::Duration;

/// The network under a [`SimWorld`](super::SimWorld): the medium's faults and
/// each party's TCP settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimConfig {
    /// What the medium does to each packet.
    pub impairments: Impairments,
    /// The IP MTU of every interface (576..=65535). 1500 is Ethernet's.
    pub mtu: usize,
    /// Bytes a TCP socket may hold unacknowledged or waiting to be sent.
    /// Small, because smoltcp fast-retransmits one segment per three
    /// duplicate ACKs and has neither selective-acknowledgement nor NewReno
    /// recovery, so a second loss in the same window waits out a
    /// retransmission timeout: the fewer segments in flight, the fewer
    /// timeouts. 8 KiB is under six full-sized segments.
    pub tcp_send_buffer: usize,
    /// Bytes a TCP socket buffers on receipt; also its largest window.
    /// Larger than any peer's send buffer on purpose: a peer that has filled
    /// this window sends its pure ACKs with a sequence number exactly on the
    /// window's right edge, and smoltcp, following RFC 9293 to the letter,
    /// discards them unread (Linux accepts them), losing the duplicate ACKs
    /// that would trigger a fast retransmit.
    pub tcp_receive_buffer: usize,
    /// How long TCP keeps retransmitting without hearing from the peer
    /// before it aborts the connection, which its owner then sees as a
    /// reset. Linux gives up after about 15 minutes (`tcp_retries2`), the
    /// default here. `None` never gives up.
    pub tcp_give_up: Option<Duration>,
    /// Listening sockets each party keeps open, so that several
    /// connections can arrive at once (a listen backlog).
    pub listen_backlog: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            impairments: Impairments::PERFECT,
            mtu: 1500,
            tcp_send_buffer: 8 * 1024,
            tcp_receive_buffer: 32 * 1024,
            tcp_give_up: Some(Duration::from_secs(15 * 60)),
            listen_backlog: 4,
        }
    }
}
