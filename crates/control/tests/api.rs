//! Every endpoint of the API over real HTTP, against a model dataplane.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;

const MAX: usize = 64 * 1024;

#[test]
fn a_good_push_is_published_and_answers_with_its_generation_and_hash() {
    let lab = Lab::start(None, MAX);
    let yaml = config_with("mobile", "enforce");
    let a = request(
        lab.addr,
        "PUT",
        "/v1/config",
        &[("X-Op25b-Config-Name", "staged.yaml")],
        yaml.as_bytes(),
    );
    assert_eq!(a.status, 200, "{a:?}");
    let j = a.json();
    assert_eq!(j["generation"], 2);
    assert_eq!(j["hash"], hash_of(&yaml));
    assert_eq!(j["pools"], 1);
    assert_eq!(j["prefixes_ipv4"], 1);
    assert!(j["grace_us"].is_u64() && j["compile_ms"].is_f64(), "{j}");

    let c = get(lab.addr, "/v1/config").json();
    assert_eq!(c["generation"], 2);
    assert_eq!(c["hash"], hash_of(&yaml));
    assert_eq!(c["yaml"], yaml);
    assert_eq!(c["summary"]["pools"][0]["name"], "mobile");
    assert!(c["loaded_at"].as_str().unwrap().ends_with('Z'), "{c}");

    let raw = get(lab.addr, "/v1/config?format=yaml");
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body, yaml);
    assert_eq!(raw.header("X-Op25b-Generation"), Some("2"));
    assert_eq!(raw.header("Content-Type"), Some("application/yaml"));
    assert_eq!(*lab.published.lock().unwrap(), [2]);
}

#[test]
fn a_bad_push_gets_422_with_every_error_and_changes_nothing() {
    let lab = Lab::start(None, MAX);
    let bad = "version: 1\npools:\n  - name: x\n    mode: enforce\n    prefixes: [198.51.100.1/24]\n    colour: blue\n";
    let a = request(
        lab.addr,
        "PUT",
        "/v1/config",
        &[("X-Op25b-Config-Name", "bad.yaml")],
        bad.as_bytes(),
    );
    assert_eq!(a.status, 422, "{a:?}");
    let errors = a.json()["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 2, "{errors:?}");
    for e in &errors {
        assert_eq!(e["file"], "bad.yaml");
        assert!(e["line"].as_u64().unwrap() >= 5, "{e}");
        assert!(e["column"].as_u64().unwrap() >= 1, "{e}");
        assert!(e["path"].as_str().unwrap().starts_with("pools[0]"), "{e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    // Not YAML at all, not UTF-8, empty: 422 too, never a crash.
    for body in [&b"{ ["[..], &[0xff, 0xfe, 0x00][..], &b""[..]] {
        let a = request(lab.addr, "PUT", "/v1/config", &[], body);
        assert_eq!(a.status, 422, "{body:?}: {a:?}");
        assert!(a.json()["errors"][0]["message"].is_string());
    }
    let c = get(lab.addr, "/v1/config").json();
    assert_eq!(c["generation"], 1);
    assert_eq!(c["hash"], hash_of(CONFIG));
    assert!(lab.published.lock().unwrap().is_empty());
    let stats = get(lab.addr, "/v1/stats").json();
    assert_eq!(stats["control"]["pushes_rejected"], 4);
    assert_eq!(stats["control"]["pushes_accepted"], 0);
}

/// Sends headers with `Expect: 100-continue` and a body only if invited.
fn put_with_expect(addr: std::net::SocketAddr, declared: usize) -> (u16, bool) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "PUT /v1/config HTTP/1.1\r\nHost: t\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: {declared}\r\n\r\n"
    )
    .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let code: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, code == 100)
}

