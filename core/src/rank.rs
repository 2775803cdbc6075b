//! Party ranks in a three-party job.

use core::fmt;

/// Number of parties in a ternion job.
pub const PARTIES: usize = 3;

/// A party's rank: 0, 1 or 2.
///
/// Replicated secret sharing arranges the parties in a ring: each party sends
/// to its predecessor and receives from its successor, so the ring helpers
/// live on the rank itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rank(u8);

impl Rank {
    /// Rank 0, the party that collects opened values.
    pub const ZERO: Rank = Rank(0);

    /// All ranks in order.
    pub const ALL: [Rank; PARTIES] = [Rank(0), Rank(1), Rank(2)];

    /// Returns the rank `r`, or `None` if `r` is not 0, 1 or 2.
    pub const fn new(r: u8) -> Option<Rank> {
        if (r as usize) < PARTIES {
            Some(Rank(r))
        } else {
            None
        }
    }

    /// The rank as an index into per-party arrays.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The next party in the ring (`rank + 1 mod 3`).
    pub const fn succ(self) -> Rank {
        Rank((self.0 + 1) % PARTIES as u8)
    }

    /// The previous party in the ring (`rank - 1 mod 3`).
    pub const fn pred(self) -> Rank {
        Rank((self.0 + PARTIES as u8 - 1) % PARTIES as u8)
    }

    /// The two other parties, successor first.
    pub const fn others(self) -> [Rank; 2] {
        [self.succ(), self.pred()]
    }
}

impl fmt::Display for Rank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rank {}", self.0)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ring_neighbours() {
        let r = |i| Rank::new(i).unwrap();
        assert_eq!(r(0).succ(), r(1));
        assert_eq!(r(2).succ(), r(0));
        assert_eq!(r(0).pred(), r(2));
        assert_eq!(r(1).pred(), r(0));
        assert_eq!(r(1).others(), [r(2), r(0)]);
        assert_eq!(Rank::new(3), None);
    }
}
