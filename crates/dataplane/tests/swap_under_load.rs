//! Thousands of table swaps while traffic flows, over ring ports wired back to
//! back with an in-process injector:
//!
//! ```text
//! injector --a_in--> [A access] op25b worker [C core] --c_out--> injector
//!          <-a_out--                                   <-c_in---
//! ```
//!
//! Three configs rotate, each with a distinct outcome for the same SYN to port
//! 25 (RST, ICMP, forward). Frames injected after publish(k) returned must be
//! classified by generation k or, if the worker reaches them after the next
//! swap, k+1; never by an older one. Every frame must come out exactly once
//! (no loss), and every mbuf must be back in its pool at the end.
//!
//! Samples are drained after every swap, as the control loop does: those of
//! the generation just retired must still carry its pool's name (a label per
//! generation grew the control plane's top-N window with every swap).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dataplane::{Dataplane, Options, Pair};
use dpdk::ring_port::{port_from_rings, MbufRing};
use dpdk::{Burst, Eal, Mbuf, Mempool, PortConf, PortId, SOCKET_ID_ANY};
use op25b_bench::frame::{self, L2, L3, L4};

const SWAPS: u32 = 2000;
const PER_PHASE: u32 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Rst,
    Icmp,
    Forward,
}

const CONFIGS: [(&str, Outcome); 3] = [
    ("rst", Outcome::Rst),
    ("icmp", Outcome::Icmp),
    ("monitor", Outcome::Forward),
];

fn config(i: usize) -> policy::Tables {
    let (what, _) = CONFIGS[i];
    let mode = if what == "monitor" {
        "monitor"
    } else {
        "enforce"
    };
    let action = if what == "monitor" { "rst" } else { what };
    let yaml = format!(
        "version: 1\npools:\n  - name: dyn\n    mode: {mode}\n    action: {action}\n    prefixes: [198.51.100.0/24]\n"
    );
    policy::load_str("swap.yaml", yaml.as_bytes())
        .expect("valid")
        .tables
}

