//! dp-bench: the op25b dataplane in-process, over DPDK ring ports, for what a
//! pcap replay cannot show:
//!
//! 1. **Latency** at paced loads. An injector on the main lcore builds frames of
//!    the benchmark mix into mbufs and offers them at a fixed rate (TSC-paced)
//!    to the access port; the worker on lcore 1 is op25b's own worker loop
//!    (`dataplane::worker::Worker`) with per-burst residence time recording
//!    (rx_burst returned -> last tx_burst done, TSC). First the injector runs
//!    unpaced to find the rig's maximum rate, then at 10 %, 50 % and 90 % of it,
//!    then at 50 % while the control side publishes new tables every
//!    millisecond (alternating two compiled configs: pointer swap + QSBR grace
//!    period, the old generation returned). Each phase gets a fresh worker and
//!    a fresh histogram, so every phase's percentiles are its own.
//! 2. **Swap cost**: load + compile time (`policy::load_str`: YAML parse,
//!    validation, compilation) of synthetic configs of 10k, 100k and 1M
//!    prefixes, then `Dataplane::publish` (the real one) on a running dataplane:
//!    the call's time and its grace period, and the process's peak resident
//!    memory during load + publish (`VmHWM`, reset through `/proc/self/clear_refs`
//!    before each size).
//!
//! ```text
//! injector --a_in--> [A access] worker [C core] --c_out--> injector (frees)
//!          <-a_out-- (replies)
//! ```
//!
//! Without EAL options the EAL runs with `--no-huge --no-pci --no-shconf -l 0-1 -m 512`.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
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
];

#[derive(Parser, Debug)]
#[command(
    name = "dp-bench",
    about = "Latency of op25b's worker at paced loads and during table swaps, and the cost of a swap",
    long_about = "Latency of op25b's worker loop at 10/50/90 % of the rig's maximum rate and during \
continuous table swaps (ring ports, TSC-paced injector on the main lcore, worker on lcore 1), \
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
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let (eal_args, app_args) = op25b_bench::split_eal_args(&argv, DEFAULT_EAL);
    let args = match Args::try_parse_from(app_args) {
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
    drop(eal);
    code
}

fn run(args: &Args) -> Result<Value, String> {
    let latency = latency_bench(args)?;
    let swap = swap_cost(args)?;
    Ok(json!({ "latency": latency, "swap": swap }))
}

/// Back-to-back ring ports: the appliance's pair and the injector's two ports.
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
    rx_c: RxQueue,
}

fn setup_injector_port(p: PortId, pool: &Mempool) -> Result<(), dpdk::Error> {
    p.configure(&PortConf::default())?;
    p.rx_queue_setup(0, 1024, SOCKET_ID_ANY, pool)?;
    p.tx_queue_setup(0, 1024, SOCKET_ID_ANY)?;
    p.start()
}

impl Rig {
    /// Ring ports named after `tag` (DPDK names are process-wide).
    fn new(tag: &str, start_appliance_ports: bool) -> Result<Rig, String> {
        let e = |what: &str, err: dpdk::Error| format!("{what}: {err}");
        let ring = |n: &str| MbufRing::new(&format!("{tag}_{n}"), 4096, SOCKET_ID_ANY);
        let (a_in, a_out, c_in, c_out) = (
            ring("a_in").map_err(|x| e("ring", x))?,
            ring("a_out").map_err(|x| e("ring", x))?,
            ring("c_in").map_err(|x| e("ring", x))?,
            ring("c_out").map_err(|x| e("ring", x))?,
        );
        let a = port_from_rings(&format!("{tag}_A"), &[a_in], &[a_out], 0)
            .map_err(|x| e("port A", x))?;
        let c = port_from_rings(&format!("{tag}_C"), &[c_in], &[c_out], 0)
            .map_err(|x| e("port C", x))?;
        let inj_a = port_from_rings(&format!("{tag}_iA"), &[a_out], &[a_in], 0)
            .map_err(|x| e("injector port A", x))?;
        let inj_c = port_from_rings(&format!("{tag}_iC"), &[c_out], &[c_in], 0)
            .map_err(|x| e("injector port C", x))?;
        let inj_pool = Mempool::pktmbuf_pool(
            &format!("{tag}_inj"),
            16383,
            256,
            DEFAULT_DATA_ROOM,
            SOCKET_ID_ANY,
        )
        .map_err(|x| e("injector mempool", x))?;
        setup_injector_port(inj_a, &inj_pool).map_err(|x| e("injector port A", x))?;
        setup_injector_port(inj_c, &inj_pool).map_err(|x| e("injector port C", x))?;
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
            rx_c: inj_c.rx_queue(0).map_err(|x| e("injector rx", x))?,
        })
    }

    /// Frees whatever came out of the appliance; returns how many frames.
    fn drain(&mut self, burst: &mut Burst) -> u64 {
        let mut n = 0;
        for rx in [&mut self.rx_a, &mut self.rx_c] {
            loop {
                let got = rx.rx_burst_into(burst);
                n += got as u64;
                burst.clear();
                if got < dpdk::MAX_BURST {
                    break;
                }
            }
        }
        n
    }
}

