//! Multiplication of shared values: arithmetic products, boolean ANDs.

use super::comm::Comm;
use super::party::Party;
use super::ring::Ring;
use super::shares::Shares;
use alloc::vec;
use alloc::vec::Vec;

impl<C: Comm> Party<C> {
    /// Element-wise product of `x` and `y` (AND for boolean shares): one
    /// round, one value per element sent to the predecessor.
    ///
    /// Party `i` computes `z_i = x_i*y_i + x_i*y_{i+1} + x_{i+1}*y_i`; over
    /// the three parties these cover all nine cross terms of `x*y`. Adding a
    /// share of zero hides `z_i`, which alone would reveal something about
    /// the inputs, and sending it to the predecessor restores the
    /// replicated form `(z_i, z_{i+1})`.
    ///
    /// # Panics
    /// If `x` and `y` differ in length.
    pub fn multiply<R: Ring>(
        &mut self,
        x: &Shares<R>,
        y: &Shares<R>,
    ) -> Result<Shares<R>, C::Error> {
        assert_eq!(x.len(), y.len(), "multiplying arrays of different lengths");
        let masks = self.zero_sharing.next_zero_shares::<R>(x.len());
        let own: Vec<u64> = (0..x.len())
            .map(|k| {
                let (xi, xn, yi, yn) = (x.own()[k], x.next()[k], y.own()[k], y.next()[k]);
                let cross = R::add(R::add(R::mul(xi, yi), R::mul(xi, yn)), R::mul(xn, yi));
                R::add(cross, masks[k])
            })
            .collect();
        let mut next = vec![0u64; own.len()];
        self.comm.exchange_u64s(&own, &mut next)?;
        Ok(Shares::from_pair(own, next))
    }
}

#[cfg(test)]
mod test {
    use crate::ring::{Arithmetic, Boolean, Ring};
    use crate::shares::test::deal;
    use crate::test_comm::run_parties;
    use alloc::vec::Vec;

    const X: [u64; 6] = [0, 1, 3, u64::MAX, 1 << 63, 0xdead_beef_1234_5678];
    const Y: [u64; 6] = [5, u64::MAX, 7, u64::MAX, 2, 0x0f0f_0f0f_f0f0_f0f0];

    fn multiply_all<R: Ring>() -> [(Vec<u64>, u64); 3] {
        let (x, y) = (deal::<R>(&X), deal::<R>(&Y));
        run_parties(|party| {
            let i = party.rank().index();
            let before = party.counts();
            let product = party.multiply(&x[i], &y[i]).unwrap();
            let rounds = party.counts().since(before).rounds;
            (party.reveal(&product).unwrap(), rounds)
        })
    }

    #[test]
    fn multiplies_modulo_2_pow_64_in_one_round() {
        let expected: Vec<u64> = X.iter().zip(&Y).map(|(a, b)| a.wrapping_mul(*b)).collect();
        for (product, rounds) in multiply_all::<Arithmetic>() {
            assert_eq!(product, expected);
            assert_eq!(rounds, 1);
        }
    }

    #[test]
    fn ands_bit_vectors_in_one_round() {
        let expected: Vec<u64> = X.iter().zip(&Y).map(|(a, b)| a & b).collect();
        for (and, rounds) in multiply_all::<Boolean>() {
            assert_eq!(and, expected);
            assert_eq!(rounds, 1);
        }
    }
}
