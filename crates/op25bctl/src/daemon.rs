//! The commands that talk to a running op25bd over its API (`--api`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::http::{Answer, Client};
use crate::{Outcome, EXIT_REFUSED, EXIT_REJECTED, EXIT_UNREACHABLE, EXIT_USAGE};

/// op25bctl's default API address (start op25bd with `--api 127.0.0.1:9025`).
pub const DEFAULT_API: &str = "127.0.0.1:9025";

/// How to reach the daemon.
#[derive(Debug, Clone, Args)]
pub struct DaemonArgs {
    /// op25bd's API address (HOST:PORT), as given to `op25bd --api`
    #[arg(long, value_name = "HOST:PORT", env = "OP25B_API", default_value = DEFAULT_API)]
    pub api: String,
    /// File holding the bearer token (as given to `op25bd --api-token-file`)
    #[arg(long, value_name = "FILE", env = "OP25B_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// Give up on the daemon after this many milliseconds
    #[arg(long, value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub timeout_ms: u64,
    /// Print the daemon's JSON answer instead of text
    #[arg(long)]
    pub json: bool,
}

fn fail(code: u8, message: String) -> Outcome {
    Outcome {
        stdout: String::new(),
        stderr: format!("op25bctl: {message}\n"),
        code,
    }
}

impl DaemonArgs {
    fn client(&self) -> Result<Client, Outcome> {
        let token = match &self.token_file {
            None => None,
            Some(p) => {
                let t = std::fs::read_to_string(p).map_err(|e| {
                    fail(
                        EXIT_USAGE,
                        format!("cannot read the token file {}: {e}", p.display()),
                    )
                })?;
                let t = t.trim().to_string();
                if t.is_empty() {
                    return Err(fail(
                        EXIT_USAGE,
                        format!("the token file {} is empty", p.display()),
                    ));
                }
                Some(t)
            }
        };
        Ok(Client {
            api: self.api.clone(),
            token,
            timeout: Duration::from_millis(self.timeout_ms),
        })
    }

    /// GET `path`, 200 expected; other answers become the outcome to return.
    fn get(&self, path: &str) -> Result<Answer, Outcome> {
        let client = self.client()?;
        let a = client
            .request("GET", path, &[], None)
            .map_err(|e| fail(EXIT_UNREACHABLE, e.0))?;
        if a.status == 200 {
            Ok(a)
        } else {
            Err(refused(&a))
        }
    }
}

