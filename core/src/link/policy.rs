//! When a link dials, retries, reconnects, heartbeats or gives up: every
//! such rule, with its constants, in one place.
//!
//! | situation | rule |
//! |---|---|
//! | a dial attempt fails | try again after 2 ms, doubling up to 250 ms |
//! | the first connection is not up by `connect_timeout` | fail: the refusal the peer gave, else `HandshakeTimeout` if a connection was open, else `NeverConnected` |
//! | a first handshake is not done by `handshake_timeout` | the dialler drops the connection and dials again; the acceptor drops it and waits |
//! | a reconnection's handshake | times out after `min(handshake_timeout, heartbeat_interval / 2)` |
//! | the connection of a link that can resume breaks with frames in flight | reconnect: the dialler dials at once, the acceptor waits; the link resumes |
//! | a reconnection is refused (nobody listens) | fail: `PeerVanished` |
//! | a secure handshake is closed on the dialler | keep dialling, and report `Security(Handshake(ClosedByPeer))` at the connect deadline |
//! | an accepted connection fails its handshake | drop it (`Rejected`); the link waits for the real peer |
//! | nothing heard for `peer_timeout` (also while reconnecting) | fail: `PeerSilent` |
//! | the dialler hears nothing for 3 heartbeat intervals, frames in flight | replace the connection (it may be dead without either kernel knowing) |
//! | both closes passed and acknowledged, then 3 quiet intervals | the link is closed |
//! | nothing sent for a heartbeat interval | send a heartbeat (an acknowledgement) |
//! | any other error | fail the link with it (a break after the peer's close is a close) |
//! | a message of 256 KiB or more is sent on a link that can resume | lend it (keep the sender's buffer, complete the send on the peer's acknowledgement) unless the platform reports a round trip longer than copying the message would take; else copy it into the replay buffer |
//! | a connection comes up on a path whose round trip is 1 ms or more | ask the socket to keep at most 128 KiB written but unsent |
//! | a message of 64 KiB or more arrives on a plaintext link before any receive from its sender is posted | leave it in the socket until one is, for up to 2 ms; then into the unexpected queue, and the large messages behind it too until a receive from that sender is posted |

use super::{Link, LinkState, Stop};
use crate::config::EndpointConfig;
use crate::endpoint::Context;
use crate::error::{HandshakeFailure, LinkError, TransportError};
use crate::socket::{Socket, SocketError};
use crate::time::{earliest, Duration, Instant};
use crate::Event;

/// First and largest pause between connection attempts.
const DIAL_BACKOFF_MIN_US: u64 = 2_000;
const DIAL_BACKOFF_MAX_US: u64 = 250_000;
/// Heartbeat intervals without a byte from the peer after which the dialling
/// side replaces a connection that may be dead without either kernel having
/// noticed (a cut cable, a lost route): two heartbeats missed, and a third due.
const STALLED_HEARTBEATS: u32 = 3;

/// How long a large message may wait in the socket for its receive (see
/// [`Receive::set_may_hold`](super::rx::Receive::set_may_hold)): long
/// enough for a party that is finishing a round to post its next receive,
/// short enough that frames behind the message, and programs that send
/// before they receive, barely notice.
const HOLD_FOR_RECEIVE: Duration = Duration::from_millis(2);

/// Messages of at least this many bytes may be lent rather than copied for
/// replay (see [`lends`]), and the peer acknowledges each such message as
/// soon as it has arrived, since its sender may be waiting for that.
/// Below it a copy always costs less than waiting for the acknowledgement.
pub(crate) const LENT_MESSAGE_MIN: usize = 256 * 1024;

/// How fast one core copies a large message into the replay buffer: 6.8 to
/// 13 GB/s measured out of cache on the machines ternion is tested on.
const COPY_BYTES_PER_SECOND: u64 = 8_000_000_000;

/// Whether a message of `len` bytes sent on a link that can resume is lent
/// (the link keeps the application's buffer for replay, and the send
/// completes when the peer acknowledges the message) rather than copied
/// into the replay buffer (the send completes when its last byte reaches
/// the socket). Lending saves the copy and costs the wait for the
/// acknowledgement, at least a round trip: on a path whose `round_trip`
/// (as the platform's transport measures it; `None` where it cannot tell)
/// is longer than the copy would take, the copy is the cheaper of the two.
/// Measured across the emulated cross-region path (20 ms): 1 MiB rounds
/// take about twice as long lent as copied, while on loopback lending
/// saves the copy's CPU time.
pub(super) fn lends(len: usize, round_trip: Option<Duration>) -> bool {
    len >= LENT_MESSAGE_MIN
        && round_trip.is_none_or(|rtt| {
            rtt.as_nanos() * u128::from(COPY_BYTES_PER_SECOND) < len as u128 * 1_000_000_000
        })
}

