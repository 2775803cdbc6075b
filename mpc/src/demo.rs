//! `ternion demo`: four computations on secret shares, opened and checked
//! against the plaintext.

use super::comm::Comm;
use super::party::Party;
use super::report::{ComputationReport, DemoReport};
use super::ring::{Arithmetic, Boolean, Ring};
use super::shares::Shares;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use ternion_core::rank::{Rank, PARTIES};

/// Demo inputs lie below this bound, so sums and products stay readable.
const DEMO_INPUT_BOUND: u64 = 1 << 20;

/// One of the demo's computations on the parties' inputs `x0`, `x1`, `x2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computation {
    /// `x0 + x1 + x2` on arithmetic shares: local additions.
    Sum,
    /// `x0 * x1` on arithmetic shares: one multiplication.
    Product,
    /// `x0 AND x1` on boolean shares: one AND.
    And,
    /// `x0 > x1` on boolean shares: a comparison circuit.
    GreaterThan,
}

impl Computation {
    /// Every computation, in the order the demo runs them.
    pub const ALL: [Computation; 4] = [
        Computation::Sum,
        Computation::Product,
        Computation::And,
        Computation::GreaterThan,
    ];

    /// A short name with the formula.
    pub fn name(self) -> &'static str {
        match self {
            Computation::Sum => "sum x0+x1+x2",
            Computation::Product => "product x0*x1",
            Computation::And => "and x0&x1",
            Computation::GreaterThan => "compare x0>x1",
        }
    }

    /// The result on one element of plaintext inputs, indexed by rank.
    fn on_plaintext(self, x: [u64; PARTIES]) -> u64 {
        match self {
            Computation::Sum => x[0].wrapping_add(x[1]).wrapping_add(x[2]),
            Computation::Product => x[0].wrapping_mul(x[1]),
            Computation::And => x[0] & x[1],
            Computation::GreaterThan => u64::from(x[0] > x[1]),
        }
    }
}

impl fmt::Display for Computation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The step of the demo that was running when communication failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoStage {
    /// Exchanging the keys of the correlated randomness.
    Setup,
    /// Secret-sharing the parties' inputs.
    InputSharing,
    /// Computing and opening one result.
    Compute(Computation),
    /// Sending the inputs in the clear for the check.
    PlaintextCheck,
}

impl fmt::Display for DemoStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoStage::Setup => f.write_str("set-up"),
            DemoStage::InputSharing => f.write_str("input sharing"),
            DemoStage::Compute(computation) => write!(f, "computing {computation}"),
            DemoStage::PlaintextCheck => f.write_str("plaintext check"),
        }
    }
}

/// The communication layer failed; wrong results are not errors but are
/// reported in the [`DemoReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoError<E> {
    /// What the demo was doing.
    pub stage: DemoStage,
    /// What the layer reported.
    pub error: E,
}

impl<E: fmt::Display> fmt::Display for DemoError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MPC demo failed during {}: {}", self.stage, self.error)
    }
}

impl<E: core::error::Error + 'static> core::error::Error for DemoError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Attaches the stage to a layer error.
fn during<E>(stage: DemoStage) -> impl FnOnce(E) -> DemoError<E> {
    move |error| DemoError { stage, error }
}

/// A party's private demo input: `len` values below 2^20, drawn from `seed`.
///
/// `rank` selects a separate ChaCha stream, so parties given the same seed
/// still get different inputs.
pub fn demo_inputs(seed: [u8; 32], rank: Rank, len: usize) -> Vec<u64> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    rng.set_stream(rank.index() as u64);
    (0..len)
        .map(|_| rng.next_u64() % DEMO_INPUT_BOUND)
        .collect()
}

