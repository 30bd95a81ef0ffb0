//! dp-bench: the op25b dataplane in-process (access port a DPDK ring port, core
//! port net_null), for what a pcap replay cannot show:
//!
//! 1. **Latency** at paced loads. An injector on the main lcore builds frames of
//!    the benchmark mix into mbufs and offers them at a fixed rate (TSC-paced:
//!    each iteration offers what is due, in bursts of at most 64) to the access
//!    port; the worker on lcore 1 is op25b's own worker loop
//!    (`dataplane::worker::Worker`) with per-burst residence time recording
//!    (rx_burst returned -> last tx_burst done, TSC). First the injector runs
//!    unpaced, then paced at that rate: what the rig sustains paced is the
//!    maximum. Then 10 %, 50 % and 90 % of it, then 50 % while the control side
//!    publishes new tables every millisecond (alternating two compiled configs:
//!    pointer swap + QSBR grace period, the old generation returned). Each phase
//!    gets a fresh worker, a fresh histogram and emptied rings, so every phase's
//!    figures are its own.
//!
//!    Every phase reports its target, the rate the injector offered and the rate
//!    the worker received, and the share of the phase each thread had a CPU
//!    (`/proc` schedstat). A phase more than 5 % below its target says so, and
//!    who limited it: the injector (it could not offer the rate) or the worker
//!    (it could not take it). The rings are deep (`--ring`, 65536 slots) so that
//!    a worker that is off its CPU for a few milliseconds, as on a shared
//!    machine, catches up afterwards instead of losing what arrived meanwhile.
//! 2. **Swap cost**: load + compile time (`policy::load_str`: YAML parse,
//!    validation, compilation) of synthetic configs of 10k, 100k and 1M
//!    prefixes, then `Dataplane::publish` (the real one) on a running dataplane:
//!    the call's time and its grace period, and the process's peak resident
//!    memory during load + publish (`VmHWM`, reset through `/proc/self/clear_refs`
//!    before each size).
//!
//! ```text
//! injector --a_in--> [A access] worker [C core: net_null, frees on tx]
//!          <-a_out-- (replies)
//! ```
//!
//! The core port is a `net_null` device, so the worker frees what it forwards
//! in its own transmit call, as a NIC's transmit completions are reaped by the
//! worker in `rte_eth_tx_burst`. (With a ring there, the injector had to take
//! back and free every forwarded frame: its per-frame cost then depended on the
//! load and it could not offer 90 % of the worker's maximum.) The EAL needs
//! `--vdev=net_null_lat,no-rx=1 --vdev=net_null_swp,no-rx=1`; the defaults have them.
//!
//! Without EAL options the EAL runs with `--no-huge --no-pci --no-shconf -l 0-1
//! -m 512 --file-prefix=dp-bench-PID` and those two vdevs, and the runtime
//! directory DPDK still creates for that prefix is removed at exit.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use dataplane::latency::LatencyBuckets;
use dataplane::worker::Worker;
use dataplane::{ports, Dataplane, Generation, Options, Pair, WorkerCounters};
use dpdk::ring_port::{port_from_rings, MbufRing};
use dpdk::{Burst, Eal, Mbuf, Mempool, PortConf, PortId, Qsbr, RcuCell, RxQueue, TxQueue};
use dpdk::{DEFAULT_DATA_ROOM, SOCKET_ID_ANY};
use op25b_bench::mix::{self, MixSpec, Sizes};
use op25b_bench::replay;
use serde_json::{json, Value};

const DEFAULT_EAL: &[&str] = &[
    "--no-huge",
    "--no-pci",
    "--no-shconf",
    "-l",
    "0-1",
    "-m",
    "512",
    "--log-level=*:warning",
    "--vdev=net_null_lat,no-rx=1",
    "--vdev=net_null_swp,no-rx=1",
];

