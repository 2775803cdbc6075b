//! Opening shared values: to every party, or to party 0 only.

use super::comm::Comm;
use super::party::Party;
use super::ring::Ring;
use super::shares::Shares;
use alloc::vec;
use alloc::vec::Vec;
use ternion_core::rank::Rank;

impl<C: Comm> Party<C> {
    /// Opens `x` to every party: one round.
    ///
    /// Party `i` holds `(x_i, x_{i+1})` and lacks `x_{i+2}`. Its successor
    /// holds `x_{i+2}` as its `next` share, so every party sends its `next`
    /// share to its predecessor and receives the missing share from its
    /// successor: the ring exchange exactly.
    pub fn reveal<R: Ring>(&mut self, x: &Shares<R>) -> Result<Vec<u64>, C::Error> {
        let mut missing = vec![0u64; x.len()];
        self.comm.exchange_u64s(x.next(), &mut missing)?;
        Ok(combine_all(x, &missing))
    }

    /// Opens `x` to party 0 only, as Secrecy opens its results: party 1 sends
    /// the share party 0 lacks, party 2 sends nothing. No round is spent.
    ///
    /// Returns the values on party 0 and `None` on the others.
    pub fn open<R: Ring>(&mut self, x: &Shares<R>) -> Result<Option<Vec<u64>>, C::Error> {
        let holder_of_missing = Rank::ZERO.succ();
        let me = self.rank();
        if me == Rank::ZERO {
            let mut missing = vec![0u64; x.len()];
            self.comm.recv_u64s(holder_of_missing, &mut missing)?;
            Ok(Some(combine_all(x, &missing)))
        } else {
            if me == holder_of_missing {
                self.comm.send_u64s(Rank::ZERO, x.next())?;
            }
            Ok(None)
        }
    }
}

/// The secrets: this party's two shares plus the one it was missing.
fn combine_all<R: Ring>(x: &Shares<R>, missing: &[u64]) -> Vec<u64> {
    x.own()
        .iter()
        .zip(x.next())
        .zip(missing)
        .map(|((&own, &next), &missing)| R::add(R::add(own, next), missing))
        .collect()
}

#[cfg(test)]
mod test {
    use crate::ring::{Arithmetic, Boolean};
    use crate::shares::test::deal;
    use crate::shares::Shares;
    use crate::test_comm::run_parties;

    const VALUES: [u64; 4] = [0, 99, u64::MAX, 1 << 63];

    #[test]
    fn reveal_gives_every_party_the_values_in_one_round() {
        let arithmetic = deal::<Arithmetic>(&VALUES);
        let boolean = deal::<Boolean>(&VALUES);
        let results = run_parties(|party| {
            let before = party.counts();
            let i = party.rank().index();
            let opened = (
                party.reveal(&arithmetic[i]).unwrap(),
                party.reveal(&boolean[i]).unwrap(),
            );
            (opened, party.counts().since(before).rounds)
        });
        for ((arithmetic, boolean), rounds) in results {
            assert_eq!(arithmetic, VALUES);
            assert_eq!(boolean, VALUES);
            assert_eq!(rounds, 2);
        }
    }

    #[test]
    fn open_gives_the_values_to_party_zero_only() {
        let shares = deal::<Arithmetic>(&VALUES);
        let results = run_parties(|party| {
            let before = party.counts();
            let opened = party.open(&shares[party.rank().index()]).unwrap();
            (opened, party.counts().since(before))
        });
        assert_eq!(results[0].0.as_deref(), Some(&VALUES[..]));
        assert_eq!(results[1].0, None);
        assert_eq!(results[2].0, None);
        assert_eq!(results[0].1.messages_received, 1);
        assert_eq!(results[1].1.messages_sent, 1);
        assert_eq!(results[2].1.messages_sent, 0);
        assert!(results.iter().all(|(_, counts)| counts.rounds == 0));
    }

    #[test]
    fn a_tampered_share_opens_to_a_wrong_value_without_panicking() {
        let mut shares = deal::<Arithmetic>(&VALUES);
        let mut next = shares[1].next().to_vec();
        next[2] ^= 1;
        shares[1] = Shares::from_pair(shares[1].own().to_vec(), next);
        let results = run_parties(|party| party.reveal(&shares[party.rank().index()]).unwrap());
        // Rank 1's copy of x_2 is wrong: rank 1 adds it and sends it to rank 0;
        // rank 2 uses its own, intact x_2.
        assert_eq!(results[0][..2], VALUES[..2]);
        assert_ne!(results[0][2], VALUES[2]);
        assert_ne!(results[1][2], VALUES[2]);
        assert_eq!(results[2], VALUES);
    }
}
