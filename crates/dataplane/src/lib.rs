//! The op25b dataplane: worker lcores that enforce the policy inline, the
//! ports' setup and teardown, the tables published to the workers through
//! DPDK's QSBR RCU, and the counters and samples the control core collects.
//!
//! [`Dataplane::start`] plans the queues, starts the ports and launches the
//! workers; the control core then calls [`Dataplane::publish`] to hot-swap
//! tables, reads counters and drains samples, and finally [`Dataplane::stop`].

pub mod generation;
pub mod latency;
pub mod names;
pub mod ports;
pub mod ratelimit;
pub mod sample;
pub mod stats;
pub mod worker;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dpdk::ring::Consumer;
use dpdk::{Mempool, Qsbr, RcuCell};
use serde::Serialize;

pub use generation::Generation;
pub use names::{PoolNames, KEPT_GENERATIONS};
pub use sample::{Sample, SampleAction, SampleRecord};
pub use stats::{DirTotals, Totals, WorkerCounters};

/// Most samples [`Dataplane::drain_samples`] takes from one worker's ring per call.
pub const MAX_SAMPLES_PER_DRAIN: usize = 4096;

/// A pair of ports: `access` faces subscribers, `core` faces the core network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pair {
    pub access: u16,
    pub core: u16,
}

/// What can go wrong starting or stopping the dataplane.
#[derive(Debug)]
pub enum Error {
    /// The command line or the devices do not fit together.
    Config(String),
    /// A DPDK call failed.
    Dpdk(dpdk::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Config(m) => f.write_str(m),
            Error::Dpdk(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<dpdk::Error> for Error {
    fn from(e: dpdk::Error) -> Self {
        Error::Dpdk(e)
    }
}

/// How the dataplane runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub pairs: Vec<Pair>,
    /// Record per-burst residence time (TSC) per worker.
    pub latency: bool,
    /// Capacity of each worker's blocked-flow sample ring.
    pub sample_ring: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pairs: vec![Pair { access: 0, core: 1 }],
            latency: false,
            sample_ring: 4096,
        }
    }
}

/// Per-port counters from the devices themselves.
#[derive(Debug, Clone, Serialize)]
pub struct PortReport {
    pub port: u16,
    pub name: String,
    pub ipackets: u64,
    pub opackets: u64,
    pub imissed: u64,
    pub ierrors: u64,
    pub oerrors: u64,
    pub rx_nombuf: u64,
}

/// Blocked and monitored counts of one pool, over every generation that had a
/// pool of that name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    pub blocked: u64,
    pub monitored: u64,
}

/// Latency percentiles in nanoseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencyReport {
    pub bursts: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// One worker lcore, as [`Dataplane::worker_info`] reports it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerInfo {
    /// The worker's index (its QSBR reader id).
    pub index: usize,
    pub lcore: u32,
    /// False for an lcore left idle because the devices offer too few queues.
    pub running: bool,
    /// Loop iterations, each right after a quiescent state.
    pub loops: u64,
    /// This worker's own counters.
    #[serde(flatten)]
    pub totals: Totals,
}

/// The result of a publication.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub generation: u64,
    pub hash: String,
    /// Time the workers took to pass the grace period.
    pub grace_us: u64,
}

/// What the dataplane did, at any moment or at exit.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub totals: Totals,
    pub elapsed_s: f64,
    pub workers: usize,
    pub generation: u64,
    pub config_hash: String,
    pub pools: BTreeMap<String, PoolStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ns: Option<LatencyReport>,
    /// Mbufs taken from the pool (at exit, after every port closed: 0 unless something leaked).
    pub mempool_in_use: u32,
    pub mempool_size: u32,
    pub ports: Vec<PortReport>,
    /// TSC ticks per second, as DPDK calibrated them.
    pub tsc_hz: u64,
}

