//! Where a party finds its rank, its peers and its session: a TOML file,
//! environment variables and command-line flags, in rising precedence.
//!
//! ```toml
//! rank = 0
//! peers = ["10.0.0.1:7100", "10.0.0.2:7100", "10.0.0.3:7100"]  # rank 0 first
//! session = "00112233445566778899aabbccddeeff"                   # optional
//! connect_timeout_ms = 30000                                     # optional
//! peer_timeout_ms = 5000      # optional: a silent peer is presumed dead (0: never)
//! resume_buffer_bytes = 16777216  # optional: unacknowledged bytes kept per link to resume (0: off)
//! tcp_congestion = "bbr"      # optional: each connection's congestion control ("system": the host's)
//! tcp_notsent_lowat_bytes = 131072  # optional: TCP_NOTSENT_LOWAT on every connection (0: the host's
//!                             # default; unset: 128 KiB on paths of 1 ms or more)
//! ```
//!
//! Links are encrypted and mutually authenticated unless plaintext is asked
//! for explicitly:
//!
//! ```toml
//! private_key_file = "/etc/ternion/party0.key"  # from `ternion keygen`, mode 0600
//! public_keys = ["<rank 0 hex>", "<rank 1 hex>", "<rank 2 hex>"]
//! aead = "aes-gcm"                              # or "chacha20-poly1305"; all parties alike
//! # insecure_plaintext = true                   # only to measure the cost of encryption
//! ```
//!
//! The environment variables are those `ternion run` sets: `TERNION_RANK`,
//! `TERNION_PEERS` (comma-separated, rank 0 first), `TERNION_SESSION`,
//! `TERNION_CONNECT_TIMEOUT_MS`, `TERNION_PEER_TIMEOUT_MS`, `TERNION_RESUME_BUFFER_BYTES`,
//! `TERNION_TCP_CONGESTION`, `TERNION_TCP_NOTSENT_LOWAT_BYTES`,
//! `TERNION_PRIVATE_KEY_FILE`,
//! `TERNION_PUBLIC_KEYS` (comma-separated), `TERNION_AEAD`,
//! `TERNION_INSECURE_PLAINTEXT`, and `TERNION_CONFIG` naming a TOML file.

use crate::error::{Error, Result};
use crate::keys::{parse_key, PrivateKey};
use crate::net::{TcpTuning, UnsentLimit};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use ternion_core::config::{
    parse_switch, peer_timeout_from_ms, DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESUME_BUFFER,
};
use ternion_core::secure::{Aead, KEY_LEN};
use ternion_core::{Rank, PARTIES};

/// The environment variable naming a configuration file.
pub const CONFIG_FILE: &str = "TERNION_CONFIG";
const RANK: &str = "TERNION_RANK";
const PEERS: &str = "TERNION_PEERS";
const SESSION: &str = "TERNION_SESSION";
const CONNECT_TIMEOUT_MS: &str = "TERNION_CONNECT_TIMEOUT_MS";
const PEER_TIMEOUT_MS: &str = "TERNION_PEER_TIMEOUT_MS";
const RESUME_BUFFER_BYTES: &str = "TERNION_RESUME_BUFFER_BYTES";
const TCP_CONGESTION: &str = "TERNION_TCP_CONGESTION";
const TCP_NOTSENT_LOWAT_BYTES: &str = "TERNION_TCP_NOTSENT_LOWAT_BYTES";
const PRIVATE_KEY_FILE: &str = "TERNION_PRIVATE_KEY_FILE";
const PUBLIC_KEYS: &str = "TERNION_PUBLIC_KEYS";
const AEAD: &str = "TERNION_AEAD";
const INSECURE_PLAINTEXT: &str = "TERNION_INSECURE_PLAINTEXT";