/// Runs the demo as this party: shares `input` (same length on every party),
/// computes the element-wise sum of all three inputs, the product, AND and
/// comparison `>` of party 0's and party 1's inputs, opens every result to
/// every party, and checks each against the plaintext.
///
/// `seed` must be fresh secret randomness from the platform; it drives every
/// random share this party makes.
///
/// The check needs the plaintext, so at the end every party sends its input
/// **in the clear** to the others. That defeats the point of secure
/// computation and exists only so the demo can prove its results; a real
/// computation never does it.
pub fn run_demo<C: Comm>(
    comm: &mut C,
    input: &[u64],
    seed: [u8; 32],
) -> Result<DemoReport, DemoError<C::Error>> {
    let mut party = Party::setup(comm, seed).map_err(during(DemoStage::Setup))?;
    let shared = SharedInputs::share(&mut party, input).map_err(during(DemoStage::InputSharing))?;
    let preparation = party.counts();

    let mut results = Vec::with_capacity(Computation::ALL.len());
    for computation in Computation::ALL {
        let before = party.counts();
        let opened = shared
            .compute(&mut party, computation)
            .map_err(during(DemoStage::Compute(computation)))?;
        results.push((computation, opened, party.counts().since(before)));
    }

    let before = party.counts();
    let plaintext =
        send_inputs_in_clear(party.comm_mut(), input).map_err(during(DemoStage::PlaintextCheck))?;
    let check = party.counts().since(before);

    let computations = results
        .into_iter()
        .map(|(computation, opened, cost)| {
            let expected: Vec<u64> = (0..input.len())
                .map(|k| computation.on_plaintext(plaintext.each_ref().map(|x| x[k])))
                .collect();
            ComputationReport::compare(computation, &opened, &expected, cost)
        })
        .collect();
    Ok(DemoReport {
        rank: party.rank(),
        elements: input.len(),
        preparation,
        computations,
        check,
    })
}

/// The inputs in shares: arithmetic for all three parties' inputs, boolean
/// for the two inputs the boolean computations read.
struct SharedInputs {
    arithmetic: [Shares<Arithmetic>; PARTIES],
    boolean: [Shares<Boolean>; 2],
}

impl SharedInputs {
    /// Shares every party's input, owners in rank order.
    fn share<C: Comm>(party: &mut Party<C>, input: &[u64]) -> Result<Self, C::Error> {
        let [first, second, third] = Rank::ALL;
        Ok(SharedInputs {
            arithmetic: [
                share_from(party, first, input)?,
                share_from(party, second, input)?,
                share_from(party, third, input)?,
            ],
            boolean: [
                share_from(party, first, input)?,
                share_from(party, second, input)?,
            ],
        })
    }

    /// Computes `computation` on the shares and opens the result to everyone.
    fn compute<C: Comm>(
        &self,
        party: &mut Party<C>,
        computation: Computation,
    ) -> Result<Vec<u64>, C::Error> {
        let [x0, x1, x2] = &self.arithmetic;
        let [b0, b1] = &self.boolean;
        match computation {
            Computation::Sum => party.reveal(&x0.add(x1).add(x2)),
            Computation::Product => {
                let product = party.multiply(x0, x1)?;
                party.reveal(&product)
            }
            Computation::And => {
                let and = party.multiply(b0, b1)?;
                party.reveal(&and)
            }
            Computation::GreaterThan => {
                let greater = party.greater_than(b0, b1)?;
                party.reveal(&greater)
            }
        }
    }
}

/// This party's shares of `owner`'s input: made here if this party owns it.
fn share_from<C: Comm, R: Ring>(
    party: &mut Party<C>,
    owner: Rank,
    input: &[u64],
) -> Result<Shares<R>, C::Error> {
    if party.rank() == owner {
        party.share_input(input)
    } else {
        party.receive_input(owner, input.len())
    }
}