fn syn(id: u32) -> Vec<u8> {
    let mut l4 = L4::tcp(40000 + (id % 20000) as u16, 25, frame::TCP_SYN);
    if let L4::Tcp { seq, .. } = &mut l4 {
        *seq = id;
    }
    frame::build(
        &L2::default(),
        &L3::v4(Ipv4Addr::new(198, 51, 100, 7), Ipv4Addr::new(192, 0, 2, 25)),
        &l4,
    )
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// (frame id, outcome) of a frame that came out of the appliance.
fn identify(data: &[u8], from_core_side: bool) -> Option<(u32, Outcome)> {
    if from_core_side {
        return Some((be32(data, 14 + 20 + 4)?, Outcome::Forward)); // forwarded SYN: its seq
    }
    match data.get(14 + 9)? {
        6 => Some((be32(data, 14 + 20 + 8)?.wrapping_sub(1), Outcome::Rst)), // RST+ACK: ack = seq + 1
        1 => Some((be32(data, 14 + 20 + 8 + 20 + 4)?, Outcome::Icmp)),       // quoted TCP header
        _ => None,
    }
}

fn setup_injector_port(p: PortId, pool: &Mempool) -> Result<(), dpdk::Error> {
    p.configure(&PortConf::default())?;
    p.rx_queue_setup(0, 1024, SOCKET_ID_ANY, pool)?;
    p.tx_queue_setup(0, 1024, SOCKET_ID_ANY)?;
    p.start()
}

fn main() {
    let prefix = format!("op25b-swap-{}", std::process::id());
    let args: Vec<String> = [
        "swap",
        "--no-huge",
        "--no-pci",
        "-l",
        "0-1",
        "-m",
        "512",
        "--log-level=*:warning",
        "--file-prefix",
        &prefix,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let eal = Eal::init(&args).expect("EAL");
    let results = [
        ("swap_under_load", run()),
        ("tx_full_is_counted_and_nothing_leaks", tx_full()),
    ];
    drop(eal);
    let _ = std::fs::remove_dir_all(std::path::Path::new("/var/run/dpdk").join(&prefix));
    let failed = results.iter().filter(|(_, f)| *f > 0).count();
    for (name, f) in &results {
        println!("test {name} ... {}", if *f == 0 { "ok" } else { "FAILED" });
    }
    println!("{} passed, {} failed", results.len() - failed, failed);
    if failed > 0 {
        std::process::exit(1);
    }
}

/// The core side stops draining: the worker's tx to it fills up, a partial
/// tx_burst is retried, then what is left is counted as dropped and freed.
fn tx_full() -> usize {
    let ring = |n: &str, size| MbufRing::new(n, size, SOCKET_ID_ANY).expect("ring");
    let (b_in, b_out, d_in, d_out) = (
        ring("b_in", 4096),
        ring("b_out", 4096),
        ring("d_in", 4096),
        ring("d_out", 64),
    );
    let b = port_from_rings("op25b_b", &[b_in], &[b_out], 0).expect("port B");
    let d = port_from_rings("op25b_d", &[d_in], &[d_out], 0).expect("port D");
    let inj_b = port_from_rings("inj_b", &[b_out], &[b_in], 0).expect("injector B");
    let inj_d = port_from_rings("inj_d", &[d_out], &[d_in], 0).expect("injector D");
    let pool = Mempool::pktmbuf_pool("inj2", 8191, 256, dpdk::DEFAULT_DATA_ROOM, SOCKET_ID_ANY)
        .expect("pool");
    setup_injector_port(inj_b, &pool).expect("injector B up");
    setup_injector_port(inj_d, &pool).expect("injector D up");
    let (mut tx_b, mut rx_d) = (inj_b.tx_queue(0).unwrap(), inj_d.rx_queue(0).unwrap());
    let opts = Options {
        pairs: vec![Pair {
            access: b.0,
            core: d.0,
        }],
        ..Default::default()
    };
    let dp = Dataplane::start(&opts, config(2), String::new()).expect("dataplane"); // monitor: all forwarded
    const N: u64 = 2000;
    for id in 0..N as u32 {
        let f = syn(id);
        let mut m = Mbuf::alloc(&pool).expect("injector mbuf");
        m.append(f.len() as u16).expect("room").copy_from_slice(&f);
        let mut one = Burst::new();
        one.push(m).unwrap();
        while !one.is_empty() {
            tx_b.tx_burst(&mut one);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while dp.totals().rx < N && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    // Now the core side drains what fitted in its ring.
    let mut got = 0;
    let mut burst = Burst::new();
    loop {
        let n = rx_d.rx_burst_into(&mut burst);
        got += n as u64;
        burst.clear();
        if n == 0 {
            break;
        }
    }
    let r = dp.stop().expect("stop");
    let t = &r.totals;
    let mut failures = 0;
    let mut check = |ok: bool, what: String| {
        if !ok {
            eprintln!("FAILED: {what}");
            failures += 1;
        }
    };
    check(t.rx == N, format!("rx {} of {N}", t.rx));
    check(
        t.forwarded == got,
        format!("forwarded {} but {got} arrived", t.forwarded),
    );
    check(
        t.forwarded < 64,
        format!(
            "forwarded {} through a 64-slot ring nobody drained",
            t.forwarded
        ),
    );
    check(
        t.outbound.dropped_tx_full == N - t.forwarded,
        format!(
            "tx-full drops {} for {} lost",
            t.outbound.dropped_tx_full,
            N - t.forwarded
        ),
    );
    check(
        t.rx == t.forwarded + t.replied + t.dropped,
        "counters add up".into(),
    );
    check(
        r.mempool_in_use == 0,
        format!("{} appliance mbufs leaked", r.mempool_in_use),
    );
    check(
        pool.in_use_count() == 0,
        format!("{} injector mbufs leaked", pool.in_use_count()),
    );
    println!(
        "tx_full: {N} frames, {} forwarded, {} dropped as tx full, no mbuf leaked",
        t.forwarded, t.outbound.dropped_tx_full
    );
    failures
}

fn run() -> usize {
    let ring = |n: &str| MbufRing::new(n, 4096, SOCKET_ID_ANY).expect("ring");
    let (a_in, a_out, c_in, c_out) = (ring("a_in"), ring("a_out"), ring("c_in"), ring("c_out"));
    let a = port_from_rings("op25b_a", &[a_in], &[a_out], 0).expect("port A");
    let c = port_from_rings("op25b_c", &[c_in], &[c_out], 0).expect("port C");
    let inj_a = port_from_rings("inj_a", &[a_out], &[a_in], 0).expect("injector A");
    let inj_c = port_from_rings("inj_c", &[c_out], &[c_in], 0).expect("injector C");
    let pool = Mempool::pktmbuf_pool("inj", 16383, 256, dpdk::DEFAULT_DATA_ROOM, SOCKET_ID_ANY)
        .expect("pool");
    setup_injector_port(inj_a, &pool).expect("injector A up");
    setup_injector_port(inj_c, &pool).expect("injector C up");
    let (mut tx_a, mut rx_a, mut rx_c) = (
        inj_a.tx_queue(0).unwrap(),
        inj_a.rx_queue(0).unwrap(),
        inj_c.rx_queue(0).unwrap(),
    );
    let pool_start = pool.in_use_count();

    let opts = Options {
        pairs: vec![Pair {
            access: a.0,
            core: c.0,
        }],
        ..Default::default()
    };
    let mut dp = Dataplane::start(&opts, config(0), String::new()).expect("dataplane");
    let mut drained = Vec::new();
    let mut pool_labels: HashMap<String, usize> = HashMap::new();
    let mut retired_samples = 0usize;

    let mut phase_of: Vec<usize> = Vec::new(); // frame id -> config index current at injection
    let mut seen: HashMap<u32, Vec<Outcome>> = HashMap::new();
    let mut burst = Burst::new();
    let mut poll = |seen: &mut HashMap<u32, Vec<Outcome>>| {
        for (rx, core_side) in [(&mut rx_a, false), (&mut rx_c, true)] {
            loop {
                let n = rx.rx_burst_into(&mut burst);
                for m in burst.drain() {
                    match identify(m.data(), core_side) {
                        Some((id, o)) => seen.entry(id).or_default().push(o),
                        None => panic!("unexpected frame out of the appliance: {:02x?}", m.data()),
                    }
                }
                if n == 0 {
                    break;
                }
            }
        }
    };
    let mut grace_us = Vec::new();
    let mut current = 0usize;
    let t0 = Instant::now();
    for k in 0..SWAPS {
        let mut out = Burst::new();
        for _ in 0..PER_PHASE {
            let id = phase_of.len() as u32;
            let f = syn(id);
            let mut m = Mbuf::alloc(&pool).expect("injector mbuf");
            m.append(f.len() as u16).expect("room").copy_from_slice(&f);
            out.push(m).unwrap();
            phase_of.push(current);
        }
        while !out.is_empty() {
            tx_a.tx_burst(&mut out);
            poll(&mut seen);
        }
        let next = (k as usize + 1) % CONFIGS.len();
        let p = dp.publish(config(next), String::new());
        grace_us.push(p.grace_us);
        current = next;
        poll(&mut seen);
        drained.clear();
        dp.drain_samples(&mut drained);
        for r in &drained {
            retired_samples += usize::from(r.generation < p.generation);
            *pool_labels.entry(r.pool.clone()).or_default() += 1;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < phase_of.len() && Instant::now() < deadline {
        poll(&mut seen);
    }
    let elapsed = t0.elapsed();
    let report = dp.stop().expect("stop");

    let failures = std::cell::Cell::new(0usize);
    let fail = |m: String| {
        eprintln!("FAILED: {m}");
        failures.set(failures.get() + 1);
    };
    let mut by_outcome: HashMap<&str, usize> = HashMap::new();
    for (id, &phase) in phase_of.iter().enumerate() {
        let allowed = [CONFIGS[phase].1, CONFIGS[(phase + 1) % CONFIGS.len()].1];
        match seen.get(&(id as u32)).map(Vec::as_slice) {
            None => fail(format!(
                "frame {id} (phase config {phase}) never came out: lost"
            )),
            Some([o]) if allowed.contains(o) => {
                *by_outcome
                    .entry(if *o == allowed[0] { "current" } else { "next" })
                    .or_default() += 1
            }
            Some([o]) => fail(format!(
                "frame {id} injected under config {phase} got {o:?}: from an older generation"
            )),
            Some(many) => fail(format!(
                "frame {id} came out {} times: {many:?}",
                many.len()
            )),
        }
        if failures.get() > 10 {
            break;
        }
    }
    let t = &report.totals;
    if t.rx != phase_of.len() as u64 || t.rx != t.forwarded + t.replied + t.dropped {
        fail(format!(
            "counters: rx {} forwarded {} replied {} dropped {} for {} injected",
            t.rx,
            t.forwarded,
            t.replied,
            t.dropped,
            phase_of.len()
        ));
    }
    if report.mempool_in_use != 0 {
        fail(format!(
            "{} appliance mbufs not returned",
            report.mempool_in_use
        ));
    }
    if pool.in_use_count() != pool_start {
        fail(format!(
            "injector pool: {} in use, {} at start",
            pool.in_use_count(),
            pool_start
        ));
    }
    if pool_labels.keys().any(|l| l != "dyn") || retired_samples == 0 {
        let mut some: Vec<_> = pool_labels.iter().collect();
        some.sort();
        some.truncate(5);
        fail(format!(
            "{} distinct sample pool labels after {SWAPS} swaps (only `dyn` is configured; \
             {retired_samples} samples of retired generations), e.g. {some:?}",
            pool_labels.len()
        ));
    }
    if report.generation != u64::from(SWAPS) + 1 {
        fail(format!(
            "generation {} after {SWAPS} swaps",
            report.generation
        ));
    }
    grace_us.sort_unstable();
    println!(
        "swap_under_load: {SWAPS} swaps, {} frames in {:.2} s; classified by the generation current at injection: {}, by the next one: {}; grace period p50 {} us, max {} us; {} samples named after a swap retired their generation",
        phase_of.len(),
        elapsed.as_secs_f64(),
        by_outcome.get("current").unwrap_or(&0),
        by_outcome.get("next").unwrap_or(&0),
        grace_us[grace_us.len() / 2],
        grace_us[grace_us.len() - 1],
        retired_samples
    );
    failures.get()
}
