//! `liqcore run` (the default command): the liquidation-cascade scenario. Until the pipeline
//! lands it runs the ring demonstration in `ring_demo.rs`.

#[path = "ring_demo.rs"]
mod ring_demo;

use std::process::ExitCode;

/// Arguments of `liqcore run`.
#[derive(clap::Args, Debug, Default)]
pub struct RunArgs {}

impl RunArgs {
    /// The arguments `liqcore` with no subcommand runs with.
    pub fn default_args() -> RunArgs {
        RunArgs::default()
    }
}

/// Runs the scenario.
pub fn main(_args: RunArgs) -> ExitCode {
    ring_demo::main();
    ExitCode::SUCCESS
}
