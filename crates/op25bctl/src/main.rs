//! `op25bctl`: see `op25bctl --help`. The logic lives in the library (`op25bctl::run`).

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = op25bctl::Cli::parse();
    let outcome = op25bctl::run(&cli);
    // A closed stdout (e.g. `| head`) is not worth a panic; the exit code still tells.
    let _ = std::io::stdout().write_all(outcome.stdout.as_bytes());
    let _ = std::io::stderr().write_all(outcome.stderr.as_bytes());
    ExitCode::from(outcome.code)
}
