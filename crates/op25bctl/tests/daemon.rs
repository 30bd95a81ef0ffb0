//! The daemon commands against a scripted HTTP server: what they send, how
//! they print the answers, and the exit codes scripts rely on.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread::JoinHandle;

/// What the server saw.
#[derive(Debug, Default, Clone)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers one request with `status` and `body`; with `invite` false it
/// answers an `Expect: 100-continue` request without reading the body.
fn serve_once(status: u16, body: &str, invite: bool) -> (String, JoinHandle<Seen>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let body = body.to_string();
    let t = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut seen = Seen::default();
        r.read_line(&mut seen.request_line).unwrap();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line.trim_end().is_empty() {
                break;
            }
            let (k, v) = line.split_once(':').unwrap();
            seen.headers.push((k.trim().into(), v.trim().into()));
        }
        let len: usize = seen
            .header("Content-Length")
            .map_or(0, |v| v.parse().unwrap());
        if len > 0 && invite {
            if seen.header("Expect").is_some() {
                w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
            }
            seen.body = vec![0; len];
            r.read_exact(&mut seen.body).unwrap();
        }
        write!(
            w,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        seen
    });
    (addr, t)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_op25bctl"))
        .args(args)
        .env_remove("OP25B_API")
        .env_remove("OP25B_TOKEN_FILE")
        .output()
        .expect("run op25bctl")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("op25bctl-daemon-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const YAML: &str =
    "version: 1\npools:\n  - name: ftth\n    mode: enforce\n    prefixes: [198.51.100.0/24]\n";

#[test]
fn push_sends_the_file_with_its_name_and_token_and_reports_the_generation() {
    let d = Dir::new("push");
    let cfg = d.file("op25b.yaml", YAML);
    let token = d.file("token", "  s3cret\n");
    let (api, server) = serve_once(
        200,
        r#"{"generation": 7, "hash": "abcdef0123", "pools": 1, "prefixes_ipv4": 1, "prefixes_ipv6": 0, "compile_ms": 0.4, "grace_us": 12, "warnings": []}"#,
        true,
    );
    let o = run(&["push", &cfg, "--api", &api, "--token-file", &token]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).contains("published as generation 7 (hash abcdef0123"),
        "{}",
        out(&o)
    );
    let seen = server.join().unwrap();
    assert_eq!(seen.request_line.trim_end(), "PUT /v1/config HTTP/1.1");
    assert_eq!(seen.header("Authorization"), Some("Bearer s3cret"));
    assert_eq!(seen.header("X-Op25b-Config-Name"), Some(cfg.as_str()));
    assert_eq!(seen.header("Expect"), Some("100-continue"));
    assert_eq!(seen.body, YAML.as_bytes());
}

