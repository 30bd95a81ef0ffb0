//! The control loop's side ([`Controller`]) and everyone else's ([`Handle`]).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dataplane::{Published, SampleRecord};
use policy::{ConfigError, ConfigErrors};
use serde::Serialize;

use crate::{ActiveConfig, Options, Plane, Shared, Snapshot};

/// Requests waiting for the control loop at most.
const QUEUE: usize = 64;
/// Requests handled per tick at most (then samples are drained again).
const PER_TICK: usize = 16;

/// Where a configuration came from, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Api,
    Sighup,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Api => "api",
            Origin::Sighup => "sighup",
        }
    }
}

enum Request {
    Publish {
        tables: Box<policy::Tables>,
        source: String,
        reply: mpsc::Sender<Result<Published, String>>,
    },
    Snapshot {
        reply: mpsc::Sender<Snapshot>,
    },
    Config {
        reply: mpsc::Sender<ActiveConfig>,
    },
}

/// An accepted push.
#[derive(Debug, Clone, Serialize)]
pub struct PushOk {
    pub generation: u64,
    pub hash: String,
    /// Validation and compilation time.
    pub compile_ms: f64,
    /// Time the workers took to pass the grace period.
    pub grace_us: u64,
    pub pools: usize,
    pub prefixes_ipv4: usize,
    pub prefixes_ipv6: usize,
    /// Valid but probably unintended (same shape as errors).
    pub warnings: Vec<ConfigError>,
}

/// Why a push did not take effect. In every case the running tables stay.
#[derive(Debug, Clone)]
pub enum PushError {
    /// The config is invalid: every error.
    Rejected(ConfigErrors),
    /// The control loop could not publish (stopping, a stalled worker, or no answer in time).
    Unavailable(String),
}

fn prefix_counts(tables: &policy::Tables) -> (usize, usize, usize) {
    let s = tables.summary();
    let v4 = s.pools.iter().map(|p| p.prefixes.ipv4).sum();
    let v6 = s.pools.iter().map(|p| p.prefixes.ipv6).sum();
    (s.pools.len(), v4, v6)
}

fn log_rejected(origin: Origin, what: &str, errors: &ConfigErrors) {
    tracing::warn!(
        origin = %origin.as_str(),
        config = %what,
        errors = errors.len(),
        "config rejected, the running config stays"
    );
    for e in errors.iter() {
        tracing::warn!(origin = %origin.as_str(), "  {e}");
    }
}

fn log_published(
    origin: Origin,
    what: &str,
    p: &Published,
    counts: (usize, usize, usize),
    compile: Duration,
) {
    tracing::info!(
        origin = %origin.as_str(),
        config = %what,
        generation = p.generation,
        hash = %p.hash,
        pools = counts.0,
        prefixes_ipv4 = counts.1,
        prefixes_ipv6 = counts.2,
        compile_ms = format_args!("{:.3}", compile.as_secs_f64() * 1e3),
        grace_us = p.grace_us,
        "config published"
    );
}

/// The other threads' way to the control loop. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    tx: SyncSender<Request>,
    push_lock: Arc<Mutex<()>>,
    shared: Arc<Shared>,
    timeout: Duration,
}

impl Handle {
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn call<T>(&self, make: impl FnOnce(mpsc::Sender<T>) -> Request) -> Result<T, String> {
        let (reply, answer) = mpsc::channel();
        match self.tx.try_send(make(reply)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err("the control loop is busy (too many requests waiting); retry".into())
            }
            Err(TrySendError::Disconnected(_)) => return Err("op25bd is stopping".into()),
        }
        answer.recv_timeout(self.timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => format!(
                "the control loop did not answer within {} ms",
                self.timeout.as_millis()
            ),
            RecvTimeoutError::Disconnected => "op25bd is stopping".into(),
        })
    }

    /// Counters, per pool, per worker, health.
    pub fn snapshot(&self) -> Result<Snapshot, String> {
        self.call(|reply| Request::Snapshot { reply })
    }

    /// The running configuration.
    pub fn config(&self) -> Result<ActiveConfig, String> {
        self.call(|reply| Request::Config { reply })
    }

    /// Validates, compiles and publishes `yaml` (errors name `name`). Pushes
    /// are serialized: the next one starts after this one is published or
    /// rejected. A rejected push changes nothing.
    pub fn push(&self, name: &str, yaml: &[u8]) -> Result<PushOk, PushError> {
        let _serial = self.push_lock.lock().unwrap_or_else(|e| e.into_inner());
        let changes = &self.shared.changes;
        let t0 = Instant::now();
        let loaded = match policy::load_str(name, yaml) {
            Ok(l) => l,
            Err(errors) => {
                changes.pushes_rejected.fetch_add(1, Ordering::Relaxed);
                log_rejected(Origin::Api, name, &errors);
                return Err(PushError::Rejected(errors));
            }
        };
        let compile = t0.elapsed();
        let counts = prefix_counts(&loaded.tables);
        // load_str accepted it, so it is UTF-8 (a BOM is kept as sent).
        let source = String::from_utf8_lossy(yaml).into_owned();
        let published = self
            .call(|reply| Request::Publish {
                tables: Box::new(loaded.tables),
                source,
                reply,
            })
            .map_err(|why| {
                if why.contains("did not answer") {
                    // The request is queued: it may still be published later.
                    format!("{why}; the push may still take effect: check GET /v1/config")
                } else {
                    why
                }
            })
            .and_then(|r| r);
        match published {
            Ok(p) => {
                changes.pushes_accepted.fetch_add(1, Ordering::Relaxed);
                for w in &loaded.warnings {
                    tracing::warn!(origin = %Origin::Api.as_str(), "config warning: {w}");
                }
                log_published(Origin::Api, name, &p, counts, compile);
                Ok(PushOk {
                    generation: p.generation,
                    hash: p.hash,
                    compile_ms: compile.as_secs_f64() * 1e3,
                    grace_us: p.grace_us,
                    pools: counts.0,
                    prefixes_ipv4: counts.1,
                    prefixes_ipv6: counts.2,
                    warnings: loaded.warnings,
                })
            }
            Err(why) => {
                tracing::error!(origin = %Origin::Api.as_str(), config = %name, "push not published: {why}");
                Err(PushError::Unavailable(why))
            }
        }
    }
}

