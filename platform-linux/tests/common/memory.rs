//! The process's resident memory, as the kernel reports it.
//!
//! Shared by the integration tests (`tests/common`) and the soak program
//! (`examples/soak.rs`, which includes this file by path).

/// Resident set sizes from `/proc/self/status`, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resident {
    /// Resident now (`VmRSS`).
    pub now_kib: u64,
    /// The most ever resident (`VmHWM`, the high-water mark). The kernel
    /// records it only when it is about to unmap pages, so it can lag
    /// behind a `VmRSS` read earlier.
    pub peak_kib: u64,
}

impl Resident {
    /// Reads the current figures.
    pub fn read() -> Resident {
        let status = std::fs::read_to_string("/proc/self/status")
            .expect("/proc/self/status is readable on Linux");
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
        };
        Resident {
            now_kib: field("VmRSS:"),
            peak_kib: field("VmHWM:"),
        }
    }
}
