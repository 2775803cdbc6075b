//! Local operations on boolean shares: negation and bit shifts.
//!
//! Shifts distribute over XOR, so each party shifts its shares on its own;
//! negation is XOR with the public all-ones word.

use super::ring::Boolean;
use super::shares::Shares;
use ternion_core::rank::Rank;

impl Shares<Boolean> {
    /// Bitwise NOT of every element; `rank` is this party's rank.
    pub fn not(&self, rank: Rank) -> Shares<Boolean> {
        self.add_public(rank, u64::MAX)
    }

    /// Shifts every element left by `bits` (< 64), filling with zeros.
    pub fn shift_left(&self, bits: u32) -> Shares<Boolean> {
        self.map_linear(|share| share << bits)
    }

    /// Shifts every element right by `bits` (< 64), filling with zeros.
    pub fn shift_right(&self, bits: u32) -> Shares<Boolean> {
        self.map_linear(|share| share >> bits)
    }
}

#[cfg(test)]
mod test {
    use crate::ring::Boolean;
    use crate::shares::test::{deal, reconstruct};
    use ternion_core::rank::Rank;

    #[test]
    fn negates_and_shifts() {
        let values = [0, u64::MAX, 0x8000_0000_0000_0001];
        let shares = deal::<Boolean>(&values);
        let not: [_; 3] = Rank::ALL.map(|r| shares[r.index()].not(r));
        assert_eq!(
            reconstruct(&not[0], &not[1]),
            [u64::MAX, 0, 0x7fff_ffff_ffff_fffe]
        );
        assert_eq!(
            reconstruct(&not[2], &not[0]),
            [u64::MAX, 0, 0x7fff_ffff_ffff_fffe]
        );
        let left = shares.each_ref().map(|s| s.shift_left(4));
        assert_eq!(reconstruct(&left[1], &left[2]), [0, u64::MAX << 4, 0x10]);
        let right = shares.each_ref().map(|s| s.shift_right(63));
        assert_eq!(reconstruct(&right[0], &right[1]), [0, 1, 1]);
    }
}
