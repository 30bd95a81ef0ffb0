//! The control plane's live heap stays flat under sustained samples and
//! swaps: a counting global allocator measures the bytes allocated and not
//! yet freed after a warm-up and again at the end.
//!
//! The model dataplane hands the control loop a few hundred blocked-flow
//! samples per tick from 351 subscribers (as the soak's replay does), a share
//! of them labelled `#0 (generation N)` (what the dataplane still says of a
//! sample older than the generations whose names it keeps); every few ticks
//! a config is reloaded (good ones swapped, bad ones rejected), and the API's
//! readers (stats, metrics, config, top, blocked) are served. The counting
//! allocator is `stats_alloc` (no `unsafe` here). Before the
//! top-N window bounded the pool names per subscriber, these labels grew it
//! by every swap for the whole window.

use std::alloc::System;
use std::time::{Duration, SystemTime};

use control::{ActiveConfig, Controller, Options, Plane};
use dataplane::{Published, Report, SampleAction, SampleRecord, Totals, WorkerInfo};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed since `region` started (stats_alloc counts
/// a reallocation's growth as allocated and its shrinking as freed).
fn live(region: &Region<System>) -> isize {
    let c = region.change();
    c.bytes_allocated as isize - c.bytes_deallocated as isize
}

const GOOD: [&str; 3] = [
    "version: 1\npools:\n  - name: ftth-dynamic\n    mode: enforce\n    prefixes: [198.51.100.0/24]\n",
    "version: 1\npools:\n  - name: ftth-dynamic\n    mode: monitor\n    prefixes: [198.51.100.0/24]\n  - name: mobile\n    mode: enforce\n    prefixes: [\"2001:db8:100::/40\"]\n",
    "version: 1\npools:\n  - name: mobile\n    mode: enforce\n    action: drop\n    prefixes: [198.51.100.0/25]\nrelays:\n  - name: own-relay\n    prefixes: [203.0.113.25/32]\n",
];
const BAD: &str =
    "version: 1\npools:\n  - name: x\n    mode: enforce\n    prefixes: [198.51.100.1/24]\n";

/// A dataplane model that produces `per_tick` samples on every drain.
struct Model {
    generation: u64,
    tables: policy::Tables,
    source: String,
    per_tick: usize,
    n: u64,
}

impl Model {
    fn report(&self) -> Report {
        Report {
            totals: Totals::default(),
            elapsed_s: 1.0,
            workers: 1,
            generation: self.generation,
            config_hash: self.tables.hash().to_string(),
            pools: Default::default(),
            latency_ns: None,
            mempool_in_use: 0,
            mempool_size: 8191,
            ports: Vec::new(),
            tsc_hz: 1_000_000_000,
        }
    }
    fn active(&self) -> ActiveConfig {
        ActiveConfig::new(
            self.generation,
            &self.tables,
            &self.source,
            SystemTime::UNIX_EPOCH,
        )
    }
    fn drain_samples(&mut self, out: &mut Vec<SampleRecord>) {
        for _ in 0..self.per_tick {
            self.n += 1;
            let host = self.n % 351;
            let src = format!("198.51.{}.{}", 100 + host / 250, host % 250 + 1);
            let pool = if self.n % 16 == 0 {
                format!("#0 (generation {})", self.generation)
            } else if self.n % 2 == 0 {
                "ftth-dynamic".to_string()
            } else {
                "mobile".to_string()
            };
            out.push(SampleRecord {
                time: control::rfc3339(SystemTime::now()),
                src: src.parse().expect("valid address"),
                sport: 40000 + (self.n % 20000) as u16,
                dst: "192.0.2.10".parse().expect("valid address"),
                dport: 25,
                pool,
                action: SampleAction::Rst,
                direction: "outbound",
                vlan: vec![100],
                pppoe_session: None,
                generation: self.generation,
            });
        }
    }
}

/// The model as a [`Plane`]: `publish` takes `&self`, so the model lives
/// behind a mutex.
struct Cell(std::sync::Mutex<Model>);

impl Plane for Cell {
    fn publish(&self, tables: policy::Tables, source: String) -> Published {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.generation += 1;
        m.tables = tables;
        m.source = source;
        Published {
            generation: m.generation,
            hash: m.tables.hash().to_string(),
            grace_us: 1,
        }
    }
    fn report(&self) -> Report {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).report()
    }
    fn workers(&self) -> Vec<WorkerInfo> {
        Vec::new()
    }
    fn active(&self) -> ActiveConfig {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).active()
    }
    fn drain_samples(&mut self, out: &mut Vec<SampleRecord>) {
        self.0
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .drain_samples(out)
    }
}

/// Runs `ticks` control-loop turns with a reload every 10 and the API's
/// readers every 50.
fn turn(ctl: &mut Controller<Cell>, dir: &std::path::Path, from: usize, ticks: usize) {
    let path = dir.join("op25b.yaml");
    for i in from..from + ticks {
        ctl.tick(Duration::ZERO);
        if i % 10 == 0 {
            let text = if i % 30 == 20 {
                BAD
            } else {
                GOOD[i / 10 % GOOD.len()]
            };
            std::fs::write(&path, text).expect("write the config");
            let _ = ctl.reload(&path);
        }
        if i % 50 == 0 {
            let snap = ctl.snapshot();
            let _ = control::metrics::render(&snap);
            let shared = ctl.shared().clone();
            let now = shared.now_ms();
            let _ = shared.top.lock().expect("top").top(now, 10);
            let _ = shared.recent.lock().expect("recent").latest(100);
            let _ = ctl.plane().active();
        }
    }
}

#[test]
fn live_heap_is_flat_under_samples_and_swaps_after_a_warm_up() {
    let dir = std::env::temp_dir().join(format!("op25b-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let loaded = policy::load_str("initial.yaml", GOOD[0].as_bytes()).expect("valid");
    let plane = Cell(std::sync::Mutex::new(Model {
        generation: 1,
        tables: loaded.tables,
        source: GOOD[0].into(),
        per_tick: 300,
        n: 0,
    }));
    let opts = Options {
        recent_samples: 2_000,
        // The shortest window, so its buckets expire many times over the run.
        top_window: Duration::from_secs(1),
        ..Default::default()
    };
    let region = Region::new(GLOBAL);
    let (mut ctl, _handle) = Controller::new(plane, &opts);

    // Warm-up: every bounded structure fills (the recent ring, the window's
    // subscribers and buckets, the drain buffer).
    turn(&mut ctl, &dir, 0, 1_500);
    let warm = live(&region);
    let swaps_before = ctl.plane().report().generation;
    // Long enough for several windows to slide by.
    let t0 = std::time::Instant::now();
    let mut i = 1_500;
    while t0.elapsed() < Duration::from_secs(4) || i < 6_000 {
        turn(&mut ctl, &dir, i, 500);
        i += 500;
    }
    let end = live(&region);
    let swaps = ctl.plane().report().generation - swaps_before;
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "live heap {warm} B after the warm-up, {end} B after {} more ticks and {swaps} swaps",
        i - 1_500
    );
    assert!(swaps >= 300, "only {swaps} swaps");
    // A leak of a few bytes per swap or per sample would be far over this:
    // 300 swaps and over a million samples went by.
    assert!(
        end - warm <= 64 * 1024,
        "live heap grew by {} bytes after the warm-up ({warm} -> {end})",
        end - warm
    );
}
