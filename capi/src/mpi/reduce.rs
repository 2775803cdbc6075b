//! Element-wise reduction of byte buffers, for `MPI_Reduce` and `MPI_Allreduce`.

use super::types::{code, op, Element, MPI_Op};
use core::ffi::c_int;

macro_rules! combine_as {
    ($t:ty, $acc:expr, $other:expr, $f:expr) => {{
        const N: usize = core::mem::size_of::<$t>();
        for (a, b) in $acc.chunks_exact_mut(N).zip($other.chunks_exact(N)) {
            let mut x = [0u8; N];
            let mut y = [0u8; N];
            x.copy_from_slice(a);
            y.copy_from_slice(b);
            let r: $t = $f(<$t>::from_ne_bytes(x), <$t>::from_ne_bytes(y));
            a.copy_from_slice(&r.to_ne_bytes());
        }
    }};
}

macro_rules! integer_op {
    ($t:ty, $acc:expr, $other:expr, $op:expr) => {
        match $op {
            op::MPI_SUM => combine_as!($t, $acc, $other, |a: $t, b: $t| a.wrapping_add(b)),
            op::MPI_PROD => combine_as!($t, $acc, $other, |a: $t, b: $t| a.wrapping_mul(b)),
            op::MPI_MAX => combine_as!($t, $acc, $other, |a: $t, b: $t| a.max(b)),
            op::MPI_MIN => combine_as!($t, $acc, $other, |a: $t, b: $t| a.min(b)),
            op::MPI_BAND => combine_as!($t, $acc, $other, |a: $t, b: $t| a & b),
            op::MPI_BOR => combine_as!($t, $acc, $other, |a: $t, b: $t| a | b),
            op::MPI_BXOR => combine_as!($t, $acc, $other, |a: $t, b: $t| a ^ b),
            _ => return Err(code::MPI_ERR_OP),
        }
    };
}

macro_rules! float_op {
    ($t:ty, $acc:expr, $other:expr, $op:expr) => {
        match $op {
            op::MPI_SUM => combine_as!($t, $acc, $other, |a: $t, b: $t| a + b),
            op::MPI_PROD => combine_as!($t, $acc, $other, |a: $t, b: $t| a * b),
            op::MPI_MAX => combine_as!($t, $acc, $other, |a: $t, b: $t| a.max(b)),
            op::MPI_MIN => combine_as!($t, $acc, $other, |a: $t, b: $t| a.min(b)),
            _ => return Err(code::MPI_ERR_OP),
        }
    };
}

/// Checks that `how` applies to `element`, without touching any data.
pub fn check(element: Element, how: MPI_Op) -> Result<(), c_int> {
    let mut one = [0u8; 8];
    combine(
        element,
        how,
        &mut one[..element.size()],
        &[0u8; 8][..element.size()],
    )
}

/// `acc[i] = acc[i] (how) other[i]` for each element; both slices hold the
/// same whole number of elements.
pub fn combine(element: Element, how: MPI_Op, acc: &mut [u8], other: &[u8]) -> Result<(), c_int> {
    match element {
        Element::Signed(1) => integer_op!(i8, acc, other, how),
        Element::Signed(2) => integer_op!(i16, acc, other, how),
        Element::Signed(4) => integer_op!(i32, acc, other, how),
        Element::Signed(8) => integer_op!(i64, acc, other, how),
        Element::Unsigned(1) | Element::Bool => integer_op!(u8, acc, other, how),
        Element::Unsigned(2) => integer_op!(u16, acc, other, how),
        Element::Unsigned(4) => integer_op!(u32, acc, other, how),
        Element::Unsigned(8) => integer_op!(u64, acc, other, how),
        Element::Float(4) => float_op!(f32, acc, other, how),
        Element::Float(8) => float_op!(f64, acc, other, how),
        _ => return Err(code::MPI_ERR_TYPE),
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn integer_ops_respect_signedness_and_wrap() {
        let mut a = (-1i32).to_ne_bytes();
        combine(Element::Signed(4), op::MPI_MAX, &mut a, &1i32.to_ne_bytes()).unwrap();
        assert_eq!(i32::from_ne_bytes(a), 1);
        let mut a = u32::MAX.to_ne_bytes();
        combine(
            Element::Unsigned(4),
            op::MPI_MAX,
            &mut a,
            &1u32.to_ne_bytes(),
        )
        .unwrap();
        assert_eq!(u32::from_ne_bytes(a), u32::MAX);
        combine(
            Element::Unsigned(4),
            op::MPI_SUM,
            &mut a,
            &2u32.to_ne_bytes(),
        )
        .unwrap();
        assert_eq!(u32::from_ne_bytes(a), 1);
        let mut a = [0b1100u8];
        combine(Element::Unsigned(1), op::MPI_BXOR, &mut a, &[0b1010]).unwrap();
        assert_eq!(a, [0b0110]);
    }

    #[test]
    fn bitwise_ops_on_floats_are_refused() {
        assert_eq!(
            check(Element::Float(8), op::MPI_BXOR),
            Err(code::MPI_ERR_OP)
        );
        assert_eq!(check(Element::Float(8), op::MPI_SUM), Ok(()));
        assert_eq!(check(Element::Signed(8), 99), Err(code::MPI_ERR_OP));
    }
}