/// The injector: offers `frames` round-robin at `rate` frames/s (unpaced when
/// `None`) until `until` says stop. Returns (offered, refused by a full ring).
fn inject(
    rig: &mut Rig,
    frames: &[Vec<u8>],
    rate: Option<f64>,
    mut until: impl FnMut() -> bool,
) -> Result<(u64, u64), String> {
    let hz = dpdk::cycles::tsc_hz() as f64;
    let t0 = dpdk::cycles::rdtsc();
    let (mut offered, mut refused, mut next) = (0u64, 0u64, 0usize);
    let mut out = Burst::new();
    let mut scratch = Burst::new();
    let mut iter = 0u64;
    loop {
        iter += 1;
        if iter % 64 == 0 && until() {
            break;
        }
        let due = match rate {
            None => offered + dpdk::MAX_BURST as u64,
            Some(r) => ((dpdk::cycles::rdtsc() - t0) as f64 / hz * r) as u64,
        };
        let k = due.saturating_sub(offered).min(dpdk::MAX_BURST as u64) as usize;
        for _ in 0..k {
            let f = &frames[next];
            next = (next + 1) % frames.len();
            let mut m = Mbuf::alloc(&rig.inj_pool).ok_or("injector mempool exhausted")?;
            m.append(f.len() as u16)
                .ok_or("frame larger than an mbuf")?
                .copy_from_slice(f);
            // Cannot fail: at most MAX_BURST per round.
            let _ = out.push(m);
        }
        if k > 0 {
            offered += k as u64;
            rig.tx_a.tx_burst(&mut out);
            refused += out.len() as u64;
            out.clear();
        }
        rig.drain(&mut scratch);
    }
    Ok((offered, refused))
}

/// A worker like `Dataplane::start` launches, with our own latency buckets.
struct Running {
    stop: Arc<AtomicBool>,
    counters: Arc<WorkerCounters>,
    latency: Arc<LatencyBuckets>,
    cell: Arc<RcuCell<Generation>>,
    samples: dpdk::ring::Consumer<dataplane::Sample>,
}

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
    dpdk::lcore::launch(rig.lcore, move || worker.run()).map_err(|x| e("launch", x))?;
    Ok(Running {
        stop,
        counters,
        latency,
        cell,
        samples,
    })
}

fn stop(rig: &mut Rig, w: &Running) -> Result<(), String> {
    w.stop.store(true, Ordering::Relaxed);
    match dpdk::lcore::wait(rig.lcore) {
        Ok(0) => {}
        Ok(code) => return Err(format!("worker ended with code {code}")),
        Err(e) => return Err(format!("waiting for the worker: {e}")),
    }
    let mut b = Burst::new();
    while rig.drain(&mut b) > 0 {}
    Ok(())
}

/// Quantiles for the CDF: dense in the body, then the tail up to the max.
const CDF_QUANTILES: &[f64] = &[
    0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998,
    0.999, 0.9995, 0.9999, 1.0,
];

