//! Hex text for keys and session identifiers, as configurations carry them.

/// Decodes exactly `2 * N` hex digits (either case); `None` for anything else.
pub fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|v| v as u8)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_both_cases_and_rejects_everything_else() {
        assert_eq!(decode::<2>("0aFf"), Some([0x0a, 0xff]));
        assert_eq!(decode::<2>("0aF"), None);
        assert_eq!(decode::<2>("0aFf0"), None);
        assert_eq!(decode::<2>("0g00"), None);
        assert_eq!(decode::<2>("+1ab"), None);
        assert_eq!(decode::<1>("é"), None);
    }
}
