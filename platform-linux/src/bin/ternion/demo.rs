use std::process::ExitCode;
/// Arguments of `ternion demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {}
/// placeholder until the mpc module lands
pub fn main(_: DemoArgs) -> Result<ExitCode, String> {
    Err("not yet".into())
}
