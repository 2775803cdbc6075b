//! Where a failed job's failure started.
//!
//! The order in which parties exit does not say it: a survivor can exit
//! before the party that died (see `ternion::failure_report`). So each
//! failed party's report, naming the peer whose link failure it saw first,
//! is followed back until a party that names nobody.

use ternion::failure_report::FailureReport;

/// A party that failed, as the launcher saw it.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    /// Its rank.
    pub rank: usize,
    /// The exit code it gives the job.
    pub code: i32,
    /// How it ended, for people: "exited with code 7", "was killed (...)".
    pub how: String,
    /// The peer it says failed it, if it wrote a report.
    pub report: Option<FailureReport>,
}

/// Where the failure started.
#[derive(Debug, PartialEq, Eq)]
pub enum Origin<'a> {
    /// At this failed party: it names no peer, or the reports go round in a
    /// loop (then the party that failed first is named).
    Here(&'a Failure),
    /// At a party that did not fail here (it runs on another machine, or it
    /// ended successfully here), named by the report of `named_by`.
    Elsewhere {
        /// The rank the reports lead to.
        rank: usize,
        /// The failed party whose report names it.
        named_by: &'a Failure,
    },
}

/// Follows the reports from the first failure; `None` if nothing failed.
pub fn origin(failures: &[Failure]) -> Option<Origin<'_>> {
    let first = failures.first()?;
    let mut current = first;
    let mut visited = vec![current.rank];
    while let Some(report) = &current.report {
        let named = report.peer.index();
        if visited.contains(&named) {
            return Some(Origin::Here(first));
        }
        match failures.iter().find(|f| f.rank == named) {
            Some(next) => {
                visited.push(named);
                current = next;
            }
            None => {
                return Some(Origin::Elsewhere {
                    rank: named,
                    named_by: current,
                })
            }
        }
    }
    Some(Origin::Here(current))
}

#[cfg(test)]
mod test {
    use super::*;
    use ternion::Rank;

    fn failure(rank: usize, code: i32, names: Option<u8>) -> Failure {
        Failure {
            rank,
            code,
            how: format!("exited with code {code}"),
            report: names.map(|peer| FailureReport {
                peer: Rank::new(peer).unwrap(),
                reason: "peer closed the connection unexpectedly".into(),
            }),
        }
    }

    #[test]
    fn a_survivor_that_exits_first_does_not_take_the_blame() {
        // Rank 0 exits before rank 1, which really crashed; rank 2 blames 0.
        let failures = [
            failure(0, 3, Some(1)),
            failure(2, 3, Some(0)),
            failure(1, 7, None),
        ];
        assert_eq!(origin(&failures), Some(Origin::Here(&failures[2])));
        let from_the_second = [
            failure(2, 3, Some(0)),
            failure(0, 3, Some(1)),
            failure(1, 7, None),
        ];
        assert_eq!(
            origin(&from_the_second),
            Some(Origin::Here(&from_the_second[2]))
        );
    }

    #[test]
    fn a_party_that_names_nobody_is_the_origin() {
        let failures = [failure(1, 7, None), failure(0, 3, Some(1))];
        assert_eq!(origin(&failures), Some(Origin::Here(&failures[0])));
    }

    #[test]
    fn a_peer_that_did_not_fail_here_is_named_through_the_report() {
        let failures = [failure(0, 3, Some(2))];
        assert_eq!(
            origin(&failures),
            Some(Origin::Elsewhere {
                rank: 2,
                named_by: &failures[0]
            })
        );
    }

    #[test]
    fn reports_that_name_each_other_fall_back_to_the_first_failure() {
        let failures = [failure(0, 3, Some(1)), failure(1, 3, Some(0))];
        assert_eq!(origin(&failures), Some(Origin::Here(&failures[0])));
    }

    #[test]
    fn nothing_failed_means_no_origin() {
        assert_eq!(origin(&[]), None);
    }
}
