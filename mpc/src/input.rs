//! Secret-sharing a party's private input.

use super::comm::Comm;
use super::party::Party;
use super::ring::Ring;
use super::shares::Shares;
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;
use ternion_core::rank::Rank;

impl<C: Comm> Party<C> {
    /// Secret-shares this party's `values`; every other party calls
    /// [`Party::receive_input`] with this party's rank at the same time.
    ///
    /// Two shares of each value are drawn at random and the third makes them
    /// add up to the value, so any single share, and any one party's pair, is
    /// uniformly random. Each other party gets its pair in one message; no
    /// round is spent.
    pub fn share_input<R: Ring>(&mut self, values: &[u64]) -> Result<Shares<R>, C::Error> {
        let first: Vec<u64> = values.iter().map(|_| self.rng.next_u64()).collect();
        let second: Vec<u64> = values.iter().map(|_| self.rng.next_u64()).collect();
        let third = values
            .iter()
            .zip(first.iter().zip(&second))
            .map(|(&v, (&a, &b))| R::sub(R::sub(v, a), b))
            .collect();
        let shares = [first, second, third];
        let pair_of = |rank: Rank| (&shares[rank.index()], &shares[rank.succ().index()]);

        let me = self.rank();
        for peer in me.others() {
            let (own, next) = pair_of(peer);
            let mut message = Vec::with_capacity(2 * values.len());
            message.extend_from_slice(own);
            message.extend_from_slice(next);
            self.comm.send_u64s(peer, &message)?;
        }
        let (own, next) = pair_of(me);
        Ok(Shares::from_pair(own.clone(), next.clone()))
    }

    /// Receives this party's shares of `len` values that `owner` shares with
    /// [`Party::share_input`].
    pub fn receive_input<R: Ring>(
        &mut self,
        owner: Rank,
        len: usize,
    ) -> Result<Shares<R>, C::Error> {
        let mut message = vec![0u64; 2 * len];
        self.comm.recv_u64s(owner, &mut message)?;
        let next = message.split_off(len);
        Ok(Shares::from_pair(message, next))
    }
}

#[cfg(test)]
mod test {
    use crate::ring::{Arithmetic, Boolean, Ring};
    use crate::shares::test::reconstruct;
    use crate::shares::Shares;
    use crate::test_comm::run_parties;
    use ternion_core::rank::Rank;

    fn share_from<R: Ring>(owner: Rank, values: &[u64]) -> [Shares<R>; 3] {
        run_parties(|party| {
            if party.rank() == owner {
                party.share_input::<R>(values)
            } else {
                party.receive_input::<R>(owner, values.len())
            }
            .unwrap()
        })
    }

    #[test]
    fn each_party_holds_its_pair_and_two_reconstruct() {
        let values = [0, 7, u64::MAX, 1 << 63, 123_456_789];
        for owner in Rank::ALL {
            let arithmetic = share_from::<Arithmetic>(owner, &values);
            let boolean = share_from::<Boolean>(owner, &values);
            for r in Rank::ALL {
                let (mine, succ) = (r.index(), r.succ().index());
                assert_eq!(arithmetic[mine].next(), arithmetic[succ].own());
                assert_eq!(boolean[mine].next(), boolean[succ].own());
                assert_eq!(reconstruct(&arithmetic[mine], &arithmetic[succ]), values);
                assert_eq!(reconstruct(&boolean[mine], &boolean[succ]), values);
            }
        }
    }

    #[test]
    fn shares_do_not_show_the_value() {
        let values = [5u64; 8];
        let shares = share_from::<Arithmetic>(Rank::ZERO, &values);
        for party in &shares {
            assert!(party.own().iter().all(|&s| s != 5));
            assert!(party.own().windows(2).all(|w| w[0] != w[1]));
        }
    }
}
