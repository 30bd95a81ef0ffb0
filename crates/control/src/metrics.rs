//! `GET /metrics`: the Prometheus text exposition format (version 0.0.4).
//!
//! Names follow the Prometheus conventions: an `op25b_` prefix, base units
//! (seconds, bytes), `_total` on counters, one metric family per quantity with
//! labels for its dimensions (`direction`, `kind`, `reason`, `pool`, `worker`,
//! `port`), and a HELP and a TYPE line before each family.

use std::fmt::Write;

use dataplane::DirTotals;

use crate::Snapshot;

/// The Content-Type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escapes a label value (backslash, double quote, line feed).
pub fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape_label(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn per_direction(
        &mut self,
        name: &str,
        help: &str,
        s: &Snapshot,
        f: impl Fn(&DirTotals) -> u64,
    ) {
        self.family(name, "counter", help);
        self.sample(
            name,
            &[("direction", "outbound")],
            f(&s.report.totals.outbound),
        );
        self.sample(
            name,
            &[("direction", "inbound")],
            f(&s.report.totals.inbound),
        );
    }
}

fn seconds_from_ns(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Renders a snapshot.
pub fn render(s: &Snapshot) -> String {
    let mut o = Out(String::with_capacity(8192));
    let r = &s.report;
    let t = &r.totals;

    o.family(
        "op25b_build_info",
        "gauge",
        "Build of the running op25bd (always 1).",
    );
    o.sample(
        "op25b_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1,
    );
    o.family(
        "op25b_uptime_seconds",
        "gauge",
        "Seconds since the dataplane started.",
    );
    o.sample("op25b_uptime_seconds", &[], r.elapsed_s);

    o.per_direction(
        "op25b_rx_packets_total",
        "Frames received; outbound: on access ports (from subscribers), inbound: on core ports.",
        s,
        |d| d.rx,
    );
    o.per_direction(
        "op25b_forwarded_packets_total",
        "Frames forwarded to the other port of their pair.",
        s,
        |d| d.forwarded,
    );
    o.family(
        "op25b_replies_total",
        "counter",
        "Blocked frames answered with a reply (the frame itself dropped), by reply kind.",
    );
    for (dir, d) in [("outbound", &t.outbound), ("inbound", &t.inbound)] {
        o.sample(
            "op25b_replies_total",
            &[("direction", dir), ("kind", "rst")],
            d.replied_rst,
        );
        o.sample(
            "op25b_replies_total",
            &[("direction", dir), ("kind", "icmp")],
            d.replied_icmp,
        );
    }
    o.family(
        "op25b_dropped_packets_total",
        "counter",
        "Frames dropped, by reason: policy (action drop), rate_limit (reply over reply.rate_per_sec), tx_full, tiny_fragment (RFC 1858), no_mbuf.",
    );
    for (dir, d) in [("outbound", &t.outbound), ("inbound", &t.inbound)] {
        for (reason, v) in [
            ("policy", d.dropped_policy),
            ("rate_limit", d.dropped_rate_limit),
            ("tx_full", d.dropped_tx_full),
            ("tiny_fragment", d.dropped_tiny_fragment),
            ("no_mbuf", d.dropped_no_mbuf),
        ] {
            o.sample(
                "op25b_dropped_packets_total",
                &[("direction", dir), ("reason", reason)],
                v,
            );
        }
    }
    o.per_direction(
        "op25b_monitored_packets_total",
        "Frames a monitor-mode pool forwarded that enforce mode would have blocked.",
        s,
        |d| d.monitored,
    );
    o.per_direction(
        "op25b_unparsed_packets_total",
        "Frames forwarded unchanged because they could not be parsed.",
        s,
        |d| d.unparsed,
    );
    o.family(
        "op25b_samples_dropped_total",
        "counter",
        "Blocked-flow samples lost because a worker's sample ring was full.",
    );
    o.sample("op25b_samples_dropped_total", &[], t.samples_dropped);
    o.family(
        "op25b_multi_segment_packets_total",
        "counter",
        "Frames received in chained (multi-segment) mbufs.",
    );
    o.sample("op25b_multi_segment_packets_total", &[], t.multi_segment);

    o.family(
        "op25b_pool_blocked_total",
        "counter",
        "Connection attempts blocked, by pool (over every generation that had the pool).",
    );
    for (name, p) in &r.pools {
        o.sample("op25b_pool_blocked_total", &[("pool", name)], p.blocked);
    }
    o.family(
        "op25b_pool_monitored_total",
        "counter",
        "Connection attempts counted in monitor mode, by pool.",
    );
    for (name, p) in &r.pools {
        o.sample("op25b_pool_monitored_total", &[("pool", name)], p.monitored);
    }

    o.family(
        "op25b_config_generation",
        "gauge",
        "Generation of the running config (1 at start, +1 per publication).",
    );
    o.sample("op25b_config_generation", &[], r.generation);
    o.family(
        "op25b_config_info",
        "gauge",
        "The running config's hash (always 1).",
    );
    o.sample("op25b_config_info", &[("hash", &r.config_hash)], 1);
    o.family(
        "op25b_config_loaded_timestamp_seconds",
        "gauge",
        "Unix time the running config was published.",
    );
    o.sample(
        "op25b_config_loaded_timestamp_seconds",
        &[],
        s.config_loaded_at_unix,
    );
    o.family(
        "op25b_config_changes_total",
        "counter",
        "Config pushes (source api) and SIGHUP reloads (source sighup), by result.",
    );
    let c = &s.control;
    for (source, result, v) in [
        ("api", "accepted", c.pushes_accepted),
        ("api", "rejected", c.pushes_rejected),
        ("sighup", "accepted", c.reloads_accepted),
        ("sighup", "rejected", c.reloads_rejected),
    ] {
        o.sample(
            "op25b_config_changes_total",
            &[("source", source), ("result", result)],
            v,
        );
    }

    o.family(
        "op25b_worker_loops_total",
        "counter",
        "Worker loop iterations, each right after a quiescent state (stops moving when a worker stalls).",
    );
    for w in s.per_worker.iter().filter(|w| w.running) {
        let (i, l) = (w.index.to_string(), w.lcore.to_string());
        o.sample(
            "op25b_worker_loops_total",
            &[("worker", &i), ("lcore", &l)],
            w.loops,
        );
    }
    o.family(
        "op25b_worker_rx_packets_total",
        "counter",
        "Frames received, by worker (shows how RSS spreads the load).",
    );
    for w in s.per_worker.iter().filter(|w| w.running) {
        let (i, l) = (w.index.to_string(), w.lcore.to_string());
        o.sample(
            "op25b_worker_rx_packets_total",
            &[("worker", &i), ("lcore", &l)],
            w.totals.rx,
        );
    }
    o.family(
        "op25b_worker_stalled",
        "gauge",
        "1 when a worker has not reported quiescence within the watchdog bound.",
    );
    for w in &s.health.workers {
        let (i, l) = (w.index.to_string(), w.lcore.to_string());
        o.sample(
            "op25b_worker_stalled",
            &[("worker", &i), ("lcore", &l)],
            u8::from(w.stalled),
        );
    }
    o.family("op25b_healthy", "gauge", "1 when /healthz answers 200.");
    o.sample("op25b_healthy", &[], u8::from(s.health.ok));

    o.family(
        "op25b_port_rx_packets_total",
        "counter",
        "Packets the device received.",
    );
    for p in &r.ports {
        let id = p.port.to_string();
        o.sample(
            "op25b_port_rx_packets_total",
            &[("port", &id), ("name", &p.name)],
            p.ipackets,
        );
    }
    o.family(
        "op25b_port_tx_packets_total",
        "counter",
        "Packets the device sent.",
    );
    for p in &r.ports {
        let id = p.port.to_string();
        o.sample(
            "op25b_port_tx_packets_total",
            &[("port", &id), ("name", &p.name)],
            p.opackets,
        );
    }
    o.family(
        "op25b_port_rx_missed_total",
        "counter",
        "Packets the device dropped because the receive queue was full.",
    );
    for p in &r.ports {
        let id = p.port.to_string();
        o.sample(
            "op25b_port_rx_missed_total",
            &[("port", &id), ("name", &p.name)],
            p.imissed,
        );
    }
    o.family(
        "op25b_port_errors_total",
        "counter",
        "Device errors, by direction.",
    );
    for p in &r.ports {
        let id = p.port.to_string();
        o.sample(
            "op25b_port_errors_total",
            &[("port", &id), ("name", &p.name), ("direction", "rx")],
            p.ierrors,
        );
        o.sample(
            "op25b_port_errors_total",
            &[("port", &id), ("name", &p.name), ("direction", "tx")],
            p.oerrors,
        );
    }
    o.family(
        "op25b_port_rx_nombuf_total",
        "counter",
        "Receive mbuf allocation failures of the device.",
    );
    for p in &r.ports {
        let id = p.port.to_string();
        o.sample(
            "op25b_port_rx_nombuf_total",
            &[("port", &id), ("name", &p.name)],
            p.rx_nombuf,
        );
    }

    o.family(
        "op25b_mempool_in_use_mbufs",
        "gauge",
        "Mbufs taken from the packet pool.",
    );
    o.sample("op25b_mempool_in_use_mbufs", &[], r.mempool_in_use);
    o.family(
        "op25b_mempool_size_mbufs",
        "gauge",
        "Mbufs in the packet pool.",
    );
    o.sample("op25b_mempool_size_mbufs", &[], r.mempool_size);

    if let Some(l) = &r.latency_ns {
        o.family(
            "op25b_burst_latency_seconds",
            "gauge",
            "Software residence time per burst (rx to tx), by quantile, since start (with --latency).",
        );
        for (q, v) in [
            ("0.5", l.p50),
            ("0.9", l.p90),
            ("0.99", l.p99),
            ("0.999", l.p999),
            ("1", l.max),
        ] {
            o.sample(
                "op25b_burst_latency_seconds",
                &[("quantile", q)],
                seconds_from_ns(v),
            );
        }
        o.family(
            "op25b_latency_bursts_total",
            "counter",
            "Bursts measured for op25b_burst_latency_seconds.",
        );
        o.sample("op25b_latency_bursts_total", &[], l.bursts);
    }

    o.family(
        "op25b_blocked_samples_total",
        "counter",
        "Blocked-flow samples drained from the workers.",
    );
    o.sample("op25b_blocked_samples_total", &[], c.samples_seen);
    o.family(
        "op25b_top_window_subscribers",
        "gauge",
        "Subscribers with sampled attempts in the top-N sliding window.",
    );
    o.sample("op25b_top_window_subscribers", &[], c.top_sources);
    o.family(
        "op25b_top_window_untracked_total",
        "counter",
        "Sampled attempts not tracked in the window because it was full.",
    );
    o.sample("op25b_top_window_untracked_total", &[], c.top_untracked);
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape_label("ftth-dynamic"), "ftth-dynamic");
    }
}
