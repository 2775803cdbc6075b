//! The `link` target: three endpoints with their links established, and
//! arbitrary bytes forged into the stream one party sends another.
//!
//! The party that receives the forged bytes is the victim, the party whose
//! stream they join is the sender, and the third is the bystander. After the
//! forgery the sender sends a real message (the probe) on the same link.
//! Checks, beyond "never panics":
//! - the corrupted link either fails with a typed error, reported by
//!   `failure()` as the victim's link to the sender, or the bytes decoded
//!   as valid frames: the link is still up, or closed in order by a forged
//!   CLOSE. Only plaintext allows the latter two: on a secure link any
//!   forged byte must fail the link with `RecordRejected`
//!   (`docs/protocol.md` §7), and the probe receive with it;
//! - a receive waiting for the sender never outlives the link's end (§4),
//!   and whatever completes it concerns the sender;
//! - with nothing forged, the probe arrives intact;
//! - the links that do not carry the forgery (victim–bystander and
//!   sender–bystander) still work: a message each way arrives intact.
//!
//! Input: the first byte selects a [`Plan`]; the rest is forged.

use crate::{chunk_len, chunk_selector, next_instant, START};
use std::sync::OnceLock;
use ternion_core::secure::{public_key, Aead, SecureConfig, KEY_LEN};
use ternion_core::testing::{MemNetwork, MemSocket};
use ternion_core::{
    Buffer, Completion, Duration, Endpoint, EndpointConfig, Error, Instant, LinkError, LinkState,
    Rank, RequestId, SecurityError, Source, TagFilter, PARTIES,
};

/// The job all three parties belong to.
const SESSION: [u8; 16] = *b"ternion-fuzz-ln!";

/// The three parties' static private keys.
const PRIVATE_KEYS: [[u8; KEY_LEN]; PARTIES] = [[0x11; KEY_LEN], [0x22; KEY_LEN], [0x33; KEY_LEN]];

/// The tag of the message the sender sends on the corrupted link.
pub const PROBE_TAG: u32 = 7;

/// The probe's length: more than one whole record (a 2-byte prefix and a
/// body of up to 65,535 bytes), so that any record length a forged prefix
/// claims is filled by real bytes and the victim cannot be left waiting.
const PROBE_LEN: usize = 70_000;

/// The tag of the messages that check the links without forged bytes.
const CHECK_TAG: u32 = 9;

/// Bytes each in-memory pipe holds in each direction.
const PIPE_CAPACITY: usize = 1 << 16;

/// Simulated time the links get to come up; set-up takes milliseconds.
const SET_UP_TIME: Duration = Duration::from_secs(5);

/// Simulated time a message gets to arrive (or its link to fail). Long
/// enough for heartbeats to pass, short of the peer timeout.
const DELIVERY_TIME: Duration = Duration::from_secs(3);

/// A bound on polls of the three endpoints: far above what any stage takes
/// while the clock jumps between deadlines, so reaching it means the
/// endpoints keep reporting progress without getting anywhere.
const MAX_POLLS: usize = 100_000;

/// Which stream one input corrupts, and how, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Whether the links run the secure channel (bit 0).
    pub secure: bool,
    /// The party that receives the forged bytes (bits 1 and 2, modulo 3).
    pub victim: Rank,
    /// Whether the forged bytes join the stream from the victim's
    /// successor, else from its predecessor (bit 3).
    pub from_successor: bool,
    /// How many forged bytes reach the socket per poll (bits 4 and 5).
    pub chunk_len: usize,
}

impl Plan {
    /// Decodes the first byte of an input; every value is a plan.
    pub fn from_selector(selector: u8) -> Plan {
        Plan {
            secure: selector & 1 != 0,
            victim: Rank::ALL[usize::from((selector >> 1) & 3) % PARTIES],
            from_successor: selector & 8 != 0,
            chunk_len: chunk_len(selector >> 4),
        }
    }

    /// An input that carries out this plan, forging `forged`.
    pub fn input(&self, forged: &[u8]) -> Vec<u8> {
        let selector = u8::from(self.secure)
            | (self.victim.index() as u8) << 1
            | u8::from(self.from_successor) << 3
            | chunk_selector(self.chunk_len) << 4;
        [&[selector][..], forged].concat()
    }

    /// The party whose stream to the victim carries the forged bytes.
    fn sender(&self) -> Rank {
        if self.from_successor {
            self.victim.succ()
        } else {
            self.victim.pred()
        }
    }

    /// The party that is neither victim nor sender.
    fn bystander(&self) -> Rank {
        if self.from_successor {
            self.victim.pred()
        } else {
            self.victim.succ()
        }
    }
}

