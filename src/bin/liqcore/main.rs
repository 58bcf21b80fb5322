//! `liqcore`: the command line. `liqcore run` (the default) plays the liquidation-cascade
//! scenario through the pipeline; `liqcore replay FILE|-` runs a JSON Lines script
//! (`REPLAY.md`) through the deterministic single-thread layout.

mod replay;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A low-latency matching and liquidation core for leveraged crypto derivatives.
#[derive(Parser, Debug)]
#[command(name = "liqcore", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Play the liquidation-cascade scenario through the pipeline and report (the default).
    Run(run::RunArgs),
    /// Run a JSON Lines script of commands; write one event per line to standard output.
    Replay(replay::ReplayArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Replay(args)) => replay::main(args),
        Some(Command::Run(args)) => run::main(args),
        None => run::main(run::RunArgs::default_args()),
    }
}