/// Everything a party needs to join a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// This party's rank.
    pub rank: Rank,
    /// `host:port` where each rank listens, rank 0 first.
    pub peers: [String; PARTIES],
    /// The job's session identifier; all three parties must use the same.
    pub session: [u8; 16],
    /// How long the three links may take to come up.
    pub connect_timeout: Duration,
    /// How long a peer may send nothing before it is presumed dead (`None`: forever).
    pub peer_timeout: Option<Duration>,
    /// Bytes of unacknowledged frames each link keeps to resume a broken
    /// connection (0: links cannot resume; all parties must agree).
    pub resume_buffer: usize,
    /// What every TCP connection is asked for.
    pub tcp: TcpTuning,
    /// Keys for the secure channel, or plaintext on explicit request.
    pub security: Security,
}

/// How the links are protected: keys (the default), or plaintext on
/// explicit request. The one definition every platform shares.
pub type Security = ternion_capi::lifecycle::Security<PrivateKey>;

/// One source of settings, any of which may be missing.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    /// This party's rank (0, 1 or 2). [env: TERNION_RANK]
    #[arg(long)]
    pub rank: Option<u8>,
    /// Where each rank listens, `host:port`, rank 0 first. [env: TERNION_PEERS]
    #[arg(long, value_delimiter = ',')]
    pub peers: Option<Vec<String>>,
    /// Session identifier, 32 hex digits. [env: TERNION_SESSION]
    #[arg(long)]
    pub session: Option<String>,
    /// Connect deadline in milliseconds. [env: TERNION_CONNECT_TIMEOUT_MS]
    #[arg(long)]
    pub connect_timeout_ms: Option<u64>,
    /// Milliseconds a peer may stay silent before it is presumed dead (default 5000; 0: never). [env: TERNION_PEER_TIMEOUT_MS]
    #[arg(long)]
    pub peer_timeout_ms: Option<u64>,
    /// Bytes of unacknowledged frames each link keeps to resume a broken connection (default 16 MiB; 0: off). [env: TERNION_RESUME_BUFFER_BYTES]
    #[arg(long)]
    pub resume_buffer_bytes: Option<u64>,
    /// Each connection's TCP congestion control (default bbr where the kernel offers it; "system": the host's default). [env: TERNION_TCP_CONGESTION]
    #[arg(long)]
    pub tcp_congestion: Option<String>,
    /// TCP_NOTSENT_LOWAT on every connection, in bytes (0: the host's default; unset: 128 KiB on paths with a round trip of 1 ms or more). [env: TERNION_TCP_NOTSENT_LOWAT_BYTES]
    #[arg(long)]
    pub tcp_notsent_lowat_bytes: Option<u64>,
    /// This party's private key file (from `ternion keygen`, mode 0600). [env: TERNION_PRIVATE_KEY_FILE]
    #[arg(long)]
    pub private_key_file: Option<PathBuf>,
    /// Every party's public key, 64 hex digits each, rank 0 first. [env: TERNION_PUBLIC_KEYS]
    #[arg(long, value_delimiter = ',')]
    pub public_keys: Option<Vec<String>>,
    /// Record algorithm: aes-gcm (default) or chacha20-poly1305. [env: TERNION_AEAD]
    #[arg(long)]
    pub aead: Option<String>,
    /// Run unencrypted, unauthenticated links (to measure the cost of encryption). [env: TERNION_INSECURE_PLAINTEXT]
    #[arg(long, num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub insecure_plaintext: Option<bool>,
}

/// A party's command-line flags, over its `TERNION_*` variables, over its
/// configuration file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// A TOML configuration file (default: `TERNION_CONFIG`'s; the
    /// `TERNION_*` variables override it, and flags override both).
    #[arg(long = "config")]
    pub file: Option<PathBuf>,
    /// Individual settings.
    #[command(flatten)]
    pub layer: ConfigLayer,
}

impl ConfigLayer {
    /// Reads a layer from TOML text.
    pub fn from_toml(text: &str) -> Result<ConfigLayer> {
        toml::from_str(text).map_err(|e| Error::Config(e.to_string()))
    }