type MemEndpoint = Endpoint<MemSocket, Vec<u8>, Vec<u8>>;

/// Three endpoints on one in-memory network, and the simulated clock.
struct Trio {
    endpoints: [MemEndpoint; PARTIES],
    nets: [MemNetwork; PARTIES],
    now: Instant,
}

impl Trio {
    /// Three endpoints whose links have all come up.
    fn established(secure: bool) -> Trio {
        let nets = MemNetwork::three(PIPE_CAPACITY);
        for net in &nets {
            net.listen(true);
        }
        let mut trio = Trio {
            endpoints: Rank::ALL.map(|rank| Endpoint::new(config(rank, secure), START)),
            nets,
            now: START,
        };
        let up = trio.run_until(SET_UP_TIME, |t| {
            t.endpoints.iter().all(Endpoint::is_established)
        });
        assert!(up, "the three links did not come up");
        trio
    }

    fn endpoint(&mut self, rank: Rank) -> &mut MemEndpoint {
        &mut self.endpoints[rank.index()]
    }

    /// Posts a receive at `rank` for a message of `len` bytes from `from`
    /// with `tag`. Posting succeeds while `rank`'s link to `from` is up, as
    /// it is wherever the check posts a receive.
    fn post_receive(&mut self, rank: Rank, from: Rank, tag: u32, len: usize) -> RequestId {
        self.endpoint(rank)
            .irecv(Source::Rank(from), TagFilter::Tag(tag), vec![0; len])
            .expect("posting a receive on a working endpoint")
    }

    /// Polls every endpoint once; false if none of them moved.
    fn poll_all(&mut self) -> bool {
        let mut progressed = false;
        for (endpoint, net) in self.endpoints.iter_mut().zip(&mut self.nets) {
            progressed |= endpoint.poll(net, self.now);
        }
        progressed
    }

    /// Polls until `done` holds or `limit` of simulated time has passed,
    /// moving the clock to the next deadline whenever nothing moved.
    /// Returns whether `done` held.
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Trio) -> bool) -> bool {
        let end = self.now + limit;
        for _ in 0..MAX_POLLS {
            if done(self) {
                return true;
            }
            if self.now >= end {
                return false;
            }
            if !self.poll_all() {
                let deadlines = self.endpoints.iter().map(Endpoint::poll_at);
                self.now = next_instant(self.now, deadlines);
            }
        }
        panic!("the endpoints kept moving for {MAX_POLLS} polls without settling");
    }

    /// Polls, with the clock standing still, until a round of polls moves
    /// nothing: every byte in flight has then been read and acted on.
    fn settle(&mut self) {
        for _ in 0..MAX_POLLS {
            if !self.poll_all() {
                return;
            }
        }
        panic!("the endpoints kept moving for {MAX_POLLS} polls without settling");
    }

    /// Waits up to [`DELIVERY_TIME`] for receive `id` at `rank` to
    /// complete, lets the endpoints act on every byte in flight, and takes
    /// the receive's completion if it has one.
    fn completion(&mut self, rank: Rank, id: RequestId) -> Option<Completion<Vec<u8>, Vec<u8>>> {
        self.run_until(DELIVERY_TIME, |t| {
            t.endpoint(rank).is_complete(id) == Ok(true)
        });
        self.settle();
        self.endpoint(rank)
            .take(id)
            .expect("a handle this check was given")
    }
}

fn public_keys() -> [[u8; KEY_LEN]; PARTIES] {
    static KEYS: OnceLock<[[u8; KEY_LEN]; PARTIES]> = OnceLock::new();
    *KEYS.get_or_init(|| PRIVATE_KEYS.map(|key| public_key(&key)))
}

fn config(rank: Rank, secure: bool) -> EndpointConfig {
    let mut config = EndpointConfig::new(rank, SESSION);
    if secure {
        config.secure = Some(SecureConfig {
            private_key: PRIVATE_KEYS[rank.index()],
            public_keys: public_keys(),
            aead: Aead::AesGcm,
            seed: [0x40 + rank.index() as u8; 32],
            ciphers: None,
        });
    }
    config
}

/// Pseudo-random bytes (a multiplicative hash of the position, varied by
/// `salt`), so a shifted, cut or mixed-up copy does not compare equal.
fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ salt)
        .collect()
}

/// The bytes a completed receive holds, if it succeeded.
fn received(completion: Completion<Vec<u8>, Vec<u8>>) -> Result<Vec<u8>, Error> {
    let status = completion.result?;
    match completion.buffer {
        Buffer::Recv(mut bytes) => {
            bytes.truncate(status.len as usize);
            Ok(bytes)
        }
        Buffer::Send(_) => panic!("a receive handed back a send buffer"),
    }
}

