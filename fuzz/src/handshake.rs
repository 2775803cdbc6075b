//! The `handshake` target: a secure endpoint meets a peer that sends a valid
//! hello, then arbitrary bytes where its Noise handshake messages belong.
//!
//! The fuzzer plays the peer and holds no key the endpoint trusts: for every
//! other rank the endpoint expects a public key whose private key nobody has.
//! Whatever the bytes, the link must therefore never come up. Checks, beyond
//! "never panics":
//! - the link to the played rank is never established, by state or event;
//! - driven by a simulated clock past every deadline, the endpoint settles:
//!   every link has failed and nothing is left to drive;
//! - as the acceptor, the endpoint refuses the connection with a reason, and
//!   the link ends as one whose peer never completed set-up
//!   (`Transport(NeverConnected)`, or `Transport(HandshakeTimeout)`;
//!   `docs/protocol.md` §1, §7);
//! - as the dialler, it names the refused handshake
//!   (`Security(Handshake(reason))`, §7).
//!
//! Input: the first byte selects a [`Scenario`]; the rest is what the peer
//! sends after its hello.

use crate::{chunk_len, chunk_selector, next_instant, START};
use ternion_core::secure::{Aead, SecureConfig, KEY_LEN};
use ternion_core::socket::{Network, Socket};
use ternion_core::testing::{MemNetwork, MemSocket};
use ternion_core::wire::{Capabilities, HelloRepr, HELLO_LEN};
use ternion_core::{
    Endpoint, EndpointConfig, Event, LinkError, LinkState, Rank, SecurityError, TransportError,
    PARTIES,
};

/// The job both sides claim.
const SESSION: [u8; 16] = *b"ternion-fuzz-hs!";

/// The endpoint's own static private key. It is public (it is in this
/// file), so an input forged with it could complete the handshake: seeds
/// must never be made with it.
const ENDPOINT_PRIVATE_KEY: [u8; KEY_LEN] = [0x37; KEY_LEN];

/// The public keys the endpoint expects of the other ranks: arbitrary
/// curve points, not derived from any private key, so nobody can
/// authenticate as those ranks. The endpoint's own entry is unused.
const UNHELD_PUBLIC_KEYS: [[u8; KEY_LEN]; PARTIES] = [
    *b"nobody holds the key of rank 0..",
    *b"nobody holds the key of rank 1..",
    *b"nobody holds the key of rank 2..",
];

/// Bytes each in-memory pipe holds; far more than a handshake needs.
const PIPE_CAPACITY: usize = 1 << 16;

/// A bound on polls: far above what settling takes (a few per dial, plus
/// one per chunk of input), so reaching it means the endpoint never settles.
const MAX_POLLS: usize = 200_000;

/// Which side of the connection the endpoint is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The endpoint is rank 0 and accepts the fuzzer's connection.
    Accepts,
    /// The endpoint is rank 2 and dials the fuzzer, which answers.
    Dials,
}

/// How one input is played out, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// Which side of the connection the endpoint is on (bit 0).
    pub role: Role,
    /// Whether the fuzzer plays the higher of the endpoint's two peers (bit 1).
    pub plays_higher_peer: bool,
    /// Whether the fuzzer closes the connection after its last byte (bit 2).
    pub hangs_up: bool,
    /// How many bytes the fuzzer hands the socket per poll (bits 3 and 4).
    pub chunk_len: usize,
}

impl Scenario {
    /// Decodes the first byte of an input; every value is a scenario.
    pub fn from_selector(selector: u8) -> Scenario {
        Scenario {
            role: if selector & 1 == 0 {
                Role::Accepts
            } else {
                Role::Dials
            },
            plays_higher_peer: selector & 2 != 0,
            hangs_up: selector & 4 != 0,
            chunk_len: chunk_len(selector >> 3),
        }
    }

    /// An input that plays this scenario, the peer sending `after_hello`.
    pub fn input(&self, after_hello: &[u8]) -> Vec<u8> {
        let selector = u8::from(self.role == Role::Dials)
            | u8::from(self.plays_higher_peer) << 1
            | u8::from(self.hangs_up) << 2
            | chunk_selector(self.chunk_len) << 3;
        [&[selector][..], after_hello].concat()
    }

    /// The endpoint's rank.
    fn endpoint_rank(&self) -> Rank {
        match self.role {
            Role::Accepts => Rank::ZERO,
            Role::Dials => Rank::ALL[2],
        }
    }

    /// The rank the fuzzer plays.
    fn played_rank(&self) -> Rank {
        let [a, b] = self.endpoint_rank().others();
        if self.plays_higher_peer {
            a.max(b)
        } else {
            a.min(b)
        }
    }

    /// The hello the played rank opens with: valid, and asking for what the
    /// endpoint requires (encryption, and resume, which is on by default),
    /// so that the Noise handshake is what decides.
    fn peer_hello(&self) -> [u8; HELLO_LEN] {
        let mut hello = [0; HELLO_LEN];
        HelloRepr {
            capabilities: Capabilities::ENCRYPTED | Capabilities::RESUME,
            session: SESSION,
            sender: self.played_rank(),
            receiver: self.endpoint_rank(),
            resume_seq: 0,
        }
        .emit(&mut hello)
        .expect("a hello fits HELLO_LEN bytes");
        hello
    }
}