    /// Reads a layer from a TOML file.
    pub fn from_file(path: &Path) -> Result<ConfigLayer> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Self::from_toml(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Reads a layer from the `TERNION_*` environment variables.
    pub fn from_env() -> Result<ConfigLayer> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads a layer from `TERNION_*` variables, as `lookup` finds them
    /// (an empty value counts as unset).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<ConfigLayer> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let number = |name: &str| -> Result<Option<u64>> {
            var(name)
                .map(|v| {
                    v.parse()
                        .map_err(|_| Error::Config(format!("{name}={v} is not a number")))
                })
                .transpose()
        };
        let list = |name: &str| var(name).map(|v| v.split(',').map(str::to_owned).collect());
        Ok(ConfigLayer {
            rank: number(RANK)?.map(|r| r.min(255) as u8),
            peers: list(PEERS),
            session: var(SESSION),
            connect_timeout_ms: number(CONNECT_TIMEOUT_MS)?,
            peer_timeout_ms: number(PEER_TIMEOUT_MS)?,
            resume_buffer_bytes: number(RESUME_BUFFER_BYTES)?,
            tcp_congestion: var(TCP_CONGESTION),
            tcp_notsent_lowat_bytes: number(TCP_NOTSENT_LOWAT_BYTES)?,
            private_key_file: var(PRIVATE_KEY_FILE).map(PathBuf::from),
            public_keys: list(PUBLIC_KEYS),
            aead: var(AEAD),
            insecure_plaintext: var(INSECURE_PLAINTEXT)
                .map(|v| {
                    parse_switch(&v).ok_or_else(|| {
                        Error::Config(format!("{INSECURE_PLAINTEXT}={v} is not on or off"))
                    })
                })
                .transpose()?,
        })
    }

    /// The `TERNION_*` variables that [`ConfigLayer::from_env`] reads back
    /// as this layer: how `ternion run` hands its flags to the parties.
    pub fn to_vars(&self) -> Vec<(&'static str, String)> {
        let number = |name, v: Option<u64>| v.map(|v| (name, v.to_string()));
        let list = |name, v: &Option<Vec<String>>| v.as_ref().map(|v| (name, v.join(",")));
        [
            number(RANK, self.rank.map(u64::from)),
            list(PEERS, &self.peers),
            self.session.clone().map(|v| (SESSION, v)),
            number(CONNECT_TIMEOUT_MS, self.connect_timeout_ms),
            number(PEER_TIMEOUT_MS, self.peer_timeout_ms),
            number(RESUME_BUFFER_BYTES, self.resume_buffer_bytes),
            self.tcp_congestion.clone().map(|v| (TCP_CONGESTION, v)),
            number(TCP_NOTSENT_LOWAT_BYTES, self.tcp_notsent_lowat_bytes),
            self.private_key_file
                .as_ref()
                .map(|p| (PRIVATE_KEY_FILE, p.to_string_lossy().into_owned())),
            list(PUBLIC_KEYS, &self.public_keys),
            self.aead.clone().map(|v| (AEAD, v)),
            self.insecure_plaintext
                .map(|on| (INSECURE_PLAINTEXT, String::from(if on { "1" } else { "0" }))),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// This layer with every setting `over` has replaced by `over`'s.
    pub fn overridden_by(self, over: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            rank: over.rank.or(self.rank),
            peers: over.peers.or(self.peers),
            session: over.session.or(self.session),
            connect_timeout_ms: over.connect_timeout_ms.or(self.connect_timeout_ms),
            peer_timeout_ms: over.peer_timeout_ms.or(self.peer_timeout_ms),
            resume_buffer_bytes: over.resume_buffer_bytes.or(self.resume_buffer_bytes),
            tcp_congestion: over.tcp_congestion.or(self.tcp_congestion),
            tcp_notsent_lowat_bytes: over
                .tcp_notsent_lowat_bytes
                .or(self.tcp_notsent_lowat_bytes),
            private_key_file: over.private_key_file.or(self.private_key_file),
            public_keys: over.public_keys.or(self.public_keys),
            aead: over.aead.or(self.aead),
            insecure_plaintext: over.insecure_plaintext.or(self.insecure_plaintext),
        }
    }

    /// Checks the layer is complete and valid.
    pub fn finish(self) -> Result<Config> {
        let rank = self
            .rank
            .ok_or_else(|| Error::Config("no rank given (TERNION_RANK or --rank)".into()))?;
        let rank = Rank::new(rank)
            .ok_or_else(|| Error::Config(format!("rank {rank} is not 0, 1 or 2")))?;
        let peers = self
            .peers
            .ok_or_else(|| Error::Config("no peers given (TERNION_PEERS or --peers)".into()))?;
        let peers: [String; PARTIES] = peers.try_into().map_err(|p: Vec<String>| {
            Error::Config(format!(
                "expected {PARTIES} peer addresses, got {}",
                p.len()
            ))
        })?;
        let session = match self.session {
            Some(hex) => parse_session(&hex)?,
            None => session_from_peers(&peers),
        };
        let security = if self.insecure_plaintext == Some(true) {
            Security::Plaintext
        } else {
            security_from(rank, self.private_key_file, self.public_keys, self.aead)?
        };
        Ok(Config {
            rank,
            peers,
            session,
            connect_timeout: self
                .connect_timeout_ms
                .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_millis),
            peer_timeout: peer_timeout_from_ms(self.peer_timeout_ms),
            resume_buffer: self.resume_buffer_bytes.map_or(DEFAULT_RESUME_BUFFER, |b| {
                usize::try_from(b).unwrap_or(usize::MAX)
            }),
            tcp: tcp_tuning(self.tcp_congestion, self.tcp_notsent_lowat_bytes)?,
            security,
        })
    }
}

