//! `rask`: run, check and inspect graph files from the command line.
//!
//! ```text
//! rask run FILE [--get KEY]... [--scheduler sync|threads] [--workers N] [--stats] [--optimize]
//! rask check FILE
//! ```
//!
//! Exit status: 0 on success, 1 when a task failed, 2 for bad input
//! (unreadable or malformed file, cycle, unknown function, wrong argument
//! count, unknown key asked for). Every error message names the file and
//! the key.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod commands;

/// Dead simple task scheduling: run graph files of tasks.
#[derive(Debug, Parser)]
#[command(name = "rask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a graph file and print the requested values as one JSON object.
    Run(RunArgs),
    /// Validate a graph file without running it.
    Check {
        /// The graph file (JSON).
        file: PathBuf,
    },
}

/// Options of `rask run`.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The graph file (JSON).
    file: PathBuf,
    /// A key to compute (repeatable; tuple keys as "('x', 0)"). Default:
    /// every key that nothing depends on.
    #[arg(long = "get", value_name = "KEY")]
    get: Vec<String>,
    /// Where tasks run.
    #[arg(long, value_enum, default_value_t = SchedulerName::Threads)]
    scheduler: SchedulerName,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    workers: Option<u32>,
    /// Print one JSON line of timings on stderr.
    #[arg(long)]
    stats: bool,
    /// Inline cheap tasks and fuse linear chains before running (the tasks
    /// counted by --stats are then the optimized ones).
    #[arg(long)]
    optimize: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchedulerName {
    /// The calling thread, one task at a time.
    Sync,
    /// A pool of threads.
    Threads,
}

/// How the CLI fails; the one place errors become exit codes.
#[derive(Debug)]
enum Failure {
    /// Bad input: exit 2.
    Input(String),
    /// A task failed: exit 1.
    Task(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => commands::run(&args),
        Command::Check { file } => commands::check(&file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            eprintln!("rask: error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Task(msg)) => {
            eprintln!("rask: error: {msg}");
            ExitCode::from(1)
        }
    }
}
