//! The `op25bctl` command line: argument definitions and the commands, as functions
//! that return their output and exit code so they can be tested without a process.
//!
//! Offline commands: `check`, `explain`, `impact`. Commands that talk to a running
//! `op25bd` over its API (`--api`): `push`, `config`, `stats`, `top`, `blocked`; they
//! exit with [`EXIT_UNREACHABLE`] when the daemon cannot be reached.

pub mod daemon;
pub mod http;

use clap::{Args, Parser, Subcommand};
use policy::{ConfigErrors, Direction, Loaded};
use serde_json::json;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Success.
pub const EXIT_OK: u8 = 0;
/// The configuration was rejected (every error is listed).
pub const EXIT_REJECTED: u8 = 1;
/// Bad command line (clap's own exit code).
pub const EXIT_USAGE: u8 = 2;
/// The daemon's API could not be reached (connection refused, timeout, bad address).
pub const EXIT_UNREACHABLE: u8 = 3;
/// The daemon answered but refused the request (no or wrong token, a stalled
/// worker, the control loop busy); its message is printed.
pub const EXIT_REFUSED: u8 = 4;

/// Source port assumed for the subscriber side of an explained connection.
pub const EPHEMERAL_PORT: u16 = 49152;

#[derive(Debug, Parser)]
#[command(
    name = "op25bctl",
    version,
    about = "Check, explain and push op25b Outbound Port 25 Blocking policies; read a running op25bd",
    long_about = "Check, explain and push op25b Outbound Port 25 Blocking (OP25B) policies, \
        and read a running op25bd.\n\n\
        check, explain and impact work offline on a config file, exactly as op25bd would load it. \
        push, config, stats, top and blocked talk to op25bd's API: --api HOST:PORT (default \
        127.0.0.1:9025, or $OP25B_API) and --token-file FILE (or $OP25B_TOKEN_FILE) when \
        op25bd runs with --api-token-file.\n\n\
        Exit status: 0 success; 1 config rejected (every error listed; the running config \
        stays); 2 usage error; 3 daemon unreachable; 4 the daemon refused the request \
        (token, stalled worker; its message is printed).",
    after_long_help = "Examples:\n  \
        op25bctl check /etc/op25b/op25b.yaml\n  \
        op25bctl push /etc/op25b/op25b.yaml --api 127.0.0.1:9025 --token-file /etc/op25b/api-token\n  \
        op25bctl stats\n  \
        op25bctl top -n 20\n  \
        op25bctl blocked --limit 50 --json\n  \
        op25bctl config > running.yaml\n  \
        op25bctl check --json /etc/op25b/op25b.yaml\n  \
        op25bctl explain configs/example.yaml 198.51.100.7 192.0.2.10 25\n  \
        op25bctl explain configs/example.yaml 192.0.2.10 198.51.100.7 25 --inbound\n  \
        op25bctl impact configs/example.yaml > impact.md"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a config file; print a summary, or every error with file:line:column
    #[command(long_about = "Validate a config file the way op25bd loads it.\n\n\
        Accepted: prints a summary (pools with prefix counts per family and mode, relays, \
        scope, ports, actions, the policy hash) and any warnings, exits 0.\n\
        Rejected: prints every error as FILE:LINE:COLUMN: key.path: message, exits 1.")]
    Check(CheckArgs),
    /// Show the verdict for one connection and why (pool, prefix, relay, scope, mode, action)
    #[command(
        long_about = "Show what the policy in FILE does to one TCP connection and why: \
        which pool the subscriber address falls in and by which prefix, whether the other \
        end is a relay or in scope, the pool's mode and action.\n\n\
        Outbound (default): SRC is the subscriber, DST the mail server, PORT the \
        destination port.\n\
        Inbound (--inbound): a packet arriving from the core; SRC is the remote server, DST \
        the subscriber, PORT the remote's source port."
    )]
    Explain(ExplainArgs),
    /// Print the customer-facing impact table (pool x destination x port) as Markdown
    #[command(
        long_about = "Print the customer-facing impact table that ISPs publish: for \
        each pool, toward the allowed relays and toward other mail servers (inside and \
        outside the scope, if any), whether port 25, 587 and 465 work, and why. Markdown."
    )]
    Impact(ImpactArgs),
    /// Push a config file to op25bd: validated, compiled and swapped in, or rejected with every error
    #[command(
        long_about = "Push FILE to the running op25bd (PUT /v1/config). op25bd \
        validates and compiles it and swaps it in atomically; the answer names the new \
        generation and hash. A rejected config lists every error as FILE:LINE:COLUMN: key.path: \
        message, exits 1, and changes nothing."
    )]
    Push(PushArgs),
    /// Print the config op25bd runs now (YAML; generation and hash as comments)
    Config(daemon::DaemonArgs),
    /// Counters of the running op25bd: per direction, per pool, per worker
    Stats(daemon::DaemonArgs),
    /// The subscribers with the most blocked attempts in op25bd's window (the likely infected)
    Top(TopArgs),
    /// The most recent blocked connection attempts (sampled), newest first
    Blocked(BlockedArgs),
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The YAML config file
    pub file: PathBuf,
    #[command(flatten)]
    pub daemon: daemon::DaemonArgs,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    /// How many subscribers
    #[arg(short = 'n', long = "count", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub count: u64,
    #[command(flatten)]
    pub daemon: daemon::DaemonArgs,
}