/// The TCP options from their settings: a congestion control's name as
/// the kernel knows it (letters, digits, `_` and `-`, at most 15), or
/// "system" for the host's default; TCP_NOTSENT_LOWAT in bytes, 0 for the
/// host's default, unset for the link's rule by the path's round trip.
fn tcp_tuning(congestion: Option<String>, notsent_lowat: Option<u64>) -> Result<TcpTuning> {
    let congestion = match congestion.as_deref() {
        None => Some(TcpTuning::DEFAULT_CONGESTION.to_string()),
        Some("system") => None,
        Some(name)
            if !name.is_empty()
                && name.len() < 16
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
        {
            Some(name.to_string())
        }
        Some(name) => {
            return Err(Error::Config(format!(
                "tcp_congestion {name:?} is not a congestion control's name (or \"system\")"
            )))
        }
    };
    let unsent = match notsent_lowat {
        None => UnsentLimit::ByPath,
        Some(0) => UnsentLimit::Host,
        Some(bytes) => UnsentLimit::Fixed(u32::try_from(bytes).map_err(|_| {
            Error::Config(format!("tcp_notsent_lowat_bytes {bytes} is 4 GiB or more"))
        })?),
    };
    Ok(TcpTuning { congestion, unsent })
}

impl ConfigArgs {
    /// The file's settings, overridden by the environment's, overridden by the flags'.
    pub fn merged(&self) -> Result<ConfigLayer> {
        let file = self.file.clone().or_else(|| {
            std::env::var_os(CONFIG_FILE)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        });
        let base = match file {
            Some(path) => ConfigLayer::from_file(&path)?,
            None => ConfigLayer::default(),
        };
        Ok(base
            .overridden_by(ConfigLayer::from_env()?)
            .overridden_by(self.layer.clone()))
    }

    /// The complete, checked configuration.
    pub fn resolve(&self) -> Result<Config> {
        self.merged()?.finish()
    }
}

impl Config {
    /// The configuration `ternion run` hands a program: `TERNION_CONFIG`'s
    /// file if set, overridden by the other `TERNION_*` variables.
    pub fn from_env() -> Result<Config> {
        ConfigArgs::default().resolve()
    }
}

