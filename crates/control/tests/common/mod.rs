//! A model dataplane, a running controller and API, and a raw HTTP client.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use control::api::{Api, ApiOptions};
use control::watchdog::{self, OnStall, WorkerLoops};
use control::{ActiveConfig, Controller, Handle, Options, Plane};
use dataplane::{
    LatencyReport, PoolStats, Published, Report, SampleAction, SampleRecord, Totals, WorkerInfo,
};

pub const CONFIG: &str = "\
version: 1
pools:
  - name: ftth-dynamic
    mode: monitor
    prefixes: [198.51.100.0/24, \"2001:db8:100::/40\"]
relays:
  - name: own-relay
    prefixes: [203.0.113.25/32]
";

/// A config with one pool of the given name and mode.
pub fn config_with(pool: &str, mode: &str) -> String {
    format!(
        "version: 1\npools:\n  - name: {pool}\n    mode: {mode}\n    prefixes: [198.51.100.0/24]\n"
    )
}

pub fn hash_of(yaml: &str) -> String {
    policy::load_str("t", yaml.as_bytes())
        .unwrap()
        .tables
        .hash()
        .to_string()
}

struct Gen {
    number: u64,
    tables: policy::Tables,
    source: String,
    at: SystemTime,
}

/// A dataplane model: publication swaps a generation; samples and counters are fed by the test.
pub struct ModelPlane {
    current: Mutex<Gen>,
    pub samples: Arc<Mutex<Vec<SampleRecord>>>,
    pub loops: Arc<[AtomicU64; 2]>,
    pub rx: Arc<AtomicU64>,
    /// Publications seen, in order (generation numbers).
    pub published: Arc<Mutex<Vec<u64>>>,
}

impl Plane for ModelPlane {
    fn publish(&self, tables: policy::Tables, source: String) -> Published {
        let mut g = self.current.lock().unwrap();
        g.number += 1;
        g.tables = tables;
        g.source = source;
        g.at = SystemTime::now();
        self.published.lock().unwrap().push(g.number);
        Published {
            generation: g.number,
            hash: g.tables.hash().to_string(),
            grace_us: 3,
        }
    }

    fn report(&self) -> Report {
        let g = self.current.lock().unwrap();
        let mut totals = Totals::default();
        let rx = self.rx.load(Ordering::Relaxed);
        totals.rx = rx;
        totals.outbound.rx = rx;
        totals.outbound.replied_rst = rx / 2;
        totals.outbound.forwarded = rx - rx / 2;
        totals.replied = rx / 2;
        totals.forwarded = rx - rx / 2;
        let pools = g
            .tables
            .pools()
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    PoolStats {
                        blocked: rx / 2,
                        monitored: 0,
                    },
                )
            })
            .collect();
        Report {
            totals,
            elapsed_s: 1.5,
            workers: 2,
            generation: g.number,
            config_hash: g.tables.hash().to_string(),
            pools,
            latency_ns: Some(LatencyReport {
                bursts: 1000,
                p50: 1500,
                p90: 2500,
                p99: 9000,
                p999: 20000,
                max: 65000,
            }),
            mempool_in_use: 12,
            mempool_size: 4096,
            ports: Vec::new(),
            tsc_hz: 1_000_000_000,
        }
    }

    fn workers(&self) -> Vec<WorkerInfo> {
        (0..2)
            .map(|i| WorkerInfo {
                index: i,
                lcore: i as u32 + 1,
                running: true,
                loops: self.loops[i].load(Ordering::Relaxed),
                totals: Totals::default(),
            })
            .collect()
    }

    fn active(&self) -> ActiveConfig {
        let g = self.current.lock().unwrap();
        ActiveConfig::new(g.number, &g.tables, &g.source, g.at)
    }

    fn drain_samples(&mut self, out: &mut Vec<SampleRecord>) {
        out.append(&mut self.samples.lock().unwrap());
    }
}

