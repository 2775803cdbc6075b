//! Element types that travel as typed slices.
//!
//! Values go on the wire in little-endian byte order, which is also the
//! memory order of every host ternion-linux builds for, so a typed slice is
//! sent and received in place.

#[cfg(target_endian = "big")]
compile_error!(
    "ternion-linux sends typed slices in memory order and supports little-endian hosts only"
);

use crate::error::Error;

mod sealed {
    pub trait Sealed {}
}

/// A type whose slices can be sent, received, exchanged and opened.
pub trait Element: Copy + Send + Sync + Default + 'static + sealed::Sealed {
    /// The slice's bytes, for sending.
    fn as_bytes(values: &[Self]) -> &[u8];
    /// Fills `out` from received bytes (`bytes.len() == size_of_val(out)`),
    /// rejecting bytes that are not a valid value of the type.
    fn from_bytes(bytes: &[u8], out: &mut [Self]) -> Result<(), Error>;
    /// The slice's bytes, for receiving in place, when any bit pattern is valid.
    fn as_bytes_mut(values: &mut [Self]) -> Option<&mut [u8]>;
    /// Received bytes viewed as values in place, when any bit pattern is
    /// valid and `bytes` is aligned for the type.
    fn view(bytes: &[u8]) -> Option<&[Self]>;
}

macro_rules! pod_element {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            fn as_bytes(values: &[Self]) -> &[u8] {
                bytemuck::cast_slice(values)
            }
            fn from_bytes(bytes: &[u8], out: &mut [Self]) -> Result<(), Error> {
                bytemuck::cast_slice_mut::<$t, u8>(out).copy_from_slice(bytes);
                Ok(())
            }
            fn as_bytes_mut(values: &mut [Self]) -> Option<&mut [u8]> {
                Some(bytemuck::cast_slice_mut(values))
            }
            fn view(bytes: &[u8]) -> Option<&[Self]> {
                bytemuck::try_cast_slice(bytes).ok()
            }
        }
    )*};
}
pod_element!(u8, i8, u16, i16, u32, i32, u64, i64);

impl sealed::Sealed for bool {}
impl Element for bool {
    fn as_bytes(values: &[Self]) -> &[u8] {
        bytemuck::cast_slice(values)
    }
    fn from_bytes(bytes: &[u8], out: &mut [Self]) -> Result<(), Error> {
        for (b, o) in bytes.iter().zip(out.iter_mut()) {
            *o = match b {
                0 => false,
                1 => true,
                _ => return Err(Error::InvalidValue("bool")),
            };
        }
        Ok(())
    }
    fn as_bytes_mut(_: &mut [Self]) -> Option<&mut [u8]> {
        // Not every byte is a valid bool: receive into bytes and check.
        None
    }
    fn view(_: &[u8]) -> Option<&[Self]> {
        None
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn bools_are_checked() {
        let mut out = [false; 3];
        bool::from_bytes(&[1, 0, 1], &mut out).unwrap();
        assert_eq!(out, [true, false, true]);
        assert!(matches!(
            bool::from_bytes(&[2, 0, 0], &mut out),
            Err(Error::InvalidValue("bool"))
        ));
        assert_eq!(u64::as_bytes(&[1]), &[1, 0, 0, 0, 0, 0, 0, 0]);
    }
}