/// Loads and checks the keys: the file must be private, three public keys
/// must be listed, and ours must match our private key.
fn security_from(
    rank: Rank,
    private_key_file: Option<PathBuf>,
    public_keys: Option<Vec<String>>,
    aead: Option<String>,
) -> Result<Security> {
    let file = private_key_file.ok_or_else(|| {
        Error::Config(
            "no private key (TERNION_PRIVATE_KEY_FILE or --private-key-file; make one with \
             `ternion keygen`), or --insecure-plaintext to run unencrypted"
                .into(),
        )
    })?;
    let private_key = PrivateKey::read(&file)?;
    let listed = public_keys.ok_or_else(|| {
        Error::Config("no public keys (TERNION_PUBLIC_KEYS or --public-keys)".into())
    })?;
    let keys: Vec<[u8; KEY_LEN]> = listed
        .iter()
        .enumerate()
        .map(|(r, hex)| {
            parse_key(hex.trim()).ok_or_else(|| {
                Error::Config(format!("public key of rank {r} is not 64 hex digits"))
            })
        })
        .collect::<Result<_>>()?;
    let public_keys: [[u8; KEY_LEN]; PARTIES] = keys.try_into().map_err(|k: Vec<_>| {
        Error::Config(format!("expected {PARTIES} public keys, got {}", k.len()))
    })?;
    if public_keys[rank.index()] != private_key.public() {
        return Err(Error::Config(format!(
            "the private key in {} does not match the public key listed for {rank}",
            file.display()
        )));
    }
    let aead = match aead.as_deref() {
        None => Aead::AesGcm,
        Some(name) => Aead::from_name(name).ok_or_else(|| {
            Error::Config(format!("aead {name:?} is not aes-gcm or chacha20-poly1305"))
        })?,
    };
    Ok(Security::Keys {
        private_key,
        public_keys,
        aead,
    })
}

/// Parses 32 hex digits.
pub fn parse_session(hex: &str) -> Result<[u8; 16]> {
    ternion_core::hex::decode(hex)
        .ok_or_else(|| Error::Config(format!("session {hex:?} is not 32 hex digits")))
}

/// Formats a session identifier as 32 hex digits.
pub fn format_session(session: &[u8; 16]) -> String {
    session.iter().map(|b| format!("{b:02x}")).collect()
}

