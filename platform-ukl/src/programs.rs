//! The application's `main`: runs the program the command line names.
//!
//! Built-in programs are the core's MPC demo and the ring benchmark (the
//! same code `ternion demo` and `ternion ring-bench` run on Linux); any other
//! name is looked up among the C programs linked into the image, whose
//! table `scripts/build-ukl.sh` generates.

use crate::comm::KernelClock;
use crate::environment::{var, PartyConfig};
use crate::party::KernelParty;
use crate::{console, glue};
use alloc::vec::Vec;
use core::ffi::{c_char, c_int, CStr};
use ternion_core::Rank;
use ternion_mpc::{demo_inputs, ring_benchmark, run_demo, RingBenchPlan};

/// One linked C program (`struct ternion_program` in the generated table).
#[repr(C)]
struct CProgram {
    name: *const c_char,
    main: Option<unsafe extern "C" fn(c_int, *mut *mut c_char) -> c_int>,
}

extern "C" {
    /// The generated table, ended by an entry with a null name.
    static ternion_programs: [CProgram; 0];
    /// The C++ runtime's (platform-ukl/cxx): runs the constructors of
    /// objects with static storage, once.
    fn ternion_cxx_construct_statics();
    /// The C library's (platform-ukl/libc): names the program in
    /// assertion messages, as glibc does.
    fn ternion_libc_set_program_name(name: *const c_char);
}

/// Elements in each party's demo input (as `ternion demo`'s default).
const DEMO_ELEMENTS: usize = 1000;
/// Seed of the demo inputs (as `ternion demo`'s default).
const DEMO_INPUT_SEED: u64 = 2026;

/// The console's log level: `RUST_LOG` on the kernel command line, as the
/// hosted `ternion` reads it from its environment (a level name only).
fn log_level() -> log::LevelFilter {
    var("RUST_LOG")
        .and_then(|level| level.parse().ok())
        .unwrap_or(log::LevelFilter::Info)
}

/// The kernel glue's entry point: `argv[0]` names the program.
///
/// # Safety
/// `argv` holds `argc` NUL-terminated strings followed by a null pointer.
#[no_mangle]
pub unsafe extern "C" fn ternion_ukl_main(argc: c_int, argv: *mut *mut c_char) -> c_int {
    console::init_logging(log_level());
    if argc < 1 || argv.is_null() {
        console::print(format_args!("ternion: no program named"));
        return 127;
    }
    // SAFETY: the glue passes argc valid C strings.
    let words: Vec<&str> = (0..argc as usize)
        .map(|i| {
            unsafe { CStr::from_ptr(*argv.add(i)) }
                .to_str()
                .unwrap_or("")
        })
        .collect();
    match words[0] {
        "demo" => demo(),
        "ring-bench" => ring_bench(words.get(1) == Some(&"--quick")),
        name => {
            // SAFETY: the table is a static array ended by a null name.
            match unsafe { find_c_program(name) } {
                // SAFETY: the C and C++ programs' static objects are built
                // before their main runs, as in a process; main is called
                // with the glue's argv, and its return is an exit.
                Some(main) => unsafe {
                    ternion_libc_set_program_name(*argv);
                    ternion_cxx_construct_statics();
                    crate::libc::exit(main(argc, argv))
                },
                None => {
                    console::print(format_args!(
                        "ternion: no program called {name:?} in this image"
                    ));
                    127
                }
            }
        }
    }
}

/// # Safety
/// `ternion_programs` must be a table ended by an entry with a null name.
unsafe fn find_c_program(
    name: &str,
) -> Option<unsafe extern "C" fn(c_int, *mut *mut c_char) -> c_int> {
    let mut entry = core::ptr::addr_of!(ternion_programs).cast::<CProgram>();
    loop {
        // SAFETY: `entry` stays inside the table until the terminator.
        let current = unsafe { &*entry };
        if current.name.is_null() {
            return None;
        }
        // SAFETY: names in the table are C strings.
        if unsafe { CStr::from_ptr(current.name) }.to_bytes() == name.as_bytes() {
            return current.main;
        }
        // SAFETY: not at the terminator yet, so the next entry exists.
        entry = unsafe { entry.add(1) };
    }
}

fn connect() -> Option<KernelParty> {
    match PartyConfig::from_environment(None, None, None).and_then(|c| KernelParty::connect(&c)) {
        Ok(party) => Some(party),
        Err(e) => {
            console::print(format_args!("ternion: {e}"));
            None
        }
    }
}

/// The MPC demo as one party; prints the report at party 0.
fn demo() -> c_int {
    let Some(party) = connect() else { return 1 };
    let mut input_seed = [0u8; 32];
    input_seed[..8].copy_from_slice(&DEMO_INPUT_SEED.to_le_bytes());
    let elements = var("TERNION_DEMO_ELEMENTS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEMO_ELEMENTS);
    let input = demo_inputs(input_seed, party.rank(), elements);
    let mut protocol_seed = [0u8; 32];
    glue::random(&mut protocol_seed);
    let report = match run_demo(&mut &party, &input, protocol_seed) {
        Ok(report) => report,
        Err(e) => {
            console::print(format_args!("ternion: demo failed: {e}"));
            return 1;
        }
    };
    if party.rank() == Rank::ZERO {
        console::print(format_args!("{report}"));
    }
    let correct = report.all_correct();
    console::print(format_args!(
        "{}",
        if correct {
            "all results correct"
        } else {
            "RESULTS WRONG"
        }
    ));
    if let Err(e) = party.close() {
        console::print(format_args!("ternion: closing: {e}"));
        return 1;
    }
    if correct {
        0
    } else {
        1
    }
}

/// The ring benchmark as one party; prints one `ternion-bench` line.
fn ring_bench(quick: bool) -> c_int {
    let Some(party) = connect() else { return 1 };
    let plan = if quick {
        RingBenchPlan::QUICK
    } else {
        RingBenchPlan::STANDARD
    };
    let outcome = ring_benchmark(&mut &party, &KernelClock, plan);
    let code = match outcome {
        Ok(Ok(report)) => {
            console::print(format_args!(
                "ternion-bench backend=kernel rank={} {report}",
                party.rank().index()
            ));
            0
        }
        Ok(Err(mismatch)) => {
            console::print(format_args!("ternion: ring benchmark: {mismatch}"));
            1
        }
        Err(e) => {
            console::print(format_args!("ternion: ring benchmark: {e}"));
            1
        }
    };
    match party.close() {
        Ok(()) => code,
        Err(e) => {
            console::print(format_args!("ternion: closing: {e}"));
            1
        }
    }
}
