//! Static key pairs for the secure channel: files, hex text and checks.
//!
//! A private key file holds 64 hex digits and must be readable by its owner
//! only (mode 0600): a key that others can read is refused, not used.
//! Public keys travel as 64 hex digits in configurations.

use crate::error::{Error, Result};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use ternion_core::secure::{public_key, KEY_LEN};
use zeroize::Zeroize;

/// A static private key, wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey([u8; KEY_LEN]);

impl PrivateKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<PrivateKey> {
        let mut key = [0u8; KEY_LEN];
        getrandom::getrandom(&mut key).map_err(|e| Error::Config(format!("no randomness: {e}")))?;
        Ok(PrivateKey(key))
    }

    /// The key bytes.
    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The matching public key.
    pub fn public(&self) -> [u8; KEY_LEN] {
        public_key(&self.0)
    }

    /// Reads a key file, refusing one that group or others may read.
    pub fn read(path: &Path) -> Result<PrivateKey> {
        let shown = path.display();
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::Config(format!("private key {shown}: {e}")))?;
        if meta.mode() & 0o077 != 0 {
            return Err(Error::Config(format!(
                "private key {shown} is readable by others (mode {:o}); run chmod 600 on it",
                meta.mode() & 0o777
            )));
        }
        let mut text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("private key {shown}: {e}")))?;
        let key = parse_key(text.trim()).map(PrivateKey);
        text.zeroize();
        key.ok_or_else(|| Error::Config(format!("private key {shown} is not 64 hex digits")))
    }

    /// Writes the key to a new file with mode 0600 (never over an existing one).
    pub fn write_new(&self, path: &Path) -> Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| Error::Config(format!("cannot create {}: {e}", path.display())))?;
        let mut text = format_key(&self.0);
        text.push('\n');
        let written = file.write_all(text.as_bytes());
        text.zeroize();
        written.map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))
    }
}

impl ternion_capi::lifecycle::PrivateKeyBytes for PrivateKey {
    fn key_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Parses 64 hex digits (`None` for anything else).
pub fn parse_key(hex: &str) -> Option<[u8; KEY_LEN]> {
    ternion_core::hex::decode(hex)
}

/// Formats a key as 64 hex digits.
pub fn format_key(key: &[u8; KEY_LEN]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod test {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn key_files_round_trip_and_must_be_private() {
        let dir = std::env::temp_dir().join(format!("ternion-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("party.key");
        let _ = std::fs::remove_file(&path);
        let key = PrivateKey::generate().unwrap();
        key.write_new(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(PrivateKey::read(&path).unwrap(), key);
        assert!(
            key.write_new(&path).is_err(),
            "an existing key is never overwritten"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = PrivateKey::read(&path).unwrap_err().to_string();
        assert!(err.contains("readable by others"), "{err}");
        assert_eq!(parse_key(&format_key(&key.public())), Some(key.public()));
        assert!(parse_key("zz").is_none());
        assert!(!format!("{key:?}").contains(&format_key(key.bytes())[..8]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