struct Phase {
    name: String,
    target_pps: Option<f64>,
    offered: u64,
    refused: u64,
    rx: u64,
    secs: f64,
    hist: hdrhistogram::Histogram<u64>,
    grace_us: Vec<u64>,
}

impl Phase {
    fn rx_mpps(&self) -> f64 {
        self.rx as f64 / self.secs / 1e6
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
        json!({
            "name": self.name,
            "target_mpps": self.target_pps.map(|r| r / 1e6),
            "offered_mpps": self.offered as f64 / self.secs / 1e6,
            "refused": self.refused,
            "rx_mpps": self.rx_mpps(),
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
    let publishing = Arc::new(AtomicBool::new(swap_to.is_some()));
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(secs);
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
    let secs = t0.elapsed().as_secs_f64();
    let rx = dataplane::Totals::sum(std::iter::once(&*w.counters)).rx;
    let running = Running {
        samples: samples_consumer,
        ..w
    };
    stop(rig, &running)?;
    let ((offered, refused), grace_us) = result?;
    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
        .map_err(|e| format!("histogram: {e}"))?;
    running.latency.add_to(&mut hist, dpdk::cycles::tsc_hz());
    Ok(Phase {
        name: name.to_owned(),
        target_pps: rate,
        offered,
        refused,
        rx,
        secs,
        hist,
        grace_us,
    })
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
    let mut rig = Rig::new("lat", true)?;
    println!(
        "dp-bench: latency, {} mix, config of {} prefixes; unpaced for {:.0} s to find the maximum rate",
        spec.sizes.name(),
        spec.prefixes(),
        args.max_secs
    );
    let max = run_phase(&mut rig, 0, "max", &steady, None, args.max_secs)?;
    let max_pps = max.rx as f64 / max.secs;
    // Who limits the rig: a full access ring means the worker could not keep up.
    let limited_by = if max.refused > max.offered / 100 {
        "worker"
    } else {
        "injector"
    };
    println!(
        "dp-bench: maximum {:.2} Mpps (limited by the {limited_by}); p50 {} ns, p99 {} ns",
        max_pps / 1e6,
        max.hist.value_at_quantile(0.5),
        max.hist.value_at_quantile(0.99)
    );
    let mut phases = vec![max];
    for (i, pct) in [10.0, 50.0, 90.0].into_iter().enumerate() {
        let p = run_phase(
            &mut rig,
            i + 1,
            &format!("{pct:.0}%"),
            &steady,
            Some(max_pps * pct / 100.0),
            args.phase_secs,
        )?;
        println!(
            "dp-bench: {pct:.0}% ({:.2} Mpps): p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
            p.rx_mpps(),
            p.hist.value_at_quantile(0.5),
            p.hist.value_at_quantile(0.99),
            p.hist.value_at_quantile(0.999),
            p.hist.max()
        );
        phases.push(p);
    }
    let p = run_phase(
        &mut rig,
        4,
        "50% + swaps",
        &Workload {
            swap_to: Some(&other),
            ..steady
        },
        Some(max_pps * 0.5),
        args.phase_secs,
    )?;
    println!(
        "dp-bench: 50% with a swap every ms ({} swaps, {:.2} Mpps): p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        p.grace_us.len(),
        p.rx_mpps(),
        p.hist.value_at_quantile(0.5),
        p.hist.value_at_quantile(0.99),
        p.hist.value_at_quantile(0.999),
        p.hist.max()
    );
    phases.push(p);
    if let Some(started) = rig.started.take() {
        started
            .stop_and_close()
            .map_err(|e| format!("closing the ports: {e}"))?;
    }
    Ok(json!({
        "mix": spec.sizes.name(),
        "prefixes": spec.prefixes(),
        "frames": args.frames,
        "max_mpps": max_pps / 1e6,
        "limited_by": limited_by,
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
    let rig = Rig::new("swp", false)?;
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
        "method": "policy::load_str (YAML parse, validation, compilation) timed; then Dataplane::publish on a running dataplane (idle worker polling ring ports); peak = VmHWM after reset through /proc/self/clear_refs",
        "sizes": sizes,
    }))
}
