//! The application's environment and the party's configuration.
//!
//! A unikernel has no process environment, so the kernel command line is
//! the environment: its `KEY=VALUE` words (the ones Linux would hand to
//! init) are what `getenv` sees, and the party reads the same `TERNION_*`
//! variables `ternion run` sets for hosted parties. The private key is
//! given inline (`TERNION_PRIVATE_KEY`, 64 hex digits), but not on the
//! command line, which the kernel prints: the glue reads it from the
//! initramfs file `/ternion-secrets` and puts those words first.

use crate::glue;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_char;
use core::time::Duration;
use ternion_core::config::{parse_switch, peer_timeout_from_ms, DEFAULT_RESUME_BUFFER};
use ternion_core::secure::{Aead, KEY_LEN};
use ternion_core::{Rank, PARTIES};

/// The environment words, each NUL-terminated, copied once and kept for
/// the kernel's lifetime so `getenv` can hand out pointers into them.
static WORDS: spin::Once<&'static [u8]> = spin::Once::new();

fn words() -> &'static [u8] {
    WORDS.call_once(|| {
        let mut copy: Vec<u8> = glue::environment()
            .iter()
            .map(|&b| {
                if b == b' ' || b == b'\t' || b == b'\n' {
                    0
                } else {
                    b
                }
            })
            .collect();
        copy.push(0);
        Box::leak(copy.into_boxed_slice())
    })
}

/// Where `name`'s value starts in [`words`], if set.
fn find(name: &[u8]) -> Option<usize> {
    let all = words();
    let mut start = 0;
    for word in all.split(|&b| b == 0) {
        if word == b"--" {
            // The program's own arguments follow; they are not environment.
            return None;
        }
        if word.len() > name.len() && word.starts_with(name) && word[name.len()] == b'=' {
            return Some(start + name.len() + 1);
        }
        start += word.len() + 1;
    }
    None
}

/// The value of `name`, as text.
pub fn var(name: &str) -> Option<&'static str> {
    let start = find(name.as_bytes())?;
    let rest = &words()[start..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    core::str::from_utf8(&rest[..end]).ok()
}

/// The value of `name` as a NUL-terminated C string, for `getenv`.
pub fn c_var(name: &[u8]) -> *const c_char {
    match find(name) {
        Some(start) => words()[start..].as_ptr().cast(),
        None => core::ptr::null(),
    }
}

/// How the party's links are protected (the type every platform shares).
pub type Security = ternion_capi::lifecycle::Security<[u8; KEY_LEN]>;

/// One party's settings.
pub struct PartyConfig {
    /// This party's rank.
    pub rank: Rank,
    /// Every party's `a.b.c.d:port`, rank 0 first.
    pub peers: [String; PARTIES],
    /// The job's identifier.
    pub session: [u8; 16],
    /// How long the links may take to come up.
    pub connect_timeout: Option<Duration>,
    /// How long a peer may stay silent before it is presumed dead (`None`: forever).
    pub peer_timeout: Option<Duration>,
    /// Bytes of unacknowledged frames each link keeps to resume (0: off).
    pub resume_buffer: usize,
    /// Keys or plaintext.
    pub security: Security,
}