/// Every party's plaintext input, indexed by rank (demo check only).
///
/// Pairs talk in a fixed order, (0,1), (0,2), (1,2), the lower rank sending
/// first, so this cannot deadlock even on a layer whose sends wait for the
/// receiver.
fn send_inputs_in_clear<C: Comm>(
    comm: &mut C,
    input: &[u64],
) -> Result<[Vec<u64>; PARTIES], C::Error> {
    let me = comm.rank();
    let mut inputs: [Vec<u64>; PARTIES] = Default::default();
    inputs[me.index()] = input.to_vec();
    for low in Rank::ALL {
        for high in Rank::ALL.into_iter().filter(|&high| high > low) {
            let mut theirs = vec![0u64; input.len()];
            if me == low {
                comm.send_u64s(high, input)?;
                comm.recv_u64s(high, &mut theirs)?;
                inputs[high.index()] = theirs;
            } else if me == high {
                comm.recv_u64s(low, &mut theirs)?;
                comm.send_u64s(low, input)?;
                inputs[low.index()] = theirs;
            }
        }
    }
    Ok(inputs)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::test_comm::{run_on_threads, test_seed, ChannelComm};
    use alloc::string::ToString;

    const LEN: usize = 1000;

    fn run_over<C: Comm + Send>(comms: [C; PARTIES]) -> [DemoReport; PARTIES]
    where
        C::Error: Send,
    {
        run_on_threads(comms, |mut comm| {
            let rank = comm.rank();
            let input = demo_inputs([rank.index() as u8 + 1; 32], rank, LEN);
            run_demo(&mut comm, &input, test_seed(rank)).expect("demo failed")
        })
    }

    fn by_name(report: &DemoReport, computation: Computation) -> &ComputationReport {
        report
            .computations
            .iter()
            .find(|c| c.computation == computation)
            .expect("every computation is reported")
    }

    #[test]
    fn all_results_are_correct_in_the_rounds_the_protocol_says() {
        for report in run_over(ChannelComm::trio()) {
            assert!(report.all_correct(), "{report}");
            assert_eq!(report.elements, LEN);
            assert_eq!(report.preparation.rounds, 1, "key exchange only");
            assert_eq!(report.check.rounds, 0);
            let rounds = |c| by_name(&report, c).cost.rounds;
            assert_eq!(rounds(Computation::Sum), 1, "reveal");
            assert_eq!(rounds(Computation::Product), 2, "multiply, reveal");
            assert_eq!(rounds(Computation::And), 2, "AND, reveal");
            assert_eq!(
                rounds(Computation::GreaterThan),
                8,
                "1 + log2(64) ANDs, reveal"
            );
            for c in &report.computations {
                assert_eq!((c.elements, c.matched), (LEN, LEN));
                assert_eq!(c.first_values.len(), 4);
                assert_eq!(c.first_mismatch, None);
                assert_eq!(c.cost.messages_sent, c.cost.rounds);
            }
            let text = report.to_string();
            assert!(text.contains("1000/1000"), "{text}");
            assert!(text.ends_with("all 4 computations correct"), "{text}");
        }
    }

    #[test]
    fn works_on_empty_inputs() {
        let reports = run_on_threads(ChannelComm::trio(), |mut comm| {
            let rank = comm.rank();
            run_demo(&mut comm, &[], test_seed(rank)).expect("demo failed")
        });
        assert!(reports.iter().all(DemoReport::all_correct));
    }

    #[test]
    fn demo_inputs_are_small_deterministic_and_differ_by_rank() {
        let seed = [7; 32];
        let [a, b, _] = Rank::ALL.map(|r| demo_inputs(seed, r, 100));
        assert!(a.iter().chain(&b).all(|&v| v < DEMO_INPUT_BOUND));
        assert_eq!(a, demo_inputs(seed, Rank::ZERO, 100));
        assert_ne!(a, b);
    }

    /// Rank 1 corrupts the first value of every exchange after set-up, the
    /// way a faulty or malicious party might.
    struct Tampering(ChannelComm);

    impl Comm for Tampering {
        type Error = <ChannelComm as Comm>::Error;

        fn rank(&self) -> Rank {
            self.0.rank()
        }

        fn send_u64s(&mut self, peer: Rank, data: &[u64]) -> Result<(), Self::Error> {
            self.0.send_u64s(peer, data)
        }

        fn recv_u64s(&mut self, peer: Rank, out: &mut [u64]) -> Result<(), Self::Error> {
            self.0.recv_u64s(peer, out)
        }

        fn exchange_u64s(&mut self, send: &[u64], recv: &mut [u64]) -> Result<(), Self::Error> {
            let is_key_exchange = send.len() == 4;
            if self.rank() != Rank::new(1).unwrap() || is_key_exchange {
                return self.0.exchange_u64s(send, recv);
            }
            let mut corrupted = send.to_vec();
            corrupted[0] ^= 1;
            self.0.exchange_u64s(&corrupted, recv)
        }
    }

    #[test]
    fn a_tampered_share_is_reported_as_a_mismatch() {
        let reports = run_over(ChannelComm::trio().map(Tampering));
        // Rank 1 sends to rank 0, whose opened element 0 is therefore wrong.
        let report = &reports[0];
        assert!(!report.all_correct());
        let sum = by_name(report, Computation::Sum);
        assert_eq!(sum.matched, LEN - 1);
        assert_eq!(sum.first_mismatch.map(|s| s.index), Some(0));
        assert!(report
            .to_string()
            .contains("MISMATCH in sum x0+x1+x2: element 0"));
    }
}
