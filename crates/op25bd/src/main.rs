//! op25bd: the daemon. Thin: parse the command line, load the policy, start EAL,
//! start the dataplane, run the control loop, report.

mod cli;
mod control;

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use cli::Invocation;

fn main() -> ExitCode {
    let (eal_args, app) = match cli::parse(std::env::args_os().collect()) {
        Ok(Invocation::Run { eal, app }) => (eal, app),
        Ok(Invocation::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        // clap formats usage errors itself and exits with 2.
        Err(e) => e.exit(),
    };

    // The policy is checked before any port is touched: a bad config costs nothing.
    let (loaded, source) = match control::load(&app.config) {
        Ok(l) => l,
        Err(errors) => {
            eprintln!("op25bd: config rejected:\n{errors}");
            return ExitCode::FAILURE;
        }
    };
    let blocked_log = match app.blocked_log.as_deref().map(control::BlockedLog::open) {
        None => None,
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            eprintln!("op25bd: cannot open the blocked-flow log: {e}");
            return ExitCode::FAILURE;
        }
    };

    // Signals only set flags; the control loop acts on them.
    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    let flags = [
        (signal_hook::consts::SIGINT, &stop),
        (signal_hook::consts::SIGTERM, &stop),
        (signal_hook::consts::SIGHUP, &hup),
    ];
    for (sig, flag) in flags {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(flag)) {
            eprintln!("op25bd: cannot install the handler for signal {sig}: {e}");
            return ExitCode::FAILURE;
        }
    }

    let eal = match dpdk::Eal::init(&eal_args) {
        Ok(eal) => eal,
        Err(e) => {
            eprintln!("op25bd: DPDK EAL failed to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = dataplane::Options {
        pairs: app.pairs.clone(),
        latency: app.latency,
        ..Default::default()
    };
    let summary = loaded.tables.summary();
    let dp = match dataplane::Dataplane::start(&opts, loaded.tables, source) {
        Ok(dp) => dp,
        Err(e) => {
            eprintln!("op25bd: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "op25bd: running: config {} (generation 1, {} pools), pairs {}",
        app.config.display(),
        summary.pools.len(),
        app.pairs
            .iter()
            .map(|p| format!("{}:{}", p.access, p.core))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut ctl = control::Control {
        dp,
        config_path: app.config.clone(),
        stop,
        hup,
        idle_exit: app.idle_exit_ms.map(Duration::from_millis),
        blocked_log,
        blocked_log_rate: app.blocked_log_rate,
    };
    ctl.run();
    let control::Control {
        dp, blocked_log, ..
    } = ctl;
    let code = match dp.stop() {
        Ok(report) => {
            let log_stats = blocked_log.as_ref().map(|l| (l.written, l.dropped));
            control::print_report(&report, log_stats);
            match &app.stats_json {
                Some(path) => match control::write_json(path, &report, log_stats) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("op25bd: cannot write {}: {e}", path.display());
                        ExitCode::FAILURE
                    }
                },
                None => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("op25bd: {e}");
            ExitCode::FAILURE
        }
    };
    // Nothing may outlive the EAL: it goes last.
    drop(eal);
    code
}
