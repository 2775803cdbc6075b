//! Comparison of shared values as a log-depth boolean circuit.

use super::comm::Comm;
use super::party::Party;
use super::ring::Boolean;
use super::shares::Shares;

/// Bits in a compared word.
const WORD_BITS: u32 = u64::BITS;

impl<C: Comm> Party<C> {
    /// Shares of `1` where `x > y` and `0` elsewhere, comparing unsigned
    /// 64-bit values held in boolean shares: 7 rounds.
    ///
    /// Per bit `b`, `greater[b] = x[b] AND NOT y[b]` and
    /// `equal[b] = NOT (x[b] XOR y[b])` describe the one-bit range `[b, b]`.
    /// Each level doubles every bit's range by combining it with the range
    /// just below it (a Kogge-Stone prefix): the upper part decides unless
    /// it is equal, in which case the lower part does:
    /// `greater = greater_hi XOR (equal_hi AND greater_lo)`, XOR being OR here
    /// because the two terms never hold at once. Bits run in parallel inside
    /// each word, so one AND round sets up the bits and `log2(64) = 6` levels
    /// leave bit 63 describing the whole word.
    ///
    /// # Panics
    /// If `x` and `y` differ in length.
    pub fn greater_than(
        &mut self,
        x: &Shares<Boolean>,
        y: &Shares<Boolean>,
    ) -> Result<Shares<Boolean>, C::Error> {
        let not_y = y.not(self.rank());
        let mut greater = self.multiply(x, &not_y)?;
        let mut equal = x.add(&not_y);
        let mut width = 1;
        while width < WORD_BITS {
            let greater_below = greater.shift_left(width);
            let last_level = 2 * width == WORD_BITS;
            if last_level {
                // Only bit 63's `greater` is read after this level.
                greater = greater.add(&self.multiply(&equal, &greater_below)?);
            } else {
                let equal_below = equal.shift_left(width);
                let len = equal.len();
                let products = self.multiply(
                    &Shares::concat(&[&equal, &equal]),
                    &Shares::concat(&[&greater_below, &equal_below]),
                )?;
                let (decided_below, equal_both) = products.split_at(len);
                greater = greater.add(&decided_below);
                equal = equal_both;
            }
            width *= 2;
        }
        Ok(greater.shift_right(WORD_BITS - 1))
    }
}

#[cfg(test)]
mod test {
    use crate::ring::Boolean;
    use crate::shares::test::deal;
    use crate::test_comm::run_parties;
    use alloc::vec::Vec;

    const TOP: u64 = 1 << 63;

    #[test]
    fn compares_edge_cases_in_seven_rounds() {
        let pairs: Vec<(u64, u64)> = [
            (0, 0),
            (u64::MAX, u64::MAX),
            (12_345, 12_345),
            (0, u64::MAX),
            (u64::MAX, 0),
            (1, 0),
            (0, 1),
            (TOP, 0),
            (0, TOP),
            (TOP, TOP - 1),
            (TOP - 1, TOP),
            (u64::MAX, u64::MAX - 1),
            (u64::MAX - 1, u64::MAX),
            (0x1234_5678 | TOP, 0x1234_5678),
            (0x1234_5678, 0x1234_5678 | TOP),
            (0x1234_5679, 0x1234_5678),
            (0x1234_5678, 0x1234_5679),
            (0x0000_ffff_0000_0000, 0x0000_fffe_ffff_ffff),
        ]
        .into_iter()
        .chain((0..64u64).map(|k| (k.wrapping_mul(0x9e37_79b9_7f4a_7c15), k << 57 | k)))
        .collect();
        let x: Vec<u64> = pairs.iter().map(|p| p.0).collect();
        let y: Vec<u64> = pairs.iter().map(|p| p.1).collect();
        let expected: Vec<u64> = pairs.iter().map(|&(a, b)| u64::from(a > b)).collect();
        let (xs, ys) = (deal::<Boolean>(&x), deal::<Boolean>(&y));
        let results = run_parties(|party| {
            let i = party.rank().index();
            let before = party.counts();
            let greater = party.greater_than(&xs[i], &ys[i]).unwrap();
            let rounds = party.counts().since(before).rounds;
            (party.reveal(&greater).unwrap(), rounds)
        });
        for (greater, rounds) in results {
            assert_eq!(greater, expected);
            assert_eq!(rounds, 7);
        }
    }
}
