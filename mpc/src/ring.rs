//! The two rings secrets are shared in.

/// A ring on `u64` values whose elements can be secret-shared.
///
/// Both sharings the protocol uses are rings on 64-bit words, so sharing,
/// resharing and multiplication are written once for both.
pub trait Ring {
    /// Ring addition; shares of a secret add up to the secret.
    fn add(a: u64, b: u64) -> u64;
    /// Ring subtraction: the `c` with `add(b, c) == a`.
    fn sub(a: u64, b: u64) -> u64;
    /// Ring multiplication.
    fn mul(a: u64, b: u64) -> u64;
}

/// Arithmetic sharing: integers modulo 2^64 with wrapping `+` and `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arithmetic {}

/// Boolean sharing: 64 independent bits, with XOR as addition and AND as
/// multiplication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boolean {}

impl Ring for Arithmetic {
    fn add(a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }

    fn sub(a: u64, b: u64) -> u64 {
        a.wrapping_sub(b)
    }

    fn mul(a: u64, b: u64) -> u64 {
        a.wrapping_mul(b)
    }
}

impl Ring for Boolean {
    fn add(a: u64, b: u64) -> u64 {
        a ^ b
    }

    fn sub(a: u64, b: u64) -> u64 {
        a ^ b
    }

    fn mul(a: u64, b: u64) -> u64 {
        a & b
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn arithmetic_wraps() {
        assert_eq!(Arithmetic::add(u64::MAX, 2), 1);
        assert_eq!(Arithmetic::sub(1, 2), u64::MAX);
        assert_eq!(Arithmetic::mul(1 << 63, 2), 0);
    }

    #[test]
    fn boolean_is_xor_and() {
        assert_eq!(Boolean::add(0b1100, 0b1010), 0b0110);
        assert_eq!(Boolean::sub(0b0110, 0b1010), 0b1100);
        assert_eq!(Boolean::mul(0b1100, 0b1010), 0b1000);
    }
}
