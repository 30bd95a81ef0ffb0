//! The control plane of a running op25bd: the HTTP API, SIGHUP, DPDK
//! telemetry, logs, and op25bctl against it. The daemon replays the verdicts
//! fixture endlessly, so counters move and blocked flows are sampled.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Daemon {
    child: Child,
    stderr: PathBuf,
    stdout: PathBuf,
    addr: SocketAddr,
}

impl Daemon {
    fn start(s: &Scratch, config: &Path, extra: &[&str]) -> Daemon {
        let mut a = s.eal();
        a.push(format!(
            "--vdev=net_pcap0,rx_pcap={},tx_pcap={},infinite_rx=1",
            root().join("pcap-fixtures/verdicts-access.pcap").display(),
            s.path("to-access.pcap").display()
        ));
        a.push(format!(
            "--vdev=net_pcap1,tx_pcap={}",
            s.path("to-core.pcap").display()
        ));
        a.extend(["--", "--config"].map(String::from));
        a.push(config.display().to_string());
        a.extend(["--api", "127.0.0.1:0"].map(String::from));
        a.extend(extra.iter().map(|x| x.to_string()));
        let (stdout, stderr) = (s.path("stdout"), s.path("stderr"));
        let child = Command::new(BIN)
            .args(&a)
            .env("OP25B_LOG", "info")
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("spawn op25bd");
        let mut d = Daemon {
            child,
            stderr,
            stdout,
            addr: "127.0.0.1:9".parse().unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = d.log();
            if let Some(i) = log.find(" api=") {
                let rest = &log[i + 5..];
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                d.addr = rest[..end].parse().unwrap();
                return d;
            }
            if let Ok(Some(st)) = d.child.try_wait() {
                panic!("op25bd exited ({st}) before serving:\n{log}");
            }
            assert!(Instant::now() < deadline, "op25bd did not start:\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// SIGTERM, then the exit status and stdout.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (
                    st,
                    std::fs::read_to_string(&self.stdout).unwrap_or_default(),
                );
            }
            assert!(
                Instant::now() < deadline,
                "op25bd did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    Answer {
        status: head.split_whitespace().nth(1).unwrap().parse().unwrap(),
        body: body.to_string(),
    }
}

fn get(addr: SocketAddr, path: &str) -> Answer {
    http(addr, "GET", path, &[], b"")
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn fixture_config() -> String {
    std::fs::read_to_string(root().join("pcap-fixtures/verdicts.yaml")).unwrap()
}

/// The op25bctl binary built next to op25bd (by `cargo test --workspace`).
fn op25bctl() -> Option<PathBuf> {
    let p = Path::new(BIN).with_file_name("op25bctl");
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED the op25bctl part: {} is not built (cargo test --workspace builds it)",
            p.display()
        );
        None
    }
}

