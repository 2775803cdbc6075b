//! ternion's collectives, written once: for each operation, the plan of
//! point-to-point messages it needs at a rank, and how shares combine.
//!
//! A platform executes a [`Plan`] (posts its receives, then its sends, on
//! the caller's memory, and waits for all of them) and, where the plan
//! gathers, combines what arrived. Who talks to whom is decided here only.
//!
//! Collectives travel on tags at or above [`FIRST_RESERVED_TAG`], which
//! application receives (even with a wildcard tag) never match, so a
//! collective can never steal an application message.

use crate::matching::FIRST_RESERVED_TAG;
use crate::rank::Rank;

/// Tag of the messages of a barrier.
pub const BARRIER_TAG: u32 = FIRST_RESERVED_TAG;
/// Tag of the shares sent to party 0 by an open.
pub const OPEN_TAG: u32 = FIRST_RESERVED_TAG + 1;
/// Tag of the shares exchanged by a reveal.
pub const REVEAL_TAG: u32 = FIRST_RESERVED_TAG + 2;
/// Tag of a ring exchange (send to predecessor, receive from successor).
pub const EXCHANGE_TAG: u32 = FIRST_RESERVED_TAG + 3;
/// Tag of a broadcast from a root to the other two parties.
pub const BCAST_TAG: u32 = FIRST_RESERVED_TAG + 4;
/// Tag of the contributions to a reduction.
pub const REDUCE_TAG: u32 = FIRST_RESERVED_TAG + 5;

/// The messages one collective needs at one rank, all on the operation's
/// tag: receives (posted first, so nothing waits in the unexpected queue
/// when it can be avoided) and sends, each carrying the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    tag: u32,
    receives: [Option<Rank>; 2],
    sends: [Option<Rank>; 2],
}

impl Plan {
    fn new(tag: u32, receives: [Option<Rank>; 2], sends: [Option<Rank>; 2]) -> Plan {
        Plan {
            tag,
            receives,
            sends,
        }
    }

    /// One round of replicated secret sharing: send to the predecessor,
    /// receive from the successor.
    pub fn exchange(me: Rank) -> Plan {
        Plan::new(
            EXCHANGE_TAG,
            [Some(me.succ()), None],
            [Some(me.pred()), None],
        )
    }

    /// Open to party 0: the others send it their shares; it gathers both.
    pub fn open(me: Rank) -> Plan {
        if me == Rank::ZERO {
            Plan::new(OPEN_TAG, both(me), [None, None])
        } else {
            Plan::new(OPEN_TAG, [None, None], [Some(Rank::ZERO), None])
        }
    }

    /// Reveal to every party: each sends its share to the other two and
    /// gathers theirs.
    pub fn reveal(me: Rank) -> Plan {
        Plan::new(REVEAL_TAG, both(me), both(me))
    }

    /// A barrier: an empty message to each of the others, and one from each.
    pub fn barrier(me: Rank) -> Plan {
        Plan::new(BARRIER_TAG, both(me), both(me))
    }

    /// A broadcast from `root` to the other two.
    pub fn broadcast(me: Rank, root: Rank) -> Plan {
        if me == root {
            Plan::new(BCAST_TAG, [None, None], both(me))
        } else {
            Plan::new(BCAST_TAG, [Some(root), None], [None, None])
        }
    }

    /// A reduction to `root`, or to every party when `root` is `None`.
    pub fn reduce(me: Rank, root: Option<Rank>) -> Plan {
        match root {
            None => Plan::new(REDUCE_TAG, both(me), both(me)),
            Some(root) if root == me => Plan::new(REDUCE_TAG, both(me), [None, None]),
            Some(root) => Plan::new(REDUCE_TAG, [None, None], [Some(root), None]),
        }
    }

    /// The tag every message of the operation travels under.
    pub fn tag(&self) -> u32 {
        self.tag
    }

    /// The parties to receive from, in the order their results come back.
    pub fn receives(&self) -> impl Iterator<Item = Rank> + '_ {
        self.receives.iter().flatten().copied()
    }

    /// The parties to send to.
    pub fn sends(&self) -> impl Iterator<Item = Rank> + '_ {
        self.sends.iter().flatten().copied()
    }

    /// True if this rank gathers the other two parties' contributions, to
    /// combine them with its own.
    pub fn gathers(&self) -> bool {
        self.receives.iter().all(Option::is_some)
    }
}

