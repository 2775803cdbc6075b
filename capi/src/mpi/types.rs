//! The C types and constants of `mpi.h`. Every value here must match
//! `include/mpi.h`; `tests/mpi` checks them from C.

#![allow(non_camel_case_types, non_snake_case)]

use core::ffi::c_int;

/// A communicator handle (only `MPI_COMM_WORLD` exists).
pub type MPI_Comm = c_int;
/// A datatype handle.
pub type MPI_Datatype = c_int;
/// A reduction operation handle.
pub type MPI_Op = c_int;
/// A request handle: a core request id as an integer, 0 for none.
pub type MPI_Request = i64;
/// An error handler handle.
pub type MPI_Errhandler = c_int;

/// Errors end the job (the default).
pub const MPI_ERRORS_ARE_FATAL: MPI_Errhandler = 1;
/// Errors are returned as codes.
pub const MPI_ERRORS_RETURN: MPI_Errhandler = 2;

/// The only communicator: all three parties.
pub const MPI_COMM_WORLD: MPI_Comm = 1;
/// The null request.
pub const MPI_REQUEST_NULL: MPI_Request = 0;
/// Matches any source.
pub const MPI_ANY_SOURCE: c_int = -1;
/// Matches any tag.
pub const MPI_ANY_TAG: c_int = -1;
/// Returned by `MPI_Get_count` when the length is not a whole number of elements.
pub const MPI_UNDEFINED: c_int = -32766;
/// Room `MPI_Error_string` may use.
pub const MPI_MAX_ERROR_STRING: usize = 256;

/// The status of a completed receive (or send).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct MPI_Status {
    /// Rank of the message's sender.
    pub MPI_SOURCE: c_int,
    /// Tag of the message.
    pub MPI_TAG: c_int,
    /// Error code of the operation.
    pub MPI_ERROR: c_int,
    /// Padding, zero.
    pub ternion_reserved: c_int,
    /// Bytes in the message (read with `MPI_Get_count`).
    pub ternion_bytes: i64,
}

/// Error codes (`MPI_SUCCESS` is 0).
pub mod code {
    #![allow(missing_docs)]
    use core::ffi::c_int;
    pub const MPI_SUCCESS: c_int = 0;
    pub const MPI_ERR_BUFFER: c_int = 1;
    pub const MPI_ERR_COUNT: c_int = 2;
    pub const MPI_ERR_TYPE: c_int = 3;
    pub const MPI_ERR_TAG: c_int = 4;
    pub const MPI_ERR_COMM: c_int = 5;
    pub const MPI_ERR_RANK: c_int = 6;
    pub const MPI_ERR_REQUEST: c_int = 7;
    pub const MPI_ERR_ROOT: c_int = 8;
    pub const MPI_ERR_OP: c_int = 9;
    pub const MPI_ERR_ARG: c_int = 10;
    pub const MPI_ERR_TRUNCATE: c_int = 11;
    pub const MPI_ERR_OTHER: c_int = 12;
    pub const MPI_ERR_INTERN: c_int = 13;
    pub const MPI_ERR_IN_STATUS: c_int = 14;
    pub const MPI_ERR_PENDING: c_int = 15;
    pub const MPI_ERR_NOT_INITIALIZED: c_int = 16;
    pub const MPI_ERR_LINK: c_int = 17;
    pub const MPI_ERR_LASTCODE: c_int = 18;
}

/// The message of an error code.
pub fn error_message(c: c_int) -> &'static str {
    match c {
        code::MPI_SUCCESS => "MPI_SUCCESS: no error",
        code::MPI_ERR_BUFFER => "MPI_ERR_BUFFER: invalid buffer pointer",
        code::MPI_ERR_COUNT => "MPI_ERR_COUNT: invalid count argument",
        code::MPI_ERR_TYPE => {
            "MPI_ERR_TYPE: invalid datatype, or a message that is not a whole number of elements"
        }
        code::MPI_ERR_TAG => "MPI_ERR_TAG: invalid tag",
        code::MPI_ERR_COMM => "MPI_ERR_COMM: invalid communicator",
        code::MPI_ERR_RANK => "MPI_ERR_RANK: invalid rank",
        code::MPI_ERR_REQUEST => "MPI_ERR_REQUEST: invalid request",
        code::MPI_ERR_ROOT => "MPI_ERR_ROOT: invalid root",
        code::MPI_ERR_OP => "MPI_ERR_OP: invalid reduce operation for this datatype",
        code::MPI_ERR_ARG => "MPI_ERR_ARG: invalid argument",
        code::MPI_ERR_TRUNCATE => "MPI_ERR_TRUNCATE: message truncated",
        code::MPI_ERR_OTHER => "MPI_ERR_OTHER: other error",
        code::MPI_ERR_INTERN => "MPI_ERR_INTERN: internal error",
        code::MPI_ERR_IN_STATUS => "MPI_ERR_IN_STATUS: error code is in status",
        code::MPI_ERR_PENDING => "MPI_ERR_PENDING: pending request",
        code::MPI_ERR_NOT_INITIALIZED => "MPI_ERR_NOT_INITIALIZED: MPI_Init has not been called",
        code::MPI_ERR_LINK => "MPI_ERR_LINK: the link to a party failed",
        _ => "unknown error code",
    }
}

