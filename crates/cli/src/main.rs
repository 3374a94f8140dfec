//! `procreg`: the explorer, replay, the law catalogue and quick benchmarks from a shell.
//!
//! Why it exists: the explorer and the laws are libraries a backend's tests call; this binary
//! runs them on the bundled registries without writing a test (see the README's "CLI"
//! section). Exit codes: 0 everything passed, 1 a seed or scenario failed, 2 bad usage or
//! unreadable input (one line on stderr, never a panic).

mod args;
mod bench;
mod explore_cmd;
mod laws;
mod replay;
mod report;
mod scenarios;
mod summary;
mod sweep;
mod timeline;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

/// A sweep is allocation-bound (records, events and answers are built and dropped by the
/// thousand per seed); mimalloc runs `procreg explore` about 1.6x faster than glibc's malloc
/// (crates/conformance/benches/seeds_mimalloc.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Why a command could not do its job (as opposed to a seed that failed).
#[derive(Debug)]
pub enum CliError {
    /// A flag's value is unusable (`--shard 3/2`).
    Usage(String),
    /// A file could not be read or written.
    Io(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(message) | CliError::Io(message) => f.write_str(message),
        }
    }
}

/// Writes `text` to stdout as is. A closed pipe (`procreg laws | head`) ends the output
/// quietly instead of panicking as `println!` would.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Explore(args) => explore_cmd::explore(args),
        Command::Replay(args) => replay::replay(args),
        Command::Scenarios(args) => scenarios::scenarios(args),
        Command::Laws(args) => laws::laws(args).map(|()| true),
        Command::Bench(args) => bench::bench(args).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
