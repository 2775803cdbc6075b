//! `math.h` for the in-kernel C programs: the `libm` crate (musl's libm
//! in Rust) behind the C names. The target is soft-float, as the C
//! programs are compiled, so a `double` crosses in an integer register on
//! both sides and nothing touches the FPU, whose state the kernel does not
//! save for kernel threads.
//!
//! The set is what Secrecy calls (`ceil`, `floor`, `log2`, `sqrt`) and the
//! few next to them that MPC code commonly needs.

/// `ceil`.
#[no_mangle]
pub extern "C" fn ceil(x: f64) -> f64 {
    libm::ceil(x)
}

/// `floor`.
#[no_mangle]
pub extern "C" fn floor(x: f64) -> f64 {
    libm::floor(x)
}

/// `log2`.
#[no_mangle]
pub extern "C" fn log2(x: f64) -> f64 {
    libm::log2(x)
}

/// `sqrt`.
#[no_mangle]
pub extern "C" fn sqrt(x: f64) -> f64 {
    libm::sqrt(x)
}

/// `fabs`.
#[no_mangle]
pub extern "C" fn fabs(x: f64) -> f64 {
    libm::fabs(x)
}

/// `round`.
#[no_mangle]
pub extern "C" fn round(x: f64) -> f64 {
    libm::round(x)
}

/// `log`.
#[no_mangle]
pub extern "C" fn log(x: f64) -> f64 {
    libm::log(x)
}

/// `exp`.
#[no_mangle]
pub extern "C" fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// `pow`.
#[no_mangle]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}