/// From this round trip on, a path is long: a connection's congestion
/// window then holds megabytes, and bytes the kernel keeps unsent behind it
/// only delay everything written after them.
const LONG_PATH: Duration = Duration::from_millis(1);

/// Written but unsent bytes a connection over a long path may hold.
const UNSENT_ON_LONG_PATHS: usize = 128 * 1024;

/// How many written bytes a new connection's socket may keep unsent
/// ([`Socket::limit_unsent`]), given its `round_trip`: on a long path, 128
/// KiB; elsewhere the transport's own limit. Every frame a link writes is
/// kept in the replay buffer until the peer acknowledges it, so megabytes
/// queued unsent in the kernel use up the buffer's window as if they were
/// in flight: across the emulated cross-region path (20 ms, 1 Gbit/s), a
/// 64 MiB exchange took 740 ms with Linux's default and 585 ms (median of
/// three, 570 without a replay buffer at all) with this limit, and the
/// open of 1M u64 went from 116 to 92 ms. On loopback the same limit
/// doubled the open (4 to 8 ms), so short paths keep the default.
pub(super) fn unsent_limit(round_trip: Option<Duration>) -> Option<usize> {
    round_trip
        .filter(|rtt| *rtt >= LONG_PATH)
        .map(|_| UNSENT_ON_LONG_PATHS)
}

/// A reconnection tries again soon: a connection attempt begun while the
/// route was down may not see it come back for seconds (TCP's own retries
/// back off), and the peer timeout is running.
pub(super) fn reconnect_handshake_timeout(config: &EndpointConfig) -> Duration {
    config.handshake_timeout.min(config.heartbeat_interval / 2)
}

/// The pause before the next dial, after one of `previous_us` failed.
fn next_backoff_us(previous_us: u64) -> u64 {
    (previous_us * 2).clamp(DIAL_BACKOFF_MIN_US, DIAL_BACKOFF_MAX_US)
}

/// The error for a peer silent for `timeout`.
fn peer_silent(timeout: Duration) -> LinkError {
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    TransportError::PeerSilent { timeout_ms }.into()
}

/// The connection broke underneath (as opposed to a protocol failure).
fn is_break(stop: Stop) -> bool {
    matches!(
        stop,
        Stop::Failed(LinkError::Transport(
            TransportError::Socket(_) | TransportError::PeerVanished
        ))
    )
}

const HANDSHAKE_TIMEOUT: Stop =
    Stop::Failed(LinkError::Transport(TransportError::HandshakeTimeout));

impl<S: Socket, Tx: AsRef<[u8]>> Link<S, Tx> {
    /// May the receive side keep holding a large message for its receive?
    /// Not on a secure link: there, reading ahead opens the records while
    /// the party waits for something else, and held records would be
    /// opened one after another once the receive comes, on the critical
    /// path (measured: open 1M went from 3.2 to 9.4 ms at rank 0 when
    /// secure links held; the copy a hold saves costs a tenth of an open).
    pub(super) fn may_hold(&self, now: Instant) -> bool {
        !self.secure && self.held_since.is_none_or(|t| now < t + HOLD_FOR_RECEIVE)
    }

    /// When a message held for its receive goes to the unexpected queue.
    fn hold_ends(&self) -> Option<Instant> {
        self.held_since.map(|t| t + HOLD_FOR_RECEIVE)
    }

    /// When the link's timers next need [`Link::on_timer`] and
    /// [`Link::keep_alive`], and whether it still awaits its first
    /// connection (bounded by the endpoint's connect deadline).
    pub fn poll_at(&self, config: &EndpointConfig) -> (Option<Instant>, bool) {
        let mut at = None;
        let interval = config.heartbeat_interval;
        let silent_at = config.peer_timeout.map(|t| self.last_heard + t);
        if self.setting_up() {
            let first = !self.ever_established;
            if !first {
                at = earliest(at, silent_at);
            }
            if self.handshaking() {
                at = earliest(at, self.handshake_deadline);
            } else if self.dials {
                at = earliest(at, Some(self.next_dial));
            }
            return (at, first);
        }
        if self.carrying() && self.socket.is_some() {
            // A heartbeat already due waits for the socket, not the clock.
            if !self.tx.ack_due() {
                at = earliest(at, Some(self.last_sent + interval));
            }
            if self.dials && self.tx.can_resume() {
                at = earliest(at, Some(self.last_heard + interval * STALLED_HEARTBEATS));
            }
            at = earliest(at, silent_at);
            at = earliest(at, self.hold_ends());
        }
        (at, false)
    }

