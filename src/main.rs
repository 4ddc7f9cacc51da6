//! The `flashpoint` command line: clap parsing into validated configs, calls
//! into the library, printing, and exit codes. Nothing else.

use clap::{Args, Parser, Subcommand};
use flashpoint::sweep::{self, RunConfig};
use flashpoint::Error;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "flashpoint",
    version,
    about = "Deterministic discrete-event simulation of international tension and crisis escalation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Monte Carlo replications of a scenario and print a summary table.
    Run(RunArgs),
    /// Check a scenario and list what it contains, or every error found.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
}

#[derive(Args)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Number of replications.
    #[arg(long, default_value_t = 1000)]
    reps: u64,
    /// Master seed (default: the scenario's `seed`). Same seed, same results.
    #[arg(long)]
    seed: Option<u64>,
    /// Set a parameter: --set NAME=VALUE (repeatable; checked against its bounds).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, f64)>,
    /// Write runs.csv, summary.csv and manifest.json (and events.csv with --trace) here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Also write events.csv with every event of the first N replications (needs --out).
    #[arg(long, value_name = "N", default_value_t = 0)]
    trace: u64,
}

fn parse_set(s: &str) -> Result<(String, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got `{s}`"))?;
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number"))?;
    if !value.is_finite() {
        return Err(format!("`{s}`: the value must be finite"));
    }
    Ok((name.trim().to_string(), value))
}

fn threads(n: Option<usize>) -> Result<usize, Error> {
    match n {
        Some(0) => Err(Error::Usage("--threads must be at least 1".into())),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let command: Vec<String> = std::env::args().collect();
    match cli.command {
        Command::Run(a) => {
            if a.trace > 0 && a.out.is_none() {
                return Err(Error::Usage(
                    "--trace needs --out DIR to write events.csv".into(),
                ));
            }
            let config = RunConfig {
                scenario_path: a.scenario,
                overrides: a.set,
                reps: a.reps,
                seed: a.seed,
                threads: threads(a.threads)?,
                out: a.out,
                trace: a.trace,
                command,
            };
            let report = sweep::run(&config)?;
            let mut out = String::new();
            out.push_str(&format!(
                "{}: {} replications, seed {}, {:.2} s ({:.0} replications/s, {:.0} events/s)\n\n",
                report.scenario_name,
                report.reps,
                report.seed,
                report.seconds,
                report.reps as f64 / report.seconds.max(1e-9),
                report.events as f64 / report.seconds.max(1e-9)
            ));
            out.push_str(&sweep::render_table(&report));
            for path in &report.written {
                out.push_str(&format!("wrote {}\n", path.display()));
            }
            print(&out)
        }
        Command::Validate { scenario } => {
            let (s, _) = sweep::load_scenario(&scenario)?;
            print(&flashpoint::scenario::describe(&s))
        }
    }
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                Error::Usage(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