impl PartyConfig {
    /// Reads the `TERNION_*` variables; `rank`, `peers` and `session`
    /// override them when given (the C API's explicit connect).
    pub fn from_environment(
        rank: Option<u8>,
        peers: Option<[&str; PARTIES]>,
        session: Option<&str>,
    ) -> Result<PartyConfig, String> {
        let rank = match rank {
            Some(r) => r,
            None => var("TERNION_RANK")
                .ok_or("TERNION_RANK is not set")?
                .parse()
                .map_err(|_| "TERNION_RANK is not a number")?,
        };
        let rank = Rank::new(rank).ok_or_else(|| format!("rank {rank} is not 0, 1 or 2"))?;
        let peers: [String; PARTIES] = match peers {
            Some(p) => p.map(String::from),
            None => three(
                var("TERNION_PEERS").ok_or("TERNION_PEERS is not set")?,
                "TERNION_PEERS",
            )?,
        };
        let session = match session.or_else(|| var("TERNION_SESSION")) {
            Some(hex) => ternion_core::hex::decode(hex)
                .ok_or_else(|| format!("session {hex:?} is not 32 hex digits"))?,
            None => ternion_core::config::session_from_peers(peers.each_ref().map(String::as_str)),
        };
        let connect_timeout = match var("TERNION_CONNECT_TIMEOUT_MS") {
            Some(ms) => Some(Duration::from_millis(
                ms.parse()
                    .map_err(|_| "TERNION_CONNECT_TIMEOUT_MS is not a number")?,
            )),
            None => None,
        };
        let peer_timeout_ms = var("TERNION_PEER_TIMEOUT_MS")
            .map(|ms| {
                ms.parse()
                    .map_err(|_| "TERNION_PEER_TIMEOUT_MS is not a number")
            })
            .transpose()?;
        let peer_timeout = peer_timeout_from_ms(peer_timeout_ms);
        let resume_buffer = match var("TERNION_RESUME_BUFFER_BYTES") {
            Some(bytes) => bytes
                .parse()
                .map_err(|_| "TERNION_RESUME_BUFFER_BYTES is not a number")?,
            None => DEFAULT_RESUME_BUFFER,
        };
        Ok(PartyConfig {
            rank,
            peers,
            session,
            connect_timeout,
            peer_timeout,
            resume_buffer,
            security: security(rank)?,
        })
    }
}

fn three(list: &str, what: &str) -> Result<[String; PARTIES], String> {
    let items: Vec<&str> = list.split(',').collect();
    match items.as_slice() {
        [a, b, c] => Ok([String::from(*a), String::from(*b), String::from(*c)]),
        _ => Err(format!("{what} must list exactly three entries")),
    }
}

fn security(rank: Rank) -> Result<Security, String> {
    let plaintext = match var("TERNION_INSECURE_PLAINTEXT") {
        None => false,
        Some(value) => parse_switch(value)
            .ok_or_else(|| format!("TERNION_INSECURE_PLAINTEXT={value} is not on or off"))?,
    };
    let private = var("TERNION_PRIVATE_KEY");
    if plaintext {
        if private.is_some() {
            return Err(String::from(
                "both keys and insecure plaintext are configured; choose one",
            ));
        }
        return Ok(Security::Plaintext);
    }
    let private = private.ok_or(
        "no TERNION_PRIVATE_KEY: give keys, or TERNION_INSECURE_PLAINTEXT=1 for plaintext links",
    )?;
    let private_key: [u8; KEY_LEN] =
        ternion_core::hex::decode(private).ok_or("TERNION_PRIVATE_KEY is not 64 hex digits")?;
    let listed = three(
        var("TERNION_PUBLIC_KEYS").ok_or("TERNION_PUBLIC_KEYS is not set")?,
        "TERNION_PUBLIC_KEYS",
    )?;
    let mut public_keys = [[0u8; KEY_LEN]; PARTIES];
    for (key, hex) in public_keys.iter_mut().zip(&listed) {
        *key = ternion_core::hex::decode(hex)
            .ok_or_else(|| format!("public key {hex:?} is not 64 hex digits"))?;
    }
    if ternion_core::secure::public_key(&private_key) != public_keys[rank.index()] {
        return Err(format!(
            "TERNION_PRIVATE_KEY does not match the public key listed for {rank}"
        ));
    }
    let aead = match var("TERNION_AEAD") {
        None => Aead::AesGcm,
        Some(name) => Aead::from_name(name)
            .ok_or_else(|| format!("aead {name:?} is not aes-gcm or chacha20-poly1305"))?,
    };
    Ok(Security::Keys {
        private_key,
        public_keys,
        aead,
    })
}
