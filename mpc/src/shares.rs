//! One party's view of a secret-shared array.

use super::ring::Ring;
use alloc::vec::Vec;
use core::marker::PhantomData;
use ternion_core::rank::Rank;

/// This party's replicated shares of an array of secrets in ring `R`.
///
/// Party `i` holds, for every element, the share `x_i` ([`Shares::own`]) and
/// the share `x_{i+1}` of its successor ([`Shares::next`]). The ring is part of
/// the type so arithmetic and boolean shares of the same values cannot be
/// mixed up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shares<R> {
    own: Vec<u64>,
    next: Vec<u64>,
    ring: PhantomData<fn() -> R>,
}

impl<R: Ring> Shares<R> {
    /// Assembles shares from this party's share `own` and its successor's
    /// share `next` of each element.
    ///
    /// # Panics
    /// If `own` and `next` differ in length.
    pub fn from_pair(own: Vec<u64>, next: Vec<u64>) -> Self {
        assert_eq!(own.len(), next.len(), "a share pair needs equal lengths");
        Shares {
            own,
            next,
            ring: PhantomData,
        }
    }

    /// This party's share of each element.
    pub fn own(&self) -> &[u64] {
        &self.own
    }

    /// The successor's share of each element, which this party also holds.
    pub fn next(&self) -> &[u64] {
        &self.next
    }

    /// Number of shared elements.
    pub fn len(&self) -> usize {
        self.own.len()
    }

    /// Whether no elements are shared.
    pub fn is_empty(&self) -> bool {
        self.own.is_empty()
    }

    /// Element-wise sum (XOR for boolean shares); local, no communication.
    ///
    /// # Panics
    /// If the arrays differ in length.
    pub fn add(&self, other: &Shares<R>) -> Shares<R> {
        assert_eq!(
            self.len(),
            other.len(),
            "adding arrays of different lengths"
        );
        let sum = |a: &[u64], b: &[u64]| a.iter().zip(b).map(|(&a, &b)| R::add(a, b)).collect();
        Shares::from_pair(sum(&self.own, &other.own), sum(&self.next, &other.next))
    }

    /// Adds the public `constant` to every element (XOR for boolean shares).
    ///
    /// Only share `x_0` changes, so only the two parties holding it (rank 0
    /// as its own share, rank 2 as its successor's) touch anything; `rank` is
    /// this party's rank.
    pub fn add_public(&self, rank: Rank, constant: u64) -> Shares<R> {
        let plus_constant = |share: &[u64]| share.iter().map(|&s| R::add(s, constant)).collect();
        let own = if rank == Rank::ZERO {
            plus_constant(&self.own)
        } else {
            self.own.clone()
        };
        let next = if rank.succ() == Rank::ZERO {
            plus_constant(&self.next)
        } else {
            self.next.clone()
        };
        Shares::from_pair(own, next)
    }

    /// Applies `f` to every share. Correct only for maps that distribute over
    /// the ring addition (`f(a + b) == f(a) + f(b)`), such as bit shifts of
    /// boolean shares.
    pub(super) fn map_linear(&self, f: impl Fn(u64) -> u64) -> Shares<R> {
        let map = |share: &[u64]| share.iter().map(|&s| f(s)).collect();
        Shares::from_pair(map(&self.own), map(&self.next))
    }

    /// The arrays one after another, so several multiplications can share one
    /// round.
    pub fn concat(parts: &[&Shares<R>]) -> Shares<R> {
        let own = parts.iter().flat_map(|p| p.own.iter().copied()).collect();
        let next = parts.iter().flat_map(|p| p.next.iter().copied()).collect();
        Shares::from_pair(own, next)
    }

    /// Splits into the first `mid` elements and the rest.
    ///
    /// # Panics
    /// If `mid > self.len()`.
    pub fn split_at(mut self, mid: usize) -> (Shares<R>, Shares<R>) {
        let own_tail = self.own.split_off(mid);
        let next_tail = self.next.split_off(mid);
        (self, Shares::from_pair(own_tail, next_tail))
    }
}

#[cfg(test)]
pub(super) mod test {
    use super::*;
    use crate::ring::{Arithmetic, Boolean};
    use alloc::vec;
    use ternion_core::rank::PARTIES;

    /// Splits `values` into the three parties' shares with fixed, non-trivial
    /// share values (enough for local tests; the real splitting is random).
    pub(crate) fn deal<R: Ring>(values: &[u64]) -> [Shares<R>; PARTIES] {
        let x0: Vec<u64> = values.iter().map(|v| v.rotate_left(17) ^ 0x5555).collect();
        let x1: Vec<u64> = values.iter().map(|v| v.wrapping_mul(0x9e37_79b9)).collect();
        let x2: Vec<u64> = values
            .iter()
            .zip(x0.iter().zip(&x1))
            .map(|(&v, (&a, &b))| R::sub(R::sub(v, a), b))
            .collect();
        let all = [x0, x1, x2];
        Rank::ALL.map(|r| Shares::from_pair(all[r.index()].clone(), all[r.succ().index()].clone()))
    }

    /// Reconstructs the secrets from two consecutive parties' shares.
    pub(crate) fn reconstruct<R: Ring>(first: &Shares<R>, second: &Shares<R>) -> Vec<u64> {
        (0..first.len())
            .map(|k| R::add(R::add(first.own[k], first.next[k]), second.next[k]))
            .collect()
    }

    #[test]
    fn any_two_consecutive_parties_reconstruct() {
        let values = [0, 1, 42, u64::MAX, 1 << 63];
        let arithmetic = deal::<Arithmetic>(&values);
        let boolean = deal::<Boolean>(&values);
        for r in Rank::ALL {
            let (i, j) = (r.index(), r.succ().index());
            assert_eq!(reconstruct(&arithmetic[i], &arithmetic[j]), values);
            assert_eq!(reconstruct(&boolean[i], &boolean[j]), values);
        }
    }

    #[test]
    fn local_operations() {
        let a = [1, u64::MAX, 0b1100];
        let b = [2, 2, 0b1010];
        let (sa, sb) = (deal::<Arithmetic>(&a), deal::<Arithmetic>(&b));
        let sums: Vec<_> = (0..PARTIES).map(|i| sa[i].add(&sb[i])).collect();
        assert_eq!(reconstruct(&sums[0], &sums[1]), [3, 1, 0b10110]);

        let (xa, xb) = (deal::<Boolean>(&a), deal::<Boolean>(&b));
        let xors: Vec<_> = (0..PARTIES).map(|i| xa[i].add(&xb[i])).collect();
        assert_eq!(reconstruct(&xors[1], &xors[2]), [3, u64::MAX - 2, 0b0110]);

        let plus: Vec<_> = Rank::ALL
            .iter()
            .map(|&r| sa[r.index()].add_public(r, 10))
            .collect();
        assert_eq!(reconstruct(&plus[2], &plus[0]), [11, 9, 0b1100 + 10]);

        let shifted: Vec<_> = xa.iter().map(|s| s.map_linear(|v| v << 1)).collect();
        assert_eq!(
            reconstruct(&shifted[0], &shifted[1]),
            [2, u64::MAX - 1, 0b11000]
        );
    }

    #[test]
    fn concat_then_split_round_trips() {
        let a = Shares::<Boolean>::from_pair(vec![1, 2], vec![3, 4]);
        let b = Shares::<Boolean>::from_pair(vec![5], vec![6]);
        let joined = Shares::concat(&[&a, &b]);
        assert_eq!(joined.own(), [1, 2, 5]);
        assert_eq!(joined.next(), [3, 4, 6]);
        assert_eq!(joined.split_at(2), (a, b));
    }
}