    /// Applies the set-up deadlines: the peer timeout while reconnecting,
    /// the connect deadline for the first connection, the handshake's own.
    pub fn on_timer<Rx: AsMut<[u8]>>(
        &mut self,
        now: Instant,
        connect_deadline: Instant,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) {
        if !self.setting_up() {
            return;
        }
        let handshake_late = self.handshake_deadline.is_some_and(|d| now >= d);
        if self.ever_established {
            // Reconnecting: the peer timeout bounds the wait.
            let silent_for = ctx
                .config
                .peer_timeout
                .filter(|&t| now >= self.last_heard + t);
            if let Some(timeout) = silent_for {
                self.end(peer_silent(timeout).into(), ctx);
            } else if self.handshaking() && handshake_late {
                self.on_error(HANDSHAKE_TIMEOUT, now, ctx);
            }
        } else if now >= connect_deadline {
            let reason = match (self.setup_refused, self.state) {
                (Some(refused), _) => refused,
                (None, LinkState::Handshaking) => TransportError::HandshakeTimeout.into(),
                (None, _) => TransportError::NeverConnected.into(),
            };
            self.end(Stop::Failed(reason), ctx);
        } else if self.state == LinkState::Handshaking && handshake_late {
            self.on_error(HANDSHAKE_TIMEOUT, now, ctx);
        }
    }

    /// Sends a heartbeat on a quiet link, replaces a dialled connection
    /// that has gone quiet (it may be dead without either kernel knowing),
    /// and fails the link of a peer that has been silent past the peer timeout.
    pub fn keep_alive<Rx: AsMut<[u8]>>(
        &mut self,
        now: Instant,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) {
        if self.socket.is_none() || !self.carrying() {
            return;
        }
        let interval = ctx.config.heartbeat_interval;
        if let Some(timeout) = ctx
            .config
            .peer_timeout
            .filter(|&t| now >= self.last_heard + t)
        {
            self.on_error(peer_silent(timeout).into(), now, ctx);
            return;
        }
        let stalled = now >= self.last_heard + interval * STALLED_HEARTBEATS;
        if stalled && self.sent_close && self.nothing_in_flight() {
            // Both closes have passed and been acknowledged; only our last
            // acknowledgement may not have got out. The peer has left, or
            // will learn what we hold from our hello if it reconnects.
            // Nothing is left to wait for.
            self.end(Stop::Closed, ctx);
            return;
        }
        if stalled && self.dials && self.tx.can_resume() && !self.nothing_in_flight() {
            let quiet = now.saturating_since(self.last_heard);
            self.begin_reconnect(peer_silent(quiet), now, ctx);
            return;
        }
        if now >= self.last_sent + interval {
            self.tx.request_ack();
        }
    }

    /// The link hit an error: reconnect, retry the set-up, or end it.
    pub(super) fn on_error<Rx: AsMut<[u8]>>(
        &mut self,
        reason: Stop,
        now: Instant,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) {
        let retryable = is_break(reason) || reason == HANDSHAKE_TIMEOUT;
        let settled = self.nothing_in_flight() && self.state != LinkState::Lingering;
        if let Stop::Failed(broken) = reason {
            if is_break(reason) && self.tx.can_resume() && self.carrying() && !settled {
                self.begin_reconnect(broken, now, ctx);
                return;
            }
        }
        let handshaking = self.handshaking();
        if !self.dials && handshaking {
            // An accepted connection that failed its secure handshake is
            // dropped; the link waits for the real peer (hellos are not
            // secret, so anyone could otherwise break a link with one).
            let addr = self.socket.as_ref().map(Socket::peer_addr);
            self.detach();
            self.back_to_waiting();
            if let Some(addr) = addr {
                // The connection ending here is no orderly close of a link
                // that never came up on it: the dialler vanished.
                let reason = match reason {
                    Stop::Failed(reason) => reason,
                    Stop::Closed => TransportError::PeerVanished.into(),
                };
                log::warn!(
                    "refused connection from {addr} claiming {}: {reason}",
                    self.peer
                );
                ctx.events.push(Event::Rejected { addr, reason });
            }
            return;
        }
        if self.dials
            && handshaking
            && self.ever_established
            && reason == SocketError::Refused.into()
        {
            self.peer_gone(ctx);
            return;
        }
        if self.dials && handshaking && retryable {
            if self.handshake.is_some() {
                // Closed on us mid-handshake: the acceptor refused our key.
                // Keep trying (it may have restarted), but say so at the deadline.
                self.setup_refused = Some(HandshakeFailure::ClosedByPeer.into());
            }
            log::debug!(
                "connection to {} failed during set-up ({reason}); retrying",
                self.peer
            );
            self.detach();
            self.back_to_waiting();
            self.schedule_redial(now);
            return;
        }
        let stop = if self.peer_closed && is_break(reason) {
            Stop::Closed
        } else {
            reason
        };
        self.end(stop, ctx);
    }

