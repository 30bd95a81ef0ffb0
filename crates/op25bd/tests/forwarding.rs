//! Two-port forwarding through `net_pcap` virtual devices, both directions at once.

mod common;

use common::*;
use op25b_bench::pcap;

fn records(p: &std::path::Path) -> Vec<Vec<u8>> {
    pcap::read_file(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .into_iter()
        .map(|r| r.data)
        .collect()
}

#[test]
fn every_frame_is_forwarded_byte_for_byte_and_in_order_in_both_directions() {
    let s = Scratch::new("fwd");
    let cfg = s.write("monitor.yaml", MONITOR_ALL);
    let access_in = root().join("pcap-fixtures/mixed-access.pcap");
    let core_in = root().join("pcap-fixtures/mixed-core.pcap");
    let (to_access, to_core, stats) = (
        s.path("to-access.pcap"),
        s.path("to-core.pcap"),
        s.path("stats.json"),
    );
    let mut args = s.eal();
    args.push(format!(
        "--vdev=net_pcap0,rx_pcap={},tx_pcap={}",
        access_in.display(),
        to_access.display()
    ));
    args.push(format!(
        "--vdev=net_pcap1,rx_pcap={},tx_pcap={}",
        core_in.display(),
        to_core.display()
    ));
    args.extend(["--", "--config"].map(String::from));
    args.push(cfg.display().to_string());
    args.extend(["--idle-exit-ms", "300", "--stats-json"].map(String::from));
    args.push(stats.display().to_string());
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));

    let sent_up = records(&access_in);
    let sent_down = records(&core_in);
    assert!(
        sent_up.len() >= 300 && sent_down.len() >= 300,
        "fixture too small"
    );
    assert_eq!(
        records(&to_core),
        sent_up,
        "subscriber -> core: every frame, unchanged, in order"
    );
    assert_eq!(
        records(&to_access),
        sent_down,
        "core -> subscriber: every frame, unchanged, in order"
    );

    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let n = (sent_up.len() + sent_down.len()) as u64;
    for (k, v) in [
        ("rx", n),
        ("forwarded", n),
        ("replied", 0),
        ("dropped", 0),
        ("mempool_in_use", 0),
    ] {
        assert_eq!(j[k].as_u64(), Some(v), "{k} in {j}");
    }
    assert_eq!(j["outbound"]["rx"].as_u64(), Some(sent_up.len() as u64));
    assert_eq!(j["inbound"]["rx"].as_u64(), Some(sent_down.len() as u64));
    assert!(j["elapsed_s"].as_f64().is_some(), "{j}");
    assert!(j["monitored"].is_u64(), "{j}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("forwarded") && stdout.contains(&n.to_string()),
        "{stdout}"
    );
}

#[test]
fn sigterm_stops_an_endless_replay_cleanly_with_complete_output_files() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let s = Scratch::new("sig");
    let cfg = s.write("monitor.yaml", MONITOR_ALL);
    let access_in = root().join("pcap-fixtures/mixed-access.pcap");
    let to_core = s.path("to-core.pcap");
    let stats = s.path("stats.json");
    let mut args = s.eal();
    // An endless source: without a signal this never ends.
    args.push(format!(
        "--vdev=net_pcap0,rx_pcap={},tx_pcap={},infinite_rx=1",
        access_in.display(),
        s.path("to-access.pcap").display()
    ));
    args.push(format!("--vdev=net_pcap1,tx_pcap={}", to_core.display()));
    args.extend(["--", "--config"].map(String::from));
    args.push(cfg.display().to_string());
    args.push("--stats-json".into());
    args.push(stats.display().to_string());
    let mut child = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it forwards (the output file grows), then ask it to stop.
    let t0 = Instant::now();
    while std::fs::metadata(&to_core).map(|m| m.len()).unwrap_or(0) < 100_000 {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no traffic within 60 s"
        );
        assert!(child.try_wait().unwrap().is_none(), "op25bd exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // Complete file: every record whole (the reader rejects a cut record), and
    // as many frames as the counters say were sent toward the core.
    let sent = pcap::read_file(&to_core).unwrap();
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(Some(sent.len() as u64), j["forwarded"].as_u64(), "{j}");
    assert_eq!(j["rx"], j["forwarded"], "{j}");
    assert_eq!(j["mempool_in_use"].as_u64(), Some(0), "{j}");
    // The replay loops over the fixture, so frames come back in the fixture's order.
    let fixture = pcap::read_file(&access_in).unwrap();
    for (i, r) in sent.iter().enumerate() {
        assert_eq!(r.data, fixture[i % fixture.len()].data, "frame {i}");
    }
}
