//! A party's life, written once for every platform: how its settings become
//! the core's configuration, waiting for the links, closing, aborting, and
//! the constants the platforms' drivers share.
//!
//! A platform supplies the [`Drive`] trait (run a closure on the endpoint,
//! or drive the endpoint until a condition holds, sleeping on its sockets
//! in between); the functions here do the rest.

use crate::buffer::{RecvBuf, SendBuf};
use ternion_core::secure::{Aead, CipherProvider, SecureConfig, KEY_LEN};
use ternion_core::socket::Socket;
use ternion_core::{Duration, Endpoint, EndpointConfig, Error, Instant, Rank, PARTIES};

/// How long a waiting thread polls and yields before it sleeps: an idle
/// virtual CPU halts, and waking it costs more than a loopback round trip.
pub const SPIN: Duration = Duration::from_micros(50);
/// How often the communication thread makes a pass while nothing needs it,
/// so deadlines fire and stray connections are answered during long
/// computations.
pub const IDLE_TICK: Duration = Duration::from_millis(100);
/// How long an aborting party waits for its abort frames to leave.
pub const ABORT_FLUSH: Duration = Duration::from_secs(2);
/// How long an orderly close may take.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Non-blocking operations at least this large get the communication
/// thread's help while the application computes.
pub const BACKGROUND_MIN_BYTES: usize = 64 * 1024;

/// The endpoint every platform's party runs: lent caller memory both ways.
pub type PartyEndpoint<S> = Endpoint<S, SendBuf, RecvBuf>;

/// What a platform's driver offers the lifecycle.
pub trait Drive {
    /// The platform's socket.
    type Socket: Socket;
    /// The platform's monotonic clock.
    fn now(&self) -> Instant;
    /// Runs `f` on the endpoint.
    fn with<R>(&self, f: impl FnOnce(&mut PartyEndpoint<Self::Socket>) -> R) -> R;
    /// Drives the endpoint until `done` returns a value, or gives up with
    /// `None` at `deadline`.
    fn drive_until<R>(
        &self,
        deadline: Option<Instant>,
        done: impl FnMut(&mut PartyEndpoint<Self::Socket>) -> Option<R>,
    ) -> Option<R>;
}

/// The bytes of a private key, however a platform keeps them.
pub trait PrivateKeyBytes {
    /// The key.
    fn key_bytes(&self) -> &[u8; KEY_LEN];
}

impl PrivateKeyBytes for [u8; KEY_LEN] {
    fn key_bytes(&self) -> &[u8; KEY_LEN] {
        self
    }
}

/// How a party's links are protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security<K> {
    /// Mutually authenticated, encrypted links (Noise KK with these keys).
    Keys {
        /// This party's static private key.
        private_key: K,
        /// Every party's static public key, rank 0 first.
        public_keys: [[u8; KEY_LEN]; PARTIES],
        /// The record algorithm (all parties must agree).
        aead: Aead,
    },
    /// Unprotected links, only on explicit request.
    Plaintext,
}

/// The settings of a party that the core needs.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a, K> {
    /// This party's rank.
    pub rank: Rank,
    /// The job's identifier.
    pub session: [u8; 16],
    /// How long the links may take to come up (`None`: the core's default).
    pub connect_timeout: Option<Duration>,
    /// How long a peer may stay silent (`None`: forever).
    pub peer_timeout: Option<Duration>,
    /// Bytes of sent frames each link keeps to resume (0: no resume).
    pub resume_buffer: usize,
    /// How the links are protected.
    pub security: &'a Security<K>,
}

/// The warning every party prints when it runs without protection.
pub fn plaintext_warning(rank: Rank) -> alloc::string::String {
    alloc::format!(
        "ternion: WARNING: {rank} runs PLAINTEXT links (insecure_plaintext): traffic is \
         neither encrypted nor authenticated"
    )
}

/// The core's configuration for `settings`. `seed` seeds the handshakes'
/// ephemeral keys; `ciphers` may supply a faster AEAD implementation.
pub fn endpoint_config<K: PrivateKeyBytes>(
    settings: &Settings<'_, K>,
    seed: [u8; 32],
    ciphers: Option<CipherProvider>,
) -> EndpointConfig {
    let mut config = EndpointConfig::new(settings.rank, settings.session);
    if let Some(timeout) = settings.connect_timeout {
        config.connect_timeout = timeout;
    }
    config.peer_timeout = settings.peer_timeout;
    config.resume_buffer = settings.resume_buffer;
    config.secure = match settings.security {
        Security::Keys {
            private_key,
            public_keys,
            aead,
        } => Some(SecureConfig {
            private_key: *private_key.key_bytes(),
            public_keys: *public_keys,
            aead: *aead,
            seed,
            ciphers,
        }),
        Security::Plaintext => None,
    };
    config
}

/// Waits until both links are up; the first link failure if one fails first.
pub fn await_links<D: Drive>(driver: &D) -> Result<(), Error> {
    let outcome = driver.drive_until(None, |ep| {
        if ep.is_established() {
            Some(Ok(()))
        } else {
            ep.failure()
                .map(|(peer, reason)| Err(Error::Link { peer, reason }))
        }
    });
    match outcome {
        Some(result) => result,
        None => {
            Err(driver
                .with(|ep| ep.failure())
                .map_or(Error::EndpointClosed, |(peer, reason)| Error::Link {
                    peer,
                    reason,
                }))
        }
    }
}

/// Closes every link in order, waiting at most [`CLOSE_TIMEOUT`]. On a
/// timeout, the first link failure, if there was one.
pub fn close_links<D: Drive>(driver: &D) -> Result<(), Option<Error>> {
    driver.with(|ep| ep.close());
    let deadline = driver.now() + CLOSE_TIMEOUT;
    match driver.drive_until(Some(deadline), |ep| ep.is_closed().then_some(())) {
        Some(()) => Ok(()),
        None => Err(first_failure(driver)),
    }
}

/// The first failed link, as the error an operation on it returns.
fn first_failure<D: Drive>(driver: &D) -> Option<Error> {
    driver
        .with(|ep| ep.failure())
        .map(|(peer, reason)| Error::Link { peer, reason })
}

/// Sends abort frames carrying `code` on every live link, waiting at most
/// [`ABORT_FLUSH`] for them to leave.
pub fn send_abort<D: Drive>(driver: &D, code: i32) {
    driver.with(|ep| ep.abort(code));
    let deadline = driver.now() + ABORT_FLUSH;
    driver.drive_until(Some(deadline), |ep| ep.abort_sent().then_some(()));
}