#[derive(Parser, Debug)]
#[command(
    name = "dp-bench",
    about = "Latency of op25b's worker at paced loads and during table swaps, and the cost of a swap",
    long_about = "Latency of op25b's worker loop at 10/50/90 % of the rig's maximum rate and during \
continuous table swaps (access port a ring port, core port net_null, TSC-paced injector on the main lcore, worker on lcore 1), \
and the cost of a swap (load + compile time, publish + grace period, peak memory) for \
synthetic configs of several sizes. EAL options, if any, come first and end with `--`; \
without them the EAL runs with --no-huge --no-pci --no-shconf -l 0-1 -m 512."
)]
struct Args {
    /// Prefixes in the config used for the latency phases (80 % IPv4, 20 % IPv6).
    #[arg(long, default_value_t = 100_000)]
    prefixes: usize,
    /// Distinct frames of the 64 B mix the injector cycles through.
    #[arg(long, default_value_t = 4096)]
    frames: usize,
    /// Seconds of the unpaced run that finds the maximum rate.
    #[arg(long, default_value_t = 4.0)]
    max_secs: f64,
    /// Seconds of each paced phase.
    #[arg(long, default_value_t = 5.0)]
    phase_secs: f64,
    /// Config sizes (prefixes) for the swap cost, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    swap_sizes: Vec<usize>,
    /// Seed of the traffic generator.
    #[arg(long, default_value_t = 25)]
    seed: u64,
    /// Slots of each ring between the injector and the worker (a power of two,
    /// 1024 to 1048576). Deep enough by default to hold ~15 ms at 4 Mpps, so a
    /// worker that is off its CPU for a few ms on a shared machine catches up
    /// instead of losing what arrived meanwhile.
    #[arg(long, default_value_t = 65536)]
    ring: u32,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let split = op25b_bench::eal_args_with_own_prefix(&argv, DEFAULT_EAL, "dp-bench");
    let eal_args = split.eal;
    let args = match Args::try_parse_from(split.app) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if args.frames == 0
        || args.prefixes == 0
        || !(args.max_secs > 0.0 && args.phase_secs > 0.0)
        || args.swap_sizes.contains(&0)
    {
        eprintln!("dp-bench: --frames, --prefixes, --max-secs, --phase-secs and every --swap-sizes entry must be positive");
        return ExitCode::from(2);
    }
    if !(args.ring.is_power_of_two() && (1024..=1 << 20).contains(&args.ring)) {
        eprintln!(
            "dp-bench: --ring {} must be a power of two from 1024 to 1048576",
            args.ring
        );
        return ExitCode::from(2);
    }
    let eal = match Eal::init(&eal_args) {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "dp-bench: cannot start the DPDK EAL ({}): {e}",
                eal_args[1..].join(" ")
            );
            return ExitCode::FAILURE;
        }
    };
    let code = match run(&args) {
        Ok(doc) => match &args.json {
            Some(path) => match std::fs::write(path, format!("{doc:#}\n")) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("dp-bench: cannot write {}: {e}", path.display());
                    ExitCode::FAILURE
                }
            },
            None => {
                println!("{doc:#}");
                ExitCode::SUCCESS
            }
        },
        Err(msg) => {
            eprintln!("dp-bench: {msg}");
            ExitCode::FAILURE
        }
    };
    op25b_bench::stop_eal(eal, split.own_prefix);
    code
}

fn run(args: &Args) -> Result<Value, String> {
    let latency = latency_bench(args)?;
    let swap = swap_cost(args)?;
    Ok(json!({ "latency": latency, "swap": swap }))
}

/// The appliance's pair (access: a ring port back to back with the injector's
/// port; core: net_null) and the injector's port.
struct Rig {
    pair: Pair,
    lcore: u32,
    started: Option<ports::Ports>,
    /// The appliance's mbufs (as `Dataplane::start` sizes them).
    pool: Mempool,
    /// The injector's mbufs.
    inj_pool: Mempool,
    tx_a: TxQueue,
    rx_a: RxQueue,
}

fn setup_injector_port(p: PortId, pool: &Mempool) -> Result<(), dpdk::Error> {
    p.configure(&PortConf::default())?;
    p.rx_queue_setup(0, 1024, SOCKET_ID_ANY, pool)?;
    p.tx_queue_setup(0, 1024, SOCKET_ID_ANY)?;
    p.start()
}

