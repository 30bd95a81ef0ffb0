//! The op25b control plane, on the control core: configuration pushes and
//! SIGHUP reloads through one path (validate, compile, publish, log), the
//! HTTP API ([`api`]), Prometheus metrics ([`metrics`]), DPDK telemetry
//! commands ([`telemetry`]), the worker watchdog ([`watchdog`]), the recent
//! blocked-flow samples and the top-N window of likely infected subscribers.
//!
//! The [`Controller`] owns the dataplane (anything implementing [`Plane`])
//! and is driven by the control loop with [`Controller::tick`]. Other threads
//! (the API, DPDK's telemetry thread) never touch the dataplane: they send
//! requests through a [`Handle`] and the control loop answers them between
//! two drains of the sample rings. Pushes are serialized by the handle, so
//! generation numbers and responses are consistent.

pub mod api;
mod controller;
pub mod logging;
pub mod metrics;
pub mod recent;
pub mod telemetry;
pub mod top;
pub mod watchdog;

#[cfg(test)]
mod testutil;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dataplane::{Published, Report, SampleRecord, WorkerInfo};
use serde::Serialize;

pub use controller::{Controller, Handle, PushError, PushOk};
pub use recent::Recent;
pub use top::{TopEntry, TopWindow};
pub use watchdog::{OnStall, WorkerHealth};

/// What the control plane needs from the dataplane. Implemented by
/// [`dataplane::Dataplane`]; tests use a model.
pub trait Plane {
    /// Publishes new tables (atomic swap, grace period, old freed).
    fn publish(&self, tables: policy::Tables, source: String) -> Published;
    /// Counters, pools, ports, latency now.
    fn report(&self) -> Report;
    /// Every worker lcore with its own counters.
    fn workers(&self) -> Vec<WorkerInfo>;
    /// The configuration the workers use now.
    fn active(&self) -> ActiveConfig;
    /// Moves waiting blocked-flow samples into `out`.
    fn drain_samples(&mut self, out: &mut Vec<SampleRecord>);
}

impl Plane for dataplane::Dataplane {
    fn publish(&self, tables: policy::Tables, source: String) -> Published {
        dataplane::Dataplane::publish(self, tables, source)
    }
    fn report(&self) -> Report {
        dataplane::Dataplane::report(self)
    }
    fn workers(&self) -> Vec<WorkerInfo> {
        self.worker_info()
    }
    fn active(&self) -> ActiveConfig {
        self.with_current(|g| ActiveConfig::new(g.number, &g.tables, &g.source, g.loaded_at))
    }
    fn drain_samples(&mut self, out: &mut Vec<SampleRecord>) {
        dataplane::Dataplane::drain_samples(self, out)
    }
}

/// Formats a wall-clock time as RFC 3339 UTC.
pub fn rfc3339(t: SystemTime) -> String {
    dataplane::sample::rfc3339(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos())
}

/// The running configuration, for `GET /v1/config`.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveConfig {
    pub generation: u64,
    pub hash: String,
    /// When this generation was published (RFC 3339).
    pub loaded_at: String,
    /// Seconds since the Unix epoch of `loaded_at`.
    pub loaded_at_unix: f64,
    pub summary: policy::Summary,
    /// The YAML text as pushed or read.
    pub yaml: String,
}

impl ActiveConfig {
    pub fn new(
        generation: u64,
        tables: &policy::Tables,
        yaml: &str,
        loaded_at: SystemTime,
    ) -> ActiveConfig {
        ActiveConfig {
            generation,
            hash: tables.hash().to_string(),
            loaded_at: rfc3339(loaded_at),
            loaded_at_unix: loaded_at
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64(),
            summary: tables.summary(),
            yaml: yaml.to_string(),
        }
    }
}

/// How the control plane runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Blocked-flow samples kept for `GET /v1/blocked`.
    pub recent_samples: usize,
    /// The sliding window of `GET /v1/top`.
    pub top_window: Duration,
    /// Most subscribers tracked in the window.
    pub top_max_sources: usize,
    /// A worker silent for longer than this is stalled.
    pub watchdog: Duration,
    /// How long the API and telemetry wait for the control loop.
    pub request_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            recent_samples: 10_000,
            top_window: Duration::from_secs(600),
            top_max_sources: 100_000,
            watchdog: Duration::from_millis(1000),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Counts of configuration changes, by path and result.
