//! `ternion-mpicxx`: `mpicxx` for ternion's MPI drop-in.

#[path = "../compiler_wrapper.rs"]
mod compiler_wrapper;

fn main() -> std::process::ExitCode {
    compiler_wrapper::run("TERNION_CXX", "c++")
}