/// A non-success answer: the daemon's own message and exit 4.
fn refused(a: &Answer) -> Outcome {
    let why = a
        .json()
        .ok()
        .and_then(|j| j["error"].as_str().map(String::from))
        .unwrap_or_else(|| a.text().trim().to_string());
    let hint = match a.status {
        401 => " (give the token with --token-file)",
        _ => "",
    };
    fail(
        EXIT_REFUSED,
        format!("op25bd answered {}: {why}{hint}", a.status),
    )
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

fn json_or(a: &Answer, d: &DaemonArgs, text: impl FnOnce(&Value) -> String) -> Outcome {
    match a.json() {
        Err(e) => fail(EXIT_REFUSED, e),
        Ok(v) if d.json => Outcome::ok(pretty(&v), String::new()),
        Ok(v) => Outcome::ok(text(&v), String::new()),
    }
}

/// `op25bctl push FILE`: 0 published, 1 rejected (every error listed), 3
/// unreachable, 4 refused (token, stalled worker).
pub fn push(file: &Path, d: &DaemonArgs) -> Outcome {
    let yaml = match std::fs::read(file) {
        Ok(y) => y,
        Err(e) => {
            return fail(
                EXIT_REJECTED,
                format!("{}: cannot read the file: {e}", file.display()),
            )
        }
    };
    let client = match d.client() {
        Ok(c) => c,
        Err(o) => return o,
    };
    // Errors then name the file as the operator knows it.
    let name: String = file
        .display()
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(256)
        .collect();
    let a = match client.request(
        "PUT",
        "/v1/config",
        &[
            ("Content-Type", "application/yaml"),
            ("X-Op25b-Config-Name", &name),
        ],
        Some(&yaml),
    ) {
        Ok(a) => a,
        Err(e) => return fail(EXIT_UNREACHABLE, e.0),
    };
    match a.status {
        200 => json_or(&a, d, |v| {
            let mut s = format!(
                "{}: published as generation {} (hash {}; {} pools, {} IPv4 + {} IPv6 prefixes; compile {:.1} ms, grace period {} us)\n",
                file.display(),
                v["generation"],
                v["hash"].as_str().unwrap_or(""),
                v["pools"],
                v["prefixes_ipv4"],
                v["prefixes_ipv6"],
                v["compile_ms"].as_f64().unwrap_or(0.0),
                v["grace_us"],
            );
            for w in v["warnings"].as_array().into_iter().flatten() {
                s.push_str(&format!("warning: {}\n", error_line(w)));
            }
            s
        }),
        422 => {
            let v = a.json().unwrap_or(Value::Null);
            if d.json {
                return Outcome {
                    stdout: pretty(&v),
                    stderr: String::new(),
                    code: EXIT_REJECTED,
                };
            }
            let errors = v["errors"].as_array().cloned().unwrap_or_default();
            let mut s: String = errors.iter().map(|e| error_line(e) + "\n").collect();
            s.push_str(&format!(
                "{}: rejected by op25bd ({} error{}); the running config stays\n",
                file.display(),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ));
            Outcome {
                stdout: String::new(),
                stderr: s,
                code: EXIT_REJECTED,
            }
        }
        413 => {
            let mut o = refused(&a);
            o.code = EXIT_REJECTED;
            o
        }
        _ => refused(&a),
    }
}

fn error_line(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    let path = s("path");
    format!(
        "{}:{}:{}: {}{}",
        s("file"),
        e["line"],
        e["column"],
        if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        },
        s("message")
    )
}

