//! `rask`: run, check and inspect graph files from the command line.
//!
//! ```text
//! rask run FILE [--get KEY]... [--scheduler sync|threads] [--workers N] [--stats] [--optimize]
//!          [--progress] [--profile PROFILE.json|PROFILE.html] [--cache DIR]
//!          [--allow shell] [--timeout SECONDS] [--retries N]
//! rask check FILE
//! rask show FILE [--json]
//! rask dot FILE [-o OUT.dot|OUT.svg|OUT.png] [--color order|duration] [--profile-from PROFILE.json]
//! ```
//!
//! Exit status: 0 on success, 1 when a task failed (or a result is a
//! float JSON cannot hold, or `--timeout` stopped the run), 2 for bad
//! input (unreadable or malformed file, cycle, unknown function, wrong
//! argument count, unknown key asked for, a built-in not allowed, a closed
//! or unwritable standard output). Every error message names the file and
//! the key. `SIGINT`, `SIGTERM` and `SIGHUP` end every program the run
//! started, then rask itself, as that signal ends a program (see
//! `interrupt.rs`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand, ValueEnum};

mod commands;
mod dot;
mod interrupt;
mod show;
mod timeout;

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
    /// Summarize a graph file: tasks, edges, depth, widest level, critical
    /// path, functions, peak live values.
    Show {
        /// The graph file (JSON).
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Draw a graph file as Graphviz DOT (stdout), or as SVG/PNG with -o.
    Dot(DotArgs),
}

/// Options of `rask dot`.
#[derive(Debug, clap::Args)]
struct DotArgs {
    /// The graph file (JSON).
    file: PathBuf,
    /// Where to write: .dot or .gv (DOT text), .svg, .png or .pdf (drawn
    /// by Graphviz's `dot`). Default: DOT text on stdout.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Colour the nodes by `order` priority or by measured duration.
    #[arg(long, value_enum)]
    color: Option<ColorBy>,
    /// The profile (a Chrome trace from `rask run --profile X.json`)
    /// whose durations colour the nodes.
    #[arg(long, value_name = "PROFILE")]
    profile_from: Option<PathBuf>,
}

/// What `rask dot --color` colours by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorBy {
    /// `order` priority: dark runs first, yellow last.
    Order,
    /// Measured duration from --profile-from: dark red is slowest.
    Duration,
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
    /// With --scheduler processes: run a task again, on a fresh worker
    /// process, up to N times when its worker dies (default 0: the run
    /// fails, exit 1, naming the task).
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,
    /// Print one JSON line of timings on stderr.
    #[arg(long)]
    stats: bool,
    /// Inline cheap tasks and fuse linear chains before running (the tasks
    /// counted by --stats are then the optimized ones).
    #[arg(long)]
    optimize: bool,
    /// Show a progress bar on stderr (plain lines when stderr is not a
    /// terminal).
    #[arg(long)]
    progress: bool,
    /// Write a profile of the run: a Chrome trace (.json, for Perfetto) or
    /// a self-contained HTML timeline with CPU and memory (.html).
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Allow the built-ins that reach outside rask: `shell` runs programs
    /// (repeatable). A file that calls one not allowed stops before
    /// anything runs (exit 2).
    #[arg(long, value_enum, value_name = "WHAT")]
    allow: Vec<Allow>,
    /// Stop the run when it has taken SECONDS (counted from its first
    /// task): the tasks still running are named on stderr, nothing is
    /// printed on stdout, and the exit status is 1.
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: Option<std::time::Duration>,
    /// Keep results in DIR (created if missing): a run loads what an
    /// earlier run of the same tasks finished and computes only the rest.
    /// With --stats, "executed" and "cached" count the calls run and not.
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
}

/// A `--timeout`: seconds, more than zero.
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{text:?} is not a number of seconds above zero"))
}

/// What `rask run --allow` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Allow {
    /// The `shell` built-in: runs programs, as the user running rask.
    Shell,
}

impl Allow {
    /// The name the registry knows it by.
    fn name(self) -> &'static str {
        match self {
            Allow::Shell => "shell",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchedulerName {
    /// The calling thread, one task at a time.
    Sync,
    /// A pool of threads.
    Threads,
    /// The ranks of an MPI job: start as `mpirun -np N rask run ...`;
    /// `--workers` is the threads per rank (built with `--features mpi`).
    #[cfg(feature = "mpi")]
    Mpi,
    /// A pool of forked worker processes.
    Processes,
}

/// How the CLI fails; the one place errors become exit codes.
#[derive(Debug)]
enum Failure {
    /// Bad input: exit 2.
    Input(String),
    /// A task failed: exit 1.
    Task(String),
}

/// Whether standard output was closed when the program started. Rust's
/// runtime points a closed standard output at `/dev/null` before `main`,
/// where every write succeeds: only a look before it tells.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
#[ctor::ctor(unsafe)]
fn note_closed_stdout() {
    // SAFETY: fcntl(F_GETFD) only reads the flags of descriptor 1 (or fails
    // with EBADF when it is closed); it needs nothing of Rust's runtime.
    let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
    STDOUT_CLOSED.store(closed, Ordering::Relaxed);
}

/// Fails (exit 2) when standard output was closed at start: whatever the
/// command prints would be lost.
pub(crate) fn stdout_open() -> Result<(), Failure> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Err(Failure::Input(
            "standard output is closed: nothing could be printed".into(),
        ));
    }
    Ok(())
}

/// Writes `text` to standard output and flushes it; a closed standard
/// output or a failed write (a full disk, a closed pipe) is exit 2.
pub(crate) fn print(text: &[u8]) -> Result<(), Failure> {
    stdout_open()?;
    let mut out = std::io::stdout().lock();
    out.write_all(text)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Input(format!("cannot write to standard output: {e}")))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => {
            // before any thread starts: they inherit the blocked signals
            interrupt::start();
            let result = commands::run(&args);
            interrupt::wait_if_interrupted();
            interrupt::finish();
            result
        }
        Command::Check { file } => commands::check(&file),
        Command::Show { file, json } => show::show(&file, json),
        Command::Dot(args) => dot::dot(&args),
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
