//! The control loop on the main lcore: requests from the API and telemetry
//! (through the control crate's `Controller`), SIGHUP reload, idle exit, the
//! blocked-flow log, the watchdog.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use control::Controller;
use dataplane::{Dataplane, Report, SampleRecord};

/// Exit status when a worker stalled and `--on-stall exit` is set (EX_SOFTWARE).
pub const EXIT_STALLED: i32 = 70;

/// Reads and validates a config file, returning it with its text.
pub fn load(path: &Path) -> Result<(policy::Loaded, String), policy::ConfigErrors> {
    let loaded = policy::load_file(path)?;
    for w in &loaded.warnings {
        tracing::warn!("config warning: {w}");
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    Ok((loaded, text))
}

/// The `--blocked-log` file: JSON lines, at most `rate` per second.
pub struct BlockedLog {
    out: BufWriter<File>,
    pub written: u64,
    pub dropped: u64,
    window_start: Instant,
    in_window: u32,
}

impl BlockedLog {
    pub fn open(path: &Path) -> std::io::Result<BlockedLog> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(BlockedLog {
            out: BufWriter::new(f),
            written: 0,
            dropped: 0,
            window_start: Instant::now(),
            in_window: 0,
        })
    }

    fn write(&mut self, records: &[SampleRecord], rate: u32) {
        for r in records {
            if self.window_start.elapsed() >= Duration::from_secs(1) {
                self.window_start = Instant::now();
                self.in_window = 0;
            }
            if self.in_window >= rate {
                self.dropped += 1;
                continue;
            }
            self.in_window += 1;
            match serde_json::to_string(r) {
                Ok(line) if writeln!(self.out, "{line}").is_ok() => self.written += 1,
                _ => self.dropped += 1,
            }
        }
    }

    fn flush(&mut self) {
        if let Err(e) = self.out.flush() {
            tracing::error!("blocked-flow log: {e}");
        }
    }
}

pub struct Control {
    pub ctl: Controller<Dataplane>,
    pub config_path: PathBuf,
    pub stop: Arc<AtomicBool>,
    pub hup: Arc<AtomicBool>,
    pub idle_exit: Option<Duration>,
    pub blocked_log: Option<BlockedLog>,
    pub blocked_log_rate: u32,
}

impl Control {
    /// Runs until a stop signal or the idle timeout.
    pub fn run(&mut self) {
        let mut last_rx = 0;
        let mut last_change = Instant::now();
        let mut last_flush = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            // Waits up to 1 ms for an API or telemetry request, answers it,
            // drains the samples.
            let samples = self.ctl.tick(Duration::from_millis(1));
            if let Some(log) = &mut self.blocked_log {
                log.write(samples, self.blocked_log_rate);
            }
            if self.hup.swap(false, Ordering::Relaxed) {
                tracing::info!(config = %self.config_path.display(), "SIGHUP: reloading");
                // Logged inside, with every error; a bad file changes nothing.
                let _ = self.ctl.reload(&self.config_path);
            }
            if last_flush.elapsed() >= Duration::from_millis(200) {
                if let Some(log) = &mut self.blocked_log {
                    log.flush();
                }
                last_flush = Instant::now();
            }
            if let Some(idle) = self.idle_exit {
                let rx = self.ctl.plane().rx_total();
                if rx != last_rx {
                    last_rx = rx;
                    last_change = Instant::now();
                } else if rx > 0 && last_change.elapsed() >= idle {
                    tracing::info!(idle_ms = idle.as_millis() as u64, "idle: stopping");
                    break;
                }
            }
        }
        let samples = self.ctl.tick(Duration::ZERO);
        if let Some(log) = &mut self.blocked_log {
            log.write(samples, self.blocked_log_rate);
            log.flush();
        }
    }
}

pub fn print_report(r: &Report, log: Option<(u64, u64)>) {
    let t = &r.totals;
    println!(
        "op25bd: stopped after {:.3} s on {} worker(s), config generation {}",
        r.elapsed_s, r.workers, r.generation
    );
    println!(
        "  received   {:>10}  ({} from subscribers, {} from the core)",
        t.rx, t.outbound.rx, t.inbound.rx
    );
    println!(
        "  forwarded  {:>10}  ({} unparsed, passed unchanged)",
        t.forwarded, t.unparsed
    );
    println!(
        "  replied    {:>10}  ({} RST, {} ICMP)",
        t.replied,
        t.outbound.replied_rst + t.inbound.replied_rst,
        t.outbound.replied_icmp + t.inbound.replied_icmp
    );
    let o = &t.outbound;
    let i = &t.inbound;
    println!(
        "  dropped    {:>10}  (policy {}, rate limit {}, tx full {}, tiny fragment {}, no mbuf {})",
        t.dropped,
        o.dropped_policy + i.dropped_policy,
        o.dropped_rate_limit + i.dropped_rate_limit,
        o.dropped_tx_full + i.dropped_tx_full,
        o.dropped_tiny_fragment + i.dropped_tiny_fragment,
        o.dropped_no_mbuf + i.dropped_no_mbuf
    );
    println!("  monitored  {:>10}", t.monitored);
    for (name, p) in &r.pools {
        println!(
            "  pool {name:<20} blocked {:>8}  monitored {:>8}",
            p.blocked, p.monitored
        );
    }
    for p in &r.ports {
        println!(
            "  port {} {:<12} in {:>8}  out {:>8}  missed {}  errors {}/{}",
            p.port, p.name, p.ipackets, p.opackets, p.imissed, p.ierrors, p.oerrors
        );
    }
    if let Some(l) = &r.latency_ns {
        println!(
            "  latency per burst (ns): p50 {} p90 {} p99 {} p99.9 {} max {} over {} bursts",
            l.p50, l.p90, l.p99, l.p999, l.max, l.bursts
        );
    }
    if let Some((w, d)) = log {
        println!(
            "  blocked-flow log: {w} samples written, {d} over the rate ({} lost in rings)",
            t.samples_dropped
        );
    }
    if r.mempool_in_use != 0 {
        println!(
            "  mbufs still in use at exit: {} (a leak)",
            r.mempool_in_use
        );
    }
}

pub fn write_json(path: &Path, r: &Report, log: Option<(u64, u64)>) -> std::io::Result<()> {
    let mut v = serde_json::to_value(r).map_err(std::io::Error::other)?;
    if let (Some((w, d)), Some(obj)) = (log, v.as_object_mut()) {
        obj.insert(
            "blocked_log".into(),
            serde_json::json!({ "written": w, "dropped": d }),
        );
    }
    let mut text = serde_json::to_string_pretty(&v).map_err(std::io::Error::other)?;
    text.push('\n');
    // Write then rename, so a reader never sees half a file.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