/// The running dataplane, owned by the control core.
pub struct Dataplane {
    started: ports::Ports,
    /// The worker lcores, by worker index (some may be idle: see `launched`).
    lcores: Vec<u32>,
    launched: Vec<u32>,
    counters: Vec<Arc<WorkerCounters>>,
    latency: Vec<Arc<latency::LatencyBuckets>>,
    samples: Vec<Consumer<Sample>>,
    tables: Arc<RcuCell<Generation>>,
    workers: usize,
    next_generation: AtomicU64,
    /// Per-pool counts of retired generations, by pool name.
    retired: Mutex<BTreeMap<String, PoolStats>>,
    /// Pool names of the current and the last retired generations, to name
    /// the pool of samples drained after their generation retired.
    names: Mutex<PoolNames>,
    stop: Arc<AtomicBool>,
    pool: Mempool,
    t0: Instant,
    tsc0: u64,
    wall0: SystemTime,
    tsc_hz: u64,
}

impl Dataplane {
    /// Starts ports and workers with `tables` (generation 1). Call on the main
    /// lcore after `Eal::init`. On error everything started is stopped again.
    pub fn start(
        opts: &Options,
        tables: policy::Tables,
        source: String,
    ) -> Result<Dataplane, Error> {
        ports::check_pairs(&opts.pairs)?;
        let main = dpdk::lcore::main_lcore()?;
        let lcores: Vec<u32> = dpdk::lcore::workers().collect();
        if lcores.is_empty() {
            return Err(Error::Config(format!(
                "no worker lcore: lcore {main} is the control core; give at least two lcores (e.g. -l 0-1)"
            )));
        }
        let max_q = opts
            .pairs
            .iter()
            .map(|&p| ports::max_queues(p))
            .collect::<Result<Vec<_>, _>>()?;
        let plan = ports::plan(opts.pairs.len(), lcores.len(), &max_q);
        // Replies come from the same pool: one per received frame at most.
        let n_mbufs = ports::mbufs_needed(&plan.queues_per_pair, lcores.len());
        // DPDK object names are process-wide: a later start (tests) gets its own.
        static STARTS: AtomicU64 = AtomicU64::new(0);
        let instance = STARTS.fetch_add(1, Ordering::Relaxed);
        let pool = Mempool::pktmbuf_pool(
            &format!("op25b_mbufs_{instance}"),
            n_mbufs,
            ports::MEMPOOL_CACHE,
            dpdk::DEFAULT_DATA_ROOM,
            dpdk::SOCKET_ID_ANY,
        )?;
        let started = ports::start(&opts.pairs, &plan, &pool)?;
        let workers = lcores.len();
        let mut names = PoolNames::default();
        names.push(1, pool_names(&tables));
        let qsbr = Arc::new(Qsbr::new(workers as u32)?);
        let cell = Arc::new(RcuCell::new(
            Box::new(Generation::new(1, tables, source, workers)),
            qsbr.clone(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let tsc_hz = dpdk::cycles::tsc_hz();
        let mut dp = Dataplane {
            started,
            lcores: lcores.clone(),
            launched: Vec::new(),
            counters: Vec::new(),
            latency: Vec::new(),
            samples: Vec::new(),
            tables: cell,
            workers,
            next_generation: AtomicU64::new(2),
            retired: Mutex::new(BTreeMap::new()),
            names: Mutex::new(names),
            stop: stop.clone(),
            pool,
            t0: Instant::now(),
            tsc0: dpdk::cycles::rdtsc(),
            wall0: SystemTime::now(),
            tsc_hz,
        };
        for (w, &lcore) in lcores.iter().enumerate() {
            let counters = Arc::new(WorkerCounters::default());
            dp.counters.push(counters.clone());
            if plan.per_worker[w].is_empty() {
                eprintln!("op25bd: lcore {lcore} has nothing to serve (the devices offer too few queues); it stays idle");
                continue;
            }
            let lat = opts
                .latency
                .then(|| Arc::new(latency::LatencyBuckets::default()));
            if let Some(l) = &lat {
                dp.latency.push(l.clone());
            }
            let launch = || -> Result<(), Error> {
                let queues = ports::take_queues(&opts.pairs, &plan.per_worker[w])?;
                let (producer, consumer) = dpdk::ring::spsc::<Sample>(
                    &format!("op25b_smp_{instance}_{w}"),
                    opts.sample_ring,
                    dpdk::SOCKET_ID_ANY,
                )?;
                let worker = worker::Worker {
                    index: w,
                    queues,
                    counters,
                    latency: lat,
                    samples: producer,
                    tables: dp.tables.clone(),
                    reader: qsbr.reader(w as u32)?,
                    pool,
                    stop: stop.clone(),
                    tsc_hz,
                };
                dpdk::lcore::launch(lcore, move || worker.run())?;
                dp.samples.push(consumer);
                Ok(())
            };
            if let Err(e) = launch() {
                let _ = dp.stop();
                return Err(e);
            }
            dp.launched.push(lcore);
        }
        Ok(dp)
    }

    /// Publishes new tables: an atomic pointer swap, then the QSBR grace period,
    /// then the old generation is retired (its per-pool counts folded into the
    /// running totals) and freed. Frames received after this returns are all
    /// classified by the new tables. Publications are serialized.
    pub fn publish(&self, tables: policy::Tables, source: String) -> Published {
        let number = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let hash = tables.hash().to_string();
        // Named before any worker can sample with it (the swap is below).
        self.names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(number, pool_names(&tables));
        let (old, p) = self.tables.publish(Box::new(Generation::new(
            number,
            tables,
            source,
            self.workers,
        )));
        let mut retired = self.retired.lock().unwrap_or_else(|e| e.into_inner());
        for (name, b, m) in old.pool_totals() {
            let e = retired.entry(name).or_default();
            e.blocked += b;
            e.monitored += m;
        }
        drop(retired);
        drop(old);
        Published {
            generation: number,
            hash,
            grace_us: p.grace.as_micros() as u64,
        }
    }

    /// Runs `f` on the current generation (the control core's view).
    pub fn with_current<R>(&self, f: impl FnOnce(&Generation) -> R) -> R {
        self.tables.with_current(f)
    }

    /// Counters summed over the workers now.
    pub fn totals(&self) -> Totals {
        Totals::sum(self.counters.iter().map(|c| &**c))
    }

    /// Loop iterations per worker (a stalled worker's count stops moving).
    pub fn worker_loops(&self) -> Vec<u64> {
        self.counters.iter().map(|c| c.loops.get()).collect()
    }

    /// Each worker lcore: whether it runs (an lcore with no queue to serve
    /// stays idle and never loops), its loop count and its own counters.
    pub fn worker_info(&self) -> Vec<WorkerInfo> {
        self.counters
            .iter()
            .zip(&self.lcores)
            .enumerate()
            .map(|(index, (c, &lcore))| WorkerInfo {
                index,
                lcore,
                running: self.launched.contains(&lcore),
                loops: c.loops.get(),
                totals: Totals::sum([&**c]),
            })
            .collect()
    }

    /// The counters of every running worker, by (index, lcore), for a watchdog
    /// that watches `loops` from another thread.
    pub fn running_counters(&self) -> Vec<(usize, u32, Arc<WorkerCounters>)> {
        self.counters
            .iter()
            .zip(&self.lcores)
            .enumerate()
            .filter(|(_, (_, lcore))| self.launched.contains(lcore))
            .map(|(index, (c, &lcore))| (index, lcore, c.clone()))
            .collect()
    }

    /// Frames received so far, all directions.
    pub fn rx_total(&self) -> u64 {
        self.counters
            .iter()
            .map(|c| c.dir[0].rx.get() + c.dir[1].rx.get())
            .sum()
    }

    /// Per-pool counts: retired generations plus the current one.
    pub fn pool_stats(&self) -> BTreeMap<String, PoolStats> {
        // Hold the writer side while reading, so no generation retires in between.
        self.tables.with_current(|g| {
            let mut all = self
                .retired
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            for (name, b, m) in g.pool_totals() {
                let e = all.entry(name).or_default();
                e.blocked += b;
                e.monitored += m;
            }
            all
        })
    }

    /// Latency percentiles over all workers, when enabled.
    pub fn latency(&self) -> Option<LatencyReport> {
        if self.latency.is_empty() {
            return None;
        }
        // Bounded (1 ns to 1 min): saturating records clamp instead of resizing.
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).ok()?;
        for l in &self.latency {
            l.add_to(&mut h, self.tsc_hz);
        }
        Some(LatencyReport {
            bursts: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        })
    }

    /// Moves waiting blocked-flow samples into `out` (at most
    /// [`MAX_SAMPLES_PER_DRAIN`] per worker), resolved to wall-clock time and
    /// to the pool names of the generation that sampled them (see [`names`]).
    pub fn drain_samples(&mut self, out: &mut Vec<SampleRecord>) {
        let mut buf = [Sample::EMPTY; 64];
        let (tsc0, hz) = (self.tsc0, self.tsc_hz.max(1));
        let wall0 = self
            .wall0
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let names = self.names.get_mut().unwrap_or_else(|e| e.into_inner());
        for c in self.samples.iter_mut() {
            // Bounded per call: at most about one ring's worth, so a control
            // loop that fell behind a fast producer cannot grow `out` without
            // limit; what is left waits for the next call (or, once the ring
            // is full, is counted as dropped by the worker).
            let mut budget = MAX_SAMPLES_PER_DRAIN;
            while budget > 0 {
                budget = budget.saturating_sub(buf.len());
                let n = c.dequeue_burst(&mut buf);
                for s in &buf[..n] {
                    let ns = wall0
                        + u128::from(s.tsc.saturating_sub(tsc0)) * 1_000_000_000 / u128::from(hz);
                    let pool = names.resolve(s.generation, s.pool);
                    out.push(SampleRecord::new(s, ns, pool));
                }
                if n < buf.len() {
                    break;
                }
            }
        }
    }

    /// A report of the running dataplane.
    pub fn report(&self) -> Report {
        let (generation, config_hash) = self
            .tables
            .with_current(|g| (g.number, g.tables.hash().to_string()));
        Report {
            totals: self.totals(),
            elapsed_s: self.t0.elapsed().as_secs_f64(),
            workers: self.launched.len(),
            generation,
            config_hash,
            pools: self.pool_stats(),
            latency_ns: self.latency(),
            mempool_in_use: self.pool.in_use_count(),
            mempool_size: self.pool.size(),
            ports: self.port_reports(),
            tsc_hz: self.tsc_hz,
        }
    }

    fn port_reports(&self) -> Vec<PortReport> {
        self.started
            .ports
            .iter()
            .filter_map(|&p| {
                let s = p.stats().ok()?;
                Some(PortReport {
                    port: p.0,
                    name: p.name().unwrap_or_default(),
                    ipackets: s.ipackets,
                    opackets: s.opackets,
                    imissed: s.imissed,
                    ierrors: s.ierrors,
                    oerrors: s.oerrors,
                    rx_nombuf: s.rx_nombuf,
                })
            })
            .collect()
    }

    /// Stops the workers (they drain their queues first), stops and closes every
    /// port (pcap output files complete), and returns the final report.
    pub fn stop(mut self) -> Result<Report, Error> {
        self.stop.store(true, Ordering::Relaxed);
        for lcore in &self.launched {
            match dpdk::lcore::wait(*lcore) {
                Ok(0) => {}
                Ok(code) => eprintln!("op25bd: worker on lcore {lcore} ended with code {code}"),
                Err(e) => eprintln!("op25bd: waiting for lcore {lcore}: {e}"),
            }
        }
        let elapsed_s = self.t0.elapsed().as_secs_f64();
        let ports = self.port_reports();
        let mut report = self.report();
        report.elapsed_s = elapsed_s;
        report.ports = ports;
        let started = std::mem::replace(&mut self.started, ports::Ports { ports: Vec::new() });
        started.stop_and_close()?;
        report.mempool_in_use = self.pool.in_use_count();
        Ok(report)
    }

    /// The flag the workers poll; setting it stops them.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// How long the dataplane has run.
    pub fn uptime(&self) -> Duration {
        self.t0.elapsed()
    }
}

/// The pool names of `tables`, by pool id.
fn pool_names(tables: &policy::Tables) -> Vec<String> {
    tables.pools().iter().map(|p| p.name.clone()).collect()
}