fn session_from_peers(peers: &[String; PARTIES]) -> [u8; 16] {
    ternion_core::config::session_from_peers(peers.each_ref().map(String::as_str))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn layers_override_in_order() {
        let file = ConfigLayer::from_toml(
            r#"rank = 1
               peers = ["a:1", "b:2", "c:3"]
               connect_timeout_ms = 5
               insecure_plaintext = true"#,
        )
        .unwrap();
        let flags = ConfigLayer {
            rank: Some(2),
            ..Default::default()
        };
        let cfg = file.overridden_by(flags).finish().unwrap();
        assert_eq!(cfg.rank, Rank::new(2).unwrap());
        assert_eq!(cfg.peers[1], "b:2");
        assert_eq!(cfg.connect_timeout, Duration::from_millis(5));
    }

    #[test]
    fn links_are_secure_unless_plaintext_is_asked_for() {
        let base = "rank = 0\npeers = [\"a:1\",\"b:1\",\"c:1\"]\n";
        let err = ConfigLayer::from_toml(base)
            .and_then(ConfigLayer::finish)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no private key") && err.contains("ternion keygen"),
            "{err}"
        );

        let dir = std::env::temp_dir().join(format!("ternion-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rank0.key");
        let _ = std::fs::remove_file(&file);
        let keys = [0, 1, 2].map(|_| PrivateKey::generate().unwrap());
        keys[0].write_new(&file).unwrap();
        let publics: Vec<String> = keys
            .iter()
            .map(|k| format!("\"{}\"", crate::keys::format_key(&k.public())))
            .collect();
        let toml = format!(
            "{base}private_key_file = {:?}\npublic_keys = [{}]\n",
            file,
            publics.join(",")
        );
        let cfg = ConfigLayer::from_toml(&toml)
            .and_then(ConfigLayer::finish)
            .unwrap();
        assert!(matches!(
            cfg.security,
            Security::Keys {
                aead: Aead::AesGcm,
                ..
            }
        ));
        // Our listed public key must be the one our private key makes.
        let swapped = toml.replace(&publics[0], &publics[1]);
        let err = ConfigLayer::from_toml(&swapped)
            .and_then(ConfigLayer::finish)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("does not match the public key listed for rank 0"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_configurations_say_what_is_wrong() {
        let err = |toml: &str| {
            ConfigLayer::from_toml(toml)
                .and_then(ConfigLayer::finish)
                .unwrap_err()
                .to_string()
        };
        assert!(err("peers = [\"a:1\",\"b:1\",\"c:1\"]").contains("no rank"));
        assert!(err("rank = 3\npeers = [\"a:1\",\"b:1\",\"c:1\"]").contains("not 0, 1 or 2"));
        assert!(err("rank = 0\npeers = [\"a:1\"]").contains("expected 3 peer addresses"));
        assert!(
            err("rank = 0\npeers = [\"a:1\",\"b:1\",\"c:1\"]\nsession = \"xyz\"")
                .contains("32 hex")
        );
        assert!(err("rank = 0\nbogus = 1").contains("bogus"));
        let plain = "rank = 0\npeers = [\"a:1\",\"b:1\",\"c:1\"]\ninsecure_plaintext = true\n";
        assert!(err(&format!("{plain}tcp_congestion = \"bb r\"")).contains("congestion control"));
        assert!(err(&format!("{plain}tcp_notsent_lowat_bytes = 5000000000")).contains("4 GiB"));
    }

    #[test]
    fn tcp_asks_for_bbr_and_limits_unsent_bytes_by_path_unless_told_otherwise() {
        let plain = "rank = 0\npeers = [\"a:1\",\"b:1\",\"c:1\"]\ninsecure_plaintext = true\n";
        let tcp = |extra: &str| {
            ConfigLayer::from_toml(&format!("{plain}{extra}"))
                .and_then(ConfigLayer::finish)
                .unwrap()
                .tcp
        };
        assert_eq!(tcp(""), TcpTuning::default());
        assert_eq!(tcp("").congestion.as_deref(), Some("bbr"));
        assert_eq!(tcp("tcp_congestion = \"system\"").congestion, None);
        assert_eq!(
            tcp("tcp_congestion = \"cubic\"").congestion.as_deref(),
            Some("cubic")
        );
        assert_eq!(tcp("").unsent, UnsentLimit::ByPath);
        assert_eq!(tcp("tcp_notsent_lowat_bytes = 0").unsent, UnsentLimit::Host);
        assert_eq!(
            tcp("tcp_notsent_lowat_bytes = 65536").unsent,
            UnsentLimit::Fixed(65536)
        );
    }

    #[test]
    fn a_layer_passes_through_its_variables_unchanged() {
        let layer = ConfigLayer {
            rank: Some(1),
            peers: Some(vec!["a:1".into(), "b:2".into(), "c:3".into()]),
            session: Some("00112233445566778899aabbccddeeff".into()),
            connect_timeout_ms: Some(1),
            peer_timeout_ms: Some(0),
            resume_buffer_bytes: Some(4096),
            tcp_congestion: Some("cubic".into()),
            tcp_notsent_lowat_bytes: Some(131072),
            private_key_file: Some(PathBuf::from("/keys/rank1.key")),
            public_keys: Some(vec!["k0".into(), "k1".into(), "k2".into()]),
            aead: Some("chacha20-poly1305".into()),
            insecure_plaintext: Some(false),
        };
        let vars: std::collections::HashMap<_, _> = layer.to_vars().into_iter().collect();
        assert_eq!(vars.len(), 12);
        let back = ConfigLayer::from_vars(|name| vars.get(name).cloned()).unwrap();
        assert_eq!(back, layer);
        assert!(ConfigLayer::default().to_vars().is_empty());
    }

    #[test]
    fn sessions_round_trip_and_default_alike() {
        let s = [0xab; 16];
        assert_eq!(parse_session(&format_session(&s)).unwrap(), s);
        let peers = ["a:1".to_string(), "b:1".to_string(), "c:1".to_string()];
        assert_eq!(
            session_from_peers(&peers),
            session_from_peers(&peers.clone())
        );
        let other = ["a:1".to_string(), "b:1".to_string(), "c:2".to_string()];
        assert_ne!(session_from_peers(&peers), session_from_peers(&other));
    }
}
