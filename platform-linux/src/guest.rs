//! Running as a virtual machine's init process, as the hosted comparison
//! guests of `scripts/run-qemu.sh` do: the kernel starts `ternion` as
//! `/init`, and when it is done there is nothing to return to.

use std::io::Write;

/// True if this process is the machine's init (process 1).
pub fn is_init() -> bool {
    std::process::id() == 1
}

/// Ends the machine: flushes output and restarts (QEMU's `-no-reboot`
/// turns the restart into an exit). An init must never return, so if the
/// kernel refuses, this waits forever.
pub fn restart() -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let error = crate::sys::restart_machine();
    eprintln!("ternion: cannot restart the machine: {error}");
    loop {
        std::thread::park();
    }
}