/// Runs every check on one input.
pub fn check(data: &[u8]) {
    let Some((&selector, forged)) = data.split_first() else {
        return;
    };
    let plan = Plan::from_selector(selector);
    let (victim, sender) = (plan.victim, plan.sender());
    let mut trio = Trio::established(plan.secure);

    let probe_receive = trio.post_receive(victim, sender, PROBE_TAG, PROBE_LEN);
    for chunk in forged.chunks(plan.chunk_len) {
        // The forger can write only while the sender's end is open.
        if !trio.nets[sender.index()].forge(victim, chunk) {
            break;
        }
        trio.poll_all();
    }
    let probe = pattern(PROBE_LEN, 0x9e);
    // The send is refused only if the link has failed already; the probe
    // receive must then have failed with it.
    let _ = trio
        .endpoint(sender)
        .isend(victim, PROBE_TAG, probe.clone());
    let probe_completion = trio.completion(victim, probe_receive);
    let link = trio
        .endpoint(victim)
        .link_state(sender)
        .expect("a link to another rank");

    if forged.is_empty() {
        assert_eq!(link, LinkState::Established);
        let completion = probe_completion.expect("the probe did not arrive");
        assert!(
            received(completion) == Ok(probe),
            "the probe arrived altered"
        );
    } else {
        check_corrupted_link(&mut trio, &plan, link, probe_completion);
    }

    let bystander = plan.bystander();
    for (from, to) in [
        (victim, bystander),
        (bystander, victim),
        (sender, bystander),
        (bystander, sender),
    ] {
        check_link_works(&mut trio, from, to);
    }
}

/// The verdict on the link that carried forged bytes, as the victim sees it.
fn check_corrupted_link(
    trio: &mut Trio,
    plan: &Plan,
    link: LinkState,
    probe_completion: Option<Completion<Vec<u8>, Vec<u8>>>,
) {
    let (victim, sender) = (plan.victim, plan.sender());
    match link {
        LinkState::Failed(reason) => {
            assert_eq!(trio.endpoint(victim).failure(), Some((sender, reason)));
            let completion = probe_completion.expect("a receive outlived its failed link");
            check_probe_concerns_sender(&completion, sender);
            if plan.secure {
                assert_eq!(reason, LinkError::Security(SecurityError::RecordRejected));
                assert_eq!(
                    completion.result.err(),
                    Some(Error::Link {
                        peer: sender,
                        reason
                    })
                );
            }
        }
        // A forged CLOSE ends a plaintext link in order, as the sender's
        // own would once the connection ends.
        LinkState::Closed => {
            assert!(!plan.secure, "forged bytes closed a secure link");
            let completion = probe_completion.expect("a receive outlived its closed link");
            check_probe_concerns_sender(&completion, sender);
        }
        LinkState::Established => {
            assert!(!plan.secure, "forged bytes were accepted on a secure link");
        }
        other => panic!("the corrupted link was left {other:?}"),
    }
}

/// What completed the probe receive on a link that ended concerns the
/// sender: a message from it (forged or real), or the end of its link.
fn check_probe_concerns_sender(completion: &Completion<Vec<u8>, Vec<u8>>, sender: Rank) {
    match &completion.result {
        Ok(status) => assert_eq!((status.peer, status.tag), (sender, PROBE_TAG)),
        Err(Error::Link { peer, .. } | Error::LinkClosed { peer }) => assert_eq!(*peer, sender),
        Err(Error::Truncated { .. }) => {}
        Err(other) => panic!("the probe receive failed with {other:?}"),
    }
}

/// A message from `from` to `to` arrives intact.
fn check_link_works(trio: &mut Trio, from: Rank, to: Rank) {
    const CHECK_LEN: usize = 1000;
    let message = pattern(CHECK_LEN, from.index() as u8 * 16 + to.index() as u8);
    let receive = trio.post_receive(to, from, CHECK_TAG, CHECK_LEN);
    if let Err(error) = trio.endpoint(from).isend(to, CHECK_TAG, message.clone()) {
        panic!("{from} can no longer send to {to}: {error}");
    }
    let completion = trio
        .completion(to, receive)
        .unwrap_or_else(|| panic!("a message from {from} to {to} did not arrive"));
    match received(completion) {
        Ok(bytes) => assert!(
            bytes == message,
            "a message from {from} to {to} arrived altered"
        ),
        Err(error) => panic!("a message from {from} to {to} failed: {error}"),
    }
}
