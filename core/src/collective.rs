//! The pieces of ternion's collectives that every platform shares: the tags
//! they travel under and how shares combine.
//!
//! Collectives are built from point-to-point messages on tags at or above
//! [`FIRST_RESERVED_TAG`], which application receives (even with a wildcard
//! tag) never match, so a collective can never steal an application message.

use crate::matching::FIRST_RESERVED_TAG;

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
