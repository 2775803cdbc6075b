//! The MPI subset: types and constants, reductions, and the calls.

pub mod calls;
pub mod reduce;
pub mod types;
