//! `liqcore replay FILE|-`: the JSON Lines front door (`REPLAY.md`). A thin shell around
//! [`liqcore::replay::run_replay`]: open the script, buffer standard output, map the outcome
//! to an exit status (0 done, 1 I/O error, 2 malformed line).

use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use liqcore::replay::{ReplayError, run_replay};

/// Arguments of `liqcore replay`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Exit status: 0 when the script ran to its end, 2 at a malformed line \
                  (every earlier event is printed first), 1 when the script cannot be read or \
                  the events cannot be written. The format: REPLAY.md, or the docs of \
                  liqcore::replay."
)]
pub struct ReplayArgs {
    /// The script: a file of JSON Lines commands (REPLAY.md), or `-` for standard input.
    /// Events go to standard output, one JSON object per line; a malformed line stops the run
    /// with `line N: reason` on standard error and exit status 2.
    pub file: PathBuf,
}

/// Runs the replay: exit status 0 when the script ran to its end, 2 on a malformed line, 1 if
/// the script cannot be read or the events cannot be written.
pub fn main(args: ReplayArgs) -> ExitCode {
    let output = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let result = if args.file.as_os_str() == "-" {
        run_replay(io::stdin().lock(), output)
    } else {
        match File::open(&args.file) {
            Ok(file) => run_replay(BufReader::with_capacity(1 << 16, file), output),
            Err(error) => {
                eprintln!(
                    "liqcore replay: cannot open {}: {error}",
                    args.file.display()
                );
                return ExitCode::from(1);
            }
        }
    };
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(ReplayError::Malformed(malformed)) => {
            eprintln!("{malformed}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("liqcore replay: {}: {error}", args.file.display());
            ExitCode::from(error.exit_status())
        }
    }
}
