//! `ternion keygen`: makes a party's static key pair.

use std::path::PathBuf;
use std::process::ExitCode;
use ternion::keys::{format_key, PrivateKey};

/// Arguments of `ternion keygen`.
#[derive(clap::Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the private key (created with mode 0600; never overwritten).
    #[arg(long, short)]
    out: PathBuf,
}

/// Writes a new private key and prints its public key.
pub fn main(args: KeygenArgs) -> Result<ExitCode, String> {
    let key = PrivateKey::generate().map_err(|e| e.to_string())?;
    key.write_new(&args.out).map_err(|e| e.to_string())?;
    println!("{}", format_key(&key.public()));
    eprintln!(
        "private key written to {} (mode 0600); give the public key above to the other parties",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