impl Rig {
    /// Ring ports named after `tag` (DPDK names are process-wide), each ring of
    /// `ring` slots; the injector's mbufs have `frame_room` bytes of data room.
    fn new(
        tag: &str,
        ring: u32,
        frame_room: u16,
        start_appliance_ports: bool,
    ) -> Result<Rig, String> {
        let e = |what: &str, err: dpdk::Error| format!("{what}: {err}");
        let mk = |n: &str| MbufRing::new(&format!("{tag}_{n}"), ring, SOCKET_ID_ANY);
        let (a_in, a_out) = (
            mk("a_in").map_err(|x| e("ring", x))?,
            mk("a_out").map_err(|x| e("ring", x))?,
        );
        let a = port_from_rings(&format!("{tag}_A"), &[a_in], &[a_out], 0)
            .map_err(|x| e("port A", x))?;
        let null = format!("net_null_{tag}");
        let c = PortId::by_name(&null).map_err(|x| {
            format!(
                "core port {null}: {x} (give the EAL --vdev={null},no-rx=1, as dp-bench's defaults do)"
            )
        })?;
        let inj_a = port_from_rings(&format!("{tag}_iA"), &[a_out], &[a_in], 0)
            .map_err(|x| e("injector port A", x))?;
        // Enough for a full access ring, a full ring of replies on their way
        // back, the bursts in hand and the per-lcore caches.
        let inj_mbufs = 2 * ring_slots(ring) + 8191;
        let inj_pool = Mempool::pktmbuf_pool(
            &format!("{tag}_inj"),
            inj_mbufs,
            256,
            frame_room,
            SOCKET_ID_ANY,
        )
        .map_err(|x| e("injector mempool", x))?;
        setup_injector_port(inj_a, &inj_pool).map_err(|x| e("injector port A", x))?;
        let pair = Pair {
            access: a.0,
            core: c.0,
        };
        let plan = ports::plan(1, 1, &[1]);
        let pool = Mempool::pktmbuf_pool(
            &format!("{tag}_app"),
            ports::mbufs_needed(&plan.queues_per_pair, 1),
            ports::MEMPOOL_CACHE,
            DEFAULT_DATA_ROOM,
            SOCKET_ID_ANY,
        )
        .map_err(|x| e("appliance mempool", x))?;
        let started = if start_appliance_ports {
            Some(ports::start(&[pair], &plan, &pool).map_err(|x| format!("ports: {x}"))?)
        } else {
            None
        };
        let lcore = dpdk::lcore::workers()
            .next()
            .ok_or("no worker lcore: give two lcores (-l 0-1)")?;
        Ok(Rig {
            pair,
            lcore,
            started,
            pool,
            inj_pool,
            tx_a: inj_a.tx_queue(0).map_err(|x| e("injector tx", x))?,
            rx_a: inj_a.rx_queue(0).map_err(|x| e("injector rx", x))?,
        })
    }

    /// Frees whatever came out of the appliance; returns how many frames.
    fn drain(&mut self, burst: &mut Burst) -> u64 {
        let mut n = 0;
        loop {
            let got = self.rx_a.rx_burst_into(burst);
            n += got as u64;
            burst.clear();
            if got < dpdk::MAX_BURST {
                return n;
            }
        }
    }

    /// Once the worker has stopped: frees what the appliance sent out and what
    /// it left unread in its own receive rings, so that a backlog at the end
    /// of one phase does not become the start of the next. Returns how many
    /// frames were left unread.
    fn flush(&mut self) -> Result<u64, String> {
        let mut b = Burst::new();
        while self.drain(&mut b) > 0 {}
        let mut unread = 0;
        let mut queues = ports::take_queues(&[self.pair], &[(0, 0)])
            .map_err(|x| format!("queues for the flush: {x}"))?;
        for q in &mut queues {
            for rx in [&mut q.access_rx, &mut q.core_rx] {
                loop {
                    let got = rx.rx_burst_into(&mut b);
                    b.clear();
                    unread += got as u64;
                    if got == 0 {
                        break;
                    }
                }
            }
        }
        Ok(unread)
    }
}

/// Slots of a ring of `count` entries (DPDK keeps one free).
fn ring_slots(count: u32) -> u32 {
    count - 1
}

/// What the injector did in one phase.
#[derive(Debug, Default, Clone)]
struct Injected {
    /// Frames offered to the access ring, the refused ones included.
    offered: u64,
    /// Frames the access ring refused (it was full: the worker was behind); freed.
    refused: u64,
    /// TSC cycles from the start to the end of the phase.
    cycles: u64,
    /// Cycles spent building and offering frames (mbuf alloc, copy, tx_burst).
    build_cycles: u64,
    /// Cycles spent taking back and freeing what the appliance sent out.
    drain_cycles: u64,
    /// Iterations that found a whole burst or more due (behind its schedule).
    behind: u64,
    iterations: u64,
}

impl Injected {
    fn to_json(&self, hz: f64) -> Value {
        let ns = |c: u64, per: u64| (per > 0).then(|| c as f64 / hz * 1e9 / per as f64);
        let share = |x: u64, of: u64| (of > 0).then(|| x as f64 / of as f64);
        json!({
            "build_ns_per_frame": ns(self.build_cycles, self.offered),
            "busy_share": share(self.build_cycles + self.drain_cycles, self.cycles),
            "behind_share": share(self.behind, self.iterations),
            "iterations": self.iterations,
        })
    }
}

