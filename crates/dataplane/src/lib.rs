//! The op25b dataplane: worker lcores that move bursts between the ports of their
//! pairs, the ports' setup and teardown, and the counters the control core sums.
//!
//! [`run`] is the whole life of the dataplane on the main (control) lcore: plan
//! the queues, start the ports, launch the workers, watch for a stop (signal or
//! idle), drain, stop and close the ports, and return the totals.

pub mod ports;
pub mod stats;
pub mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use stats::{Totals, WorkerCounters};

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
    /// Stop once packets were seen and none arrived for this long.
    pub idle_exit: Option<Duration>,
}

/// Per-port counters at exit, from the devices themselves.
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

/// What the dataplane did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub totals: Totals,
    pub elapsed_s: f64,
    pub workers: usize,
    /// Mbufs still taken from the pool after everything stopped (0 when nothing leaked).
    pub mempool_in_use: u32,
    pub mempool_size: u32,
    pub ports: Vec<PortReport>,
}

/// Runs the dataplane until `stop` is set (by a signal handler) or the idle
/// timeout passes. Call on the main lcore after `Eal::init`.
pub fn run(opts: &Options, stop: Arc<AtomicBool>) -> Result<Report, Error> {
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
    let n_mbufs = ports::mbufs_needed(&plan.queues_per_pair, lcores.len());
    let pool = dpdk::Mempool::pktmbuf_pool(
        "op25b_mbufs",
        n_mbufs,
        ports::MEMPOOL_CACHE,
        dpdk::DEFAULT_DATA_ROOM,
        dpdk::SOCKET_ID_ANY,
    )?;
    let started = ports::start(&opts.pairs, &plan, &pool)?;

    let mut counters = Vec::new();
    let mut launched = Vec::new();
    let mut launch_err = None;
    for (w, &lcore) in lcores.iter().enumerate() {
        let c = Arc::new(WorkerCounters::default());
        counters.push(c.clone());
        if plan.per_worker[w].is_empty() {
            eprintln!("op25bd: lcore {lcore} has nothing to serve (the devices offer too few queues); it stays idle");
            continue;
        }
        let worker = match ports::take_queues(&opts.pairs, &plan.per_worker[w]) {
            Ok(queues) => worker::Worker {
                id: w,
                queues,
                counters: c,
                stop: stop.clone(),
            },
            Err(e) => {
                launch_err = Some(e);
                break;
            }
        };
        match dpdk::lcore::launch(lcore, move || worker.run()) {
            Ok(()) => launched.push(lcore),
            Err(e) => {
                launch_err = Some(e.into());
                break;
            }
        }
    }
    let t0 = Instant::now();
    if launch_err.is_none() {
        watch(&counters, &stop, opts.idle_exit);
    }
    stop.store(true, Ordering::Relaxed);
    for lcore in &launched {
        match dpdk::lcore::wait(*lcore) {
            Ok(0) => {}
            Ok(code) => eprintln!("op25bd: worker on lcore {lcore} ended with code {code}"),
            Err(e) => eprintln!("op25bd: waiting for lcore {lcore}: {e}"),
        }
    }
    let elapsed_s = t0.elapsed().as_secs_f64();
    let mut port_reports = Vec::new();
    for &p in &started.ports {
        if let Ok(s) = p.stats() {
            port_reports.push(PortReport {
                port: p.0,
                name: p.name().unwrap_or_default(),
                ipackets: s.ipackets,
                opackets: s.opackets,
                imissed: s.imissed,
                ierrors: s.ierrors,
                oerrors: s.oerrors,
                rx_nombuf: s.rx_nombuf,
            });
        }
    }
    let closed = started.stop_and_close();
    if let Some(e) = launch_err {
        return Err(e);
    }
    closed?;
    Ok(Report {
        totals: Totals::sum(counters.iter().map(|c| &**c)),
        elapsed_s,
        workers: launched.len(),
        mempool_in_use: pool.in_use_count(),
        mempool_size: pool.size(),
        ports: port_reports,
    })
}

/// The control core's wait: until `stop`, or until traffic was seen and then
/// nothing arrived for `idle`.
fn watch(counters: &[Arc<WorkerCounters>], stop: &AtomicBool, idle: Option<Duration>) {
    let mut last_rx = 0;
    let mut last_change = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(1));
        if let Some(idle) = idle {
            let rx: u64 = counters
                .iter()
                .map(|c| c.rx_access.get() + c.rx_core.get())
                .sum();
            if rx != last_rx {
                last_rx = rx;
                last_change = Instant::now();
            } else if rx > 0 && last_change.elapsed() >= idle {
                return;
            }
        }
    }
}