pub fn sample(src: &str, pool: &str) -> SampleRecord {
    SampleRecord {
        time: control::rfc3339(SystemTime::now()),
        src: src.parse().unwrap(),
        sport: 40000,
        dst: "192.0.2.10".parse().unwrap(),
        dport: 25,
        pool: pool.into(),
        action: SampleAction::Rst,
        direction: "outbound",
        vlan: Vec::new(),
        pppoe_session: None,
        generation: 1,
    }
}

/// A controller loop on its own thread, the watchdog, and the API.
pub struct Lab {
    pub addr: SocketAddr,
    pub handle: Handle,
    pub samples: Arc<Mutex<Vec<SampleRecord>>>,
    pub rx: Arc<AtomicU64>,
    pub published: Arc<Mutex<Vec<u64>>>,
    /// Set to stop worker 1's loop counter (a stall).
    pub stall: Arc<AtomicBool>,
    pub stalls_seen: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    api: Option<Api>,
    _watchdog: watchdog::Running,
    thread: Option<JoinHandle<()>>,
}

impl Lab {
    pub fn start(token: Option<&str>, max_body: usize) -> Lab {
        let loaded = policy::load_str("initial.yaml", CONFIG.as_bytes()).unwrap();
        let plane = ModelPlane {
            current: Mutex::new(Gen {
                number: 1,
                tables: loaded.tables,
                source: CONFIG.into(),
                at: SystemTime::now(),
            }),
            samples: Arc::new(Mutex::new(Vec::new())),
            loops: Arc::new([AtomicU64::new(0), AtomicU64::new(0)]),
            rx: Arc::new(AtomicU64::new(0)),
            published: Arc::new(Mutex::new(Vec::new())),
        };
        let (samples, loops, rx, published) = (
            plane.samples.clone(),
            plane.loops.clone(),
            plane.rx.clone(),
            plane.published.clone(),
        );
        let opts = Options {
            watchdog: Duration::from_millis(100),
            top_window: Duration::from_secs(600),
            ..Default::default()
        };
        let (mut ctl, handle) = Controller::new(plane, &opts);
        let stop = Arc::new(AtomicBool::new(false));
        let stall = Arc::new(AtomicBool::new(false));
        let stalls_seen = Arc::new(AtomicU64::new(0));
        // The model's workers loop as long as the test lets them.
        let (l, st) = (loops.clone(), stall.clone());
        let probe: watchdog::Probe = Box::new(move || {
            l[0].fetch_add(1, Ordering::Relaxed);
            if !st.load(Ordering::Relaxed) {
                l[1].fetch_add(1, Ordering::Relaxed);
            }
            (0..2)
                .map(|i| WorkerLoops {
                    index: i,
                    lcore: i as u32 + 1,
                    loops: l[i].load(Ordering::Relaxed),
                })
                .collect()
        });
        let seen = stalls_seen.clone();
        let wd = watchdog::spawn(
            opts.watchdog,
            probe,
            handle.shared().worker_health.clone(),
            OnStall::Exit,
            Box::new(move |_| {
                seen.fetch_add(1, Ordering::Relaxed);
            }),
        )
        .unwrap();
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                ctl.tick(Duration::from_millis(1));
            }
        });
        let api = Api::start(
            ApiOptions {
                addr: "127.0.0.1:0".parse().unwrap(),
                token: token.map(String::from),
                max_body,
            },
            handle.clone(),
        )
        .unwrap();
        // The watchdog has seen the workers once the first health is in.
        let lab = Lab {
            addr: api.local_addr(),
            handle,
            samples,
            rx,
            published,
            stall,
            stalls_seen,
            stop,
            api: Some(api),
            _watchdog: wd,
            thread: Some(thread),
        };
        lab.wait_for(|| lab.handle.shared().health().ok);
        lab
    }

    pub fn wait_for(&self, mut f: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !f() {
            assert!(std::time::Instant::now() < deadline, "timed out");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        drop(self.api.take());
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn parse(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// Sends one request (Connection: close) and reads the whole answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse(&raw)
}

pub fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path, &[], b"")
}

pub fn put_config(addr: SocketAddr, yaml: &str) -> Answer {
    request(addr, "PUT", "/v1/config", &[], yaml.as_bytes())
}