/// The injector: offers `frames` round-robin at `rate` frames/s (unpaced when
/// `None`: a full burst every iteration) until `until` says stop.
///
/// Each iteration offers exactly what is due by the TSC (`rate` x elapsed
/// minus what was offered), in bursts of at most `MAX_BURST`, so a late
/// injector catches up at full bursts. It takes back what the appliance sent
/// out only when it is not behind its schedule, and at least every 8th
/// iteration (and whenever its mempool runs dry), so freeing does not delay
/// offering.
fn inject(
    rig: &mut Rig,
    frames: &[Vec<u8>],
    rate: Option<f64>,
    mut until: impl FnMut() -> bool,
) -> Result<Injected, String> {
    const BURST: u64 = dpdk::MAX_BURST as u64;
    let per_cycle = rate.map(|r| r / dpdk::cycles::tsc_hz() as f64);
    let mut st = Injected::default();
    let mut next = 0usize;
    let (mut out, mut back) = (Burst::new(), Burst::new());
    let t0 = dpdk::cycles::rdtsc();
    let mut now = t0;
    loop {
        st.iterations += 1;
        if st.iterations % 64 == 0 && until() {
            break;
        }
        let due = match per_cycle {
            None => st.offered + BURST,
            Some(pc) => (now.wrapping_sub(t0) as f64 * pc) as u64,
        };
        let behind = due.saturating_sub(st.offered);
        let k = behind.min(BURST) as usize;
        if k > 0 {
            if behind >= BURST {
                st.behind += 1;
            }
            for _ in 0..k {
                let f = &frames[next];
                next = (next + 1) % frames.len();
                let mut m = match Mbuf::alloc(&rig.inj_pool) {
                    Some(m) => m,
                    None => {
                        rig.drain(&mut back);
                        Mbuf::alloc(&rig.inj_pool).ok_or(
                            "injector mempool exhausted with every ring drained (mbufs lost?)",
                        )?
                    }
                };
                m.append(f.len() as u16)
                    .ok_or("frame larger than an injector mbuf")?
                    .copy_from_slice(f);
                // Cannot fail: at most MAX_BURST per round.
                let _ = out.push(m);
            }
            st.offered += k as u64;
            rig.tx_a.tx_burst(&mut out);
            st.refused += out.len() as u64;
            out.clear();
            let t = dpdk::cycles::rdtsc();
            st.build_cycles += t.wrapping_sub(now);
            now = t;
        }
        if ((k as u64) < BURST || st.iterations % 8 == 0) && rig.drain(&mut back) > 0 {
            let t = dpdk::cycles::rdtsc();
            st.drain_cycles += t.wrapping_sub(now);
        }
        now = dpdk::cycles::rdtsc();
    }
    st.cycles = now.wrapping_sub(t0);
    Ok(st)
}

/// Nanoseconds thread `tid` of this process has run, and has waited runnable
/// for a CPU (Linux `/proc/self/task/TID/schedstat`).
fn schedstat(tid: u64) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    let mut it = s.split_whitespace().map(|x| x.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}

/// The calling thread's id (`/proc/thread-self` -> `PID/task/TID`).
fn current_tid() -> Option<u64> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// The share of `secs` thread `tid` ran, from two schedstat readings.
fn cpu_share(before: Option<(u64, u64)>, after: Option<(u64, u64)>, secs: f64) -> Option<f64> {
    let (b, a) = (before?, after?);
    (secs > 0.0).then(|| (a.0.saturating_sub(b.0) as f64 / 1e9 / secs).min(1.0))
}

/// A worker like `Dataplane::start` launches, with our own latency buckets.
struct Running {
    stop: Arc<AtomicBool>,
    counters: Arc<WorkerCounters>,
    latency: Arc<LatencyBuckets>,
    cell: Arc<RcuCell<Generation>>,
    samples: dpdk::ring::Consumer<dataplane::Sample>,
    /// The worker lcore's thread id once it has started (0 before).
    tid: Arc<AtomicU64>,
}

