//! Fresh key pairs for a local job, so `ternion run` is secure with no set-up.

use crate::private_dir::PrivateDir;
use std::path::PathBuf;
use ternion::keys::{format_key, PrivateKey};

/// Three private key files (mode 0600) in a private directory, removed when
/// this value is dropped, and the matching public keys.
pub struct EphemeralKeys {
    _dir: PrivateDir,
    files: [PathBuf; 3],
    public: [String; 3],
}

impl EphemeralKeys {
    /// Generates a key pair per rank.
    pub fn generate() -> Result<EphemeralKeys, String> {
        let dir = PrivateDir::create("keys")?;
        let mut files: [PathBuf; 3] = Default::default();
        let mut public: [String; 3] = Default::default();
        for rank in 0..3 {
            let key = PrivateKey::generate().map_err(|e| e.to_string())?;
            files[rank] = dir.join(&format!("rank{rank}.key"));
            key.write_new(&files[rank]).map_err(|e| e.to_string())?;
            public[rank] = format_key(&key.public());
        }
        Ok(EphemeralKeys {
            _dir: dir,
            files,
            public,
        })
    }

    /// The private key file of `rank`.
    pub fn file(&self, rank: usize) -> &PathBuf {
        &self.files[rank]
    }

    /// All public keys, rank 0 first.
    pub fn public_keys(&self) -> Vec<String> {
        self.public.to_vec()
    }
}
