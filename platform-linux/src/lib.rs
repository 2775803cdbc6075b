//! ternion on Linux.