/// Launches `dataplane::worker::Worker::run` on the rig's worker lcore. The
/// struct literal names every field: a field added to `Worker` fails to
/// compile here instead of silently running a worker unlike op25bd's.
fn launch(rig: &Rig, tables: policy::Tables, tag: &str) -> Result<Running, String> {
    let e = |what: &str, err: dpdk::Error| format!("{what}: {err}");
    let qsbr = Arc::new(Qsbr::new(1).map_err(|x| e("qsbr", x))?);
    let cell = Arc::new(RcuCell::new(
        Box::new(Generation::new(1, tables, String::new(), 1)),
        qsbr.clone(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(WorkerCounters::default());
    let latency = Arc::new(LatencyBuckets::default());
    let (producer, samples) =
        dpdk::ring::spsc::<dataplane::Sample>(&format!("{tag}_smp"), 4096, SOCKET_ID_ANY)
            .map_err(|x| e("sample ring", x))?;
    let worker = Worker {
        index: 0,
        queues: ports::take_queues(&[rig.pair], &[(0, 0)]).map_err(|x| format!("queues: {x}"))?,
        counters: counters.clone(),
        latency: Some(latency.clone()),
        samples: producer,
        tables: cell.clone(),
        reader: qsbr.reader(0).map_err(|x| e("qsbr reader", x))?,
        pool: rig.pool,
        stop: stop.clone(),
        tsc_hz: dpdk::cycles::tsc_hz(),
    };
    let tid = Arc::new(AtomicU64::new(0));
    let worker_tid = tid.clone();
    dpdk::lcore::launch(rig.lcore, move || {
        // Before the loop: one readlink, for the CPU-share figures.
        worker_tid.store(current_tid().unwrap_or(0), Ordering::Release);
        worker.run()
    })
    .map_err(|x| e("launch", x))?;
    Ok(Running {
        stop,
        counters,
        latency,
        cell,
        samples,
        tid,
    })
}

/// Stops the worker and empties the rig; returns the frames left unread.
fn stop(rig: &mut Rig, w: &Running) -> Result<u64, String> {
    w.stop.store(true, Ordering::Relaxed);
    match dpdk::lcore::wait(rig.lcore) {
        Ok(0) => {}
        Ok(code) => return Err(format!("worker ended with code {code}")),
        Err(e) => return Err(format!("waiting for the worker: {e}")),
    }
    rig.flush()
}

/// Quantiles for the CDF: dense in the body, then the tail up to the max.
const CDF_QUANTILES: &[f64] = &[
    0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998,
    0.999, 0.9995, 0.9999, 1.0,
];

struct Phase {
    name: String,
    target_pps: Option<f64>,
    inj: Injected,
    /// Frames the worker received.
    rx: u64,
    /// Frames still in the access ring when the phase ended (a backlog).
    unread: u64,
    secs: f64,
    hist: hdrhistogram::Histogram<u64>,
    grace_us: Vec<u64>,
    /// Share of the phase the worker's and the injector's threads had a CPU.
    worker_cpu: Option<f64>,
    injector_cpu: Option<f64>,
}

impl Phase {
    fn offered_mpps(&self) -> f64 {
        self.inj.offered as f64 / self.secs / 1e6
    }

    fn received_mpps(&self) -> f64 {
        self.rx as f64 / self.secs / 1e6
    }

    fn shortfall(&self) -> Option<replay::Shortfall> {
        replay::shortfall(
            self.target_pps? / 1e6,
            self.offered_mpps(),
            self.received_mpps(),
        )
    }

    /// Why a phase missed its target, for people: the shortfall and the CPU
    /// share of the side that limited it.
    fn miss_note(&self) -> Option<String> {
        let s = self.shortfall()?;
        let cpu = match s.limited_by {
            replay::Limit::Worker => self.worker_cpu,
            replay::Limit::Injector => self.injector_cpu,
        };
        Some(match cpu {
            Some(c) => format!("{s} (which had its CPU {:.0} % of the phase)", 100.0 * c),
            None => s.to_string(),
        })
    }

    fn summary(&self) -> String {
        let h = &self.hist;
        let cpu = |x: Option<f64>| x.map_or("n/a".into(), |c| format!("{:.0} %", 100.0 * c));
        let target = self
            .target_pps
            .map_or(String::new(), |t| format!("target {:.3} Mpps, ", t / 1e6));
        format!(
            "{target}offered {:.3}, received {:.3} Mpps (refused {:.1} %), worker CPU {}, mean burst {:.1}: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
            self.offered_mpps(),
            self.received_mpps(),
            100.0 * self.inj.refused as f64 / self.inj.offered.max(1) as f64,
            cpu(self.worker_cpu),
            if h.is_empty() { 0.0 } else { self.rx as f64 / h.len() as f64 },
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max()
        )
    }

    fn to_json(&self) -> Value {
        let h = &self.hist;
        let q = |x: f64| h.value_at_quantile(x);
        let mut grace = self.grace_us.clone();
        grace.sort_unstable();
        let gq = |x: f64| {
            grace
                .get(((grace.len() as f64 - 1.0) * x).round() as usize)
                .copied()
        };
        let missed = self.shortfall().map(|s| {
            json!({
                "achieved_mpps": s.achieved_mpps,
                "target_mpps": s.target_mpps,
                "limited_by": s.limited_by.name(),
                "note": self.miss_note(),
            })
        });
        json!({
            "name": self.name,
            "target_mpps": self.target_pps.map(|r| r / 1e6),
            "offered_mpps": self.offered_mpps(),
            "received_mpps": self.received_mpps(),
            "refused": self.inj.refused,
            "refused_share": self.inj.refused as f64 / self.inj.offered.max(1) as f64,
            "unread_at_end": self.unread,
            "missed": missed,
            "worker_cpu_share": self.worker_cpu,
            "injector_cpu_share": self.injector_cpu,
            "injector": self.inj.to_json(dpdk::cycles::tsc_hz() as f64),
            "secs": self.secs,
            "bursts": h.len(),
            "mean_burst": if h.is_empty() { 0.0 } else { self.rx as f64 / h.len() as f64 },
            "p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "p999": q(0.999), "max": h.max(),
            "cdf": CDF_QUANTILES.iter().map(|&x| json!([q(x), x])).collect::<Vec<_>>(),
            "swaps": self.grace_us.len(),
            "grace_us_p50": gq(0.5),
            "grace_us_p99": gq(0.99),
            "grace_us_max": grace.last(),
        })
    }
}

/// What a phase runs: the tables, the ones swapped in (if any), the frames.
#[derive(Clone, Copy)]
struct Workload<'a> {
    tables: &'a policy::Tables,
    swap_to: Option<&'a policy::Tables>,
    frames: &'a [Vec<u8>],
}

fn run_phase(
    rig: &mut Rig,
    n: usize,
    name: &str,
    load: &Workload<'_>,
    rate: Option<f64>,
    secs: f64,
) -> Result<Phase, String> {
    let Workload {
        tables,
        swap_to,
        frames,
    } = *load;
    let w = launch(rig, tables.clone(), &format!("dpb{n}"))?;
    // The worker's thread id, for its CPU share (it is stored before the loop).
    let started = Instant::now();
    let worker_tid = loop {
        match w.tid.load(Ordering::Acquire) {
            0 if started.elapsed() < Duration::from_secs(2) => std::thread::yield_now(),
            0 => break None,
            t => break Some(t),
        }
    };
    let injector_tid = current_tid();
    let worker_before = worker_tid.and_then(schedstat);
    let injector_before = injector_tid.and_then(schedstat);
    let publishing = Arc::new(AtomicBool::new(swap_to.is_some()));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut samples = vec![dataplane::Sample::EMPTY; 256];
    let mut samples_consumer = w.samples;
    let result = std::thread::scope(|s| {
        // The control side: publish the other tables every millisecond. A
        // thread spawned by the main lcore inherits its CPU (core 0), so it
        // never runs on the worker's core.
        let publisher = swap_to.map(|other| {
            let cell = w.cell.clone();
            let flag = publishing.clone();
            let mut next = Box::new(Generation::new(2, other.clone(), String::new(), 1));
            s.spawn(move || {
                let mut grace = Vec::new();
                while flag.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                    let (old, p) = cell.publish(next);
                    grace.push(p.grace.as_micros() as u64);
                    next = old;
                }
                grace
            })
        });
        let r = inject(rig, frames, rate, || {
            // Keep the blocked-flow sample ring from filling (op25bd drains it too).
            while samples_consumer.dequeue_burst(&mut samples) > 0 {}
            Instant::now() >= deadline
        });
        publishing.store(false, Ordering::Relaxed);
        let grace = publisher
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        r.map(|r| (r, grace))
    });
    let rx = dataplane::Totals::sum(std::iter::once(&*w.counters)).rx;
    let worker_after = worker_tid.and_then(schedstat);
    let injector_after = injector_tid.and_then(schedstat);
    let running = Running {
        samples: samples_consumer,
        ..w
    };
    let unread = stop(rig, &running)?;
    let (inj, grace_us) = result?;
    let secs = inj.cycles as f64 / dpdk::cycles::tsc_hz() as f64;
    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
        .map_err(|e| format!("histogram: {e}"))?;
    running.latency.add_to(&mut hist, dpdk::cycles::tsc_hz());
    Ok(Phase {
        name: name.to_owned(),
        target_pps: rate,
        inj,
        rx,
        unread,
        secs,
        hist,
        grace_us,
        worker_cpu: cpu_share(worker_before, worker_after, secs),
        injector_cpu: cpu_share(injector_before, injector_after, secs),
    })
}

/// Data room for mbufs holding `frames`: the headroom plus the longest frame,
/// rounded up to a cache line.
fn frame_room(frames: &[Vec<u8>]) -> Result<u16, String> {
    let longest = frames.iter().map(Vec::len).max().unwrap_or(0);
    let room = (dpdk::sys::RTE_PKTMBUF_HEADROOM as usize + longest).next_multiple_of(64);
    u16::try_from(room)
        .ok()
        .filter(|&r| r <= DEFAULT_DATA_ROOM)
        .ok_or_else(|| format!("a frame of {longest} bytes does not fit one mbuf"))
}

fn latency_bench(args: &Args) -> Result<Value, String> {
    let spec = MixSpec::isp(Sizes::Min64, args.prefixes);
    let tables = policy::load_str("latency.yaml", spec.config_yaml().as_bytes())
        .map_err(|e| format!("latency config: {e}"))?
        .tables;
    // The swapped-in config: the same prefixes spread over one pool less, so
    // pools, modes and verdicts move.
    let other_spec = MixSpec {
        pools: spec.pools.saturating_sub(1).max(1),
        ..spec.clone()
    };
    let other = policy::load_str("latency-b.yaml", other_spec.config_yaml().as_bytes())
        .map_err(|e| format!("second latency config: {e}"))?
        .tables;
    let frames: Vec<Vec<u8>> = mix::frames(&spec, args.seed, args.frames)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    let steady = Workload {
        tables: &tables,
        swap_to: None,
        frames: &frames,
    };
    let mut rig = Rig::new("lat", args.ring, frame_room(&frames)?, true)?;
    println!(
        "dp-bench: latency, {} mix, config of {} prefixes, rings of {}; unpaced for {:.0} s to find the maximum rate",
        spec.sizes.name(),
        spec.prefixes(),
        args.ring,
        args.max_secs
    );
    // The maximum, measured the way the paced phases run: first unpaced (a
    // full burst every iteration, the access ring never empty), then paced at
    // that rate. What the rig sustains paced is the maximum the loads are
    // fractions of (pacing costs the injector more per frame, and a worker
    // that is off its CPU cannot make up for lost time once it is idle).
    let unpaced = run_phase(&mut rig, 0, "max, unpaced", &steady, None, args.max_secs)?;
    let unpaced_pps = unpaced.rx as f64 / unpaced.secs;
    println!(
        "dp-bench: unpaced maximum {:.3} Mpps: {}",
        unpaced_pps / 1e6,
        unpaced.summary()
    );
    if unpaced.rx == 0 || unpaced.secs <= 0.0 {
        return Err("the worker received nothing in the unpaced run".into());
    }
    let paced = run_phase(
        &mut rig,
        5,
        "max, paced",
        &steady,
        Some(unpaced_pps),
        args.max_secs,
    )?;
    let max_pps = (paced.rx as f64 / paced.secs).min(unpaced_pps);
    // Who limits the rig: what limited the paced run, else a full access ring
    // in the unpaced run means the worker could not keep up.
    let limited_by = match paced.shortfall() {
        Some(s) => s.limited_by.name(),
        None if unpaced.inj.refused > unpaced.inj.offered / 100 => "worker",
        None => "injector",
    };
    println!(
        "dp-bench: paced at the unpaced maximum: {}",
        paced.summary()
    );
    if let Some(note) = paced.miss_note() {
        println!("dp-bench: paced at the unpaced maximum: {note}");
    }
    println!(
        "dp-bench: maximum {:.3} Mpps (limited by the {limited_by}); the loads are fractions of it",
        max_pps / 1e6
    );
    let mut phases = vec![unpaced, paced];
    let levels = [
        (10.0, "10%", None),
        (50.0, "50%", None),
        (90.0, "90%", None),
        (50.0, "50% + swaps", Some(&other)),
    ];
    for (i, (pct, name, swap_to)) in levels.into_iter().enumerate() {
        let p = run_phase(
            &mut rig,
            i + 1,
            name,
            &Workload { swap_to, ..steady },
            Some(max_pps * pct / 100.0),
            args.phase_secs,
        )?;
        let swaps = if p.grace_us.is_empty() {
            String::new()
        } else {
            format!(" ({} swaps)", p.grace_us.len())
        };
        println!("dp-bench: {name}{swaps}: {}", p.summary());
        if let Some(note) = p.miss_note() {
            println!("dp-bench: {name}: {note}");
        }
        phases.push(p);
    }
    if let Some(started) = rig.started.take() {
        started
            .stop_and_close()
            .map_err(|e| format!("closing the ports: {e}"))?;
    }
    Ok(json!({
        "mix": spec.sizes.name(),
        "prefixes": spec.prefixes(),
        "frames": args.frames,
        "ring": args.ring,
        "max_mpps": max_pps / 1e6,
        "unpaced_max_mpps": unpaced_pps / 1e6,
        "limited_by": limited_by,
        "miss_tolerance": replay::MISS_TOLERANCE,
        "method": "access port: a ring port; core port: net_null; TSC-paced injector on the main lcore (frames built into mbufs, offered in bursts of what is due); op25b's Worker::run on lcore 1; the maximum is the unpaced rate received; offered = what the injector put on the access ring (refused frames included), received = the worker's rx counter; max = the lower of the unpaced rate and what a run paced at it received; a phase more than miss_tolerance below its target is marked missed, limited by the injector (offered short) or the worker (received short); CPU shares from /proc schedstat",
        "phases": phases.iter().map(Phase::to_json).collect::<Vec<_>>(),
    }))
}

/// A field of /proc/self/status in KiB (VmRSS, VmHWM).
fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Resets VmHWM to the current RSS (Linux: "5" to clear_refs).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn swap_cost(args: &Args) -> Result<Value, String> {
    let rig = Rig::new("swp", 4096, DEFAULT_DATA_ROOM, false)?;
    let small = policy::load_str(
        "start.yaml",
        MixSpec::isp(Sizes::Min64, 10).config_yaml().as_bytes(),
    )
    .map_err(|e| format!("start config: {e}"))?
    .tables;
    let opts = Options {
        pairs: vec![rig.pair],
        ..Options::default()
    };
    let dp =
        Dataplane::start(&opts, small, String::new()).map_err(|e| format!("dataplane: {e}"))?;
    let mut sizes = Vec::new();
    let mib = |kib: Option<u64>| kib.map(|k| k as f64 / 1024.0);
    for &n in &args.swap_sizes {
        let spec = MixSpec::isp(Sizes::Min64, n);
        let yaml = spec.config_yaml();
        let peak_reset = reset_peak();
        let rss_before = status_kib("VmRSS");
        let t = Instant::now();
        let loaded = policy::load_str("swap.yaml", yaml.as_bytes())
            .map_err(|e| format!("config of {n} prefixes: {e}"))?;
        let compile_ms = t.elapsed().as_secs_f64() * 1e3;
        drop(yaml);
        let t = Instant::now();
        let p = dp.publish(loaded.tables, String::new());
        let publish_ms = t.elapsed().as_secs_f64() * 1e3;
        let peak = status_kib("VmHWM");
        let rss_after = status_kib("VmRSS");
        println!(
            "dp-bench: swap to {} prefixes: load+compile {compile_ms:.1} ms, publish {publish_ms:.2} ms (grace {} us), peak RSS {:.0} MiB (from {:.0} MiB)",
            spec.prefixes(),
            p.grace_us,
            mib(peak).unwrap_or(f64::NAN),
            mib(rss_before).unwrap_or(f64::NAN),
        );
        sizes.push(json!({
            "prefixes": spec.prefixes(),
            "compile_ms": compile_ms,
            "publish_ms": publish_ms,
            "grace_us": p.grace_us,
            "rss_before_mib": mib(rss_before),
            "peak_rss_mib": if peak_reset { mib(peak) } else { None },
            "rss_after_mib": mib(rss_after),
        }));
    }
    let report = dp
        .stop()
        .map_err(|e| format!("stopping the dataplane: {e}"))?;
    if report.generation != args.swap_sizes.len() as u64 + 1 {
        return Err(format!(
            "generation {} after {} publications",
            report.generation,
            args.swap_sizes.len()
        ));
    }
    Ok(json!({
        "method": "policy::load_str (YAML parse, validation, compilation) timed; then Dataplane::publish on a running dataplane (idle worker polling its ports); peak = VmHWM after reset through /proc/self/clear_refs",
        "sizes": sizes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_share_is_the_run_time_over_the_phase_and_needs_both_readings() {
        let share = cpu_share(Some((1_000_000_000, 5)), Some((1_500_000_000, 9)), 2.0).unwrap();
        assert!((share - 0.25).abs() < 1e-12, "{share}");
        // Clamped: the kernel's accounting may run a little ahead of ours.
        assert_eq!(
            cpu_share(Some((0, 0)), Some((3_000_000_000, 0)), 2.0),
            Some(1.0)
        );
        assert_eq!(cpu_share(None, Some((1, 0)), 1.0), None);
        assert_eq!(cpu_share(Some((1, 0)), None, 1.0), None);
        assert_eq!(cpu_share(Some((1, 0)), Some((2, 0)), 0.0), None);
    }

    #[test]
    fn this_threads_schedstat_is_readable_and_grows() {
        let tid = current_tid().expect("/proc/thread-self");
        let before = schedstat(tid).expect("schedstat of this thread");
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(20) {
            std::hint::black_box(0u64);
        }
        let after = schedstat(tid).unwrap();
        assert!(after.0 > before.0, "{before:?} -> {after:?}");
        assert_eq!(schedstat(u64::MAX), None);
    }

    #[test]
    fn injector_mbufs_fit_the_longest_frame_after_the_headroom() {
        let headroom = dpdk::sys::RTE_PKTMBUF_HEADROOM as usize;
        let room = frame_room(&[vec![0; 60], vec![0; 100]]).unwrap() as usize;
        assert!(room >= headroom + 100 && room % 64 == 0, "{room}");
        assert!(room < headroom + 100 + 64);
        assert!(frame_room(&[vec![0; 9000]])
            .unwrap_err()
            .contains("9000 bytes"));
    }
}
