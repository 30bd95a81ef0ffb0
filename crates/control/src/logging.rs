//! Logs with `tracing`, to stderr: under systemd, journald takes stderr
//! (timestamps are then left to the journal).
//!
//! The level comes from `OP25B_LOG` (a `tracing` filter such as `info`,
//! `debug` or `control=debug`), default `info`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The environment variable with the log filter.
pub const ENV: &str = "OP25B_LOG";

/// Installs the global subscriber. Returns an error message for a bad
/// `OP25B_LOG` (the default filter is used then). Calling it again is harmless.
pub fn init() -> Option<String> {
    let (filter, problem) = match std::env::var(ENV) {
        Ok(v) if !v.trim().is_empty() => match EnvFilter::try_new(&v) {
            Ok(f) => (f, None),
            Err(e) => (
                EnvFilter::new("info"),
                Some(format!(
                    "{ENV}={v:?} is not a log filter ({e}); using `info`"
                )),
            ),
        },
        _ => (EnvFilter::new("info"), None),
    };
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let _ = if journal {
        builder.without_time().try_init()
    } else {
        builder.try_init()
    };
    problem
}