#[test]
fn a_rejected_push_lists_every_error_and_exits_1() {
    let d = Dir::new("rejected");
    let cfg = d.file("bad.yaml", YAML);
    let (api, server) = serve_once(
        422,
        r#"{"errors": [{"file": "bad.yaml", "line": 5, "column": 16, "path": "pools[0].prefixes[0]", "message": "host bits set in 198.51.100.1/24"},
                      {"file": "bad.yaml", "line": 6, "column": 5, "path": "pools[0].colour", "message": "unknown key"}]}"#,
        true,
    );
    let o = run(&["push", &cfg, "--api", &api]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(
        e.contains("bad.yaml:5:16: pools[0].prefixes[0]: host bits set in 198.51.100.1/24"),
        "{e}"
    );
    assert!(
        e.contains("bad.yaml:6:5: pools[0].colour: unknown key"),
        "{e}"
    );
    assert!(
        e.contains("rejected by op25bd (2 errors); the running config stays"),
        "{e}"
    );
    server.join().unwrap();

    let (api, server) = serve_once(422, r#"{"errors": []}"#, true);
    let o = run(&["push", &cfg, "--api", &api, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("\"errors\""));
    server.join().unwrap();
}

#[test]
fn an_oversized_push_is_refused_before_the_body_is_sent() {
    let d = Dir::new("big");
    let cfg = d.file("big.yaml", &"#".repeat(100_000));
    let (api, server) = serve_once(
        413,
        r#"{"error": "the config is larger than the limit of 1024 bytes (--api-max-body)"}"#,
        false,
    );
    let o = run(&["push", &cfg, "--api", &api]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("413") && err(&o).contains("--api-max-body"),
        "{}",
        err(&o)
    );
    assert!(server.join().unwrap().body.is_empty());
}

#[test]
fn an_unauthorized_request_exits_4_with_the_daemons_message() {
    let (api, server) = serve_once(
        401,
        r#"{"error": "a valid `Authorization: Bearer TOKEN` header is required"}"#,
        true,
    );
    let o = run(&["stats", "--api", &api]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        err(&o).contains("401") && err(&o).contains("--token-file"),
        "{}",
        err(&o)
    );
    server.join().unwrap();
}

#[test]
fn an_unreachable_daemon_exits_3() {
    // A port nobody listens on: bind, learn the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = format!("127.0.0.1:{port}");
    let d = Dir::new("unreach");
    let cfg = d.file("c.yaml", YAML);
    for args in [
        vec!["stats", "--api", &api],
        vec!["push", &cfg, "--api", &api],
        vec!["top", "--api", &api],
        vec!["blocked", "--api", &api],
        vec!["config", "--api", &api],
        vec!["stats", "--api", "no-such-host.invalid:9025"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", err(&o));
        assert!(
            err(&o).contains("op25bd") || err(&o).contains("resolve"),
            "{}",
            err(&o)
        );
    }
    // The address can come from the environment.
    let o = Command::new(env!("CARGO_BIN_EXE_op25bctl"))
        .args(["stats"])
        .env("OP25B_API", &api)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).contains(&api), "{}", err(&o));
}

#[test]
fn a_missing_token_file_or_config_file_is_named() {
    let o = run(&["stats", "--token-file", "/nonexistent/token"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("/nonexistent/token"));
    let o = run(&["push", "/nonexistent/op25b.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("/nonexistent/op25b.yaml"));
}

const STATS: &str = r#"{
  "rx": 30, "forwarded": 20, "replied": 6, "dropped": 4, "monitored": 3, "unparsed": 1,
  "outbound": {"rx": 25, "forwarded": 15, "replied_rst": 5, "replied_icmp": 1, "dropped_policy": 2,
               "dropped_rate_limit": 2, "dropped_tx_full": 0, "dropped_tiny_fragment": 0,
               "dropped_no_mbuf": 0, "monitored": 3, "unparsed": 1},
  "inbound": {"rx": 5, "forwarded": 5},
  "pools": {"ftth-dynamic": {"blocked": 8, "monitored": 0}, "mobile": {"blocked": 0, "monitored": 3}},
  "elapsed_s": 61.2, "workers": 1, "generation": 4, "config_hash": "0123456789abcdef",
  "per_worker": [{"index": 0, "lcore": 1, "running": true, "loops": 999, "rx": 30}],
  "health": {"ok": true, "workers": [{"index": 0, "stalled": false}]},
  "control": {"pushes_accepted": 3, "pushes_rejected": 1, "reloads_accepted": 0, "reloads_rejected": 0}
}"#;

#[test]
fn stats_prints_a_table_and_json_on_request() {
    let (api, server) = serve_once(200, STATS, true);
    let o = run(&["stats", "--api", &api]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let t = out(&o);
    assert!(t.contains("generation 4 (hash 0123456789ab)"), "{t}");
    assert!(t.contains("healthy"), "{t}");
    let row = |label: &str| {
        t.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} row in\n{t}"))
            .split_whitespace()
            .rev()
            .take(2)
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("received"), ["5", "25"]);
    assert_eq!(row("replied RST"), ["0", "5"]);
    assert_eq!(row("dropped (rate limit)"), ["0", "2"]);
    assert_eq!(row("ftth-dynamic"), ["0", "8"]);
    assert_eq!(row("mobile"), ["3", "0"]);
    assert!(t.contains("3 pushed, 1 push(es) rejected"), "{t}");
    assert!(
        t.lines().any(|l| l.starts_with('0') && l.ends_with("ok")),
        "{t}"
    );
    assert_eq!(
        server.join().unwrap().request_line.trim_end(),
        "GET /v1/stats HTTP/1.1"
    );

    let (api, server) = serve_once(200, STATS, true);
    let o = run(&["stats", "--api", &api, "--json"]);
    let j: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(j["generation"], 4);
    server.join().unwrap();
}

#[test]
fn top_blocked_and_config_print_what_the_daemon_answers() {
    let (api, server) = serve_once(
        200,
        r#"{"window_s": 600, "top": [{"src": "198.51.100.66", "attempts": 120, "blocked": 120, "monitored": 0, "pools": ["ftth-dynamic"], "last_seen": "2026-01-01T00:00:00.000000Z"}]}"#,
        true,
    );
    let o = run(&["top", "-n", "5", "--api", &api]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("last 600 s"), "{}", out(&o));
    let line = out(&o)
        .lines()
        .find(|l| l.starts_with("198.51.100.66"))
        .unwrap()
        .to_string();
    assert!(
        line.contains("120") && line.ends_with("ftth-dynamic"),
        "{line}"
    );
    assert_eq!(
        server.join().unwrap().request_line.trim_end(),
        "GET /v1/top?n=5 HTTP/1.1"
    );

    let (api, server) = serve_once(
        200,
        r#"[{"time": "2026-01-01T00:00:00.000000Z", "src": "2001:db8:100::7", "sport": 40000, "dst": "2001:db8:ff::99", "dport": 25, "pool": "v6", "action": "rst", "direction": "outbound", "generation": 2}]"#,
        true,
    );
    let o = run(&["blocked", "--limit", "3", "--api", &api]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("[2001:db8:100::7]:40000"), "{}", out(&o));
    assert!(out(&o).contains("[2001:db8:ff::99]:25"), "{}", out(&o));
    assert_eq!(
        server.join().unwrap().request_line.trim_end(),
        "GET /v1/blocked?limit=3 HTTP/1.1"
    );

    let (api, server) = serve_once(
        200,
        &serde_json::json!({"generation": 3, "hash": "feed", "loaded_at": "2026-01-01T00:00:00.000000Z", "yaml": YAML}).to_string(),
        true,
    );
    let o = run(&["config", "--api", &api]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).starts_with("# op25bd at"), "{}", out(&o));
    assert!(out(&o).contains("generation 3, hash feed"));
    assert!(out(&o).ends_with(YAML));
    server.join().unwrap();
}