#[derive(Debug, Args)]
pub struct BlockedArgs {
    /// How many samples at most
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub limit: u64,
    #[command(flatten)]
    pub daemon: daemon::DaemonArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The YAML config file
    pub file: PathBuf,
    /// Print one JSON object instead of text (for provisioning systems)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The YAML config file
    pub file: PathBuf,
    /// Source address (the subscriber; the remote server with --inbound)
    pub src: IpAddr,
    /// Destination address (the mail server; the subscriber with --inbound)
    pub dst: IpAddr,
    /// The mail port: destination port, or source port with --inbound
    #[arg(default_value_t = 25)]
    pub port: u16,
    /// Explain a packet arriving on the core port (the inbound rule)
    #[arg(long)]
    pub inbound: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// The YAML config file
    pub file: PathBuf,
}

/// What a command printed and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
}

impl Outcome {
    pub(crate) fn ok(stdout: String, stderr: String) -> Outcome {
        Outcome {
            stdout,
            stderr,
            code: EXIT_OK,
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: &Cli) -> Outcome {
    match &cli.command {
        Command::Check(a) => check(&a.file, a.json),
        Command::Explain(a) => explain(a),
        Command::Impact(a) => impact(&a.file),
        Command::Push(a) => daemon::push(&a.file, &a.daemon),
        Command::Config(d) => daemon::config(d),
        Command::Stats(d) => daemon::stats(d),
        Command::Top(a) => daemon::top(a.count as usize, &a.daemon),
        Command::Blocked(a) => daemon::blocked(a.limit as usize, &a.daemon),
    }
}

fn rejected_text(file: &Path, errors: &ConfigErrors) -> Outcome {
    let n = errors.len();
    Outcome {
        stdout: String::new(),
        stderr: format!(
            "{errors}\n{}: rejected ({n} error{})\n",
            file.display(),
            if n == 1 { "" } else { "s" }
        ),
        code: EXIT_REJECTED,
    }
}

fn rejected_json(file: &Path, errors: &ConfigErrors) -> Outcome {
    let body = json!({ "ok": false, "file": file.display().to_string(), "errors": errors });
    Outcome {
        stdout: format!("{}\n", pretty(&body)),
        stderr: String::new(),
        code: EXIT_REJECTED,
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn warnings_text(loaded: &Loaded) -> String {
    loaded
        .warnings
        .iter()
        .map(|w| {
            let mut s = w.to_string();
            // "FILE:L:C: path: msg" -> "FILE:L:C: warning: path: msg"
            let head = format!("{}:{}:{}:", w.file, w.line, w.column);
            if let Some(rest) = s.strip_prefix(&head) {
                s = format!("{head} warning:{rest}");
            }
            s + "\n"
        })
        .collect()
}

/// `op25bctl check FILE [--json]`.
pub fn check(file: &Path, as_json: bool) -> Outcome {
    match policy::load_file(file) {
        Err(errors) if as_json => rejected_json(file, &errors),
        Err(errors) => rejected_text(file, &errors),
        Ok(loaded) if as_json => {
            let body = json!({
                "ok": true,
                "file": file.display().to_string(),
                "summary": loaded.tables.summary(),
                "warnings": loaded.warnings,
            });
            Outcome::ok(format!("{}\n", pretty(&body)), String::new())
        }
        Ok(loaded) => Outcome::ok(
            format!("{}: OK\n{}", file.display(), loaded.tables.summary()),
            warnings_text(&loaded),
        ),
    }
}

/// `op25bctl explain FILE SRC DST [PORT] [--inbound] [--json]`.
pub fn explain(a: &ExplainArgs) -> Outcome {
    let loaded = match policy::load_file(&a.file) {
        Ok(l) => l,
        Err(errors) if a.json => return rejected_json(&a.file, &errors),
        Err(errors) => return rejected_text(&a.file, &errors),
    };
    let (dir, sport, dport) = if a.inbound {
        (Direction::Inbound, a.port, EPHEMERAL_PORT)
    } else {
        (Direction::Outbound, EPHEMERAL_PORT, a.port)
    };
    let explanation = loaded.tables.explain(dir, a.src, sport, a.dst, dport);
    let mut stderr = String::new();
    if a.src.is_ipv4() != a.dst.is_ipv4() {
        stderr.push_str(
            "note: SRC and DST are of different address families; no real packet looks like \
             this, each address was looked up in its own family\n",
        );
    }
    if a.json {
        let body = json!({
            "ok": true,
            "file": a.file.display().to_string(),
            "hash": loaded.tables.hash(),
            "explanation": explanation,
        });
        Outcome::ok(format!("{}\n", pretty(&body)), stderr)
    } else {
        Outcome::ok(explanation.to_string(), stderr)
    }
}

/// `op25bctl impact FILE`.
pub fn impact(file: &Path) -> Outcome {
    match policy::load_file(file) {
        Err(errors) => rejected_text(file, &errors),
        Ok(loaded) => Outcome::ok(loaded.tables.impact().to_markdown(), warnings_text(&loaded)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn explain_port_defaults_to_25_and_addresses_are_parsed() {
        let cli = Cli::try_parse_from([
            "op25bctl",
            "explain",
            "f.yaml",
            "198.51.100.7",
            "2001:db8::1",
        ])
        .unwrap();
        let Command::Explain(a) = cli.command else {
            panic!("not explain")
        };
        assert_eq!(a.port, 25);
        assert!(!a.inbound);
        assert!(a.dst.is_ipv6());
    }

    #[test]
    fn bad_addresses_and_ports_are_usage_errors() {
        for args in [
            vec![
                "op25bctl",
                "explain",
                "f.yaml",
                "198.51.100.300",
                "192.0.2.1",
            ],
            vec![
                "op25bctl",
                "explain",
                "f.yaml",
                "198.51.100.1",
                "192.0.2.1",
                "70000",
            ],
            vec!["op25bctl", "check"],
            vec!["op25bctl", "frobnicate"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), i32::from(EXIT_USAGE), "{args:?}");
        }
    }
}