/// Both other parties, in rank order.
fn both(me: Rank) -> [Option<Rank>; 2] {
    me.others().map(Some)
}

/// How shares of a secret combine into its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Boolean sharing: the value is the XOR of the shares.
    Xor,
    /// Arithmetic sharing modulo 2^n: the value is the wrapping sum.
    WrappingAdd,
}

/// Integer types that shares can be made of.
pub trait Share: Copy {
    /// Combines two shares.
    fn combine(self, other: Self, how: Combine) -> Self;
}

macro_rules! impl_share {
    ($($t:ty),*) => {$(
        impl Share for $t {
            fn combine(self, other: Self, how: Combine) -> Self {
                match how {
                    Combine::Xor => self ^ other,
                    Combine::WrappingAdd => self.wrapping_add(other),
                }
            }
        }
    )*};
}
impl_share!(u8, u16, u32, u64, i8, i16, i32, i64);

impl Share for bool {
    fn combine(self, other: Self, _how: Combine) -> Self {
        // Booleans are one-bit shares: addition modulo 2 is XOR.
        self ^ other
    }
}

/// Folds `other` into `acc` element by element (`acc` and `other` have equal length).
pub fn combine_into<T: Share>(acc: &mut [T], other: &[T], how: Combine) {
    for (a, b) in acc.iter_mut().zip(other) {
        *a = a.combine(*b, how);
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use alloc::vec::Vec;

    fn r(i: u8) -> Rank {
        Rank::new(i).unwrap()
    }

    /// Every message some rank's plan sends is received by its addressee's
    /// plan, and nothing else is: the plans of the three ranks match up.
    fn plans_match(plans: [Plan; 3]) {
        let mut sent: Vec<(Rank, Rank)> = Vec::new();
        let mut expected: Vec<(Rank, Rank)> = Vec::new();
        for (i, plan) in plans.iter().enumerate() {
            sent.extend(plan.sends().map(|to| (r(i as u8), to)));
            expected.extend(plan.receives().map(|from| (from, r(i as u8))));
            assert!(plans.iter().all(|p| p.tag() == plan.tag()));
        }
        sent.sort_by_key(|&(a, b)| (a.index(), b.index()));
        expected.sort_by_key(|&(a, b)| (a.index(), b.index()));
        assert_eq!(sent, expected);
    }

    #[test]
    fn every_collectives_plans_match_across_the_three_ranks() {
        let each = |f: fn(Rank) -> Plan| [f(r(0)), f(r(1)), f(r(2))];
        plans_match(each(Plan::exchange));
        plans_match(each(Plan::open));
        plans_match(each(Plan::reveal));
        plans_match(each(Plan::barrier));
        for root in Rank::ALL {
            plans_match([0, 1, 2].map(|i| Plan::broadcast(r(i), root)));
            plans_match([0, 1, 2].map(|i| Plan::reduce(r(i), Some(root))));
        }
        plans_match([0, 1, 2].map(|i| Plan::reduce(r(i), None)));
    }

    #[test]
    fn plans_say_who_gathers() {
        let exchange = Plan::exchange(r(1));
        assert_eq!(exchange.receives().collect::<Vec<_>>(), [r(2)]);
        assert_eq!(exchange.sends().collect::<Vec<_>>(), [r(0)]);
        assert!(!exchange.gathers());
        assert!(Plan::open(r(0)).gathers());
        assert!(!Plan::open(r(2)).gathers());
        assert!(Plan::reveal(r(2)).gathers());
        assert!(Plan::reduce(r(1), Some(r(1))).gathers());
        assert!(!Plan::reduce(r(1), Some(r(0))).gathers());
        assert_eq!(Plan::broadcast(r(2), r(0)).receives().count(), 1);
    }

    #[test]
    fn combines() {
        let mut acc = [1u64, u64::MAX];
        combine_into(&mut acc, &[2, 2], Combine::WrappingAdd);
        assert_eq!(acc, [3, 1]);
        combine_into(&mut acc, &[1, 1], Combine::Xor);
        assert_eq!(acc, [2, 0]);
        let mut b = [true, false];
        combine_into(&mut b, &[true, true], Combine::WrappingAdd);
        assert_eq!(b, [false, true]);
    }
}