#[test]
fn the_api_sighup_telemetry_and_op25bctl_drive_a_running_daemon() {
    let s = Scratch::new("api");
    let cfg = s.write("op25b.yaml", &fixture_config());
    let d = Daemon::start(&s, &cfg, &["--top-window-s", "120"]);
    let a = d.addr;

    // Health and counters move.
    let h = get(a, "/healthz");
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(h.json()["workers"][0]["stalled"], false);
    wait_for("traffic", || {
        get(a, "/v1/stats").json()["rx"].as_u64().unwrap() > 1000
    });
    let st = get(a, "/v1/stats").json();
    assert_eq!(st["generation"], 1);
    assert!(
        st["pools"]["dyn-rst"]["blocked"].as_u64().unwrap() > 0,
        "{st}"
    );
    assert!(st["per_worker"][0]["loops"].as_u64().unwrap() > 0, "{st}");

    // Samples: recent ones and the likely infected.
    wait_for("samples", || {
        !get(a, "/v1/blocked?limit=5")
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    });
    let b = get(a, "/v1/blocked?limit=5").json();
    assert!(b.as_array().unwrap().len() <= 5);
    assert_eq!(b[0]["dport"], 25);
    let top = get(a, "/v1/top?n=3").json();
    assert_eq!(top["window_s"], 120);
    assert!(!top["top"].as_array().unwrap().is_empty(), "{top}");
    assert!(top["top"][0]["attempts"].as_u64().unwrap() > 0);

    // A push: monitor becomes enforce; the monitor pool stops counting monitored.
    let enforced = fixture_config().replace("mode: monitor", "mode: enforce");
    let p = http(
        a,
        "PUT",
        "/v1/config",
        &[("X-Op25b-Config-Name", "enforce.yaml")],
        enforced.as_bytes(),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.json()["generation"], 2);
    let c = get(a, "/v1/config").json();
    assert_eq!(
        (c["generation"].as_u64(), c["yaml"].as_str()),
        (Some(2), Some(enforced.as_str()))
    );
    assert_eq!(c["summary"]["pools"][3]["mode"], "enforce");
    let before = get(a, "/v1/stats").json()["pools"]["dyn-monitor"]["monitored"]
        .as_u64()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let st = get(a, "/v1/stats").json();
    assert_eq!(
        st["pools"]["dyn-monitor"]["monitored"].as_u64().unwrap(),
        before,
        "{st}"
    );
    assert!(
        st["pools"]["dyn-monitor"]["blocked"].as_u64().unwrap() > 0,
        "{st}"
    );

    // A bad push: 422 with positions, nothing changed.
    let bad = http(
        a,
        "PUT",
        "/v1/config",
        &[("X-Op25b-Config-Name", "bad.yaml")],
        b"version: 1\npools:\n  - name: x\n    mode: enforce\n    prefixes: [198.51.100.1/24]\n",
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.json()["errors"][0]["file"], "bad.yaml");
    assert_eq!(bad.json()["errors"][0]["line"], 5);
    assert_eq!(get(a, "/v1/config").json()["generation"], 2);

    // Metrics.
    let m = get(a, "/metrics").body;
    assert!(m.contains("op25b_config_generation 2\n"), "{m}");
    assert!(
        m.contains("op25b_pool_blocked_total{pool=\"dyn-rst\"}"),
        "{m}"
    );
    assert!(
        m.contains("op25b_worker_loops_total{worker=\"0\",lcore=\"1\"}"),
        "{m}"
    );
    assert!(
        m.contains("op25b_config_changes_total{source=\"api\",result=\"rejected\"} 1\n"),
        "{m}"
    );

    // SIGHUP: the file (still the original) comes back as generation 3 ...
    d.signal("-HUP");
    wait_for("the reload", || {
        get(a, "/v1/config").json()["generation"] == 3
    });
    assert_eq!(
        get(a, "/v1/config").json()["summary"]["pools"][3]["mode"],
        "monitor"
    );
    // ... and a bad file is logged with its errors while the tables stay.
    std::fs::write(
        &cfg,
        "version: 1\npools:\n  - name: x\n    mode: sometimes\n    prefixes: [198.51.100.0/24]\n",
    )
    .unwrap();
    d.signal("-HUP");
    wait_for("the rejection in the log", || {
        d.log().contains("config rejected")
    });
    wait_for("the error line", || d.log().contains("op25b.yaml:4:"));
    assert_eq!(get(a, "/v1/config").json()["generation"], 3);
    let log = d.log();
    assert!(
        log.contains("config published") && log.contains("origin=sighup"),
        "{log}"
    );
    assert!(log.contains("grace_us="), "{log}");

    // DPDK telemetry, as any DPDK application.
    let tel = Command::new("dpdk-telemetry.py")
        .args(["-f", &s.prefix])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut tel =
        tel.expect("dpdk-telemetry.py (Debian dpdk-dev) is needed: apt-get install -y dpdk-dev");
    tel.stdin
        .take()
        .unwrap()
        .write_all(b"/op25b/stats\n/op25b/config\n")
        .unwrap();
    let o = tel.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let replies: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| l.starts_with("{\"/op25b/"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        replies.len(),
        2,
        "{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let ts = &replies[0]["/op25b/stats"];
    assert_eq!(ts["generation"], 3, "{ts}");
    assert!(
        ts["rx"].as_u64().unwrap() > 0 && ts["outbound/rx"].as_u64().unwrap() > 0,
        "{ts}"
    );
    assert!(ts["pool/dyn_rst/blocked"].as_u64().unwrap() > 0, "{ts}");
    let tc = &replies[1]["/op25b/config"];
    assert_eq!(tc["generation"], 3);
    assert_eq!(tc["pool/dyn_monitor/mode"], "monitor");

    // op25bctl against the daemon.
    if let Some(ctl) = op25bctl() {
        let api = a.to_string();
        let run = |args: &[&str]| {
            Command::new(&ctl)
                .args(args)
                .args(["--api", &api])
                .output()
                .unwrap()
        };
        let o = run(&["stats"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(String::from_utf8_lossy(&o.stdout).contains("dyn-rst"));
        let f = s.write("pushed.yaml", &enforced);
        let o = run(&["push", &f.display().to_string()]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(String::from_utf8_lossy(&o.stdout).contains("generation 4"));
        let f = s.write("broken.yaml", "version: 1\npools: []\nfoo: 1\n");
        let o = run(&["push", &f.display().to_string()]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("broken.yaml:3:"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = run(&["top", "-n", "2"]);
        assert_eq!(o.status.code(), Some(0));
        let o = run(&["config"]);
        assert!(String::from_utf8_lossy(&o.stdout).contains("generation 4"));
    }

    let (st, out) = d.stop();
    assert!(st.success(), "{st}: {out}");
    assert!(
        out.contains("op25bd: stopped after"),
        "the final report stays on stdout: {out}"
    );
}

#[test]
fn with_a_token_file_requests_without_the_token_get_401() {
    let s = Scratch::new("apitoken");
    let cfg = s.write("op25b.yaml", &fixture_config());
    let token = s.write("token", "t0ken-for-tests\n");
    let d = Daemon::start(
        &s,
        &cfg,
        &["--api-token-file", &token.display().to_string()],
    );
    let enforced = fixture_config().replace("mode: monitor", "mode: enforce");
    let r = http(d.addr, "PUT", "/v1/config", &[], enforced.as_bytes());
    assert_eq!(r.status, 401);
    assert_eq!(
        http(
            d.addr,
            "GET",
            "/metrics",
            &[("Authorization", "Bearer nope")],
            b""
        )
        .status,
        401
    );
    let ok = [("Authorization", "Bearer t0ken-for-tests")];
    assert_eq!(
        http(d.addr, "GET", "/v1/config", &ok, b"").json()["generation"],
        1,
        "nothing changed"
    );
    assert!(
        d.log().contains("without a valid bearer token"),
        "{}",
        d.log()
    );
    let r = http(d.addr, "PUT", "/v1/config", &ok, enforced.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let (st, _) = d.stop();
    assert!(st.success());
}

#[test]
fn api_startup_problems_are_clear_errors() {
    let s = Scratch::new("apibad");
    let cfg = s.write("op25b.yaml", MONITOR_ALL);
    // A missing or empty token file: refused before DPDK starts.
    for (token, needle) in [
        ("/nonexistent/token", "/nonexistent/token"),
        ("EMPTY", "is empty"),
    ] {
        let token = if token == "EMPTY" {
            s.write("empty", "\n").display().to_string()
        } else {
            token.to_string()
        };
        let mut a = s.eal();
        a.extend(
            [
                "--",
                "--config",
                &cfg.display().to_string(),
                "--api",
                "127.0.0.1:0",
                "--api-token-file",
                &token,
            ]
            .map(String::from),
        );
        let o = run(&a);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{}",
            text(&o)
        );
        assert!(!text(&o).contains("panicked"));
    }
    // An address in use.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut a = s.eal();
    a.extend(
        [
            "--vdev=net_null0",
            "--vdev=net_null1",
            "--",
            "--config",
            &cfg.display().to_string(),
            "--api",
            &busy.local_addr().unwrap().to_string(),
        ]
        .map(String::from),
    );
    let o = run(&a);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot listen on"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("panicked"));
}
