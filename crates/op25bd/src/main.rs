//! op25bd: the daemon. Thin: parse the command line, load the policy, start EAL,
//! hand over to the dataplane, report.

mod cli;

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
        Err(e) => {
            // clap formats usage errors itself and exits with 2.
            e.exit();
        }
    };

    // The policy is checked before any port is touched: a bad config costs nothing.
    let loaded = match policy::load_file(&app.config) {
        Ok(l) => l,
        Err(errors) => {
            eprintln!("op25bd: config rejected:\n{errors}");
            return ExitCode::FAILURE;
        }
    };
    for w in &loaded.warnings {
        eprintln!("op25bd: warning: {w}");
    }
    let summary = loaded.tables.summary();
    eprintln!(
        "op25bd: config {} loaded: {} pools, hash {}",
        app.config.display(),
        summary.pools.len(),
        &loaded.tables.hash()[..12.min(loaded.tables.hash().len())]
    );

    // Signals: set a flag the control loop polls; nothing else runs in the handler.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
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
        idle_exit: app.idle_exit_ms.map(Duration::from_millis),
    };
    let result = dataplane::run(&opts, stop);
    let code = match result {
        Ok(report) => {
            print_report(&report);
            match &app.stats_json {
                Some(path) => match write_json(path, &report) {
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
    drop(eal);
    code
}

fn print_report(r: &dataplane::Report) {
    let t = &r.totals;
    println!(
        "op25bd: stopped after {:.3} s on {} worker(s)",
        r.elapsed_s, r.workers
    );
    println!(
        "  received   {:>10}  ({} from subscribers, {} from the core)",
        t.rx, t.rx_access, t.rx_core
    );
    println!("  forwarded  {:>10}", t.forwarded);
    println!("  replied    {:>10}", t.replied);
    println!(
        "  dropped    {:>10}  ({} tx queue full)",
        t.dropped, t.dropped_tx_full
    );
    println!("  monitored  {:>10}", t.monitored);
    for p in &r.ports {
        println!(
            "  port {} {:<12} in {:>8}  out {:>8}  missed {}  errors {}/{}",
            p.port, p.name, p.ipackets, p.opackets, p.imissed, p.ierrors, p.oerrors
        );
    }
    if r.mempool_in_use != 0 {
        println!(
            "  mbufs still in use at exit: {} (a leak)",
            r.mempool_in_use
        );
    }
}

fn write_json(path: &std::path::Path, r: &dataplane::Report) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
    text.push('\n');
    // Write then rename, so a reader never sees half a file.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
