//! Runs the `op25bctl` binary on the configs/ examples and on bad files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs")
}

fn example(name: &str) -> String {
    configs().join(name).display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_op25bctl"))
        .args(args)
        .output()
        .expect("run op25bctl")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A file in a fresh temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, content: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!(
            "op25bctl-test-{}-{}",
            std::process::id(),
            name.replace('.', "-")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn every_shipped_config_checks_clean_without_warnings() {
    let mut n = 0;
    for entry in std::fs::read_dir(configs()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        n += 1;
        let o = run(&["check", path.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            stderr(&o)
        );
        assert!(stdout(&o).contains(": OK\n"), "{}", stdout(&o));
        assert_eq!(stderr(&o), "", "warnings for {}", path.display());
    }
    assert!(n >= 4, "expected the four example configs, found {n}");
}

#[test]
fn check_summarises_pools_relays_scope_ports_and_actions() {
    let o = run(&["check", &example("example.yaml")]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for line in [
        "blocked ports:  25\n",
        "default action: rst\n",
        "inbound rule:   enabled\n",
        "reply rate:     20000 per second per worker\n",
        "pools (3):\n",
        "  ftth-dynamic     enforce  rst             1          1\n",
        "  fixed-ip         exempt   rst             1          0\n",
        "  mobile           enforce  drop            1          0\n",
        "  enforce  2 pools, 2 IPv4, 1 IPv6\n",
        "  exempt   1 pool, 1 IPv4, 0 IPv6\n",
        "relays (1):\n",
        "  own-relay        1 IPv4, 1 IPv6\n",
        "scope (1): blocking applies only toward:\n",
        "  mobile-carriers  1 IPv4, 0 IPv6\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert!(out.contains("policy hash:    "), "{out}");
}

#[test]
fn check_json_is_machine_readable() {
    let o = run(&["check", "--json", &example("no-relay.yaml")]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["summary"]["relays"], serde_json::json!([]));
    assert_eq!(v["summary"]["scope"], serde_json::Value::Null);
    assert_eq!(v["summary"]["pools"][1]["name"], "mobile");
    assert_eq!(v["summary"]["pools"][1]["action"], "drop");
    assert_eq!(v["summary"]["pools"][0]["prefixes"]["ipv6"], 1);
    assert_eq!(v["summary"]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn check_rejects_a_bad_file_listing_every_error() {
    let f = TempFile::new(
        "bad.yaml",
        b"version: 1\nblocked_ports: [25, 465]\npools:\n  - name: a\n    mode: enforce\n    prefixes: [198.51.100.1/24]\n",
    );
    let o = run(&["check", f.path()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    let p = f.path();
    assert_eq!(
        stderr(&o),
        format!(
            "{p}:2:21: blocked_ports[1]: port 465 (submission over implicit TLS) must never be blocked: RFC 8314 makes it the submission port for implicit TLS\n\
             {p}:6:16: pools[0].prefixes[0]: host bits set in 198.51.100.1/24 (the network is 198.51.100.0/24)\n\
             {p}: rejected (2 errors)\n"
        )
    );
}

#[test]
fn check_json_lists_errors_with_positions() {
    let f = TempFile::new("bad-json.yaml", b"version: 2\npools: []\n");
    let o = run(&["check", "--json", f.path()]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"].as_array().unwrap().len(), 2);
    assert_eq!(v["errors"][0]["line"], 1);
    assert_eq!(v["errors"][0]["column"], 10);
    assert_eq!(v["errors"][0]["path"], "version");
    assert_eq!(v["errors"][1]["path"], "pools");
}

#[test]
fn check_rejects_empty_non_utf8_and_missing_files() {
    let empty = TempFile::new("empty.yaml", b"");
    let o = run(&["check", empty.path()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(":1:1: the file is empty"),
        "{}",
        stderr(&o)
    );

    let latin1 = TempFile::new("latin1.yaml", b"version: 1\n# caf\xe9\n");
    let o = run(&["check", latin1.path()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(":2:6: the file is not valid UTF-8 (byte 0xE9)"),
        "{}",
        stderr(&o)
    );

    let o = run(&["check", "/nonexistent/op25b.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("/nonexistent/op25b.yaml: cannot read the file: "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_prints_warnings_but_accepts() {
    let f = TempFile::new(
        "warn.yaml",
        b"version: 1\npools:\n  - name: a\n    mode: exempt\n    action: drop\n    prefixes: [198.51.100.0/24]\n",
    );
    let o = run(&["check", f.path()]);
    assert_eq!(o.status.code(), Some(0));
    let p = f.path();
    assert_eq!(
        stderr(&o),
        format!(
            "{p}:3:3: warning: pools: every pool is exempt: this config blocks and monitors nothing\n\
             {p}:5:13: warning: pools[0].action: action has no effect: the pool is exempt and is never blocked\n"
        )
    );
}

#[test]
fn explain_outbound_block_names_pool_prefix_scope_and_action() {
    let o = run(&[
        "explain",
        &example("example.yaml"),
        "198.51.100.7",
        "192.0.2.10",
        "25",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("verdict: BLOCK (rst: connection refused (TCP reset))\n"),
        "{out}"
    );
    assert!(
        out.contains("in pool `ftth-dynamic` by prefix 198.51.100.0/24"),
        "{out}"
    );
    assert!(
        out.contains("in scope `mobile-carriers` (prefix 192.0.2.0/24)"),
        "{out}"
    );
}

#[test]
fn explain_defaults_to_port_25_and_handles_ipv6_relays() {
    let o = run(&[
        "explain",
        &example("example.yaml"),
        "2001:db8:100::7",
        "2001:db8:ff::25",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("verdict: FORWARD\n"), "{out}");
    assert!(
        out.contains("relay `own-relay` (prefix 2001:db8:ff::25/128): forwarded"),
        "{out}"
    );
    assert!(out.contains("port 25,"), "{out}");
}

#[test]
fn explain_submission_port_is_never_blocked() {
    let o = run(&[
        "explain",
        &example("no-relay.yaml"),
        "198.51.100.7",
        "192.0.2.10",
        "587",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("destination port 587 is not in blocked_ports [25]: forwarded"));
}

#[test]
fn explain_inbound_applies_the_inbound_rule() {
    let o = run(&[
        "explain",
        &example("no-relay.yaml"),
        "192.0.2.10",
        "198.51.100.7",
        "25",
        "--inbound",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = &v["explanation"];
    assert_eq!(e["direction"], "inbound");
    assert_eq!(e["decision"]["verdict"], "block");
    assert_eq!(e["decision"]["action"], "rst");
    assert_eq!(e["subscriber"], "198.51.100.7");
    assert_eq!(e["sport"], 25);
    assert_eq!(e["pool"]["name"], "residential");
    assert_eq!(e["pool"]["prefix"], "198.51.100.0/24");
}

#[test]
fn explain_on_a_rejected_config_exits_1() {
    let f = TempFile::new("bad-explain.yaml", b"version: 1\n");
    let o = run(&["explain", f.path(), "198.51.100.7", "192.0.2.10"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing key `pools`"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["explain", "x.yaml", "not-an-ip", "192.0.2.1"],
        vec!["explain", "x.yaml", "192.0.2.1", "192.0.2.2", "65536"],
        vec!["check"],
        vec!["push"],
        vec!["top", "-n", "0"],
        vec!["push", "x.yaml", "--timeout-ms", "0"],
        vec![],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn help_reads_like_the_manual() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for word in ["check", "explain", "impact", "Exit status"] {
        assert!(out.contains(word), "--help lacks {word}:\n{out}");
    }
    let o = run(&["explain", "--help"]);
    assert!(stdout(&o).contains("--inbound"));
}

#[test]
fn impact_prints_the_customer_table_as_markdown() {
    let o = run(&["impact", &example("example.yaml")]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    assert!(
        md.starts_with("# Outbound Port 25 Blocking: what customers can send\n"),
        "{md}"
    );
    assert!(md.contains(
        "| Customer pool | Mode | Destination | TCP 25 (SMTP) | TCP 587 (submission) | TCP 465 (submission, TLS) |\n"
    ));
    assert!(md.contains(
        "| ftth-dynamic | enforce | allowed relay (own-relay) | Yes: allowed relay | Yes: never blocked (RFC 5068) | Yes: never blocked (RFC 8314) |\n"
    ), "{md}");
    assert!(md.contains(
        "| ftth-dynamic | enforce | other mail servers in scope (mobile-carriers) | **No**: connection refused (TCP reset) |"
    ), "{md}");
    assert!(md.contains(
        "| mobile | enforce | other mail servers in scope (mobile-carriers) | **No**: connection times out (silently dropped) |"
    ), "{md}");
    assert!(
        md.contains(
            "| fixed-ip | exempt | other mail servers outside the scope | Yes: exempt pool |"
        ),
        "{md}"
    );
    // 3 pools x 3 destination kinds.
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("| ")
                && !l.starts_with("| Customer")
                && !l.starts_with("| ---"))
            .count(),
        9
    );
}

#[test]
fn impact_without_relays_says_so() {
    let o = run(&["impact", &example("no-relay.yaml")]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    assert!(md.contains(
        "| residential | enforce | any mail server (no relay is allowed) | **No**: connection refused (TCP reset) | Yes: never blocked (RFC 5068) | Yes: never blocked (RFC 8314) |\n"
    ), "{md}");
    assert!(
        md.contains("No mail server is reachable on port 25 from enforced pools"),
        "{md}"
    );
}

#[test]
fn impact_shows_monitor_pools_as_delivered() {
    let o = run(&["impact", &example("staged-rollout.yaml")]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    assert!(md.contains(
        "| regional-dynamic | monitor | other mail servers in scope (mobile-carrier-a, mobile-carrier-b) | Yes: monitored, not blocked |"
    ), "{md}");
    assert!(
        md.contains("Blocking currently applies only toward: mobile-carrier-a, mobile-carrier-b"),
        "{md}"
    );
}

#[test]
fn ipv6_pppoe_example_blocks_ipv6_while_static_ipv4_is_exempt() {
    let cfg = example("ipv6-pppoe.yaml");
    let o = run(&["explain", &cfg, "198.51.100.20", "192.0.2.10"]);
    assert!(
        stdout(&o).contains("pool `static-ipv4` is exempt: forwarded"),
        "{}",
        stdout(&o)
    );
    let o = run(&["explain", &cfg, "2001:db8:4000::20", "2001:db8:a::25"]);
    assert!(
        stdout(&o).starts_with("verdict: BLOCK (rst"),
        "{}",
        stdout(&o)
    );
    let o = run(&["explain", &cfg, "2001:db8:8000::20", "2001:db8:a::25"]);
    assert!(
        stdout(&o).starts_with("verdict: BLOCK (icmp"),
        "{}",
        stdout(&o)
    );
}