    /// A set-up attempt ended: wait for the next connection.
    fn back_to_waiting(&mut self) {
        self.state = if self.ever_established {
            LinkState::Reconnecting
        } else {
            LinkState::Connecting
        };
        self.handshake_deadline = None;
    }

    /// The connection under a link that can resume broke: drop it and get a
    /// new one (dial again, or wait to be dialled). Operations wait; the
    /// peer timeout bounds how long.
    fn begin_reconnect<Rx: AsMut<[u8]>>(
        &mut self,
        reason: LinkError,
        now: Instant,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) {
        self.suspend_connection(ctx);
        self.state = LinkState::Reconnecting;
        self.handshake_deadline = None;
        if self.dials {
            self.dial_backoff_us = 0;
            self.next_dial = now;
        }
        let peer = self.peer;
        log::warn!("connection to {peer} broke ({reason}); reconnecting to resume the link");
        ctx.events.push(Event::LinkInterrupted { peer, reason });
    }

    /// A reconnection was refused: nothing listens at the peer's address any
    /// more, so the peer process is gone.
    pub(super) fn peer_gone<Rx: AsMut<[u8]>>(&mut self, ctx: &mut Context<'_, S::Addr, Tx, Rx>) {
        log::warn!(
            "{} refused the reconnection: nobody listens there any more",
            self.peer
        );
        self.end(TransportError::PeerVanished.into(), ctx);
    }

    /// Backs off exponentially between connection attempts.
    pub(super) fn schedule_redial(&mut self, now: Instant) {
        self.dial_backoff_us = next_backoff_us(self.dial_backoff_us);
        self.next_dial = now + Duration::from_micros(self.dial_backoff_us);
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn only_long_paths_limit_what_the_socket_keeps_unsent() {
        assert_eq!(unsent_limit(None), None);
        assert_eq!(unsent_limit(Some(Duration::from_micros(40))), None);
        assert_eq!(
            unsent_limit(Some(Duration::from_millis(20))),
            Some(128 * 1024)
        );
    }

    #[test]
    fn large_messages_are_lent_only_where_the_round_trip_costs_less_than_the_copy() {
        let us = |n| Some(Duration::from_micros(n));
        assert!(!lends(LENT_MESSAGE_MIN - 1, None), "small: copied");
        assert!(lends(LENT_MESSAGE_MIN, None), "no round trip known: lent");
        // Loopback (microseconds): 1 MiB takes 131 us to copy.
        assert!(lends(1 << 20, us(40)));
        // A 1 ms region path: 1 MiB is copied, 64 MiB (8.4 ms to copy) lent.
        assert!(!lends(1 << 20, us(1_000)));
        assert!(lends(64 << 20, us(1_000)));
        // Across clouds (20 ms): even 64 MiB is copied.
        assert!(!lends(64 << 20, us(20_000)));
    }

    #[test]
    fn redials_back_off_from_2ms_doubling_to_250ms() {
        let mut backoff = 0;
        let steps: alloc::vec::Vec<u64> = (0..9)
            .map(|_| {
                backoff = next_backoff_us(backoff);
                backoff
            })
            .collect();
        assert_eq!(
            steps,
            [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 250_000, 250_000]
        );
    }

    #[test]
    fn a_reconnection_handshake_is_short() {
        let mut config = EndpointConfig::new(crate::Rank::new(0).unwrap(), [0; 16]);
        config.handshake_timeout = Duration::from_secs(5);
        config.heartbeat_interval = Duration::from_secs(1);
        assert_eq!(
            reconnect_handshake_timeout(&config),
            Duration::from_millis(500)
        );
        config.handshake_timeout = Duration::from_millis(100);
        assert_eq!(
            reconnect_handshake_timeout(&config),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn silence_is_reported_in_milliseconds() {
        assert_eq!(
            peer_silent(Duration::from_millis(1500)),
            LinkError::Transport(TransportError::PeerSilent { timeout_ms: 1500 })
        );
        assert!(is_break(TransportError::PeerVanished.into()));
        assert!(is_break(SocketError::Reset.into()));
        assert!(!is_break(Stop::Closed));
        assert!(!is_break(
            crate::error::SecurityError::RecordRejected.into()
        ));
    }
}