/// What an element of a datatype is, for reductions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// Signed integer of this many bytes.
    Signed(usize),
    /// Unsigned integer of this many bytes.
    Unsigned(usize),
    /// IEEE float of this many bytes.
    Float(usize),
    /// A one-byte C `bool`.
    Bool,
}

impl Element {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Element::Signed(n) | Element::Unsigned(n) | Element::Float(n) => n,
            Element::Bool => 1,
        }
    }
}

/// Datatype handles (values match `include/mpi.h`).
pub mod datatype {
    #![allow(missing_docs)]
    use super::MPI_Datatype;
    pub const MPI_CHAR: MPI_Datatype = 1;
    pub const MPI_UNSIGNED_CHAR: MPI_Datatype = 2;
    pub const MPI_BYTE: MPI_Datatype = 3;
    pub const MPI_SHORT: MPI_Datatype = 4;
    pub const MPI_UNSIGNED_SHORT: MPI_Datatype = 5;
    pub const MPI_INT: MPI_Datatype = 6;
    pub const MPI_UNSIGNED: MPI_Datatype = 7;
    pub const MPI_LONG: MPI_Datatype = 8;
    pub const MPI_UNSIGNED_LONG: MPI_Datatype = 9;
    pub const MPI_LONG_LONG: MPI_Datatype = 10;
    pub const MPI_UNSIGNED_LONG_LONG: MPI_Datatype = 11;
    pub const MPI_FLOAT: MPI_Datatype = 12;
    pub const MPI_DOUBLE: MPI_Datatype = 13;
    pub const MPI_C_BOOL: MPI_Datatype = 14;
    pub const MPI_INT8_T: MPI_Datatype = 15;
    pub const MPI_INT16_T: MPI_Datatype = 16;
    pub const MPI_INT32_T: MPI_Datatype = 17;
    pub const MPI_INT64_T: MPI_Datatype = 18;
    pub const MPI_UINT8_T: MPI_Datatype = 19;
    pub const MPI_UINT16_T: MPI_Datatype = 20;
    pub const MPI_UINT32_T: MPI_Datatype = 21;
    pub const MPI_UINT64_T: MPI_Datatype = 22;
    pub const MPI_SIGNED_CHAR: MPI_Datatype = 23;
}

/// The element behind a datatype handle (C `long` is 64-bit on the LP64
/// platforms ternion supports).
pub fn element_of(dt: MPI_Datatype) -> Option<Element> {
    use datatype::*;
    Some(match dt {
        MPI_CHAR | MPI_SIGNED_CHAR | MPI_INT8_T => Element::Signed(1),
        MPI_UNSIGNED_CHAR | MPI_BYTE | MPI_UINT8_T => Element::Unsigned(1),
        MPI_SHORT | MPI_INT16_T => Element::Signed(2),
        MPI_UNSIGNED_SHORT | MPI_UINT16_T => Element::Unsigned(2),
        MPI_INT | MPI_INT32_T => Element::Signed(4),
        MPI_UNSIGNED | MPI_UINT32_T => Element::Unsigned(4),
        MPI_LONG | MPI_LONG_LONG | MPI_INT64_T => Element::Signed(8),
        MPI_UNSIGNED_LONG | MPI_UNSIGNED_LONG_LONG | MPI_UINT64_T => Element::Unsigned(8),
        MPI_FLOAT => Element::Float(4),
        MPI_DOUBLE => Element::Float(8),
        MPI_C_BOOL => Element::Bool,
        _ => return None,
    })
}

/// Reduction operations (values match `include/mpi.h`).
pub mod op {
    #![allow(missing_docs)]
    use super::MPI_Op;
    pub const MPI_SUM: MPI_Op = 1;
    pub const MPI_MAX: MPI_Op = 2;
    pub const MPI_MIN: MPI_Op = 3;
    pub const MPI_BAND: MPI_Op = 4;
    pub const MPI_BOR: MPI_Op = 5;
    pub const MPI_BXOR: MPI_Op = 6;
    pub const MPI_PROD: MPI_Op = 7;
}