/// The rank the fuzzer plays: its end of the connection and what it has
/// still to send.
struct FakePeer {
    socket: Option<MemSocket>,
    stream: Vec<u8>,
    sent: usize,
    chunk_len: usize,
    hangs_up: bool,
    hung_up: bool,
}

impl FakePeer {
    /// Hands the next chunk to the socket, or hangs up once everything is
    /// sent if the scenario says so. False when there is nothing left to do.
    fn act(&mut self) -> bool {
        let Some(socket) = self.socket.as_mut() else {
            return false;
        };
        if self.sent < self.stream.len() {
            let end = self
                .stream
                .len()
                .min(self.sent.saturating_add(self.chunk_len));
            socket.inject(&self.stream[self.sent..end]);
            self.sent = end;
            return true;
        }
        if self.hangs_up && !self.hung_up {
            socket.close();
            self.hung_up = true;
            return true;
        }
        false
    }
}

fn endpoint_config(me: Rank) -> EndpointConfig {
    let mut config = EndpointConfig::new(me, SESSION);
    config.secure = Some(SecureConfig {
        private_key: ENDPOINT_PRIVATE_KEY,
        public_keys: UNHELD_PUBLIC_KEYS,
        aead: Aead::AesGcm,
        seed: [0x5e; 32],
        ciphers: None,
    });
    config
}

/// Runs every check on one input.
pub fn check(data: &[u8]) {
    let Some((&selector, after_hello)) = data.split_first() else {
        return;
    };
    let scenario = Scenario::from_selector(selector);
    let (me, played) = (scenario.endpoint_rank(), scenario.played_rank());
    let nets = MemNetwork::three(PIPE_CAPACITY);
    let mut peer = FakePeer {
        socket: None,
        stream: [&scenario.peer_hello()[..], after_hello].concat(),
        sent: 0,
        chunk_len: scenario.chunk_len,
        hangs_up: scenario.hangs_up,
        hung_up: false,
    };
    match scenario.role {
        Role::Accepts => {
            nets[me.index()].listen(true);
            peer.socket = nets[played.index()].dial_raw(me);
        }
        // The other peer does not listen: its link fails on its own.
        Role::Dials => nets[played.index()].listen(true),
    }
    let mut played_net = nets[played.index()].clone();
    let mut net = nets[me.index()].clone();
    let mut endpoint: Endpoint<MemSocket, Vec<u8>, Vec<u8>> =
        Endpoint::new(endpoint_config(me), START);
    let mut now = START;
    let mut refusals = Vec::new();

    for _ in 0..MAX_POLLS {
        if scenario.role == Role::Dials && peer.socket.is_none() {
            // The fuzzer answers the first dial only; later ones go unanswered.
            peer.socket = played_net.accept().expect("in-memory accept");
        }
        let acted = peer.act();
        let progressed = endpoint.poll(&mut net, now);
        assert_ne!(
            endpoint.link_state(played),
            Some(LinkState::Established),
            "a peer without the key established a secure link"
        );
        while let Some(event) = endpoint.poll_event() {
            match event {
                Event::LinkUp(rank) | Event::LinkResumed(rank) => {
                    assert_ne!(rank, played, "a peer without the key brought its link up")
                }
                Event::LinkInterrupted { peer, .. } => {
                    assert_ne!(peer, played, "a link that never came up was interrupted")
                }
                Event::Rejected { reason, .. } => refusals.push(reason),
                Event::LinkFailed { .. } | Event::LinkClosed(_) => {}
            }
        }
        if acted || progressed {
            continue;
        }
        match endpoint.poll_at() {
            Some(deadline) => now = next_instant(now, [Some(deadline)]),
            None => return check_settled(&endpoint, &scenario, &refusals),
        }
    }
    panic!("the endpoint did not settle within {MAX_POLLS} polls");
}

/// The endpoint has no deadline left: every link must have ended, the
/// played one with the failure the spec names.
fn check_settled(
    endpoint: &Endpoint<MemSocket, Vec<u8>, Vec<u8>>,
    scenario: &Scenario,
    refusals: &[LinkError],
) {
    assert!(endpoint.is_closed(), "no deadline left, yet a link is open");
    assert!(!endpoint.has_work(), "no deadline left, yet work to do");
    let reason = match endpoint.link_state(scenario.played_rank()) {
        Some(LinkState::Failed(reason)) => reason,
        other => panic!("the played link ended as {other:?}, not as a failure"),
    };
    match scenario.role {
        Role::Accepts => {
            assert!(
                matches!(
                    reason,
                    LinkError::Transport(
                        TransportError::NeverConnected | TransportError::HandshakeTimeout
                    )
                ),
                "the played link failed with {reason:?}"
            );
            assert!(
                !refusals.is_empty(),
                "the connection was dropped without a refusal"
            );
        }
        // Whatever the fake acceptor sent (a reply that does not decrypt,
        // one of the wrong length) or did (hang up), it is a handshake failure.
        Role::Dials => assert!(
            matches!(reason, LinkError::Security(SecurityError::Handshake(_))),
            "the dialled link failed with {reason:?}"
        ),
    }
}