/// The control loop's state. Owns the dataplane.
pub struct Controller<P: Plane> {
    plane: P,
    rx: Receiver<Request>,
    shared: Arc<Shared>,
    samples: Vec<SampleRecord>,
}

impl<P: Plane> Controller<P> {
    /// A controller for `plane` and the handle other threads use to reach it.
    pub fn new(plane: P, opts: &Options) -> (Controller<P>, Handle) {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let shared = Arc::new(Shared::new(opts));
        shared.beat();
        let handle = Handle {
            tx,
            push_lock: Arc::new(Mutex::new(())),
            shared: shared.clone(),
            timeout: opts.request_timeout,
        };
        (
            Controller {
                plane,
                rx,
                shared,
                samples: Vec::with_capacity(1024),
            },
            handle,
        )
    }

    pub fn plane(&self) -> &P {
        &self.plane
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Gives the dataplane back; pending and later requests fail ("stopping").
    pub fn into_plane(self) -> P {
        self.plane
    }

    /// One turn of the control loop: answers requests (waiting up to `wait`
    /// for the first), drains the workers' samples into the recent ring and
    /// the top-N window, and returns the samples drained (for the
    /// blocked-flow log).
    pub fn tick(&mut self, wait: Duration) -> &[SampleRecord] {
        self.shared.beat();
        let mut next = self.rx.recv_timeout(wait).ok();
        let mut handled = 0;
        while let Some(req) = next.take() {
            self.handle(req);
            handled += 1;
            if handled < PER_TICK {
                next = self.rx.try_recv().ok();
            }
        }
        self.samples.clear();
        self.plane.drain_samples(&mut self.samples);
        if !self.samples.is_empty() {
            let now = self.shared.now_ms();
            self.shared
                .recent
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(&self.samples);
            self.shared
                .top
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(now, &self.samples);
        }
        self.shared.beat();
        &self.samples
    }

    fn handle(&mut self, req: Request) {
        match req {
            Request::Publish {
                tables,
                source,
                reply,
            } => {
                let r = self.publish(*tables, source);
                let _ = reply.send(r);
            }
            Request::Snapshot { reply } => {
                let _ = reply.send(self.snapshot());
            }
            Request::Config { reply } => {
                let _ = reply.send(self.plane.active());
            }
        }
    }

    fn publish(&mut self, tables: policy::Tables, source: String) -> Result<Published, String> {
        if let Some(w) = self.shared.stalled_worker() {
            return Err(format!(
                "worker {} (lcore {}) is stalled; a publication would wait for it forever (see /healthz)",
                w.index, w.lcore
            ));
        }
        Ok(self.plane.publish(tables, source))
    }

    /// The snapshot the API, metrics and telemetry report.
    pub fn snapshot(&self) -> Snapshot {
        let active = self.plane.active();
        Snapshot {
            report: self.plane.report(),
            per_worker: self.plane.workers(),
            config_loaded_at: active.loaded_at,
            config_loaded_at_unix: active.loaded_at_unix,
            control: self.shared.control_stats(),
            health: self.shared.health(),
        }
    }

    /// SIGHUP: reads `path` and publishes it through the same validation,
    /// compilation and swap as a push. A bad file is logged with every error
    /// and the running tables stay.
    pub fn reload(&mut self, path: &Path) -> Result<Published, PushError> {
        let what = path.display().to_string();
        let shared = self.shared.clone();
        let changes = &shared.changes;
        let t0 = Instant::now();
        let bytes = std::fs::read(path);
        let loaded = match &bytes {
            Ok(b) => policy::load_str(&what, b),
            Err(_) => policy::load_file(path),
        };
        let loaded = match loaded {
            Ok(l) => l,
            Err(errors) => {
                changes.reloads_rejected.fetch_add(1, Ordering::Relaxed);
                log_rejected(Origin::Sighup, &what, &errors);
                return Err(PushError::Rejected(errors));
            }
        };
        let compile = t0.elapsed();
        for w in &loaded.warnings {
            tracing::warn!(origin = %Origin::Sighup.as_str(), "config warning: {w}");
        }
        let counts = prefix_counts(&loaded.tables);
        let source = String::from_utf8_lossy(bytes.as_deref().unwrap_or_default()).into_owned();
        match self.publish(loaded.tables, source) {
            Ok(p) => {
                changes.reloads_accepted.fetch_add(1, Ordering::Relaxed);
                log_published(Origin::Sighup, &what, &p, counts, compile);
                Ok(p)
            }
            Err(why) => {
                changes.reloads_rejected.fetch_add(1, Ordering::Relaxed);
                tracing::error!(origin = %Origin::Sighup.as_str(), config = %what, "reload not published: {why}");
                Err(PushError::Unavailable(why))
            }
        }
    }
}
