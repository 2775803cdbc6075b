//! `ternion-mpicc` and `ternion-mpicxx`: compile and link a program against
//! ternion's MPI drop-in, the way `mpicc`/`mpicxx` do for MPI.
//!
//! Headers and libraries are found from where the wrapper stands: next to
//! it and in `../../include` in a cargo build tree (`target/release/`), or
//! `../lib` and `../include` in an installed prefix. `TERNION_INCLUDE_DIR`,
//! `TERNION_LIB_DIR`, `TERNION_CC` and `TERNION_CXX` override. `-show` (or
//! `--showme`) prints the command instead of running it, for build systems
//! such as CMake's FindMPI. A `-static` link gets the static unwinder.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The native libraries a Rust static library needs (`--print native-static-libs`).
/// With `-static`, the unwinder comes from `libgcc_eh` instead, as there is
/// no static `libgcc_s`.
const NATIVE_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

fn first_existing(candidates: impl IntoIterator<Item = PathBuf>, marker: &str) -> Option<PathBuf> {
    candidates
        .into_iter()
        .find(|dir| dir.join(marker).exists())
        .map(|dir| std::fs::canonicalize(&dir).unwrap_or(dir))
}

fn locate(exe_dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let env_dir = |name: &str| std::env::var_os(name).map(PathBuf::from);
    let include = env_dir("TERNION_INCLUDE_DIR")
        .or_else(|| {
            first_existing(
                [exe_dir.join("../include"), exe_dir.join("../../include")],
                "mpi.h",
            )
        })
        .ok_or_else(|| {
            format!(
                "cannot find mpi.h near {} (set TERNION_INCLUDE_DIR)",
                exe_dir.display()
            )
        })?;
    let lib = env_dir("TERNION_LIB_DIR")
        .or_else(|| first_existing([exe_dir.to_path_buf(), exe_dir.join("../lib")], "libternion_mpi.a"))
        .ok_or_else(|| {
            format!("cannot find libternion_mpi.a near {} (build with cargo build --release, or set TERNION_LIB_DIR)", exe_dir.display())
        })?;
    Ok((include, lib))
}

/// Runs the wrapper with the process's arguments, driving the compiler named
/// by the environment variable `compiler_env`, else `default_compiler`.
pub fn run(compiler_env: &str, default_compiler: &str) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exe_dir = match std::env::current_exe() {
        Ok(exe) => exe.parent().map(Path::to_path_buf).unwrap_or_default(),
        Err(e) => {
            eprintln!("ternion-mpicc: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (include, lib) = match locate(&exe_dir) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("ternion-mpicc: {e}");
            return ExitCode::FAILURE;
        }
    };
    let compiler = std::env::var(compiler_env).unwrap_or_else(|_| default_compiler.into());
    let show = args.iter().any(|a| a == "-show" || a == "--showme");
    let user_args: Vec<&String> = args
        .iter()
        .filter(|a| *a != "-show" && *a != "--showme")
        .collect();
    let links = !user_args
        .iter()
        .any(|a| matches!(a.as_str(), "-c" | "-E" | "-S" | "-M" | "-MM"));

    let mut command = vec![compiler, format!("-I{}", include.display())];
    command.extend(user_args.iter().map(|a| a.to_string()));
    if links {
        command.push(lib.join("libternion_mpi.a").display().to_string());
        let static_link = user_args.iter().any(|a| *a == "-static");
        command.extend(NATIVE_LIBS.iter().map(|&l| {
            if static_link && l == "-lgcc_s" {
                "-lgcc_eh".to_string()
            } else {
                l.to_string()
            }
        }));
    }
    if show {
        println!("{}", command.join(" "));
        return ExitCode::SUCCESS;
    }
    match Command::new(&command[0]).args(&command[1..]).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(status.code().map_or(1, |c| c.clamp(1, 255) as u8)),
        Err(e) => {
            eprintln!("ternion-mpicc: running {}: {e}", command[0]);
            ExitCode::FAILURE
        }
    }
}
