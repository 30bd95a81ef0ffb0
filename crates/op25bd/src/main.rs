//! op25bd: the daemon. Thin: parse the command line, load the policy, start EAL,
//! start the dataplane, run the control loop (with the control plane: API,
//! telemetry, watchdog), report.

mod cli;
mod control;

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use cli::{AppArgs, Invocation};

/// jemalloc, not glibc's malloc: resident memory stays flat under the
/// control loop's sample churn (see the dependency's note in Cargo.toml).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Reads the API token: one line, surrounding whitespace ignored.
fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the API token file {}: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("the API token file {} is empty", path.display()));
    }
    if token.chars().any(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "the API token in {} must be printable ASCII without spaces",
            path.display()
        ));
    }
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    "the API token file is readable by group or others; chmod 600 it"
                );
            }
        }
    }
    Ok(token.to_string())
}

fn main() -> ExitCode {
    let (eal_args, app) = match cli::parse(std::env::args_os().collect()) {
        Ok(Invocation::Run { eal, app }) => (eal, *app),
        Ok(Invocation::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        // clap formats usage errors itself and exits with 2.
        Err(e) => e.exit(),
    };
    if let Some(problem) = ::control::logging::init() {
        tracing::warn!("{problem}");
    }
    match run(eal_args, app) {
        Ok(code) => code,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(eal_args: Vec<String>, app: AppArgs) -> Result<ExitCode, String> {
    // The policy is checked before any port is touched: a bad config costs nothing.
    let (loaded, source) = control::load(&app.config).map_err(|errors| {
        format!(
            "config rejected ({} error{}):\n{errors}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        )
    })?;
    let token = app.api_token_file.as_deref().map(read_token).transpose()?;
    let blocked_log = app
        .blocked_log
        .as_deref()
        .map(control::BlockedLog::open)
        .transpose()
        .map_err(|e| format!("cannot open the blocked-flow log: {e}"))?;

    // Signals only set flags; the control loop acts on them.
    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    let flags = [
        (signal_hook::consts::SIGINT, &stop),
        (signal_hook::consts::SIGTERM, &stop),
        (signal_hook::consts::SIGHUP, &hup),
    ];
    for (sig, flag) in flags {
        signal_hook::flag::register(sig, Arc::clone(flag))
            .map_err(|e| format!("cannot install the handler for signal {sig}: {e}"))?;
    }

    let eal = dpdk::Eal::init(&eal_args).map_err(|e| format!("DPDK EAL failed to start: {e}"))?;
    let opts = dataplane::Options {
        pairs: app.pairs.clone(),
        latency: app.latency,
        ..Default::default()
    };
    let summary = loaded.tables.summary();
    let dp =
        dataplane::Dataplane::start(&opts, loaded.tables, source).map_err(|e| e.to_string())?;
    let counters = dp.running_counters();
    let workers = counters.len();

    let ctl_opts = ::control::Options {
        recent_samples: app.recent_samples as usize,
        top_window: Duration::from_secs(app.top_window_s),
        watchdog: Duration::from_millis(app.watchdog_ms),
        ..Default::default()
    };
    let (ctl, handle) = ::control::Controller::new(dp, &ctl_opts);

    // The watchdog reads the loop counters on its own thread, so it sees a
    // stall even while the control loop waits in a grace period.
    let probe: ::control::watchdog::Probe = Box::new(move || {
        counters
            .iter()
            .map(|(index, lcore, c)| ::control::watchdog::WorkerLoops {
                index: *index,
                lcore: *lcore,
                loops: c.loops.get(),
            })
            .collect()
    });
    let watchdog = ::control::watchdog::spawn(
        ctl_opts.watchdog,
        probe,
        handle.shared().worker_health.clone(),
        app.on_stall,
        Box::new(|_| {
            tracing::error!(
                status = control::EXIT_STALLED,
                "exiting on a stalled worker (--on-stall exit)"
            );
            std::process::exit(control::EXIT_STALLED);
        }),
    );
    let watchdog = match watchdog {
        Ok(w) => w,
        Err(e) => {
            let _ = ctl.into_plane().stop();
            return Err(format!("cannot start the watchdog thread: {e}"));
        }
    };

    if let Err(e) = ::control::telemetry::register(handle.clone()) {
        tracing::warn!("DPDK telemetry commands not registered: {e}");
    }
    let api = match app.api {
        None => None,
        Some(addr) => {
            let started = ::control::api::Api::start(
                ::control::api::ApiOptions {
                    addr,
                    token,
                    max_body: app.api_max_body as usize,
                },
                handle.clone(),
            );
            match started {
                Ok(api) => Some(api),
                Err(e) => {
                    drop(watchdog);
                    let _ = ctl.into_plane().stop();
                    return Err(e);
                }
            }
        }
    };
    let prefixes: usize = summary
        .pools
        .iter()
        .map(|p| p.prefixes.ipv4 + p.prefixes.ipv6)
        .sum();
    tracing::info!(
        config = %app.config.display(),
        generation = 1,
        hash = %summary.hash,
        pools = summary.pools.len(),
        prefixes,
        pairs = %app
            .pairs
            .iter()
            .map(|p| format!("{}:{}", p.access, p.core))
            .collect::<Vec<_>>()
            .join(" "),
        workers,
        api = %api.as_ref().map_or_else(|| "off".to_string(), |a| a.local_addr().to_string()),
        watchdog_ms = app.watchdog_ms,
        on_stall = ?app.on_stall,
        "running"
    );

    let mut ctl = control::Control {
        ctl,
        config_path: app.config.clone(),
        stop,
        hup,
        idle_exit: app.idle_exit_ms.map(Duration::from_millis),
        blocked_log,
        blocked_log_rate: app.blocked_log_rate,
    };
    ctl.run();
    let control::Control {
        ctl, blocked_log, ..
    } = ctl;
    // Requests still waiting are answered "stopping" once the controller is
    // gone; then the API threads end; the watchdog goes before the workers stop.
    let dp = ctl.into_plane();
    drop(api);
    drop(watchdog);
    tracing::info!("stopping");
    let report = dp.stop().map_err(|e| e.to_string())?;
    let log_stats = blocked_log.as_ref().map(|l| (l.written, l.dropped));
    control::print_report(&report, log_stats);
    let code = match &app.stats_json {
        Some(path) => match control::write_json(path, &report, log_stats) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        None => ExitCode::SUCCESS,
    };
    // Nothing may outlive the EAL: it goes last.
    drop(eal);
    Ok(code)
}
