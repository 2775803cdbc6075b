//! Telling `ternion run` which peer's failure made this party fail.
//!
//! When one party dies, the other two fail soon after, and under load a
//! survivor's exit can reach the launcher before the exit of the party that
//! really died. Exit order therefore cannot say where a failure started. So
//! each party writes the first link failure it sees to the file that
//! [`REPORT_FILE_ENV`] names, and the launcher follows these reports, from
//! survivor to the peer that failed it, back to the origin.
//!
//! The report is two lines: the failed peer's rank, then the reason, for
//! people reading it. It names no keys or traffic.

use std::path::PathBuf;
use ternion_core::{LinkError, Rank};

/// The environment variable `ternion run` sets to the report's path.
pub const REPORT_FILE_ENV: &str = "TERNION_FAILURE_REPORT";

/// A party's account of the peer whose link failure it saw first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureReport {
    /// The peer whose link failed.
    pub peer: Rank,
    /// Why, as the error message says it.
    pub reason: String,
}

impl FailureReport {
    /// Reads a report written by [`FailureReport::emit`]; `None` if the text
    /// is not one (a party that died while writing, or a stranger's file).
    pub fn parse(text: &str) -> Option<FailureReport> {
        let mut lines = text.lines();
        let peer = lines.next()?.trim().parse().ok().and_then(Rank::new)?;
        let reason = lines.next().unwrap_or("").trim().to_owned();
        Some(FailureReport { peer, reason })
    }

    /// The report's text.
    pub fn emit(&self) -> String {
        format!("{}\n{}\n", self.peer.index(), self.reason)
    }
}

/// Writes this process's first link failure, once, where the launcher asked.
#[derive(Debug)]
pub struct FailureReporter {
    /// Where to write; `None` when not started by `ternion run`, or once written.
    path: Option<PathBuf>,
}

impl FailureReporter {
    /// A reporter writing where [`REPORT_FILE_ENV`] says, if it is set.
    pub fn from_env() -> FailureReporter {
        FailureReporter {
            path: std::env::var_os(REPORT_FILE_ENV)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        }
    }

    /// Records that the link to `peer` failed, if nothing was recorded yet.
    pub fn link_failed(&mut self, peer: Rank, reason: &LinkError) {
        if let Some(path) = self.path.take() {
            let report = FailureReport {
                peer,
                reason: reason.to_string(),
            };
            // Only the launcher's diagnosis depends on this file; the party's
            // own error reaches its caller whether or not it can be written.
            if let Err(e) = std::fs::write(&path, report.emit()) {
                log::warn!("writing the failure report {}: {e}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use ternion_core::TransportError;

    #[test]
    fn a_report_reads_back_as_written() {
        let report = FailureReport {
            peer: Rank::new(2).unwrap(),
            reason: "peer closed the connection unexpectedly".into(),
        };
        assert_eq!(FailureReport::parse(&report.emit()), Some(report));
    }

    #[test]
    fn text_that_is_not_a_report_is_refused() {
        for text in ["", "\n", "3\nno such rank\n", "one\nreason\n", "-1\n"] {
            assert_eq!(FailureReport::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn only_the_first_failure_is_written() {
        let path = std::env::temp_dir().join(format!("ternion-report-{}", std::process::id()));
        let mut reporter = FailureReporter {
            path: Some(path.clone()),
        };
        reporter.link_failed(
            Rank::new(1).unwrap(),
            &LinkError::Transport(TransportError::PeerVanished),
        );
        reporter.link_failed(
            Rank::new(2).unwrap(),
            &LinkError::Transport(TransportError::PeerVanished),
        );
        let report = FailureReport::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(report.peer, Rank::new(1).unwrap());
        assert_eq!(
            report.reason,
            LinkError::Transport(TransportError::PeerVanished).to_string()
        );
    }
}