/// `op25bctl config`: the running YAML (with its generation and hash as comments).
pub fn config(d: &DaemonArgs) -> Outcome {
    match d.get("/v1/config") {
        Err(o) => o,
        Ok(a) => json_or(&a, d, |v| {
            format!(
                "# op25bd at {}: generation {}, hash {}, loaded {}\n{}",
                d.api,
                v["generation"],
                v["hash"].as_str().unwrap_or(""),
                v["loaded_at"].as_str().unwrap_or(""),
                v["yaml"].as_str().unwrap_or("")
            )
        }),
    }
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// The human table of `op25bctl stats`.
pub fn stats_table(v: &Value) -> String {
    let mut s = String::new();
    let hash = v["config_hash"].as_str().unwrap_or("");
    let healthy = v["health"]["ok"].as_bool().unwrap_or(false);
    s.push_str(&format!(
        "op25bd: generation {} (hash {}), up {:.0} s, {} worker(s), {}\n\n",
        v["generation"],
        &hash[..hash.len().min(12)],
        v["elapsed_s"].as_f64().unwrap_or(0.0),
        v["workers"],
        if healthy {
            "healthy"
        } else {
            "UNHEALTHY (see /healthz)"
        }
    ));
    s.push_str(&format!("{:<24}{:>16}{:>16}\n", "", "outbound", "inbound"));
    for (label, key) in [
        ("received", "rx"),
        ("forwarded", "forwarded"),
        ("replied RST", "replied_rst"),
        ("replied ICMP", "replied_icmp"),
        ("dropped (policy)", "dropped_policy"),
        ("dropped (rate limit)", "dropped_rate_limit"),
        ("dropped (tx full)", "dropped_tx_full"),
        ("dropped (tiny fragment)", "dropped_tiny_fragment"),
        ("dropped (no mbuf)", "dropped_no_mbuf"),
        ("monitored", "monitored"),
        ("unparsed", "unparsed"),
    ] {
        s.push_str(&format!(
            "{label:<24}{:>16}{:>16}\n",
            n(&v["outbound"][key]),
            n(&v["inbound"][key])
        ));
    }
    s.push_str(&format!(
        "\n{:<24}{:>16}{:>16}\n",
        "pool", "blocked", "monitored"
    ));
    for (name, p) in v["pools"].as_object().into_iter().flatten() {
        s.push_str(&format!(
            "{name:<24}{:>16}{:>16}\n",
            n(&p["blocked"]),
            n(&p["monitored"])
        ));
    }
    s.push_str(&format!(
        "\n{:<8}{:>6}{:>16}{:>16}  state\n",
        "worker", "lcore", "loops", "received"
    ));
    let health = v["health"]["workers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for w in v["per_worker"].as_array().into_iter().flatten() {
        let stalled = health
            .iter()
            .any(|h| h["index"] == w["index"] && h["stalled"] == true);
        let state = if w["running"] != true {
            "idle (no queue)"
        } else if stalled {
            "STALLED"
        } else {
            "ok"
        };
        s.push_str(&format!(
            "{:<8}{:>6}{:>16}{:>16}  {state}\n",
            n(&w["index"]),
            n(&w["lcore"]),
            n(&w["loops"]),
            n(&w["rx"])
        ));
    }
    if let Some(l) = v.get("latency_ns").filter(|l| l.is_object()) {
        s.push_str(&format!(
            "\nlatency per burst (ns): p50 {} p99 {} p99.9 {} max {}\n",
            l["p50"], l["p99"], l["p999"], l["max"]
        ));
    }
    let c = &v["control"];
    s.push_str(&format!(
        "\nconfig changes: {} pushed, {} push(es) rejected, {} reloaded, {} reload(s) rejected\n",
        n(&c["pushes_accepted"]),
        n(&c["pushes_rejected"]),
        n(&c["reloads_accepted"]),
        n(&c["reloads_rejected"])
    ));
    s
}

/// `op25bctl stats`.
pub fn stats(d: &DaemonArgs) -> Outcome {
    match d.get("/v1/stats") {
        Err(o) => o,
        Ok(a) => json_or(&a, d, stats_table),
    }
}

/// `op25bctl top [-n N]`.
pub fn top(count: usize, d: &DaemonArgs) -> Outcome {
    match d.get(&format!("/v1/top?n={count}")) {
        Err(o) => o,
        Ok(a) => json_or(&a, d, |v| {
            let mut s = format!(
                "subscribers with the most blocked attempts in the last {} s (sampled):\n{:<40}{:>10}{:>10}{:>10}  {:<28}pools\n",
                v["window_s"], "subscriber", "attempts", "blocked", "monitor", "last seen"
            );
            for e in v["top"].as_array().into_iter().flatten() {
                let pools: Vec<&str> = e["pools"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                s.push_str(&format!(
                    "{:<40}{:>10}{:>10}{:>10}  {:<28}{}\n",
                    e["src"].as_str().unwrap_or(""),
                    n(&e["attempts"]),
                    n(&e["blocked"]),
                    n(&e["monitored"]),
                    e["last_seen"].as_str().unwrap_or(""),
                    pools.join(",")
                ));
            }
            s
        }),
    }
}

/// `op25bctl blocked [--limit N]`.
pub fn blocked(limit: usize, d: &DaemonArgs) -> Outcome {
    match d.get(&format!("/v1/blocked?limit={limit}")) {
        Err(o) => o,
        Ok(a) => json_or(&a, d, |v| {
            let mut s = format!(
                "{:<28}{:<9}{:<46}{:<46}{:<14}pool\n",
                "time", "dir", "source", "destination", "action"
            );
            for e in v.as_array().into_iter().flatten() {
                let ep = |ip: &Value, port: &Value| {
                    let ip = ip.as_str().unwrap_or("");
                    if ip.contains(':') {
                        format!("[{ip}]:{port}")
                    } else {
                        format!("{ip}:{port}")
                    }
                };
                s.push_str(&format!(
                    "{:<28}{:<9}{:<46}{:<46}{:<14}{}\n",
                    e["time"].as_str().unwrap_or(""),
                    e["direction"].as_str().unwrap_or(""),
                    ep(&e["src"], &e["sport"]),
                    ep(&e["dst"], &e["dport"]),
                    e["action"].as_str().unwrap_or(""),
                    e["pool"].as_str().unwrap_or("")
                ));
            }
            s
        }),
    }
}
