//! What the demo found: per computation, how many results matched the
//! plaintext and what the computation cost.

use super::counting::CommCounts;
use super::demo::Computation;
use alloc::format;
use alloc::vec::Vec;
use core::fmt;
use ternion_core::rank::Rank;

/// How many leading values a report keeps to show.
const SAMPLES: usize = 4;

/// One result element: what the parties computed and what the plaintext says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Position in the input arrays.
    pub index: usize,
    /// The value opened from the shares.
    pub computed: u64,
    /// The value computed on the plaintext inputs.
    pub expected: u64,
}

impl Sample {
    /// Whether the computed value is the expected one.
    pub fn matches(&self) -> bool {
        self.computed == self.expected
    }
}

/// The outcome of one computation at one party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputationReport {
    /// Which computation this is.
    pub computation: Computation,
    /// Number of elements computed.
    pub elements: usize,
    /// Number of elements whose result matched the plaintext.
    pub matched: usize,
    /// The first few results.
    pub first_values: Vec<Sample>,
    /// The first wrong result, if any.
    pub first_mismatch: Option<Sample>,
    /// Communication used to compute and open the result.
    pub cost: CommCounts,
}

impl ComputationReport {
    /// Compares the opened `computed` values with the plaintext `expected`;
    /// an element missing from `computed` counts as a mismatch.
    pub(super) fn compare(
        computation: Computation,
        computed: &[u64],
        expected: &[u64],
        cost: CommCounts,
    ) -> Self {
        let samples =
            computed
                .iter()
                .zip(expected)
                .enumerate()
                .map(|(index, (&computed, &expected))| Sample {
                    index,
                    computed,
                    expected,
                });
        ComputationReport {
            computation,
            elements: expected.len(),
            matched: samples.clone().filter(Sample::matches).count(),
            first_values: samples.clone().take(SAMPLES).collect(),
            first_mismatch: samples.clone().find(|s| !s.matches()),
            cost,
        }
    }

    /// The computation's name.
    pub fn name(&self) -> &'static str {
        self.computation.name()
    }

    /// Whether every element matched.
    pub fn all_correct(&self) -> bool {
        self.matched == self.elements
    }
}

/// Everything one party learned from running the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    /// The party that wrote the report.
    pub rank: Rank,
    /// Elements per input array.
    pub elements: usize,
    /// Communication for set-up and input sharing.
    pub preparation: CommCounts,
    /// One entry per computation, in the order they ran.
    pub computations: Vec<ComputationReport>,
    /// Communication for sending the inputs in the clear for the check.
    pub check: CommCounts,
}

impl DemoReport {
    /// Whether every result of every computation matched the plaintext.
    pub fn all_correct(&self) -> bool {
        self.computations.iter().all(ComputationReport::all_correct)
    }
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "MPC demo at {}, {} elements per input",
            self.rank, self.elements
        )?;
        writeln!(f, "set-up and input sharing: {}", self.preparation)?;
        writeln!(
            f,
            "{:<14} {:>11} {:>6} {:>5} {:>5} {:>8}  first values (computed/expected)",
            "computation", "correct", "rounds", "sent", "recv", "values"
        )?;
        for c in &self.computations {
            write!(
                f,
                "{:<14} {:>11} {:>6} {:>5} {:>5} {:>8} ",
                c.name(),
                format!("{}/{}", c.matched, c.elements),
                c.cost.rounds,
                c.cost.messages_sent,
                c.cost.messages_received,
                c.cost.values_sent
            )?;
            for sample in &c.first_values {
                write!(f, " {}/{}", sample.computed, sample.expected)?;
            }
            writeln!(f)?;
        }
        for c in &self.computations {
            if let Some(wrong) = c.first_mismatch {
                writeln!(
                    f,
                    "MISMATCH in {}: element {} computed {}, expected {}",
                    c.name(),
                    wrong.index,
                    wrong.computed,
                    wrong.expected
                )?;
            }
        }
        writeln!(f, "plaintext check (demo only): {}", self.check)?;
        if self.all_correct() {
            write!(f, "all {} computations correct", self.computations.len())
        } else {
            let wrong = self
                .computations
                .iter()
                .filter(|c| !c.all_correct())
                .count();
            write!(
                f,
                "{wrong} of {} computations WRONG",
                self.computations.len()
            )
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn report(computed: &[u64], expected: &[u64]) -> ComputationReport {
        ComputationReport::compare(Computation::Sum, computed, expected, CommCounts::default())
    }

    #[test]
    fn counts_matches_and_finds_the_first_mismatch() {
        let r = report(&[1, 2, 9, 4, 7, 6], &[1, 2, 3, 4, 5, 6]);
        assert_eq!((r.elements, r.matched), (6, 4));
        assert!(!r.all_correct());
        assert_eq!(r.first_values.len(), SAMPLES);
        let wrong = Sample {
            index: 2,
            computed: 9,
            expected: 3,
        };
        assert_eq!(r.first_mismatch, Some(wrong));
    }

    #[test]
    fn missing_results_count_as_wrong() {
        let r = report(&[1], &[1, 2]);
        assert_eq!((r.elements, r.matched), (2, 1));
        assert!(!r.all_correct());
    }

    #[test]
    fn display_names_mismatches() {
        let demo = DemoReport {
            rank: Rank::ZERO,
            elements: 2,
            preparation: CommCounts::default(),
            computations: vec![report(&[1, 2], &[1, 2]), report(&[1, 5], &[1, 2])],
            check: CommCounts::default(),
        };
        let text = demo.to_string();
        assert!(text.contains("2/2"), "{text}");
        assert!(text.contains("MISMATCH in sum x0+x1+x2: element 1 computed 5, expected 2"));
        assert!(text.ends_with("1 of 2 computations WRONG"));
    }
}
