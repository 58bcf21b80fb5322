//! `liqcore replay FILE|-`: the JSON Lines front door (`REPLAY.md`).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `liqcore replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The script: a file of JSON Lines commands, or `-` for standard input.
    pub file: PathBuf,
}

/// Runs the replay; exit status 2 on a malformed line.
pub fn main(args: ReplayArgs) -> ExitCode {
    eprintln!(
        "liqcore replay {}: not implemented yet",
        args.file.display()
    );
    ExitCode::FAILURE
}
