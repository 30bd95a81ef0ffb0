//! `/metrics` read by a real Prometheus text-format parser (the Python
//! `prometheus_client` one), plus the naming rules Prometheus documents.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::Ordering;

use common::*;

/// A Python with the parser: Debian's interpreter first (where the Debian
/// package installs it), then whatever `python3` is on the PATH.
fn python_with_prometheus_client() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import prometheus_client.parser"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Installs Debian's python3-prometheus-client when missing (idempotent).
fn ensure_parser() -> &'static str {
    if let Some(py) = python_with_prometheus_client() {
        return py;
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let st = Command::new("bash")
        .arg(format!("{root}/.ci/install-deps"))
        .arg("python3-prometheus-client")
        .status();
    python_with_prometheus_client().unwrap_or_else(|| {
        panic!(
        "the Prometheus text parser (Debian python3-prometheus-client) is missing and could not be installed ({st:?}); \
         install it: apt-get install -y python3-prometheus-client"
        )
    })
}

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    out[f.name] = {"type": f.type, "help": f.documentation,
                   "samples": [[s.name, s.labels, s.value] for s in f.samples]}
print(json.dumps(out))
"#;

fn parse_with_prometheus_client(py: &str, text: &str) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new(py)
        .args(["-c", PARSE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "prometheus_client rejected the exposition:\n{}\n---\n{text}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn value(families: &serde_json::Value, sample: &str, labels: &[(&str, &str)]) -> f64 {
    for f in families.as_object().unwrap().values() {
        for s in f["samples"].as_array().unwrap() {
            if s[0] == sample
                && labels.iter().all(|(k, v)| s[1][k] == *v)
                && s[1].as_object().unwrap().len() == labels.len()
            {
                return s[2].as_f64().unwrap();
            }
        }
    }
    panic!("no sample {sample}{labels:?} in {families}");
}

#[test]
fn metrics_parse_with_the_prometheus_client_parser_and_carry_the_counters() {
    let py = ensure_parser();
    let lab = Lab::start(None, 1 << 20);
    lab.rx.store(42, Ordering::Relaxed);
    assert_eq!(
        put_config(lab.addr, &config_with("pool \"quoted\"\\x", "enforce")).status,
        422
    );
    assert_eq!(
        put_config(lab.addr, &config_with("mobile", "enforce")).status,
        200
    );
    let a = get(lab.addr, "/metrics");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let f = parse_with_prometheus_client(py, &a.body);
    assert_eq!(f["op25b_rx_packets"]["type"], "counter");
    assert_eq!(
        value(&f, "op25b_rx_packets_total", &[("direction", "outbound")]),
        42.0
    );
    assert_eq!(
        value(&f, "op25b_rx_packets_total", &[("direction", "inbound")]),
        0.0
    );
    assert_eq!(
        value(
            &f,
            "op25b_replies_total",
            &[("direction", "outbound"), ("kind", "rst")]
        ),
        21.0
    );
    assert_eq!(
        value(
            &f,
            "op25b_dropped_packets_total",
            &[("direction", "outbound"), ("reason", "rate_limit")]
        ),
        0.0
    );
    assert_eq!(
        value(&f, "op25b_pool_blocked_total", &[("pool", "mobile")]),
        21.0
    );
    assert_eq!(value(&f, "op25b_config_generation", &[]), 2.0);
    assert_eq!(f["op25b_config_generation"]["type"], "gauge");
    let hash = hash_of(&config_with("mobile", "enforce"));
    assert_eq!(value(&f, "op25b_config_info", &[("hash", &hash)]), 1.0);
    assert_eq!(
        value(
            &f,
            "op25b_config_changes_total",
            &[("source", "api"), ("result", "accepted")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &f,
            "op25b_config_changes_total",
            &[("source", "api"), ("result", "rejected")]
        ),
        1.0
    );
    assert!(
        value(
            &f,
            "op25b_worker_loops_total",
            &[("worker", "0"), ("lcore", "1")]
        ) > 0.0
    );
    assert_eq!(value(&f, "op25b_healthy", &[]), 1.0);
    assert_eq!(value(&f, "op25b_mempool_size_mbufs", &[]), 4096.0);
    assert_eq!(
        value(&f, "op25b_burst_latency_seconds", &[("quantile", "0.99")]),
        9e-6
    );
    assert_eq!(value(&f, "op25b_latency_bursts_total", &[]), 1000.0);
}

/// The rules of https://prometheus.io/docs/instrumenting/writing_exporters/ and
/// the text format: HELP and TYPE once per family, before its samples; valid
/// names; counters end in `_total`; no series twice.
#[test]
fn metrics_follow_the_prometheus_naming_and_format_rules() {
    let lab = Lab::start(None, 1 << 20);
    let text = get(lab.addr, "/metrics").body;
    let name_ok = |n: &str| {
        let mut c = n.chars();
        c.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let mut help = BTreeSet::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut series = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(help.insert(name.to_string()), "HELP twice for {name}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(help.contains(name), "TYPE before HELP for {name}");
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            assert!(
                types.insert(name.into(), kind.into()).is_none(),
                "TYPE twice: {name}"
            );
        } else {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(name_ok(name), "bad metric name in {line:?}");
            assert!(name.starts_with("op25b_"), "{line}");
            let kind = types
                .get(name)
                .unwrap_or_else(|| panic!("no TYPE before {line:?}"));
            assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
            let (id, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(series.insert(id.to_string()), "series twice: {id}");
        }
    }
    assert!(types.len() > 20, "{types:?}");
}
