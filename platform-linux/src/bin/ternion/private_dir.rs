//! A directory only this user can enter, removed with everything in it when
//! dropped: where a job's key files and failure reports live.

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

/// A fresh mode-0700 directory under the system's temporary directory.
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Creates `ternion-<purpose>-<random>`.
    pub fn create(purpose: &str) -> Result<PrivateDir, String> {
        let mut tag = [0u8; 8];
        getrandom::getrandom(&mut tag).map_err(|e| e.to_string())?;
        let name: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("ternion-{purpose}-{name}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        Ok(PrivateDir { path })
    }

    /// The path of `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
