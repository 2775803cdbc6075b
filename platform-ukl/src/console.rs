//! Text to the kernel console: the `log` facade and Rust-side reports go
//! through printk, one console line per line of text.

use crate::glue;
use core::fmt::{self, Write};

/// Longest line sent to printk at once; longer lines are split.
const LINE: usize = 256;

/// Collects formatted text and prints it line by line.
pub struct Console {
    line: [u8; LINE],
    len: usize,
}

impl Console {
    /// An empty line buffer.
    pub const fn new() -> Console {
        Console {
            line: [0; LINE],
            len: 0,
        }
    }

    /// Prints whatever is buffered as one line.
    pub fn flush(&mut self) {
        if self.len > 0 {
            glue::print(&self.line[..self.len]);
            self.len = 0;
        }
    }
}

impl Default for Console {
    fn default() -> Self {
        Console::new()
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &byte in s.as_bytes() {
            if byte == b'\n' {
                self.flush();
                continue;
            }
            if self.len == LINE {
                self.flush();
            }
            self.line[self.len] = byte;
            self.len += 1;
        }
        Ok(())
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Prints formatted text on the console.
pub fn print(args: fmt::Arguments<'_>) {
    let mut console = Console::new();
    let _ = console.write_fmt(args);
}

/// The `log` facade's backend: every record goes to printk with its level.
struct KernelLogger;

impl log::Log for KernelLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            print(format_args!(
                "{} {}: {}",
                record.level(),
                record.target(),
                record.args()
            ));
        }
    }

    fn flush(&self) {}
}

static LOGGER: KernelLogger = KernelLogger;

/// Routes `log` records to the console at `level` and above (idempotent).
pub fn init_logging(level: log::LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