#[test]
fn an_oversized_push_gets_413_before_its_body_is_read() {
    let lab = Lab::start(None, MAX);
    // Declared too large: refused at once, no `100 Continue`, no byte of body needed.
    let (code, invited) = put_with_expect(lab.addr, MAX + 1);
    assert_eq!((code, invited), (413, false));
    // At the limit the body is invited.
    let (code, invited) = put_with_expect(lab.addr, MAX);
    assert_eq!((code, invited), (100, true));

    // Chunked, no length: read up to the limit, then refused.
    let mut s = TcpStream::connect(lab.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"PUT /v1/config HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let chunk = vec![b'#'; 4096];
    for _ in 0..(MAX / 4096 + 2) {
        if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .is_err()
            || s.write_all(&chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("--api-max-body"), "{text}");

    let c = get(lab.addr, "/v1/config").json();
    assert_eq!(c["generation"], 1);
    assert!(lab.published.lock().unwrap().is_empty());
}

#[test]
fn without_the_token_every_request_gets_401_and_changes_nothing() {
    let lab = Lab::start(Some("s3cret-token"), MAX);
    let yaml = config_with("mobile", "enforce");
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic czNjcmV0LXRva2Vu"),
        Some("Bearer s3cret-toke"),
    ] {
        let h: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", *a)).collect();
        let a = request(lab.addr, "PUT", "/v1/config", &h, yaml.as_bytes());
        assert_eq!(a.status, 401, "{auth:?}: {a:?}");
        assert_eq!(a.header("WWW-Authenticate"), Some("Bearer realm=\"op25b\""));
        for path in [
            "/v1/config",
            "/v1/stats",
            "/metrics",
            "/v1/blocked",
            "/v1/top",
            "/healthz",
        ] {
            assert_eq!(
                request(lab.addr, "GET", path, &h, b"").status,
                401,
                "{path}"
            );
        }
    }
    assert!(lab.published.lock().unwrap().is_empty(), "nothing changed");
    let ok = [("Authorization", "Bearer s3cret-token")];
    let a = request(lab.addr, "PUT", "/v1/config", &ok, yaml.as_bytes());
    assert_eq!(a.status, 200, "{a:?}");
    let a = request(
        lab.addr,
        "GET",
        "/v1/config",
        &[("Authorization", "bearer  s3cret-token ")],
        b"",
    );
    assert_eq!(a.json()["generation"], 2);
}

#[test]
fn concurrent_pushes_are_serialized_with_distinct_generations() {
    let lab = Lab::start(None, MAX);
    let n = 12;
    let results: Vec<(String, serde_json::Value)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let addr = lab.addr;
                s.spawn(move || {
                    let yaml = config_with(&format!("pool-{i}"), "enforce");
                    let a = put_config(addr, &yaml);
                    assert_eq!(a.status, 200, "{a:?}");
                    (yaml, a.json())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let gens: BTreeSet<u64> = results
        .iter()
        .map(|(_, j)| j["generation"].as_u64().unwrap())
        .collect();
    assert_eq!(
        gens,
        (2..2 + n as u64).collect(),
        "every push its own generation"
    );
    for (yaml, j) in &results {
        assert_eq!(j["hash"], hash_of(yaml), "each answer names its own config");
    }
    // The dataplane saw them one after another, in generation order.
    assert_eq!(
        *lab.published.lock().unwrap(),
        (2..2 + n as u64).collect::<Vec<_>>()
    );
    let last = results
        .iter()
        .max_by_key(|(_, j)| j["generation"].as_u64())
        .unwrap();
    let c = get(lab.addr, "/v1/config").json();
    assert_eq!(c["generation"], 1 + n as u64);
    assert_eq!(c["yaml"], last.0);
}

#[test]
fn stats_report_counters_pools_workers_and_health() {
    let lab = Lab::start(None, MAX);
    lab.rx.store(10, Ordering::Relaxed);
    let a = get(lab.addr, "/v1/stats");
    assert_eq!(a.status, 200);
    assert_eq!(a.header("Content-Type"), Some("application/json"));
    let j = a.json();
    // The --stats-json keys.
    for k in [
        "rx",
        "forwarded",
        "replied",
        "dropped",
        "monitored",
        "unparsed",
        "outbound",
        "inbound",
        "pools",
        "elapsed_s",
        "workers",
        "generation",
        "config_hash",
        "mempool_in_use",
        "mempool_size",
        "ports",
        "tsc_hz",
    ] {
        assert!(j.get(k).is_some(), "missing {k}: {j}");
    }
    assert_eq!(j["rx"], 10);
    assert_eq!(j["outbound"]["replied_rst"], 5);
    assert_eq!(j["pools"]["ftth-dynamic"]["blocked"], 5);
    assert_eq!(j["per_worker"].as_array().unwrap().len(), 2);
    assert_eq!(j["per_worker"][1]["lcore"], 2);
    assert_eq!(j["health"]["ok"], true);
    assert_eq!(j["control"]["top_window_s"], 600);
}

#[test]
fn blocked_and_top_report_recent_samples_and_the_likely_infected() {
    let lab = Lab::start(None, MAX);
    {
        let mut s = lab.samples.lock().unwrap();
        for _ in 0..5 {
            s.push(sample("198.51.100.66", "ftth-dynamic"));
        }
        s.push(sample("198.51.100.7", "ftth-dynamic"));
        s.push(sample("2001:db8:100::9", "ftth-dynamic"));
    }
    lab.wait_for(|| lab.samples.lock().unwrap().is_empty());
    lab.wait_for(|| {
        get(lab.addr, "/v1/blocked")
            .json()
            .as_array()
            .unwrap()
            .len()
            == 7
    });
    let b = get(lab.addr, "/v1/blocked?limit=2").json();
    let b = b.as_array().unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!(b[0]["src"], "2001:db8:100::9", "newest first");
    assert_eq!(b[0]["dport"], 25);
    assert_eq!(b[0]["action"], "rst");

    let t = get(lab.addr, "/v1/top?n=2").json();
    assert_eq!(t["window_s"], 600);
    let top = t["top"].as_array().unwrap();
    assert_eq!(top.len(), 2);
    assert_eq!(top[0]["src"], "198.51.100.66");
    assert_eq!(top[0]["attempts"], 5);
    assert_eq!(top[0]["pools"][0], "ftth-dynamic");
    assert!(top[0]["last_seen"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        get(lab.addr, "/v1/top").json()["top"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    for bad in [
        "/v1/top?n=0",
        "/v1/top?n=x",
        "/v1/blocked?limit=-1",
        "/v1/blocked?max=3",
        "/v1/top?n=99999999",
    ] {
        let a = get(lab.addr, bad);
        assert_eq!(a.status, 400, "{bad}: {a:?}");
        assert!(a.json()["error"].is_string());
    }
}

#[test]
fn healthz_reports_a_stalled_worker_and_pushes_wait_for_none() {
    let lab = Lab::start(None, MAX);
    let h = get(lab.addr, "/healthz");
    assert_eq!(h.status, 200, "{h:?}");
    assert_eq!(h.json()["ok"], true);
    assert_eq!(h.json()["workers"].as_array().unwrap().len(), 2);

    lab.stall.store(true, Ordering::Relaxed);
    lab.wait_for(|| get(lab.addr, "/healthz").status == 503);
    let j = get(lab.addr, "/healthz").json();
    assert_eq!(j["ok"], false);
    assert_eq!(j["workers"][1]["stalled"], true);
    assert_eq!(j["workers"][0]["stalled"], false);
    assert!(j["workers"][1]["since_progress_ms"].as_u64().unwrap() >= 100);
    assert!(
        lab.stalls_seen.load(Ordering::Relaxed) >= 1,
        "the stall action ran"
    );
    // A publication would wait for the stalled worker forever: refused, nothing changed.
    let a = put_config(lab.addr, &config_with("mobile", "enforce"));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.json()["error"].as_str().unwrap().contains("stalled"));
    assert!(lab.published.lock().unwrap().is_empty());
    let m = get(lab.addr, "/metrics").body;
    assert!(
        m.contains("op25b_worker_stalled{worker=\"1\",lcore=\"2\"} 1"),
        "{m}"
    );
    assert!(m.contains("op25b_healthy 0"), "{m}");

    lab.stall.store(false, Ordering::Relaxed);
    lab.wait_for(|| get(lab.addr, "/healthz").status == 200);
    assert_eq!(
        put_config(lab.addr, &config_with("mobile", "enforce")).status,
        200
    );
}

#[test]
fn unknown_paths_methods_and_parameters_are_clear_errors() {
    let lab = Lab::start(None, MAX);
    let a = get(lab.addr, "/v2/nothing");
    assert_eq!(a.status, 404);
    assert!(a.json()["error"].as_str().unwrap().contains("/v2/nothing"));
    let a = request(lab.addr, "DELETE", "/v1/config", &[], b"");
    assert_eq!(a.status, 405);
    assert_eq!(a.header("Allow"), Some("GET, PUT"));
    let a = request(lab.addr, "POST", "/metrics", &[], b"x");
    assert_eq!(a.status, 405);
    assert_eq!(get(lab.addr, "/v1/config?format=xml").status, 400);
    assert_eq!(get(lab.addr, "/v1/stats?verbose=1").status, 400);
}