#[derive(Debug, Default)]
pub struct ChangeCounters {
    pub pushes_accepted: AtomicU64,
    pub pushes_rejected: AtomicU64,
    pub reloads_accepted: AtomicU64,
    pub reloads_rejected: AtomicU64,
}

/// Control-plane counters as reported.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ControlStats {
    pub pushes_accepted: u64,
    pub pushes_rejected: u64,
    pub reloads_accepted: u64,
    pub reloads_rejected: u64,
    /// Blocked-flow samples drained from the workers since start.
    pub samples_seen: u64,
    /// Subscribers in the top-N window now, and attempts not tracked because it was full.
    pub top_sources: usize,
    pub top_untracked: u64,
    pub top_window_s: u64,
}

/// `/healthz`: every running worker has reported quiescence within the
/// watchdog bound, and the control loop is turning.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub ok: bool,
    pub watchdog_ms: u64,
    /// Milliseconds since the control loop last turned.
    pub control_loop_ms: u64,
    pub control_loop_ok: bool,
    pub workers: Vec<WorkerHealth>,
}

/// State shared by the control loop, the API, telemetry and the watchdog.
#[derive(Debug)]
pub struct Shared {
    pub recent: Mutex<Recent>,
    pub top: Mutex<TopWindow>,
    /// Written by the watchdog thread.
    pub worker_health: Arc<Mutex<Vec<WorkerHealth>>>,
    pub watchdog: Duration,
    pub changes: ChangeCounters,
    epoch: Instant,
    control_beat_ms: AtomicU64,
}

/// The control loop may stop turning for this long (a large compile on
/// SIGHUP) before `/healthz` says so, if the watchdog bound is shorter.
pub const CONTROL_LOOP_BOUND: Duration = Duration::from_secs(10);

impl Shared {
    pub fn new(opts: &Options) -> Shared {
        Shared {
            recent: Mutex::new(Recent::new(opts.recent_samples)),
            top: Mutex::new(TopWindow::new(opts.top_window, opts.top_max_sources)),
            worker_health: Arc::new(Mutex::new(Vec::new())),
            watchdog: opts.watchdog,
            changes: ChangeCounters::default(),
            epoch: Instant::now(),
            control_beat_ms: AtomicU64::new(0),
        }
    }

    /// Milliseconds on the shared monotonic clock.
    pub fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub(crate) fn beat(&self) {
        self.control_beat_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// The health now.
    pub fn health(&self) -> Health {
        let workers = self
            .worker_health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let control_loop_ms = self
            .now_ms()
            .saturating_sub(self.control_beat_ms.load(Ordering::Relaxed));
        let control_loop_ok =
            u128::from(control_loop_ms) <= self.watchdog.max(CONTROL_LOOP_BOUND).as_millis();
        Health {
            ok: control_loop_ok && !workers.is_empty() && workers.iter().all(|w| !w.stalled),
            watchdog_ms: self.watchdog.as_millis() as u64,
            control_loop_ms,
            control_loop_ok,
            workers,
        }
    }

    /// A stalled worker, if any (a publication would wait for it forever).
    pub fn stalled_worker(&self) -> Option<WorkerHealth> {
        self.worker_health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|w| w.stalled)
            .cloned()
    }

    pub fn control_stats(&self) -> ControlStats {
        let c = &self.changes;
        let (samples_seen, _) = {
            let r = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            (r.total, r.len())
        };
        let top = self.top.lock().unwrap_or_else(|e| e.into_inner());
        ControlStats {
            pushes_accepted: c.pushes_accepted.load(Ordering::Relaxed),
            pushes_rejected: c.pushes_rejected.load(Ordering::Relaxed),
            reloads_accepted: c.reloads_accepted.load(Ordering::Relaxed),
            reloads_rejected: c.reloads_rejected.load(Ordering::Relaxed),
            samples_seen,
            top_sources: top.sources(),
            top_untracked: top.untracked,
            top_window_s: top.window().as_secs(),
        }
    }
}

/// Everything `GET /v1/stats`, `/metrics` and `/op25b/stats` report.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// The same keys as `--stats-json`.
    #[serde(flatten)]
    pub report: Report,
    pub per_worker: Vec<WorkerInfo>,
    pub config_loaded_at: String,
    pub config_loaded_at_unix: f64,
    pub control: ControlStats,
    pub health: Health,
}
