//! Build script shared by the C library crates: writes the library's
//! pkg-config file into `<target>/<profile>/pkgconfig/`, next to the library,
//! so `PKG_CONFIG_PATH=target/release/pkgconfig pkg-config --cflags --libs
//! ternion_mpi` works straight after `cargo build --release`.

use std::path::{Path, PathBuf};

/// The native libraries a Rust static library needs (`--print native-static-libs`).
const NATIVE_LIBS: &str = "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc";

fn main() {
    let package = std::env::var("CARGO_PKG_NAME").expect("cargo sets CARGO_PKG_NAME");
    let (lib, description) = match package.as_str() {
        "ternion-linux-c" => (
            "ternion",
            "ternion's native C API for three-party secure computation",
        ),
        _ => (
            "ternion_mpi",
            "ternion's MPI drop-in for three-party secure computation",
        ),
    };
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let include = manifest.join("../../include");
    let include = include.canonicalize().unwrap_or(include);
    // OUT_DIR is <target>/<profile>/build/<crate>-<hash>/out.
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let Some(libdir) = out_dir.ancestors().nth(3).map(Path::to_path_buf) else {
        return;
    };
    let dir = libdir.join("pkgconfig");
    let text = format!(
        "includedir={}\nlibdir={}\n\nName: {lib}\nDescription: {description}\nVersion: {}\n\
         Cflags: -I${{includedir}}\nLibs: -L${{libdir}} -l{lib}\nLibs.private: {NATIVE_LIBS}\n",
        include.display(),
        libdir.display(),
        std::env::var("CARGO_PKG_VERSION").unwrap_or_default(),
    );
    if std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(format!("{lib}.pc")), text))
        .is_err()
    {
        println!("cargo::warning=could not write {}/{lib}.pc", dir.display());
    }
    println!("cargo::rerun-if-changed=../pkg_config.rs");
}
